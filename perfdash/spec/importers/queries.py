"""Reading the PromQL of other tools: which queries are perfdash ``events`` or ``latency``
SLIs in disguise, and how to rewrite the others as ``raw`` SLIs.

Parsing uses ``promql_parser`` (the Rust PromQL parser's Python binding), so a query
that only looks like ``sum(rate(x[w]))`` as text is never mistaken for one. A window
placeholder (Sloth's ``{{.window}}``) is swapped for a sentinel duration before parsing
and recognised by that duration afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import promql_parser

from perfdash.model.fleet import Matcher, MatchOp
from perfdash.spec.importers.draft import Series

# A duration no real query uses: stands for "the window" while parsing.
_SENTINEL = "31337s"
_SENTINEL_SECONDS = 31337.0
PERFDASH_WINDOW = "{{ window }}"
# promql_parser's MatchOp is not hashable: matched by its name.
_OPS: dict[str, MatchOp] = {
    "MatchOp.Equal": "=",
    "MatchOp.NotEqual": "!=",
    "MatchOp.Re": "=~",
    "MatchOp.NotRe": "!~",
}
_COUNTER_FUNCTIONS = frozenset({"rate", "increase"})


class QueryError(ValueError):
    """The query does not parse, or has no shape perfdash can use."""


def parse(query: str, *, placeholder: re.Pattern[str] | None = None) -> Any:
    """The AST of ``query``; ``placeholder`` (a window template) is parsed as the sentinel."""
    text = placeholder.sub(_SENTINEL, query) if placeholder is not None else query
    try:
        return promql_parser.parse(text)
    except ValueError as exc:
        raise QueryError(f"PromQL does not parse: {exc}") from exc


def with_window(query: str, placeholder: re.Pattern[str]) -> str:
    """``query`` with its window template written perfdash's way (``{{ window }}``)."""
    return placeholder.sub(PERFDASH_WINDOW, query.strip())


def _unwrap(expr: Any) -> Any:
    while isinstance(expr, promql_parser.ParenExpr):
        expr = expr.expr
    return expr


def series_of(expr: Any) -> Series | None:
    """A plain selector (no offset, no @, one matcher per label) as a Series, else None."""
    expr = _unwrap(expr)
    if not isinstance(expr, promql_parser.VectorSelector):
        return None
    if expr.offset is not None or expr.at is not None or expr.matchers.or_matchers:
        return None
    name = expr.name
    matchers = []
    for matcher in expr.matchers.matchers:
        if matcher.name == "__name__":
            if matcher.op != promql_parser.MatchOp.Equal or (name and name != matcher.value):
                return None
            name = matcher.value
            continue
        matchers.append(Matcher(matcher.name, _OPS[str(matcher.op)], matcher.value))
    labels = [m.label for m in matchers]
    if not name or len(labels) != len(set(labels)):
        return None  # perfdash writes one matcher per label
    return Series(name, tuple(sorted(matchers, key=lambda m: m.label)))


@dataclass(frozen=True)
class CounterSum:
    """``sum [by (labels)] (rate|increase(SERIES[window]))``."""

    series: Series
    grouping: tuple[str, ...] | None  # None: plain sum; () never (sum by () is refused)


def counter_sum(expr: Any) -> CounterSum | None:
    """``expr`` as a sum of a counter's rate over the window, or None."""
    expr = _unwrap(expr)
    if not isinstance(expr, promql_parser.AggregateExpr) or str(expr.op) != "sum":
        return None
    grouping: tuple[str, ...] | None = None
    if expr.modifier is not None:
        if expr.modifier.type != promql_parser.AggModifierType.By or not expr.modifier.labels:
            return None
        grouping = tuple(expr.modifier.labels)
    series = _windowed_series(expr.expr, _COUNTER_FUNCTIONS)
    return CounterSum(series, grouping) if series is not None else None


def _windowed_series(expr: Any, functions: frozenset[str]) -> Series | None:
    expr = _unwrap(expr)
    if not isinstance(expr, promql_parser.Call) or expr.func.name not in functions:
        return None
    (argument,) = expr.args if len(expr.args) == 1 else (None,)
    if not isinstance(argument, promql_parser.MatrixSelector):
        return None
    if argument.range.total_seconds() != _SENTINEL_SECONDS:
        return None
    return series_of(argument.vector_selector)


@dataclass(frozen=True)
class Difference:
    left: Any
    right: Any


def difference(expr: Any) -> Difference | None:
    """``a - b`` without vector matching modifiers, or None."""
    expr = _unwrap(expr)
    if not isinstance(expr, promql_parser.BinaryExpr) or str(expr.op) != "-":
        return None
    if expr.modifier is not None and (
        expr.modifier.card is not None and str(expr.modifier.card) != "OneToOne"
    ):
        return None
    return Difference(expr.lhs, expr.rhs)


def le_value(series: Series) -> Decimal | None:
    """The ``le="x"`` boundary of a bucket series, exactly as written."""
    for matcher in series.matchers:
        if matcher.label == "le" and matcher.op == "=":
            try:
                value = Decimal(matcher.value)
            except InvalidOperation:
                return None
            return value if value.is_finite() and value > 0 else None
    return None


def histogram_base(name: str, suffix: str) -> str | None:
    return name.removesuffix(suffix) if name.endswith(suffix) and name != suffix else None


def extra_matchers(wide: Series, narrow: Series) -> tuple[Matcher, ...] | None:
    """The matchers ``narrow`` adds to ``wide`` (same metric, all of wide's), else None."""
    if wide.metric != narrow.metric or not set(wide.matchers) <= set(narrow.matchers):
        return None
    wide_labels = {m.label for m in wide.matchers}
    added = tuple(m for m in narrow.matchers if m not in wide.matchers)
    if any(m.label in wide_labels for m in added):
        return None  # a second matcher on a label of the total: not expressible
    return added


_NEGATION: dict[MatchOp, MatchOp] = {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}


def negated(matcher: Matcher) -> Matcher:
    """The matcher selecting exactly the series ``matcher`` leaves out."""
    return Matcher(matcher.label, _NEGATION[matcher.op], matcher.value)


def selector_text(series: Series) -> str:
    """PromQL of a Series: ``metric{a="b", c=~"d"}``."""
    inner = ", ".join(m.promql() for m in series.matchers)
    return f"{series.metric}{{{inner}}}" if inner else series.metric


def by_prefix(grouping: tuple[str, ...]) -> str:
    return f"sum by ({', '.join(grouping)}) " if grouping else "sum"
