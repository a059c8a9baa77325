"""What each metric means for a verdict: its direction, scale, unit and default threshold.

Pure and table-driven. The direction and unit guessed from a name are a fallback: the
store saves each metric's unit and direction as the result file's parser knew them, and
compare uses those. A latency percentile is better lower, throughput better higher;
an error rate is compared in percentage points (it is often 0), everything else as a ratio
of the baseline (on log values).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Direction = Literal["lower", "higher"]
Scale = Literal["log", "linear"]

PERCENTILES: dict[str, float] = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p99.9": 0.999}
LATENCY_METRICS = (*PERCENTILES, "mean", "max", "min")
REQUEST_METRICS = (*LATENCY_METRICS, "rps", "error_rate")
DEFAULT_METRICS = ("p50", "p90", "p95", "p99", "p99.9", "mean", "max", "rps", "error_rate")
# The metrics a verdict gates on when the declaration names none (the rest are informative):
# the median catches a change that slows every request (it barely moves with a busy
# machine), p95 one that slows the tail, and the error rate and throughput the rest.
DEFAULT_GATES = ("p50", "p95", "error_rate", "rps")
# Metrics stored with the requests behind them, tested on those counts.
COUNT_METRICS = frozenset({"error_rate"})
# Suffixes of the statistics that describe a custom series' spread (informative by default).
DERIVED_SUFFIXES = (".mean", ".min", ".max", ".stddev")
# Metrics that only describe a run (never compared by default).
DESCRIPTIVE = frozenset({"min", "requests", "failures", "duration_s"})

_THROUGHPUT_SUFFIXES = ("rps", "ops/s", "MB/s", "/s", ".ops")
_MEMORY_MARKERS = ("B/op", "allocs/op", "memory", "rss", "bytes")


@dataclass(frozen=True)
class Threshold:
    """The practical threshold: a change smaller than this is not worth a verdict.

    ``relative`` is a fraction of the baseline (0.2 = 20%); ``absolute`` is a floor in the
    metric's own unit (error rate: 0.005 = half a percentage point)."""

    relative: float
    absolute: float = 0.0

    def tolerance(self, baseline: float) -> float:
        """Allowed change in the metric's unit around ``baseline`` (linear scale)."""
        return max(self.absolute, self.relative * abs(baseline))


@dataclass(frozen=True)
class MetricRule:
    direction: Direction
    scale: Scale
    threshold: Threshold
    unit: str


def rule_for(
    metric: str,
    *,
    overrides: dict[str, Decimal] | None = None,
    direction: Direction | None = None,
    unit: str | None = None,
) -> MetricRule:
    """Direction, scale, unit and threshold of ``metric``; ``overrides`` maps metric names to
    thresholds in percent (from the declaration or ``--threshold``). ``direction`` and
    ``unit``, what the store saved with the runs, win over the guess from the name."""
    rule = _default_rule(metric)
    if direction is not None or unit:
        rule = MetricRule(
            direction or rule.direction, rule.scale, rule.threshold, unit or rule.unit
        )
    if overrides and metric in overrides:
        relative = float(overrides[metric]) / 100
        absolute = rule.threshold.absolute if rule.scale == "linear" else 0.0
        rule = MetricRule(rule.direction, rule.scale, Threshold(relative, absolute), rule.unit)
    return rule


_STATISTICS = (".mean", ".min", ".max", ".median")


def _default_rule(metric: str) -> MetricRule:
    if metric == "error_rate":
        return MetricRule("lower", "linear", Threshold(0.05, 0.005), "percentunit")
    if metric in LATENCY_METRICS:
        return MetricRule("lower", "log", Threshold(0.20), "ms")
    # BenchmarkX.MB/s.mean is a mean of MB/s: judged like MB/s.
    series = metric.removesuffix(next((s for s in _STATISTICS if metric.endswith(s)), ""))
    unit = _unit_of(series)
    if series.endswith(_THROUGHPUT_SUFFIXES):
        return MetricRule("higher", "log", Threshold(0.15), unit)
    if any(marker in series for marker in _MEMORY_MARKERS):
        return MetricRule("lower", "log", Threshold(0.30), unit)
    return MetricRule("lower", "log", Threshold(0.20), unit)


def _unit_of(series: str) -> str:
    """``BenchmarkX.ns/op`` -> ``ns/op`` (Go's units have a slash); else unknown here (the
    store keeps the unit the result file gave, e.g. seconds for hyperfine)."""
    if series in _NAMED_UNITS:
        return _NAMED_UNITS[series]
    last = series.rsplit(".", 1)[-1]
    return last if "/" in last and last != series else ""


_NAMED_UNITS = {"rps": "req/s", "duration_s": "s", "ops": "ops/s"}


def is_derived(metric: str) -> bool:
    return metric.endswith(DERIVED_SUFFIXES)


def min_samples_for(quantile: float, *, confidence: float = 0.975) -> int:
    """Fewest samples for which the largest one lies above the ``quantile`` with probability
    ``confidence``: a run with fewer cannot bound that percentile (p95: 72, p99: 368)."""
    return math.ceil(math.log(1 - confidence) / math.log(quantile))
