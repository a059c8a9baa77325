"""Synthetic input series for generated rule tests.

Given the matchers an SLI selects with, pick label values that make a series count
as a bad event, a good event, or a member of a group, and write counters in
promtool's expanding notation (``a+bxn``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

try:  # Python 3.11+ keeps the regex parser here
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse

import promql_parser

from perfdash.model.fleet import Matcher, quote_label_value

_FALLBACK_VALUES = ("x", "ok", "200", "500", "0", "1", "perfdash", "true", "false", "a/b", "")
_CHAR_CANDIDATES = "x0a_-./Z9 "


def matches(matcher: Matcher, value: str) -> bool:
    if matcher.op == "=":
        return value == matcher.value
    if matcher.op == "!=":
        return value != matcher.value
    found = re.fullmatch(matcher.value, value) is not None
    return found if matcher.op == "=~" else not found


def example_value(
    must: Sequence[Matcher], must_not: Sequence[Matcher] = (), *, avoid: Iterable[str] = ()
) -> str | None:
    """A value that every matcher in ``must`` accepts and at least one of ``must_not``
    rejects (when ``must_not`` is given), other than the ``avoid`` ones; None if none found."""
    avoided = set(avoid)
    candidates: list[str] = []
    for matcher in (*must, *must_not):
        if matcher.op == "=":
            candidates.append(matcher.value)
        elif matcher.op == "=~":
            generated = _from_regex(matcher.value)
            if generated is not None:
                candidates.append(generated)
    candidates.extend(_FALLBACK_VALUES)
    candidates.extend(f"g{i}" for i in range(1, 10))
    for candidate in candidates:
        if candidate in avoided:
            continue
        if not all(matches(m, candidate) for m in must):
            continue
        if must_not and all(matches(m, candidate) for m in must_not):
            continue
        return candidate
    return None


@lru_cache(maxsize=1024)
def _from_regex(pattern: str) -> str | None:
    # Cached: a fleet repeats a few patterns ("5..") in every service's declaration.
    try:
        parsed = sre_parse.parse(pattern)
        text = _generate(parsed)
    except (re.error, _Unsupported, RecursionError):
        return None
    return text if re.fullmatch(pattern, text) else None


class _Unsupported(Exception):
    pass


def _generate(parsed: Any) -> str:
    out = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "ANY":
            out.append("x")
        elif name == "IN":
            out.append(_from_set(arg))
        elif name == "BRANCH":
            out.append(_generate(arg[1][0]))
        elif name == "SUBPATTERN":
            out.append(_generate(arg[-1]))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, inner = arg
            out.append(_generate(inner) * max(low, 0))
        elif name == "AT":
            continue
        elif name == "CATEGORY":
            out.append(_from_category(str(arg)))
        else:
            raise _Unsupported(name)
    return "".join(out)


def _from_set(items: Any) -> str:
    negate = any(str(op) == "NEGATE" for op, _ in items)
    if negate:
        for char in _CHAR_CANDIDATES:
            if not any(
                _set_item_matches(op, arg, char) for op, arg in items if str(op) != "NEGATE"
            ):
                return char
        raise _Unsupported("negated set")
    op, arg = items[0]
    if str(op) == "LITERAL":
        return chr(arg)
    if str(op) == "RANGE":
        return chr(arg[0])
    if str(op) == "CATEGORY":
        return _from_category(str(arg))
    raise _Unsupported(str(op))


def _set_item_matches(op: Any, arg: Any, char: str) -> bool:
    name = str(op)
    if name == "LITERAL":
        return chr(arg) == char
    if name == "RANGE":
        return bool(arg[0] <= ord(char) <= arg[1])
    if name == "CATEGORY":
        return re.fullmatch(_CATEGORY_RE.get(str(arg), "."), char) is not None
    return False


_CATEGORY_RE = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
}


def _from_category(name: str) -> str:
    return {
        "CATEGORY_DIGIT": "0",
        "CATEGORY_NOT_DIGIT": "x",
        "CATEGORY_WORD": "a",
        "CATEGORY_NOT_WORD": "-",
        "CATEGORY_SPACE": " ",
        "CATEGORY_NOT_SPACE": "x",
    }.get(name, "x")


@dataclass(frozen=True)
class Selector:
    """A vector selector found in a PromQL expression."""

    metric: str
    matchers: tuple[Matcher, ...]


_OPS = {"MatchOp.Equal": "=", "MatchOp.NotEqual": "!=", "MatchOp.Re": "=~", "MatchOp.NotRe": "!~"}


def selectors_in(query: str) -> list[Selector]:
    """Vector selectors of a PromQL query (promql-parser's AST)."""
    found: list[Selector] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = []
            name = node.name or ""
            for m in node.matchers.matchers:
                op = _OPS.get(str(m.op))
                if op is None:
                    raise ValueError(f"unsupported matcher {m}")
                if m.name == "__name__" and op == "=":
                    name = m.value
                    continue
                matchers.append(Matcher(m.name, op, m.value))  # type: ignore[arg-type]
            found.append(Selector(name, tuple(matchers)))

    promql_parser.walk(promql_parser.parse(query), visit)
    return found


def series_name(metric: str, labels: dict[str, str]) -> str:
    inner = ", ".join(f"{k}={quote_label_value(v)}" for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"


@dataclass(frozen=True)
class Segment:
    """``minutes`` samples after the previous segment, growing by ``per_minute`` each.

    An unscraped segment (a scrape gap) has no samples, but the counter keeps counting:
    the first sample after it carries the whole jump.
    """

    minutes: int
    per_minute: int
    scraped: bool = True


def counter_values(segments: Sequence[Segment], *, start: int = 0) -> str:
    """promtool expanding notation for a counter: one sample per interval from t=0
    (``_`` where a segment was not scraped).

    Whole numbers only: see ``rule_tests._integer_scale``.
    """
    parts = [str(start)]
    value = start
    for segment in segments:
        if segment.minutes <= 0:
            continue
        if not segment.scraped:
            parts.append(f"_x{segment.minutes}")
            value += segment.per_minute * segment.minutes
            continue
        first = value + segment.per_minute
        parts.append(f"{first}+{segment.per_minute}x{segment.minutes - 1}")
        value = first + segment.per_minute * (segment.minutes - 1)
    return " ".join(parts)
