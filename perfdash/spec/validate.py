"""Check loaded documents beyond the schema and build the frozen model.

Every problem in every document is collected before anything is raised, so one
``perfdash validate`` run lists them all, each at its file, line and column.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, Literal

import promql_parser

from perfdash import conventions
from perfdash.durations import Duration
from perfdash.errors import Problem, SpecError
from perfdash.model import templates as alert_text
from perfdash.model.fleet import (
    DEFAULT_TIMINGS,
    RED,
    SLI,
    SLO,
    WINDOW_PLACEHOLDER,
    Alerting,
    AlertWindow,
    Annotations,
    Baseline,
    EventsSLI,
    Fleet,
    LatencySLI,
    Matcher,
    MatchOp,
    RawSLI,
    Receivers,
    Service,
    Team,
    Timing,
)
from perfdash.model.windows import DEFAULT_POLICY, burn_threshold, window_facts
from perfdash.parallel import map_chunks
from perfdash.spec.load import (
    Candidate,
    Document,
    PathKey,
    declaration_candidates,
    declaration_files,
    load_documents,
)
from perfdash.spec.schema import schema_problems

DEFAULT_WINDOW = Duration.parse("30d")
LONG_WINDOW_INTERVAL = Duration.parse("1m")
DEFAULT_MISSING_DATA_FOR = Duration.parse("10m")
# Shorter SLO windows make little sense and break the generated zero-traffic test (4h).
MIN_SLO_WINDOW = Duration.parse("1d")
MIN_ALERT_WINDOW = Duration.parse("1m")
# perfdash sets these on generated series and alerts; declarations may not.
_ANY_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
_OPERATORS: tuple[MatchOp, ...] = ("=~", "!~", "!=", "=")


MissingRunbook = Literal["error", "warn"]


def load_fleet(
    paths: Iterable[str | os.PathLike[str]],
    *,
    root: Path | None = None,
    jobs: int | None = None,
    missing_runbook: MissingRunbook = "error",
) -> Fleet:
    """Files and folders of declarations -> validated Fleet, or SpecError with every problem.

    Files are read and checked in parallel on large fleets; checks across files
    (duplicate names, teams without receivers) run once every file is in. A service
    with alerts but no runbook is an error, or a warning in ``Fleet.warnings``.
    """
    files = declaration_candidates(paths)
    base = root or Path.cwd()
    declared: list[_Declared] = []
    problems: list[Problem] = []
    for part_declared, part_problems in map_chunks(
        partial(_load_files, root=base), files, jobs=jobs
    ):
        declared.extend(part_declared)
        problems.extend(part_problems)
    return _assemble(declared, problems, missing_runbook=missing_runbook)


def build_fleet(
    documents: Iterable[Document], *, missing_runbook: MissingRunbook = "error"
) -> Fleet:
    """Already-loaded documents -> validated Fleet (or SpecError)."""
    declared, problems = _build_documents(documents)
    return _assemble(declared, problems, missing_runbook=missing_runbook)


@dataclass(frozen=True)
class _Declared:
    """One document that passed the schema (``value`` None if it had problems)."""

    kind: str
    name: str
    file: str
    line: int
    column: int
    value: Service | Team | None
    team_at: tuple[int, int] = (0, 0)  # services: where metadata.team is written
    metadata_at: tuple[int, int] = (0, 0)


def _load_files(
    candidates: Sequence[Candidate], *, root: Path
) -> tuple[list[_Declared], list[Problem]]:
    files = declaration_files(candidates)
    try:
        documents = load_documents(files, root=root)
    except SpecError as exc:
        # Keep going with the files that did parse, to report everything at once.
        parsed: list[Document] = []
        for path in files:
            with contextlib.suppress(SpecError):
                parsed.extend(load_documents([path], root=root))
        declared, problems = _build_documents(parsed)
        return declared, [*exc.problems, *problems]
    return _build_documents(documents)


def _build_documents(documents: Iterable[Document]) -> tuple[list[_Declared], list[Problem]]:
    declared: list[_Declared] = []
    problems: list[Problem] = []
    for document in documents:
        found = schema_problems(document)
        if found:
            problems.extend(found)
            continue
        kind = document.data["kind"]
        builder = _TeamBuilder(document) if kind == "Team" else _ServiceBuilder(document)
        value = builder.build()
        problems.extend(builder.problems)
        name_at = document.position(("metadata", "name"))
        team_at = document.position(("metadata", "team"))
        metadata_at = document.position(("metadata",), key=True)
        declared.append(
            _Declared(
                kind,
                document.data["metadata"]["name"],
                document.file,
                name_at.line,
                name_at.column,
                None if builder.problems else value,
                (team_at.line, team_at.column),
                (metadata_at.line, metadata_at.column),
            )
        )
    return declared, problems


def _assemble(
    declared: Iterable[_Declared], problems: list[Problem], *, missing_runbook: MissingRunbook
) -> Fleet:
    services: list[Service] = []
    teams: list[Team] = []
    first: dict[tuple[str, str], _Declared] = {}
    service_items: list[_Declared] = []
    for item in declared:
        key = (item.kind, item.name)
        if key in first:
            earlier = first[key]
            problems.append(
                Problem(
                    item.file,
                    item.line,
                    item.column,
                    "metadata.name",
                    f"duplicate {item.kind.lower()} name {item.name!r} (first declared at "
                    f"{earlier.file}:{earlier.line})",
                )
            )
            continue
        first[key] = item
        if isinstance(item.value, Service):
            services.append(item.value)
            service_items.append(item)
        elif isinstance(item.value, Team):
            teams.append(item.value)
    warnings = _check_runbooks(service_items, problems, missing_runbook)
    _check_routing(service_items, {t.name for t in teams}, problems)
    if problems:
        raise SpecError(problems)
    return Fleet(
        tuple(sorted(services, key=lambda s: s.name)),
        tuple(sorted(teams, key=lambda t: t.name)),
        tuple(sorted(warnings)),
    )


def _check_runbooks(
    items: Iterable[_Declared], problems: list[Problem], missing_runbook: MissingRunbook
) -> list[Problem]:
    """No alert without a runbook (the SRE rule): an error, or a warning when asked."""
    found = []
    for item in items:
        service = item.value
        assert isinstance(service, Service)
        if service.runbook is None and service.has_alerts:
            line, column = item.metadata_at
            found.append(
                Problem(
                    item.file,
                    line,
                    column,
                    "metadata.runbook",
                    f"service {service.name!r} has alerts but no runbook: add metadata.runbook "
                    "(`perfdash runbooks` writes a stub to start from)",
                )
            )
    if missing_runbook == "error":
        problems.extend(found)
        return []
    return found


def _check_routing(items: Iterable[_Declared], teams: set[str], problems: list[Problem]) -> None:
    """Once any Team declares receivers, every team whose services alert must have one."""
    if not teams:
        return
    for item in items:
        service = item.value
        assert isinstance(service, Service)
        if service.has_alerts and service.routing is None and service.team not in teams:
            line, column = item.team_at
            problems.append(
                Problem(
                    item.file,
                    line,
                    column,
                    "metadata.team",
                    f"team {service.team!r} has no Team declaration with page and ticket "
                    "receivers (or set spec.routing on the service)",
                )
            )


class _TeamBuilder:
    def __init__(self, document: Document) -> None:
        self.doc = document
        self.problems: list[Problem] = []

    def build(self) -> Team:
        spec = self.doc.data["spec"]
        timings = spec.get("timings", {})
        return Team(
            name=self.doc.data["metadata"]["name"],
            receivers=Receivers(spec["receivers"]["page"], spec["receivers"]["ticket"]),
            page_timing=self._timing("page", timings.get("page", {})),
            ticket_timing=self._timing("ticket", timings.get("ticket", {})),
            source=self.doc.file,
        )

    def _timing(self, severity: str, raw: Mapping[str, str]) -> Timing:
        default = DEFAULT_TIMINGS[severity]
        values = {}
        for field_name in ("group_wait", "group_interval", "repeat_interval"):
            text = raw.get(field_name)
            if text is None:
                values[field_name] = getattr(default, field_name)
                continue
            try:
                values[field_name] = Duration.parse(text)
            except ValueError as exc:
                self.problems.append(
                    self.doc.problem(("spec", "timings", severity, field_name), str(exc))
                )
                values[field_name] = getattr(default, field_name)
        return Timing(**values)


class _ServiceBuilder:
    def __init__(self, document: Document) -> None:
        self.doc = document
        self.problems: list[Problem] = []

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, key=key))

    def build(self) -> Service | None:
        data = self.doc.data
        meta, spec = data["metadata"], data["spec"]
        labels = self._labels(("metadata", "labels"), meta.get("labels", {}))
        selector = self._matchers(("spec", "selector"), spec["selector"], default_op="=")
        red = None
        if "red" in spec:
            r = spec["red"]
            errors = self._matchers(("spec", "red", "errors"), r.get("errors", {}), default_op="=~")
            red = RED(r["requests"], errors, r.get("duration"))
        service_alerting = spec.get("alerting", {})
        slos: list[SLO] = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(spec.get("slos", [])):
            path: PathKey = ("spec", "slos", index)
            if raw["name"] in seen:
                self.problem(
                    (*path, "name"),
                    f"duplicate SLO name {raw['name']!r} (first at spec.slos[{seen[raw['name']]}])",
                )
                continue
            seen[raw["name"]] = index
            slo = self._slo(path, raw, selector, service_alerting)
            if slo is not None:
                slos.append(slo)
        baselines = tuple(
            Baseline(
                b["benchmark"],
                tuple(b.get("metrics", ())),
                tuple(sorted(self._thresholds(("spec", "baselines", i), b).items())),
            )
            for i, b in enumerate(spec.get("baselines", []))
        )
        service = Service(
            name=meta["name"],
            team=meta["team"],
            tier=meta["tier"],
            runbook=meta.get("runbook"),
            labels=labels,
            selector=selector,
            red=red,
            slos=tuple(slos),
            baselines=baselines,
            source=self.doc.file,
            description=meta.get("description", ""),
            routing=Receivers(**spec["routing"]) if "routing" in spec else None,
            long_window_interval=self._duration(
                ("spec", "rules", "long_window_interval"),
                spec.get("rules", {}).get("long_window_interval"),
                LONG_WINDOW_INTERVAL,
            )
            or LONG_WINDOW_INTERVAL,
            dashboard_jsonnet=self._jsonnet_file(spec.get("dashboard", {}).get("jsonnet")),
        )
        self._check_annotations(service)
        return service

    # -- SLOs ---------------------------------------------------------------------

    def _thresholds(self, path: PathKey, baseline: Mapping[str, Any]) -> dict[str, Decimal]:
        """Percent thresholds: finite and not negative (``.inf`` would make a metric that
        can never regress)."""
        found: dict[str, Decimal] = {}
        for metric, value in baseline.get("thresholds", {}).items():
            if not math.isfinite(value) or value < 0:
                self.problem(
                    (*path, "thresholds", metric),
                    f"threshold {value!r}: expected a finite percentage, 0 or more",
                )
                continue
            found[metric] = Decimal(str(value))
        return found

    def _slo(
        self,
        path: PathKey,
        raw: Mapping[str, Any],
        selector: tuple[Matcher, ...],
        service_alerting: Mapping[str, Any],
    ) -> SLO | None:
        ok = True
        window = self._duration((*path, "window"), raw.get("window"), DEFAULT_WINDOW)
        if window is None:
            ok = False
        elif window < MIN_SLO_WINDOW:
            self.problem((*path, "window"), f"SLO window must be at least {MIN_SLO_WINDOW}")
            ok = False
        grouping = tuple(raw.get("grouping", ()))
        for i, label in enumerate(grouping):
            if label in conventions.RESERVED_LABELS or label.startswith("__"):
                self.problem(
                    (*path, "grouping", i), f"{label!r} is set by perfdash; group by another label"
                )
                ok = False
        sli = self._sli((*path, "sli"), raw["sli"], selector, grouping)
        alerting = self._alerting(path, service_alerting, raw.get("alerting", {}))
        if not ok or sli is None or alerting is None or window is None:
            return None
        slo = SLO(
            name=raw["name"],
            objective=Decimal(raw["objective"]),
            window=window,
            sli=sli,
            grouping=grouping,
            alerting=alerting,
            description=raw.get("description", ""),
        )
        self._check_windows(path, slo)
        return slo

    def _sli(
        self,
        path: PathKey,
        raw: Mapping[str, Any],
        selector: tuple[Matcher, ...],
        grouping: tuple[str, ...],
    ) -> SLI | None:
        if "events" in raw:
            events = raw["events"]
            bad = self._matchers((*path, "events", "bad"), events["bad"], default_op="=~")
            extra = self._matchers(
                (*path, "events", "matchers"), events.get("matchers", {}), default_op="="
            )
            return EventsSLI(total=events["total"], bad=bad, matchers=extra)
        if "latency" in raw:
            latency = raw["latency"]
            extra = self._matchers(
                (*path, "latency", "matchers"), latency.get("matchers", {}), default_op="="
            )
            for matcher in extra:
                if matcher.label == "le":
                    self.problem(
                        (*path, "latency", "matchers", "le"), "le is set from threshold; remove it"
                    )
            return LatencySLI(
                histogram=latency["histogram"],
                threshold=Decimal(latency["threshold"]),
                matchers=extra,
            )
        raw_sli = raw["raw"]
        ok = all(
            [
                self._raw_query((*path, "raw", side), raw_sli[side], grouping)
                for side in ("bad", "total")
            ]
        )
        return RawSLI(bad=raw_sli["bad"], total=raw_sli["total"]) if ok else None

    def _raw_query(self, path: PathKey, query: str, grouping: tuple[str, ...]) -> bool:
        if not WINDOW_PLACEHOLDER.search(query):
            self.problem(
                path, "raw PromQL must use {{ window }} for its range, e.g. rate(x[{{ window }}])"
            )
            return False
        leftover = _ANY_PLACEHOLDER.findall(WINDOW_PLACEHOLDER.sub("", query))
        if leftover:
            self.problem(
                path, f"unknown placeholder {leftover[0]}: only {{{{ window }}}} is replaced"
            )
            return False
        rendered = WINDOW_PLACEHOLDER.sub("5m", query)
        try:
            expr = promql_parser.parse(rendered)
        except ValueError as exc:
            self.problem(path, f"PromQL does not parse: {exc}")
            return False
        if not _is_instant_vector(expr):
            self.problem(
                path,
                "PromQL must return an instant vector (events per second), not a range or string",
            )
            return False
        return True

    # -- alerting -----------------------------------------------------------------

    def _alerting(
        self, path: PathKey, service_level: Mapping[str, Any], slo_level: Mapping[str, Any]
    ) -> Alerting | None:
        """Service-level alerting settings, overridden key by key by the SLO's own."""

        def pick(key: str) -> tuple[Any, PathKey | None]:
            if key in slo_level:
                return slo_level[key], (*path, "alerting", key)
            if key in service_level:
                return service_level[key], ("spec", "alerting", key)
            return None, None

        for_value, for_path = pick("for")
        for_ = self._duration(for_path, for_value, None) if for_path else None
        windows_value, windows_path = pick("windows")
        windows: tuple[AlertWindow, ...] = DEFAULT_POLICY
        if windows_path is not None:
            parsed = [
                self._alert_window((*windows_path, i), w) for i, w in enumerate(windows_value)
            ]
            if any(w is None for w in parsed):
                return None
            windows = tuple(w for w in parsed if w is not None)
        labels = dict(service_level.get("labels", {}))
        labels.update(slo_level.get("labels", {}))
        for source, owner in (
            (service_level, ("spec", "alerting")),
            (slo_level, (*path, "alerting")),
        ):
            self._labels((*owner, "labels"), source.get("labels", {}))
        templates = dict(service_level.get("annotations", {}))
        templates.update(slo_level.get("annotations", {}))
        missing = dict(service_level.get("missing_data", {}))
        missing.update(slo_level.get("missing_data", {}))
        missing_for = DEFAULT_MISSING_DATA_FOR
        if "for" in missing:
            source_path = (*path, "alerting", "missing_data", "for")
            if "for" not in slo_level.get("missing_data", {}):
                source_path = ("spec", "alerting", "missing_data", "for")
            missing_for = (
                self._duration(source_path, missing["for"], DEFAULT_MISSING_DATA_FOR) or missing_for
            )
        name_value, _ = pick("name")
        page_value, _ = pick("page")
        ticket_value, _ = pick("ticket")
        return Alerting(
            name=name_value or conventions.DEFAULT_ALERT_NAME,
            page=True if page_value is None else bool(page_value),
            ticket=True if ticket_value is None else bool(ticket_value),
            for_=for_,
            labels=tuple(sorted(labels.items())),
            annotations=Annotations(
                summary=templates.get("summary", alert_text.DEFAULT_SUMMARY),
                description=templates.get("description", alert_text.DEFAULT_DESCRIPTION),
            ),
            windows=windows,
            missing_data=bool(missing.get("enabled", True)),
            missing_data_for=missing_for,
        )

    def _alert_window(self, path: PathKey, raw: Mapping[str, Any]) -> AlertWindow | None:
        long = self._duration((*path, "long"), raw["long"], None)
        short = self._duration((*path, "short"), raw["short"], None)
        if long is None or short is None:
            return None
        if short >= long:
            self.problem(
                (*path, "short"),
                f"short window {short} must be shorter than the long window {long}",
            )
            return None
        if short < MIN_ALERT_WINDOW:
            self.problem(
                (*path, "short"), f"windows shorter than {MIN_ALERT_WINDOW} cannot hold two scrapes"
            )
            return None
        return AlertWindow(raw["severity"], long, short, Decimal(raw["budget_percent"]) / 100)

    def _check_windows(self, path: PathKey, slo: SLO) -> None:
        """Refuse alerts that can never fire, and windows longer than the SLO window."""
        for window in slo.alerting.enabled_windows():
            if window.long > slo.window:
                self.problem(
                    (*path, "window"),
                    f"the {window.severity} alert's long window {window.long} is longer than the "
                    f"SLO window {slo.window}",
                )
                continue
            threshold = burn_threshold(window, slo)
            if threshold >= 1:
                factor = window.burn_factor(slo.window)
                self.problem(
                    (*path, "objective"),
                    f"the {window.severity} alert over {window.long}/{window.short} can never fire: "
                    f"burn factor {float(factor):g} x error budget {slo.error_budget} = "
                    f"{float(threshold):g} >= 1 (an error ratio cannot exceed 100%); disable it "
                    f"(alerting.{window.severity}: false) or declare alerting.windows",
                )

    def _check_annotations(self, service: Service) -> None:
        for index, slo in enumerate(service.slos):
            facts = window_facts(slo)
            if not facts:
                continue
            for field_name in ("summary", "description"):
                template = getattr(slo.alerting.annotations, field_name)
                if template in (alert_text.DEFAULT_SUMMARY, alert_text.DEFAULT_DESCRIPTION):
                    continue  # perfdash's own templates are tested, not re-checked per SLO
                try:
                    alert_text.render(template, alert_text.burn_context(service, slo, facts[0]))
                except alert_text.AnnotationTemplateError as exc:
                    where = self._source_of(("spec", "slos", index), ("annotations", field_name))
                    self.problem(where, f"annotation template: {exc}")

    def _source_of(self, slo_path: PathKey, key: tuple[str, ...]) -> PathKey:
        own = (*slo_path, "alerting", *key)
        if own in self.doc.positions:
            return own
        return ("spec", "alerting", *key)

    # -- small values ---------------------------------------------------------------

    def _jsonnet_file(self, declared: str | None) -> str | None:
        """The declared dashboard override, resolved against the declaration's folder."""
        if declared is None:
            return None
        base = self.doc.directory or Path.cwd()
        resolved = (base / declared).resolve()
        if not resolved.is_file():
            self.problem(("spec", "dashboard", "jsonnet"), f"no such file: {resolved}")
            return None
        return str(resolved)

    def _duration(self, path: PathKey, value: Any, default: Duration | None) -> Duration | None:
        if value is None:
            return default
        try:
            return Duration.parse(value)
        except ValueError as exc:
            self.problem(path, str(exc))
            return None

    def _labels(self, path: PathKey, raw: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        for name in raw:
            if name in conventions.RESERVED_LABELS or name.startswith("__"):
                self.problem(
                    (*path, name),
                    f"label {name!r} is set by perfdash and cannot be declared",
                    key=True,
                )
        return tuple(sorted(raw.items()))

    def _matchers(
        self, path: PathKey, raw: Mapping[str, str], *, default_op: MatchOp
    ) -> tuple[Matcher, ...]:
        matchers = []
        for label, text in raw.items():
            op, value = default_op, text
            for candidate in _OPERATORS:
                if text.startswith(candidate):
                    op, value = candidate, text[len(candidate) :]
                    break
            if label.startswith("__"):
                self.problem((*path, label), f"label {label!r} is reserved", key=True)
                continue
            matcher = Matcher(label, op, value)
            if op in ("=~", "!~"):
                error = _regex_error(matcher)
                if error:
                    self.problem((*path, label), f"invalid regular expression {value!r}: {error}")
                    continue
            matchers.append(matcher)
        return tuple(sorted(matchers, key=lambda m: (m.label, m.op, m.value)))


@lru_cache(maxsize=4096)
def _regex_error(matcher: Matcher) -> str | None:
    """What the PromQL parser (RE2-like regex syntax) says of a regex matcher, or None."""
    try:
        promql_parser.parse("perfdash_check{" + matcher.promql() + "}")
    except ValueError as exc:
        return str(exc)
    return None


def _is_instant_vector(expr: Any) -> bool:
    if isinstance(expr, promql_parser.ParenExpr):
        return _is_instant_vector(expr.expr)
    return not isinstance(
        expr,
        promql_parser.MatrixSelector | promql_parser.SubqueryExpr | promql_parser.StringLiteral,
    )
