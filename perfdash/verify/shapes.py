"""SLOs whose rules and tests are the same up to names: proven, so their scenarios run once.

Most SLOs of a large fleet differ only in names: the service, the SLO, the team, label
and selector values. For each SLO the canonical form replaces every such value with a
sentinel (``zzpd0zz``, ...), in the model, and generates the rules and tests again.
SLOs with equal canonical forms are one shape; promtool runs one of them for all.

The equivalence is checked, not assumed. An SLO belongs to a shape only when:
1. putting its values back in place of the sentinels gives, byte for byte, the rules
   and tests generated for it: its files are exactly a renaming of the shape's;
2. the renaming is one PromQL cannot see: in the shape's expressions no regular
   expression matches a label that carries a renamed value or holds a sentinel, and no
   function looks into label values (``label_replace``, ``sort_by_label``...) or breaks
   ties by them (``topk``...); values keep apart what they kept apart (per label, two
   different values never become one), and none contains a brace (annotations are Go
   templates).
Evaluation commutes with such a renaming of label values, so promtool's verdict on one
member is its verdict on every member. Anything that fails a check is a shape of its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import promql_parser
import yaml

from perfdash.model.fleet import SLO, EventsSLI, LatencySLI, Matcher, RawSLI, Service
from perfdash.verify.units import Unit, slo_unit

_SENTINEL = "zzpd{}zz"
_SENTINEL_RE = re.compile(r"zzpd\d+zz")
# Functions that read label values as text, and aggregations whose result depends on
# the order of label values (ties): a renaming could change what they return.
_LABEL_SENSITIVE = frozenset(
    {"label_replace", "label_join", "sort_by_label", "sort_by_label_desc", "info"}
)
_ORDER_SENSITIVE = frozenset({"topk", "bottomk", "limitk", "limit_ratio"})


@dataclass(frozen=True)
class Shape:
    """Where one SLO stands: its shape's key when the equivalence is proven, else None."""

    key: str | None
    reason: str = ""  # why not, when key is None


def shape_of(service: Service, slo: SLO, unit: Unit, promtool_version: str) -> Shape:
    renames = _renames(service, slo)
    canonical = slo_unit(*_canonical(service, slo, renames))
    if canonical is None:
        return Shape(None, "its canonical form has no test")
    back = {sentinel: value for value, sentinel in renames.items()}
    if any(sentinel in text for sentinel in back for text in _texts(unit)):
        return Shape(None, "a name looks like perfdash's sentinels")
    if _substitute(canonical, back) != unit:
        return Shape(None, "its files are not a renaming of its canonical form")
    if any(("{" in value or "}" in value) for value in renames):
        return Shape(None, "a renamed value holds a brace")
    values_by_label, reason = _analysis(canonical.rules, canonical.tests)
    if reason:
        return Shape(None, reason)
    for label, values in values_by_label.items():
        if len({_replace(value, back) for value in values}) != len(values):
            return Shape(None, f"two values of label {label!r} become one")
    return Shape(canonical.key(promtool_version))


def _renames(service: Service, slo: SLO) -> dict[str, str]:
    """Each value that may differ between equivalent SLOs -> its sentinel."""
    values: list[str] = [service.name, slo.name, service.team, service.source]
    values += [v for v in (service.runbook, service.description, slo.description) if v]
    values += [value for _, value in (*service.labels, *slo.alerting.labels)]
    values += [m.value for m in _equality_matchers(service, slo)]
    ordered = list(dict.fromkeys(v for v in values if v))
    return {value: _SENTINEL.format(index) for index, value in enumerate(ordered)}


def _equality_matchers(service: Service, slo: SLO) -> Iterator[Matcher]:
    matchers: list[Matcher] = list(service.selector)
    if isinstance(slo.sli, EventsSLI):
        matchers += [*slo.sli.matchers, *slo.sli.bad]
    elif isinstance(slo.sli, LatencySLI):
        matchers += list(slo.sli.matchers)
    return (m for m in matchers if m.op in ("=", "!="))


def _canonical(service: Service, slo: SLO, renames: Mapping[str, str]) -> tuple[Service, SLO]:
    def name(value: str | None) -> str | None:
        return renames.get(value, value) if value is not None else None

    def matchers(items: Iterable[Matcher]) -> tuple[Matcher, ...]:
        return tuple(
            dataclasses.replace(m, value=renames[m.value])
            if m.op in ("=", "!=") and m.value in renames
            else m
            for m in items
        )

    sli: Any = slo.sli
    if isinstance(sli, EventsSLI):
        sli = dataclasses.replace(sli, bad=matchers(sli.bad), matchers=matchers(sli.matchers))
    elif isinstance(sli, LatencySLI):
        sli = dataclasses.replace(sli, matchers=matchers(sli.matchers))
    elif isinstance(sli, RawSLI):
        sli = RawSLI(_quoted_renamed(sli.bad, renames), _quoted_renamed(sli.total, renames))
    labels = tuple((k, renames.get(v, v)) for k, v in slo.alerting.labels)
    canonical_slo = dataclasses.replace(
        slo,
        name=renames[slo.name],
        description=renames.get(slo.description, slo.description),
        sli=sli,
        alerting=dataclasses.replace(slo.alerting, labels=labels),
    )
    canonical_service = dataclasses.replace(
        service,
        name=renames[service.name],
        team=renames[service.team],
        source=renames[service.source],
        runbook=name(service.runbook),
        description=renames.get(service.description, service.description),
        labels=tuple((k, renames.get(v, v)) for k, v in service.labels),
        selector=matchers(service.selector),
        slos=(canonical_slo,),
    )
    return canonical_service, canonical_slo


