"""Run sets -> verdict report: which metrics gate, which thresholds, which warnings. Pure.

The unit of comparison is the run: each metric's per-run values (computed exactly at
ingest) are compared between the candidate and the baseline runs, the error rate on the
runs' request counts. Which way is better, and the unit, are what the store saved with
the runs (the name decides only for runs that do not say). The gates (the declaration's
``baselines[].metrics``, else p95, error_rate and rps) decide the report's ``regression``;
every other metric both sides measured is informative. Every report names the run ids it
used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from perfdash.baseline.metrics import (
    COUNT_METRICS,
    DEFAULT_GATES,
    DEFAULT_METRICS,
    DESCRIPTIVE,
    PERCENTILES,
    REQUEST_METRICS,
    Direction,
    is_derived,
    min_samples_for,
    rule_for,
)
from perfdash.baseline.summaries import RunSummary
from perfdash.baseline.verdict import ALPHA, MetricTest, MetricVerdict, decide, metric_test
from perfdash.errors import NoBaselineError
from perfdash.model.fleet import Baseline, Fleet

COARSE_LIMIT = 0.01  # a tool step above 1% of the value is too coarse to compare


@dataclass(frozen=True)
class RunSet:
    label: str  # "branch feature-x", "runs 12, 13", "branch main (last 7d)"
    runs: tuple[RunSummary, ...]

    @property
    def ids(self) -> list[int]:
        return sorted(run.id for run in self.runs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "runs": self.ids,
            "branches": sorted({r.branch for r in self.runs if r.branch}),
            "git_shas": sorted({r.git_sha for r in self.runs if r.git_sha}),
            "first": min(r.started_at for r in self.runs).isoformat() if self.runs else None,
            "last": max(r.started_at for r in self.runs).isoformat() if self.runs else None,
        }


@dataclass(frozen=True)
class Report:
    benchmark: str
    candidate: RunSet
    baseline: RunSet
    verdicts: tuple[MetricVerdict, ...]
    warnings: tuple[str, ...]

    @property
    def regressions(self) -> list[MetricVerdict]:
        """The gates that regressed: what fails CI (informative metrics never do)."""
        return [v for v in self.verdicts if v.gate and v.verdict == "regression"]

    def metric_dicts(self) -> list[dict[str, Any]]:
        return [_metric_dict(v) for v in self.verdicts]

    def to_dict(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "candidate": self.candidate.to_dict(),
            "baseline": self.baseline.to_dict(),
            "metrics": self.metric_dicts(),
            "regression": bool(self.regressions),
            "gates": [v.test.metric for v in self.verdicts if v.gate],
            "warnings": list(self.warnings),
        }


def declared_baseline(fleet: Fleet, benchmark: str) -> Baseline | None:
    """The ``baselines:`` entry of any service that declares ``benchmark``."""
    for service in fleet.services:
        for baseline in service.baselines:
            if baseline.benchmark == benchmark:
                return baseline
    return None


def compare_runs(
    benchmark: str,
    candidate: RunSet,
    baseline: RunSet,
    *,
    metrics: Sequence[str] = (),
    thresholds: Mapping[str, Decimal] | None = None,
    alpha: float = ALPHA,
) -> Report:
    """Compare the candidate runs with the baseline runs, metric by metric.

    ``metrics`` are the gates (default: p95, error_rate and rps where measured, else the
    custom metrics); every other metric both sides measured is reported as informative."""
    if not candidate.runs:
        raise NoBaselineError(f"no candidate runs of {benchmark!r} ({candidate.label})")
    if not baseline.runs:
        raise NoBaselineError(
            f"no baseline for {benchmark!r}: no runs of {baseline.label}; ingest baseline runs, "
            "widen --window or pin runs with --baseline-run"
        )
    both = _measured(candidate) & _measured(baseline)
    gates = list(dict.fromkeys(metrics)) or default_gates(both)
    informative = [m for m in _ordered(both) if m not in gates]
    overrides = dict(thresholds or {})
    tests, warnings = [], []
    for metric in gates:
        if metric not in both:
            where = "baseline" if metric in _measured(candidate) else "candidate"
            warnings.append(f"{metric}: not measured in the {where} runs (gate skipped)")
            continue
        tests.append(_test(metric, candidate, baseline, overrides, gate=True, alpha=alpha))
    if not tests:
        raise NoBaselineError(
            f"nothing to compare for {benchmark!r}: none of the gates {', '.join(gates) or '-'} "
            "is measured in both the candidate and the baseline runs"
        )
    tests += [
        _test(m, candidate, baseline, overrides, gate=False, alpha=alpha) for m in informative
    ]
    warnings += _disagreements([t.metric for t in tests], candidate, baseline)
    warnings += _sample_warnings([t.metric for t in tests], candidate, baseline)
    warnings += _notes(candidate, baseline)
    return Report(
        benchmark, candidate, baseline, tuple(decide(tests, alpha=alpha)), tuple(warnings)
    )


def _test(
    metric: str,
    candidate: RunSet,
    baseline: RunSet,
    overrides: dict[str, Decimal],
    *,
    gate: bool,
    alpha: float,
) -> MetricTest:
    base = [r for r in baseline.runs if metric in r.values]
    cand = [r for r in candidate.runs if metric in r.values]
    direction, unit = stored_meaning(metric, (*base, *cand))
    rule = rule_for(metric, overrides=overrides, direction=direction, unit=unit)
    requests: dict[str, Sequence[int] | None] = {"baseline_requests": None,
                                                 "candidate_requests": None}  # fmt: skip
    if metric in COUNT_METRICS:
        counts = [r.counts.get(metric) for r in (*base, *cand)]
        if all(isinstance(n, int) and n > 0 for n in counts):
            requests = {
                "baseline_requests": [int(r.counts[metric] or 0) for r in base],
                "candidate_requests": [int(r.counts[metric] or 0) for r in cand],
            }
    return metric_test(
        metric, [r.values[metric] for r in base], [r.values[metric] for r in cand], rule,
        gate=gate, alpha=alpha, **requests,
    )  # fmt: skip


def stored_meaning(metric: str, runs: Sequence[RunSummary]) -> tuple[Direction | None, str | None]:
    """The direction and unit the store saved with ``metric`` (the newest run's where runs
    differ: a newer perfdash knows its tools better); None where no run says (the name
    decides then)."""
    newest_first = sorted(runs, key=lambda r: (r.started_at, r.id), reverse=True)
    direction = next((r.directions[metric] for r in newest_first if metric in r.directions), None)
    unit = next((r.units[metric] for r in newest_first if r.units.get(metric)), None)
    return direction, unit


def _disagreements(metrics: Sequence[str], *run_sets: RunSet) -> list[str]:
    """Metrics whose runs were stored with different directions (say, before and after a
    parser learned that ``MB/s`` is better higher)."""
    warnings = []
    runs = [r for run_set in run_sets for r in run_set.runs]
    for metric in metrics:
        said = {r.directions[metric] for r in runs if metric in r.directions}
        if len(said) > 1:
            used, _ = stored_meaning(metric, [r for r in runs if metric in r.values])
            lower = sorted(r.id for r in runs if r.directions.get(metric) == "lower")
            higher = sorted(r.id for r in runs if r.directions.get(metric) == "higher")
            warnings.append(
                f"{metric}: runs were stored with different directions (lower is better in runs "
                f"{_ids(lower)}, higher in runs {_ids(higher)}): using the newest run's, "
                f"{used} is better"
            )
    return warnings


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(map(str, ids[:5])) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _measured(run_set: RunSet) -> set[str]:
    return {m for r in run_set.runs for m in r.values if m not in DESCRIPTIVE}


def _ordered(metrics: set[str]) -> list[str]:
    """Request metrics in their usual order, then custom metrics by name."""
    custom = sorted(m for m in metrics if m not in REQUEST_METRICS)
    return [m for m in DEFAULT_METRICS if m in metrics] + custom


def default_gates(measured: set[str]) -> list[str]:
    """p95, error_rate and rps where measured; else every primary custom metric (not the
    ``.mean``/``.min``/``.max``/``.stddev`` that describe a series' spread); else whatever
    request metrics there are (a tool that reports only a median, say)."""
    gates = [m for m in DEFAULT_GATES if m in measured]
    custom = [m for m in _ordered(measured) if m not in REQUEST_METRICS and not is_derived(m)]
    return gates or custom or _ordered(measured)


def _sample_warnings(metrics: Sequence[str], *runs: RunSet) -> list[str]:
    """Runs with too few requests for a percentile, or a tool step too coarse for it."""
    warnings = []
    every = {r.id: r for run_set in runs for r in run_set.runs}
    for metric in metrics:
        quantile = PERCENTILES.get(metric)
        if quantile is not None:
            needed = min_samples_for(quantile)
            short = sorted(
                (rid, n)
                for rid, r in every.items()
                if (n := r.counts.get(metric)) is not None and n < needed
            )
            if short:
                listed = ", ".join(f"run {rid} ({n})" for rid, n in short[:5])
                more = f" and {len(short) - 5} more" if len(short) > 5 else ""
                warnings.append(
                    f"{metric}: too few requests for this percentile in {listed}{more}: it needs "
                    f"at least {needed} per run"
                )
        coarse = sorted(
            rid
            for rid, r in every.items()
            if metric in PERCENTILES or metric in ("mean", "min", "max")
            if r.resolution_ms and metric in r.values and r.values[metric] > 0
            and r.resolution_ms / r.values[metric] > COARSE_LIMIT
        )  # fmt: skip
        if coarse:
            warnings.append(
                f"{metric}: the tool measures in steps of "
                f"{every[coarse[0]].resolution_ms:g} ms, more than 1% of the value in runs "
                f"{', '.join(map(str, coarse[:5]))}{' ...' if len(coarse) > 5 else ''}: "
                "the resolution is coarse"
            )
    return warnings


def _notes(*run_sets: RunSet) -> list[str]:
    seen: dict[str, list[int]] = {}
    for run_set in run_sets:
        for run in run_set.runs:
            for note in run.notes:
                seen.setdefault(note, []).append(run.id)
    return [f"{note} (runs {', '.join(map(str, sorted(ids)))})" for note, ids in seen.items()]


def _finite(value: float | None, scale: float = 1.0) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value * scale


def _metric_dict(verdict: MetricVerdict) -> dict[str, Any]:
    test = verdict.test
    relative = test.scale == "log"
    pct = 100.0 if relative else None
    change_pct = (
        test.change * 100
        if relative
        else (test.change / test.baseline * 100 if test.baseline else None)
    )
    return {
        "metric": test.metric,
        "unit": test.rule.unit,
        "better": test.rule.direction,
        "baseline": test.baseline,
        "candidate": test.candidate,
        "change_pct": change_pct,
        "change": None if relative else test.change,
        "change_low_pct": _finite(test.low, pct) if pct else None,
        "change_high_pct": _finite(test.high, pct) if pct else None,
        "change_low": None if relative else _finite(test.low),
        "change_high": None if relative else _finite(test.high),
        "interval_level_pct": round((1 - 2 * ALPHA) * 100),
        "threshold_pct": test.rule.threshold.relative * 100,
        "threshold_abs": test.rule.threshold.absolute or None,
        "gate": test.gate,
        "p_value": verdict.p_value,
        "p_adjusted": verdict.p_adjusted,
        "adjusted_over": verdict.family,
        "test": test.test,
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "min_detectable_change_pct": _finite(verdict.mdc, 100.0) if relative else None,
        "min_detectable_change": None if relative else _finite(verdict.mdc),
        "baseline_cv_pct": _finite(test.cv, 100.0),
        "candidate_cv_pct": _finite(test.candidate_cv, 100.0),
        "baseline_runs": test.n_baseline,
        "candidate_runs": test.n_candidate,
    }
