"""Per-metric verdicts from per-run values: pure, no I/O.

Each metric is tested on its per-run values (never on pooled requests):

- two or more candidate runs: Mann-Whitney U between the run sets and a Hodges-Lehmann
  interval for the change (on log values, so changes are ratios);
- one candidate run: a t prediction interval from at least 10 baseline runs (log values),
  labelled as the weaker single-run test.

p-values are adjusted over the compared metrics (Benjamini-Hochberg). A regression needs a
significant adjusted p-value *and* a change beyond the metric's practical threshold in its
bad direction. ``no change`` needs the whole interval inside the tolerance; ``too noisy``
when the statistic's robust coefficient of variation across baseline runs exceeds 5%;
otherwise ``inconclusive``, with the smallest change these runs could have detected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from perfdash.baseline import stats
from perfdash.baseline.metrics import MetricRule

Verdict = Literal["regression", "improvement", "no change", "inconclusive", "too noisy"]
ALPHA = 0.05
NOISE_LIMIT = 0.05
POWER = 0.8  # for the minimum detectable change
SINGLE_RUN_MIN_BASELINE = 10
MANN_WHITNEY = "Mann-Whitney U"
SINGLE_RUN = "single-run t prediction interval (weaker)"


@dataclass(frozen=True)
class MetricTest:
    """One metric's test before the false-discovery-rate adjustment.

    ``change``/``low``/``high``/``tolerance``/``mdc`` are fractions of the baseline on the
    log scale and absolute amounts in the metric's unit on the linear scale."""

    metric: str
    rule: MetricRule
    scale: str  # "log" or "linear" (log metrics with a value <= 0 fall back to linear)
    baseline: float  # median of the baseline runs' values
    candidate: float  # median of the candidate runs' values
    change: float
    low: float
    high: float
    tolerance: float
    p_value: float | None
    test: str
    mdc: float
    cv: float | None  # robust CV of the baseline runs' values (log metrics, >= 3 runs)
    n_baseline: int
    n_candidate: int
    note: str = ""


@dataclass(frozen=True)
class MetricVerdict:
    test: MetricTest
    p_adjusted: float | None
    verdict: Verdict
    reason: str


def metric_test(
    metric: str,
    baseline: Sequence[float],
    candidate: Sequence[float],
    rule: MetricRule,
    *,
    alpha: float = ALPHA,
) -> MetricTest:
    """Test one metric's candidate run values against its baseline run values."""
    if not baseline or not candidate:
        raise ValueError("both run sets need values")
    base_mid, cand_mid = stats.median(baseline), stats.median(candidate)
    log = rule.scale == "log" and min(*baseline, *candidate) > 0
    transform = math.log if log else float
    xs = [transform(v) for v in baseline]
    ys = [transform(v) for v in candidate]
    tolerance = rule.threshold.relative if log else rule.threshold.tolerance(base_mid)
    change = cand_mid / base_mid - 1 if log else cand_mid - base_mid
    cv = stats.robust_cv(baseline) if log and len(baseline) >= 3 else None
    base = MetricTest(
        metric=metric, rule=rule, scale="log" if log else "linear", baseline=base_mid,
        candidate=cand_mid, change=change, low=-math.inf, high=math.inf, tolerance=tolerance,
        p_value=None, test=SINGLE_RUN if len(ys) == 1 else MANN_WHITNEY, mdc=math.inf, cv=cv,
        n_baseline=len(baseline), n_candidate=len(candidate),
    )  # fmt: skip
    back = _expm1 if log else _identity
    if len(ys) == 1:
        if len(xs) < SINGLE_RUN_MIN_BASELINE:
            return replace(
                base,
                note=f"one candidate run: the single-run test needs at least "
                f"{SINGLE_RUN_MIN_BASELINE} baseline runs (have {len(xs)})",
            )
        prediction = stats.single_run_prediction(xs, ys[0], alpha=alpha)
        quantile = stats.t_ppf(1 - alpha / 2, len(xs) - 1) + stats.normal_quantile(POWER)
        return replace(
            base,
            low=back(ys[0] - prediction.high),
            high=back(ys[0] - prediction.low),
            p_value=prediction.p_value,
            mdc=abs(back(quantile * prediction.scale)),
        )
    u_test = stats.mann_whitney(xs, ys)
    shift = stats.hodges_lehmann(xs, ys, alpha=alpha)
    return replace(
        base,
        low=back(shift.low) if math.isfinite(shift.low) else -math.inf,
        high=back(shift.high) if math.isfinite(shift.high) else math.inf,
        p_value=u_test.p_value,
        mdc=_run_set_mdc(xs, ys, alpha=alpha, back=back),
    )


