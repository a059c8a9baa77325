"""Grafana's variables, substituted the way Grafana does before a query leaves it.

- Time: ``$__interval`` is the time range divided by the panel's width in pixels (its
  default max data points), rounded to Grafana's "nice" intervals (``roundInterval`` of
  ``@grafana/data``) and never below the data source's scrape interval (15s unless
  configured); it is also the query's step. ``$__rate_interval`` is
  ``max($__interval + scrape interval, 4 * scrape interval)``. ``$__range`` is the
  range in whole seconds (``21600s``), with ``$__range_s`` and ``$__range_ms``.
- Template variables: ``$name``, ``${name}``, ``${name:format}`` and ``[[name]]``. In a
  PromQL query a variable that is neither multi-value nor has "All" is inserted as is
  (quotes and backslashes escaped); one that is gets its values regex-escaped, several
  joined as ``(a|b)``; "All" inserts the variable's custom all value verbatim (``.*``),
  or all its values. SQL data sources quote multi-value variables (``'a','b'``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_SCRAPE_SECONDS = 15.0  # Grafana's Prometheus data source, scrape interval unset
SAFE_POINTS = 11_000  # Grafana keeps a range query under Prometheus' 11,000 points

# roundInterval (packages/grafana-data/src/datetime/rangeutil.ts): below each bound
# (milliseconds) the interval becomes the paired value.
_ROUNDING_MS = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000),
    (3_500, 2_000), (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000),
    (45_000, 30_000), (90_000, 60_000), (210_000, 120_000), (450_000, 300_000),
    (1_050_000, 600_000), (1_500_000, 900_000), (2_700_000, 1_200_000),
    (5_400_000, 1_800_000), (9_000_000, 3_600_000), (16_200_000, 7_200_000),
    (32_400_000, 10_800_000), (86_400_000, 21_600_000), (604_800_000, 43_200_000),
    (1_814_400_000, 86_400_000), (3_628_800_000, 604_800_000),
)  # fmt: skip
_YEAR_MS = 31_536_000_000

_VARIABLE = re.compile(
    r"\$(?P<plain>\w+)|\$\{(?P<braced>[\w.]+)(?::(?P<format>[\w-]+))?\}|\[\[(?P<old>[\w.]+)(?::(?P<oldformat>[\w-]+))?\]\]"
)
_ALL = "$__all"


def round_interval_ms(interval_ms: float) -> int:
    for bound, value in _ROUNDING_MS:
        if interval_ms < bound:
            return value
    return _YEAR_MS if interval_ms >= _YEAR_MS else 2_592_000_000


def query_interval(range_seconds: float, max_data_points: int, min_seconds: float) -> float:
    """``$__interval`` (and the step) of a panel ``max_data_points`` pixels wide."""
    rounded = round_interval_ms(range_seconds * 1000 / max(1, max_data_points)) / 1000
    safe = range_seconds / SAFE_POINTS
    return max(rounded, min_seconds, safe)


def rate_interval(interval_seconds: float, scrape_seconds: float) -> float:
    return max(interval_seconds + scrape_seconds, 4 * scrape_seconds)


def duration_text(seconds: float) -> str:
    """A Prometheus duration: ``30s``, ``4m``, ``1h``, ``500ms``."""
    ms = round(seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


@dataclass(frozen=True)
class Selection:
    """A template variable's current value(s); ``all`` is Grafana's "All"."""

    name: str
    values: tuple[str, ...]
    all: bool = False
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    options: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "All" if self.all else " + ".join(self.values)


def builtin_values(
    *, start: float, end: float, interval: float, scrape_seconds: float
) -> dict[str, str]:
    range_seconds = round(end - start)
    return {
        "__interval": duration_text(interval),
        "__interval_ms": str(round(interval * 1000)),
        "__rate_interval": duration_text(rate_interval(interval, scrape_seconds)),
        "__range": f"{range_seconds}s",
        "__range_s": str(range_seconds),
        "__range_ms": str(range_seconds * 1000),
        "__from": str(round(start * 1000)),
        "__to": str(round(end * 1000)),
    }


def interpolate(
    text: str,
    selections: Mapping[str, Selection],
    builtins: Mapping[str, str] | None = None,
    *,
    dialect: str = "prometheus",
) -> str:
    """``text`` with every known variable replaced; unknown ones stay as written."""
    builtins = builtins or {}

    def replace(match: re.Match[str]) -> str:
        name = match["plain"] or match["braced"] or match["old"]
        explicit = match["format"] or match["oldformat"]
        if name in builtins:
            return builtins[name]
        selection = selections.get(name)
        if selection is None:
            return match.group(0)
        return _format(selection, explicit, dialect)

    return _VARIABLE.sub(replace, text)


def referenced(text: str) -> set[str]:
    return {m["plain"] or m["braced"] or m["old"] for m in _VARIABLE.finditer(text)} - {""}


def _format(selection: Selection, explicit: str | None, dialect: str) -> str:
    if selection.all and selection.all_value is not None and explicit is None:
        return selection.all_value  # Grafana inserts a custom all value verbatim
    values = list(selection.options if selection.all else selection.values)
    if explicit is not None:
        return _explicit_format(values, explicit)
    if dialect == "sql":
        if not selection.multi and not selection.include_all:
            return values[0] if values else ""
        return ",".join(_sql_quote(v) for v in values)
    if dialect != "prometheus":
        return ",".join(values)
    if not selection.multi and not selection.include_all:
        return _regular_escape(values[0]) if values else ""
    escaped = [_regex_escape(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def _regular_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\\\'")


def _regex_escape(value: str) -> str:
    escaped = value.replace("\\", "\\\\\\\\")
    return re.sub(r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), escaped)


def _sql_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _explicit_format(values: list[str], fmt: str) -> str:
    if fmt == "sqlstring":
        return ",".join(_sql_quote(v) for v in values)
    if fmt in ("regex",):
        escaped = [re.escape(v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    if fmt == "pipe":
        return "|".join(values)
    if fmt == "singlequote":
        return ",".join("'" + v.replace("'", "\\'") + "'" for v in values)
    if fmt == "doublequote":
        return ",".join('"' + v.replace('"', '\\"') + '"' for v in values)
    if fmt == "json":
        return json.dumps(values if len(values) != 1 else values[0])
    if fmt == "glob":
        return values[0] if len(values) == 1 else "{" + ",".join(values) + "}"
    return ",".join(values)  # csv, raw, text and formats the preview does not know