def _quoted_renamed(query: str, renames: Mapping[str, str]) -> str:
    """Raw PromQL with quoted renamed values replaced (``job="svc-1"`` -> ``job="zzpd4zz"``)."""
    for value in sorted(renames, key=len, reverse=True):
        for quote in ('"', "'"):
            query = query.replace(f"{quote}{value}{quote}", f"{quote}{renames[value]}{quote}")
    return query


def _texts(unit: Unit) -> Iterator[str]:
    yield unit.rules
    for path, text in unit.tests:
        yield path
        yield text


def _replace(text: str, back: Mapping[str, str]) -> str:
    return _SENTINEL_RE.sub(lambda m: back.get(m.group(0), m.group(0)), text)


def _substitute(unit: Unit, back: Mapping[str, str]) -> Unit:
    tests = tuple((_replace(p, back), _replace(t, back)) for p, t in unit.tests)
    return Unit(
        _replace(unit.service, back), _replace(unit.slo, back), _replace(unit.rules, back), tests
    )


@lru_cache(maxsize=256)
def _analysis(
    rules: str, tests: tuple[tuple[str, str], ...]
) -> tuple[dict[str, frozenset[str]], str]:
    """(every value each label takes in the shape's rules and tests, why the renaming is
    not invisible to PromQL or "")."""
    values: dict[str, set[str]] = {}
    regex_labels: set[str] = set()
    for kind, text in _expressions(rules, tests):
        try:
            ast = promql_parser.parse(text)
        except ValueError as exc:
            return {}, f"cannot parse {kind} {text!r}: {exc}"
        problem = _scan(ast, values, regex_labels)
        if problem:
            return {}, problem
    for group in _load_yaml(rules)["groups"]:
        for rule in group["rules"]:
            for label, value in (rule.get("labels") or {}).items():
                values.setdefault(label, set()).add(str(value))
    for label in regex_labels:
        if any(_SENTINEL_RE.search(value) for value in values.get(label, ())):
            return {}, f"a regular expression matches label {label!r}, which is renamed"
    return {label: frozenset(found) for label, found in values.items()}, ""


def _expressions(rules: str, tests: tuple[tuple[str, str], ...]) -> Iterator[tuple[str, str]]:
    for group in _load_yaml(rules)["groups"]:
        for rule in group["rules"]:
            yield "rule", str(rule["expr"])
    for _, text in tests:
        for test in _load_yaml(text).get("tests") or []:
            for series in test.get("input_series") or []:
                yield "series", str(series["series"])
            for check in test.get("promql_expr_test") or []:
                yield "expression", str(check["expr"])
                for sample in check.get("exp_samples") or []:
                    if sample.get("labels"):
                        yield "sample", str(sample["labels"])


def _scan(ast: Any, values: dict[str, set[str]], regex_labels: set[str]) -> str:
    problems: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.Call) and node.func.name in _LABEL_SENSITIVE:
            problems.append(f"{node.func.name}() reads label values")
        elif isinstance(node, promql_parser.AggregateExpr) and str(node.op) in _ORDER_SENSITIVE:
            problems.append(f"{node.op} breaks ties by label values")
        elif isinstance(node, promql_parser.VectorSelector):
            if node.name:
                values.setdefault("__name__", set()).add(node.name)
            for matcher in [
                *node.matchers.matchers,
                *(m for g in node.matchers.or_matchers for m in g),
            ]:
                if str(matcher.op) in ("MatchOp.Re", "MatchOp.NotRe"):
                    if _SENTINEL_RE.search(matcher.value):
                        problems.append(
                            f"a regular expression holds a renamed value ({matcher.name})"
                        )
                    regex_labels.add(matcher.name)
                else:
                    values.setdefault(matcher.name, set()).add(matcher.value)

    promql_parser.walk(ast, visit)
    return problems[0] if problems else ""


def shape_digest(keys: Iterable[str]) -> str:
    """A short id for a group of shape keys (progress and reports)."""
    return hashlib.sha256("".join(sorted(keys)).encode()).hexdigest()[:12]


def _load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # a safe loader (C when available)


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
