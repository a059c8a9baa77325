"""Per-run summary metrics from per-series aggregates: pure.

The store aggregates each series of a run in SQL (exact percentiles over the run's own
samples); this module names the results. ``latency`` gives p50..p99.9, mean, max, min,
requests and (with timestamps) rps; ``failed`` gives error_rate and failures; any other
series ``S`` gives ``S`` (its median), ``S.mean``, ``S.stddev``, ``S.min`` and ``S.max``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from perfdash.baseline.metrics import PERCENTILES, rule_for
from perfdash.baseline.records import FAILED, LATENCY, Value

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
    aggregates: Iterable[SeriesAggregate], tool_values: Iterable[Value] = ()
) -> list[SummaryRow]:
    """Every per-run metric; values computed from samples win over the tool's own."""
    computed: dict[str, tuple[float, int | None]] = {}
    for agg in aggregates:
        computed.update(_series_metrics(agg))
    rows = {name: _row(name, value, count) for name, (value, count) in computed.items()}
    for value in tool_values:
        if value.metric not in rows:
            rows[value.metric] = _row(value.metric, value.value, value.count, value.unit)
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
