"""Per-run summary metrics from per-series aggregates: pure.

The store aggregates each series of a run in SQL (exact percentiles over the run's own
samples); this module names the results. ``latency`` gives p50..p99.9, mean, max, min,
requests and (with timestamps) rps; ``failed`` gives error_rate and failures; any other
series ``S`` gives ``S`` (its median), ``S.mean``, ``S.stddev``, ``S.min`` and ``S.max``,
in the unit and direction its ``SeriesInfo`` gives (else guessed from the name).

``rps`` is the requests divided by the time from the first to the last request's
timestamp: the rate while requests ran, without the tool's start-up and wind-down (k6's
own ``http_reqs`` rate divides by the whole test's duration, so it is a little lower).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from perfdash.baseline.metrics import PERCENTILES, Direction, rule_for
from perfdash.baseline.records import FAILED, LATENCY, SeriesInfo, Value

QUANTILES = tuple(PERCENTILES.values())  # the order the store's percentile array uses


@dataclass(frozen=True)
class RunSummary:
    """One stored run with its per-run metrics, as compare reads it."""

    id: int
    benchmark: str
    started_at: datetime
    branch: str | None
    git_sha: str | None
    tool: str | None
    resolution_ms: float | None
    notes: tuple[str, ...]
    values: dict[str, float]
    counts: dict[str, int | None]
    # What the store saved at ingest with each value (the parser knows its tool's units and
    # which way is better; runs stored before perfdash saved them may lack them).
    units: dict[str, str] = field(default_factory=dict)
    directions: dict[str, Direction] = field(default_factory=dict)


@dataclass(frozen=True)
class SeriesAggregate:
    """Exact aggregates of one series of one run."""

    series: str
    count: int
    mean: float
    minimum: float
    maximum: float
    stddev: float | None
    quantiles: tuple[float, ...]  # at QUANTILES
    first_ts: float | None = None  # epoch seconds of the first and last timestamped sample
    last_ts: float | None = None


@dataclass(frozen=True)
class SummaryRow:
    metric: str
    value: float
    count: int | None
    unit: str
    better: str


def summary_rows(
    aggregates: Iterable[SeriesAggregate],
    tool_values: Iterable[Value] = (),
    series_info: Mapping[str, SeriesInfo] | None = None,
) -> list[SummaryRow]:
    """Every per-run metric; values computed from samples win over the tool's own."""
    infos = series_info or {}
    rows: dict[str, SummaryRow] = {}
    for agg in aggregates:
        info = infos.get(agg.series)
        for name, (value, count) in _series_metrics(agg).items():
            if info is None:
                rows[name] = _row(name, value, count)
            else:
                better = "lower" if name.endswith(".stddev") else info.better
                rows[name] = SummaryRow(name, float(value), count, info.unit, better)
    for tool in tool_values:
        if tool.metric not in rows:
            row = _row(tool.metric, tool.value, tool.count, tool.unit)
            if tool.better is not None:
                row = SummaryRow(row.metric, row.value, row.count, row.unit, tool.better)
            rows[tool.metric] = row
    return [rows[name] for name in sorted(rows)]


def _series_metrics(agg: SeriesAggregate) -> Mapping[str, tuple[float, int | None]]:
    n = agg.count
    if agg.series == LATENCY:
        metrics = {name: (q, n) for name, q in zip(PERCENTILES, agg.quantiles, strict=True)}
        metrics |= {"mean": (agg.mean, n), "max": (agg.maximum, n), "min": (agg.minimum, n)}
        metrics["requests"] = (float(n), n)
        if agg.first_ts is not None and agg.last_ts is not None and agg.last_ts > agg.first_ts:
            metrics["rps"] = (n / (agg.last_ts - agg.first_ts), n)
            metrics["duration_s"] = (agg.last_ts - agg.first_ts, n)
        return metrics
    if agg.series == FAILED:
        return {"error_rate": (agg.mean, n), "failures": (round(agg.mean * n), n)}
    base = agg.series
    metrics = {base: (agg.quantiles[0], n), f"{base}.mean": (agg.mean, n)}
    metrics |= {f"{base}.min": (agg.minimum, n), f"{base}.max": (agg.maximum, n)}
    if agg.stddev is not None:
        metrics[f"{base}.stddev"] = (agg.stddev, n)
    return metrics


def _row(metric: str, value: float, count: int | None, unit: str = "") -> SummaryRow:
    rule = rule_for(metric)
    return SummaryRow(metric, float(value), count, unit or rule.unit, rule.direction)
