"""Scenario traffic for a preview: the synthetic series of the generated promtool tests.

The promtool tests (``perfdash.prometheus.rule_tests``) prove how the alerts behave on
synthetic traffic. A preview shows the dashboards on that same traffic: the input series
of the test a scenario names are read back from the generated test files, cut at the
moment the test asserts what it proves, and placed so that moment is the preview's
"now":

- ``outage``: the "total outage" test, up to the evaluation where the page must fire;
- ``healthy``: the same test up to its first assertion (nothing has fired, no errors);
- ``slow-burn``: the slow-burn test (a burn just under the slowest alert's factor for
  three days: nothing fires while the budget shrinks).

Before the test's own series, each series is extended back by ``history`` minutes at
the slope of its healthy phase, so that windows of days (the SLO's 30d budget, the 3d
ticket window) hold a realistic history rather than a few hours.

Pure: test file texts in, OpenMetrics text out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from perfdash.durations import Duration
from perfdash.errors import OutputError
from perfdash.model.fleet import Matcher, quote_label_value
from perfdash.prometheus.synthetic import selectors_in

SCENARIOS = ("outage", "slow-burn", "healthy")
STEP_SECONDS = 60  # the promtool tests' input interval

_EXPANDING = re.compile(
    r"^(?P<start>[-+]?[0-9.eE+-]+?|_)(?:(?P<sign>[+-])(?P<step>[0-9.eE+-]+))?x(?P<count>\d+)$"
)


@dataclass(frozen=True)
class ScenarioSeries:
    """One input series: ``metric{labels}``, a value per minute (None: a gap), and the
    per-minute growth of its healthy phase, used to extend it back in time."""

    name: str
    values: tuple[float | None, ...]
    healthy_slope: float


@dataclass(frozen=True)
class SloTraffic:
    """The traffic of one SLO's scenario: series ending at the test's assertion."""

    source: str  # the test file it came from
    test: str  # the test's name
    series: tuple[ScenarioSeries, ...]


def expand_values(text: str) -> list[float | None]:
    """promtool's expanding notation (``0 600+600x179 _x2 1x3``) as one value per step."""
    out: list[float | None] = []
    for token in text.split():
        match = _EXPANDING.match(token)
        if match is None:
            out.append(None if token in ("_", "stale") else float(token))
            continue
        count = int(match["count"])
        if match["start"] == "_":
            out.extend([None] * (count + 1))
            continue
        start = float(match["start"])
        step = float(match["step"] or 0) * (-1 if match["sign"] == "-" else 1)
        out.extend(start + step * i for i in range(count + 1))
    return out


def scenario_traffic(test_files: Mapping[str, str], scenario: str) -> list[SloTraffic]:
    """The scenario's traffic of every SLO whose generated tests hold it.

    ``test_files`` are the generated promtool test files (path -> text). An SLO without
    the scenario's test (no alert enabled) gets its no-error test: healthy traffic.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}")
    out = []
    for path in sorted(p for p in test_files if not p.endswith(".slow-burn.yaml")):
        slow_path = path.removesuffix(".yaml") + ".slow-burn.yaml"
        tests = _tests(path, test_files[path])
        outage = _named(tests, "total outage")
        healthy = _first_slopes(outage) if outage else {}
        if scenario == "slow-burn" and slow_path in test_files:
            test = _tests(slow_path, test_files[slow_path])[0]
            source, end = slow_path, _eval_minutes(test["promql_expr_test"][-1])
        elif outage is not None:
            checks = outage["promql_expr_test"]
            check = checks[0] if scenario == "healthy" else _first_firing(checks, path)
            test, source, end = outage, path, _eval_minutes(check)
        else:
            quiet = _named(tests, "traffic without a single error")
            if quiet is None:
                continue
            test, source, end = quiet, path, _eval_minutes(quiet["promql_expr_test"][0])
        series = []
        for item in test["input_series"]:
            values = tuple(expand_values(item["values"])[: end + 1])
            slope = healthy.get(item["series"], _slope(values))
            series.append(ScenarioSeries(item["series"], values, slope))
        out.append(SloTraffic(source, test["name"], tuple(series)))
    return out


def openmetrics(traffic: Iterable[SloTraffic], *, end: int, start: int) -> str:
    """OpenMetrics text of every series, its last sample at unix time ``end``, extended
    back to ``start`` before the test's first sample at its healthy slope (counters start
    from 0 there). A series met twice (two SLOs reading one counter) keeps the first."""
    seen: set[str] = set()
    families: dict[str, list[str]] = {}
    for slo in traffic:
        for item in slo.series:
            if item.name in seen:
                continue
            seen.add(item.name)
            metric, name = _openmetrics_name(item.name)
            lines = families.setdefault(metric, [])
            first = end - (len(item.values) - 1) * STEP_SECONDS
            history_minutes = max(0, (first - start) // STEP_SECONDS)
            base = item.healthy_slope * history_minutes
            for minute in range(history_minutes):
                at = first - (history_minutes - minute) * STEP_SECONDS
                lines.append(f"{name} {_number(item.healthy_slope * minute)} {at}")
            for index, value in enumerate(item.values):
                if value is not None:
                    at = first + index * STEP_SECONDS
                    lines.append(f"{name} {_number(base + value)} {at}")
    out = []
    for metric in sorted(families):
        # promtool reads the series as untyped: counters' _total names stay as they are.
        out.append(f"# TYPE {metric} unknown")
        out.extend(families[metric])
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _openmetrics_name(series: str) -> tuple[str, str]:
    """``metric{a="1", b="2"}`` as OpenMetrics writes it (no spaces, sorted labels)."""
    selector = selectors_in(series)[0]
    labels = ",".join(
        f"{m.label}={quote_label_value(m.value)}" for m in sorted(selector.matchers, key=_label)
    )
    return selector.metric, f"{selector.metric}{{{labels}}}"


def _label(matcher: Matcher) -> str:
    return matcher.label


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _tests(path: str, text: str) -> list[dict[str, Any]]:
    try:
        document = yaml.safe_load(text)
        tests = document["tests"]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise OutputError(f"{path}: not a promtool test file perfdash generated ({exc})") from exc
    return list(tests)


def _named(tests: list[dict[str, Any]], prefix: str) -> dict[str, Any] | None:
    return next((t for t in tests if str(t.get("name", "")).startswith(prefix)), None)


def _first_firing(checks: list[dict[str, Any]], path: str) -> dict[str, Any]:
    for check in checks:
        if check.get("exp_samples") and str(check["expr"]).startswith("ALERTS"):
            return check
    raise OutputError(f"{path}: the outage test asserts no firing alert")


def _eval_minutes(check: Mapping[str, Any]) -> int:
    return math.ceil(Duration.parse(str(check["eval_time"])).seconds / STEP_SECONDS)


def _slope(values: tuple[float | None, ...]) -> float:
    known = [v for v in values[:2] if v is not None]
    return known[1] - known[0] if len(known) == 2 else 0.0


def _first_slopes(test: Mapping[str, Any]) -> dict[str, float]:
    """Per-minute growth of each series in the test's first phase (healthy traffic)."""
    return {
        s["series"]: _slope(tuple(expand_values(s["values"])[:2])) for s in test["input_series"]
    }
