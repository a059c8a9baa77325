"""Checks of raw-PromQL SLIs: the window placeholder, the syntax, the result's type, and
whether the SLO's grouping labels can survive the query.

perfdash wraps a raw query in ``sum by (<grouping>) (...)``. If the query has already
aggregated a grouping label away (``sum(rate(jobs_failed_total[5m]))`` with
``grouping: [queue]``), every group collapses into one with an empty ``queue``, the
SLO measures the wrong thing, and nothing fails. So the labels a query's result can
carry are worked out from its syntax tree: precisely for aggregations (``by``,
``without``), binary operators (``on``, ``ignoring``, ``group_left``) and functions that
add labels; anything else keeps the labels it is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import promql_parser

from perfdash.model.fleet import WINDOW_PLACEHOLDER

_ANY_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
_KEEP_LABELS = {"topk", "bottomk", "limitk", "limit_ratio"}  # aggregations that pick series


@dataclass(frozen=True)
class _Labels:
    """Labels a result may carry: exactly within ``names`` (``only``), or any but them."""

    only: bool
    names: frozenset[str]

    def can_carry(self, label: str) -> bool:
        return (label in self.names) if self.only else (label not in self.names)

    def union(self, other: _Labels) -> _Labels:
        if self.only and other.only:
            return _Labels(True, self.names | other.names)
        if self.only:
            return _Labels(False, other.names - self.names)
        if other.only:
            return _Labels(False, self.names - other.names)
        return _Labels(False, self.names & other.names)

    def without(self, names: frozenset[str]) -> _Labels:
        return (
            _Labels(True, self.names - names) if self.only else _Labels(False, self.names | names)
        )

    def restricted_to(self, names: frozenset[str]) -> _Labels:
        return _Labels(True, self.names & names if self.only else names - self.names)


_ANY = _Labels(False, frozenset())
_NONE = _Labels(True, frozenset())


def raw_query_problem(query: str, grouping: tuple[str, ...]) -> str | None:
    """What is wrong with one side of a raw SLI (None: nothing)."""
    return _problem(query, grouping)


@lru_cache(maxsize=4096)
def _problem(query: str, grouping: tuple[str, ...]) -> str | None:
    if not WINDOW_PLACEHOLDER.search(query):
        return "raw PromQL must use {{ window }} for its range, e.g. rate(x[{{ window }}])"
    leftover = _ANY_PLACEHOLDER.findall(WINDOW_PLACEHOLDER.sub("", query))
    if leftover:
        return f"unknown placeholder {leftover[0]}: only {{{{ window }}}} is replaced"
    try:
        expr = promql_parser.parse(WINDOW_PLACEHOLDER.sub("5m", query))
    except ValueError as exc:
        return f"PromQL does not parse: {exc}"
    labels = _labels(expr)
    if labels is None or not _is_instant_vector(expr):
        return "PromQL must return an instant vector (events per second), not a range or string"
    for label in grouping:
        if not labels.can_carry(label):
            return (
                f"grouping label {label!r} cannot be in this query's result: an aggregation "
                f"drops it; keep it with by ({label}), e.g. sum by ({label}) (rate(...))"
            )
    return None


def _is_instant_vector(expr: Any) -> bool:
    if isinstance(expr, promql_parser.ParenExpr):
        return _is_instant_vector(expr.expr)
    return not isinstance(
        expr,
        promql_parser.MatrixSelector | promql_parser.SubqueryExpr | promql_parser.StringLiteral,
    )


def _labels(expr: Any) -> _Labels | None:
    """The labels ``expr``'s series may carry; None for a number or string."""
    if isinstance(expr, promql_parser.VectorSelector):
        return _ANY
    if isinstance(expr, promql_parser.MatrixSelector):
        return _ANY
    if isinstance(expr, promql_parser.NumberLiteral | promql_parser.StringLiteral):
        return None
    if isinstance(expr, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        return _labels(expr.expr)
    if isinstance(expr, promql_parser.SubqueryExpr):
        return _labels(expr.expr)
    if isinstance(expr, promql_parser.AggregateExpr):
        return _aggregate(expr)
    if isinstance(expr, promql_parser.BinaryExpr):
        return _binary(expr)
    if isinstance(expr, promql_parser.Call):
        return _call(expr)
    return _ANY  # a node this version of the parser added: assume nothing is lost


def _aggregate(expr: Any) -> _Labels | None:
    inner = _labels(expr.expr) or _NONE
    op = str(expr.op)
    if op in _KEEP_LABELS:
        return inner
    modifier = expr.modifier
    if modifier is None:
        grouped = _NONE
    elif modifier.type == promql_parser.AggModifierType.By:
        grouped = inner.restricted_to(frozenset(modifier.labels))
    else:
        grouped = inner.without(frozenset(modifier.labels))
    if op == "count_values" and isinstance(expr.param, promql_parser.StringLiteral):
        grouped = grouped.union(_Labels(True, frozenset([expr.param.val])))
    return grouped


def _binary(expr: Any) -> _Labels | None:
    left, right = _labels(expr.lhs), _labels(expr.rhs)
    if left is None or right is None:
        return left or right  # a number with a vector: the vector's labels
    op = str(expr.op)
    if op in ("and", "unless"):
        return left
    if op == "or":
        return left.union(right)
    modifier = expr.modifier
    card = modifier.card if modifier is not None else None
    extra = frozenset(getattr(modifier, "group_labels", None) or ())
    if card == promql_parser.VectorMatchCardinality.ManyToOne:
        return left.union(_Labels(True, extra))
    if card == promql_parser.VectorMatchCardinality.OneToMany:
        return right.union(_Labels(True, extra))
    matching = modifier.matching if modifier is not None else None
    if matching is None:
        return left
    names = frozenset(matching.labels)
    if matching.type == promql_parser.LabelModifierType.Include:
        return left.restricted_to(names)
    return left.without(names)


def _call(expr: Any) -> _Labels | None:
    name = expr.func.name
    args = list(expr.args)
    if name == "vector":
        return _NONE
    if name in ("label_replace", "label_join") and len(args) > 1:
        inner = _labels(args[0]) or _NONE
        target = args[1]
        if isinstance(target, promql_parser.StringLiteral):
            return inner.union(_Labels(True, frozenset([target.val])))
        return _ANY
    if name == "histogram_quantile" and len(args) > 1:
        quantiles = _labels(args[1])
        return quantiles.without(frozenset(["le"])) if quantiles else None
    vectors = [found for arg in args if (found := _labels(arg)) is not None]
    if str(expr.func.return_type).endswith("Scalar"):
        return None
    return vectors[0] if vectors else _ANY