def _expm1(value: float) -> float:
    return math.expm1(value)


def _identity(value: float) -> float:
    return value


def _run_set_mdc(
    xs: Sequence[float], ys: Sequence[float], *, alpha: float, back: Callable[[float], float]
) -> float:
    """Smallest change the U test would detect with 80% power (normal approximation,
    inflated by the U test's efficiency pi/3); infinite when these run counts can never
    reach significance."""
    m, n = len(xs), len(ys)
    if stats.min_p_value(m, n) > alpha:
        return math.inf
    pooled = [*(x - stats.median(xs) for x in xs), *(y - stats.median(ys) for y in ys)]
    sigma = stats.robust_sd(pooled) or _sd(pooled)
    z = stats.normal_quantile(1 - alpha / 2) + stats.normal_quantile(POWER)
    delta = z * sigma * math.sqrt((1 / m + 1 / n) * math.pi / 3)
    return abs(back(delta))


def _sd(values: Sequence[float]) -> float:
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / max(1, len(values) - 1))


def decide(tests: Sequence[MetricTest], *, alpha: float = ALPHA) -> list[MetricVerdict]:
    """Adjust the p-values over ``tests`` (Benjamini-Hochberg) and give each its verdict."""
    adjusted = stats.benjamini_hochberg([t.p_value for t in tests])
    return [_verdict(t, p, alpha) for t, p in zip(tests, adjusted, strict=True)]


def _verdict(test: MetricTest, p_adjusted: float | None, alpha: float) -> MetricVerdict:
    significant = p_adjusted is not None and p_adjusted < alpha
    worse = test.change > 0 if test.rule.direction == "lower" else test.change < 0
    beyond = abs(test.change) > test.tolerance
    how = _how(test, p_adjusted)
    if significant and beyond:
        verdict: Verdict = "regression" if worse else "improvement"
        word = "worse" if worse else "better"
        return MetricVerdict(
            test, p_adjusted, verdict,
            f"{_change_words(test)} ({word}), beyond the {_tolerance_words(test)} threshold; {how}",
        )  # fmt: skip
    if test.cv is not None and test.cv > NOISE_LIMIT:
        return MetricVerdict(
            test,
            p_adjusted,
            "too noisy",
            f"{test.metric} varies by {test.cv:.1%} between baseline runs (robust CV, limit "
            f"{NOISE_LIMIT:.0%}): stabilise the benchmark or compare more runs",
        )
    if test.note:
        return MetricVerdict(test, p_adjusted, "inconclusive", test.note)
    if -test.tolerance <= test.low and test.high <= test.tolerance:
        return MetricVerdict(
            test,
            p_adjusted,
            "no change",
            f"{_interval_words(test)} lies within the {_tolerance_words(test)} tolerance; {how}",
        )
    return MetricVerdict(
        test,
        p_adjusted,
        "inconclusive",
        f"{_interval_words(test)} reaches beyond the {_tolerance_words(test)} tolerance; the "
        f"smallest change these runs could detect is {_amount(test, test.mdc)}; {how}",
    )


def _how(test: MetricTest, p_adjusted: float | None) -> str:
    runs = f"{test.n_baseline} vs {test.n_candidate} runs"
    if p_adjusted is None:
        return f"{test.test}, {runs}"
    return f"adjusted p = {p_adjusted:.3g} ({test.test}, {runs})"


def _amount(test: MetricTest, value: float, *, sign: bool = False) -> str:
    if math.isinf(value):
        return "unbounded" if not sign else ("+inf" if value > 0 else "-inf")
    if test.scale == "log":
        return f"{value:+.1%}" if sign else f"{value:.1%}"
    if test.rule.unit == "percentunit":
        points = value * 100
        return f"{points:+.2f} points" if sign else f"{points:.2f} points"
    return f"{value:+.4g}" if sign else f"{value:.4g}"


def _change_words(test: MetricTest) -> str:
    return f"{test.metric} changed {_amount(test, test.change, sign=True)}"


def _interval_words(test: MetricTest) -> str:
    level = f"{1 - ALPHA:.0%}"
    kind = "prediction interval" if test.test == SINGLE_RUN else "CI"
    return (
        f"the {level} {kind} of the change, {_amount(test, test.low, sign=True)} to "
        f"{_amount(test, test.high, sign=True)},"
    )


def _tolerance_words(test: MetricTest) -> str:
    return "±" + _amount(test, test.tolerance)
