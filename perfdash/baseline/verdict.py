"""Per-metric verdicts from per-run values and counts: pure, no I/O.

The unit is the run: what varies between runs of the same code (the machine, the network,
the neighbours) is the noise a change must stand out from.

- Ratios (latency, throughput, custom metrics): a t-test on the runs' log values, so a
  change is a ratio of geometric means and the noise is the runs' spread. A branch's runs
  usually run back to back and share one state of the machine, so they count as one
  session: their mean varies as much as one baseline run does, unless they disagree more
  than that (then Welch's test). One candidate run against 10 or more baseline runs: the
  t prediction interval (weaker).
- The error rate: failures out of requests per run (quasi-binomial): the binomial variance
  of the counts plus the between-run overdispersion the baseline runs show, so ten runs
  with 0.1% errors and three with 2.7% are compared as the 40,000 requests they are, not
  as 13 ratios.

Each test is one-sided per direction. The gates (the metrics a benchmark is judged on)
form one family and the informative metrics another; within each, Benjamini-Hochberg
adjusts the p-values. A **regression** needs an adjusted p below alpha for a change in the
bad direction *and* an estimated change beyond the metric's threshold; **no change** needs
the whole (1 - 2 alpha) interval within the threshold; **too noisy** when the runs could
not even detect a change of twice the threshold; otherwise **inconclusive**. Every verdict
carries the smallest worsening its runs would detect with 90% power (computed for this
test at these run counts and this spread, with alpha split over the family).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from perfdash.baseline import power, stats
from perfdash.baseline.metrics import MetricRule

Verdict = Literal["regression", "improvement", "no change", "inconclusive", "too noisy"]
ALPHA = 0.05  # one-sided, per direction: false regressions <= 5%, false improvements <= 5%
POWER = 0.9  # for the smallest detectable change
NOISE_FACTOR = 2.0  # too noisy: the runs miss a change of twice the threshold
SINGLE_RUN_MIN_BASELINE = 10
RUN_SETS_LOG = "t on log run values"
RUN_SETS = "t on run values"
SINGLE_RUN = "single-run t prediction interval (weaker)"
COUNTS = "quasi-binomial on request counts"


@dataclass(frozen=True)
class MetricTest:
    """One metric's test before the p-values are adjusted.

    ``difference`` is on the test's scale, oriented so that positive is worse (log values,
    negated for higher-is-better metrics; proportions). ``change``/``low``/``high`` and
    ``tolerance`` are fractions of the baseline on the log scale and amounts in the
    metric's unit on the linear scale, signed as the metric moves."""

    metric: str
    rule: MetricRule
    gate: bool
    scale: str  # "log" or "linear" (log metrics with a value <= 0 fall back to linear)
    baseline: float  # geometric mean of the runs (log), mean (linear), pooled rate (counts)
    candidate: float
    change: float
    low: float
    high: float
    tolerance: float
    test: str
    cv: float | None  # robust CV of the baseline runs' values (log metrics, >= 3 runs)
    n_baseline: int
    n_candidate: int
    difference: stats.Difference | None = None
    candidate_cv: float | None = None  # the same over the candidate runs
    worse_floor: float = math.inf  # on the oriented scale: beyond it, a regression
    better_floor: float = math.inf  # magnitude on the oriented scale: an improvement
    note: str = ""  # why there is no test

    @property
    def p_worse(self) -> float | None:
        return None if self.difference is None else self.difference.p_increase

    @property
    def p_better(self) -> float | None:
        return None if self.difference is None else self.difference.p_decrease

    @property
    def worse(self) -> bool:
        return self.difference is not None and self.difference.estimate > 0


@dataclass(frozen=True)
class MetricVerdict:
    test: MetricTest
    p_value: float | None  # one-sided, in the direction the metric moved
    p_adjusted: float | None  # the same, adjusted over the metric's family
    verdict: Verdict
    reason: str
    mdc: float  # smallest worsening detected with POWER (fraction on log, amount on linear)
    family: int  # metrics in the family the p-value was adjusted over

    @property
    def gate(self) -> bool:
        return self.test.gate


def metric_test(
    metric: str,
    baseline: Sequence[float],
    candidate: Sequence[float],
    rule: MetricRule,
    *,
    baseline_requests: Sequence[int] | None = None,
    candidate_requests: Sequence[int] | None = None,
    gate: bool = True,
    alpha: float = ALPHA,
) -> MetricTest:
    """Test one metric's candidate runs against its baseline runs. With ``*_requests``
    (requests per run), ``baseline``/``candidate`` are per-run failure proportions and the
    counts are tested."""
    if not baseline or not candidate:
        raise ValueError("both run sets need values")
    if baseline_requests is not None and candidate_requests is not None:
        return _count_test(
            metric, baseline, candidate, baseline_requests, candidate_requests, rule, gate, alpha
        )
    log = rule.scale == "log" and min(*baseline, *candidate) > 0
    lower_better = rule.direction == "lower"
    orient = 1.0 if lower_better else -1.0
    if log:
        xs = [orient * math.log(v) for v in baseline]
        ys = [orient * math.log(v) for v in candidate]
        base = math.exp(stats.mean([math.log(v) for v in baseline]))
        cand = math.exp(stats.mean([math.log(v) for v in candidate]))
    else:
        xs, ys = [orient * v for v in baseline], [orient * v for v in candidate]
        base, cand = stats.mean(baseline), stats.mean(candidate)
    relative = rule.threshold.relative
    tolerance = relative if log else rule.threshold.tolerance(base)
    if log:
        rise, fall = math.log1p(relative), -math.log1p(-relative) if relative < 1 else math.inf
        worse_floor, better_floor = (rise, fall) if lower_better else (fall, rise)
    else:
        worse_floor = better_floor = tolerance
    shell = MetricTest(
        metric=metric, rule=rule, gate=gate, scale="log" if log else "linear", baseline=base,
        candidate=cand, change=cand / base - 1 if log else cand - base, low=-math.inf,
        high=math.inf, tolerance=tolerance, test=RUN_SETS_LOG if log else RUN_SETS,
        cv=stats.robust_cv(baseline) if log and len(baseline) >= 3 else None,
        candidate_cv=stats.robust_cv(candidate) if log and len(candidate) >= 3 else None,
        n_baseline=len(baseline), n_candidate=len(candidate),
        worse_floor=worse_floor, better_floor=better_floor,
    )  # fmt: skip
    if len(ys) == 1 and len(xs) < SINGLE_RUN_MIN_BASELINE:
        return _without_test(
            shell,
            f"one candidate run: the single-run test needs at least "
            f"{SINGLE_RUN_MIN_BASELINE} baseline runs (have {len(xs)})",
            SINGLE_RUN,
        )
    if len(xs) < 2:
        return _without_test(shell, "one baseline run: the test needs at least two")
    difference = stats.run_sets(xs, ys, alpha=alpha)
    return _with_difference(shell, difference, _run_set_test_name(difference, log))


def _run_set_test_name(difference: stats.Difference, log: bool) -> str:
    design = difference.runs
    if design is None or design.n == 1:
        return SINGLE_RUN
    values = "log run values" if log else "run values"
    if design.n >= 2 and design.vb < design.vc / design.n:
        return f"Welch t on {values} (the candidate runs vary more than one baseline run)"
    return f"t on {values}, candidate runs as one session"


def _without_test(shell: MetricTest, note: str, test: str | None = None) -> MetricTest:
    return replace(shell, note=note, test=test or shell.test)


def _with_difference(shell: MetricTest, difference: stats.Difference, test: str) -> MetricTest:
    low, high = difference.low, difference.high
    if shell.scale == "log":
        if shell.rule.direction == "lower":
            low, high = math.expm1(low), math.expm1(high)
        else:
            low, high = math.expm1(-high), math.expm1(-low)
    elif shell.rule.direction != "lower":
        low, high = -high, -low
    return replace(shell, difference=difference, low=low, high=high, test=test)


def _count_test(
    metric: str,
    baseline: Sequence[float],
    candidate: Sequence[float],
    baseline_requests: Sequence[int],
    candidate_requests: Sequence[int],
    rule: MetricRule,
    gate: bool,
    alpha: float,
) -> MetricTest:
    base_runs = [(round(p * n), n) for p, n in zip(baseline, baseline_requests, strict=True)]
    cand_runs = [(round(p * n), n) for p, n in zip(candidate, candidate_requests, strict=True)]
    base = sum(f for f, _ in base_runs) / max(1, sum(n for _, n in base_runs))
    cand = sum(f for f, _ in cand_runs) / max(1, sum(n for _, n in cand_runs))
    tolerance = rule.threshold.tolerance(base)
    shell = MetricTest(
        metric=metric, rule=rule, gate=gate, scale="linear", baseline=base, candidate=cand,
        change=cand - base, low=-math.inf, high=math.inf, tolerance=tolerance, test=COUNTS,
        cv=None, n_baseline=len(baseline), n_candidate=len(candidate),
        worse_floor=tolerance, better_floor=tolerance,
    )  # fmt: skip
    if len(base_runs) < 2:
        return _without_test(shell, "one baseline run: the error-rate test needs at least two")
    if min(n for _, n in (*base_runs, *cand_runs)) <= 0:
        return _without_test(shell, "a run without requests")
    difference = stats.quasi_binomial(base_runs, cand_runs, alpha=alpha)
    return _with_difference(shell, difference, COUNTS)


def detectable_change(test: MetricTest, *, family: int, alpha: float = ALPHA) -> float:
    """The smallest worsening these runs detect with ``POWER`` when this metric alone
    changes (so BH needs p < alpha / family): a fraction of the baseline (log) or an amount
    (linear); infinite when no change can be."""
    if test.difference is None:
        return math.inf
    oriented = power.detectable(
        test.difference, alpha=alpha / family, power_wanted=POWER, floor=test.worse_floor
    )
    if test.scale != "log" or math.isinf(oriented):
        return oriented
    if test.rule.direction != "lower":
        return -math.expm1(-oriented)
    return math.expm1(oriented) if oriented < 700 else math.inf  # a ratio beyond any float


def decide(tests: Sequence[MetricTest], *, alpha: float = ALPHA) -> list[MetricVerdict]:
    """Adjust the p-values within the gates and within the informative metrics, and give
    each metric its verdict (in the order given)."""
    verdicts: dict[int, MetricVerdict] = {}
    for gate in (True, False):
        family = [i for i, t in enumerate(tests) if t.gate is gate]
        worse = stats.benjamini_hochberg([tests[i].p_worse for i in family])
        better = stats.benjamini_hochberg([tests[i].p_better for i in family])
        for index, p_worse, p_better in zip(family, worse, better, strict=True):
            verdicts[index] = _verdict(tests[index], p_worse, p_better, len(family), alpha)
    return [verdicts[i] for i in range(len(tests))]


def _verdict(
    test: MetricTest,
    p_worse: float | None,
    p_better: float | None,
    family: int,
    alpha: float,
) -> MetricVerdict:
    mdc = detectable_change(test, family=family, alpha=alpha)
    d = test.difference
    raw, adjusted = (test.p_worse, p_worse) if test.worse else (test.p_better, p_better)

    def verdict(word: Verdict, reason: str) -> MetricVerdict:
        # The recorded verdicts (and the dashboards' verdict table) keep only the reason.
        said = reason if test.gate else f"informative, not a gate: {reason}"
        return MetricVerdict(test, raw, adjusted, word, said, mdc, family)

    if d is None:
        return verdict("inconclusive", test.note)
    how = _how(test, raw, adjusted, family)
    if p_worse is not None and p_worse < alpha and d.estimate > test.worse_floor:
        return verdict(
            "regression",
            f"{_change_words(test)} (worse; {_interval_words(test)}), beyond the "
            f"{_tolerance_words(test)} threshold; {how}",
        )
    if p_better is not None and p_better < alpha and -d.estimate > test.better_floor:
        return verdict(
            "improvement",
            f"{_change_words(test)} (better; {_interval_words(test)}), beyond the "
            f"{_tolerance_words(test)} threshold; {how}",
        )
    if -test.tolerance <= test.low and test.high <= test.tolerance:
        return verdict(
            "no change",
            f"{_change_words(test)}: {_interval_words(test)} lies within the "
            f"{_tolerance_words(test)} threshold; {how}",
        )
    detect = f"these runs detect {_worsening_words(test, mdc)} at least 9 times out of 10"
    if mdc > NOISE_FACTOR * test.tolerance:
        spread = _spread_words(test)
        return verdict(
            "too noisy",
            f"{test.metric} {spread}{detect}, more than twice the {_tolerance_words(test)} "
            f"threshold; stabilise the benchmark or add runs; {_change_words(test)}; {how}",
        )
    return verdict(
        "inconclusive",
        f"{_change_words(test)}: {_interval_words(test)} reaches beyond the "
        f"{_tolerance_words(test)} threshold; {detect}; {how}",
    )


def _spread_words(test: MetricTest) -> str:
    if test.cv is None:
        return ""
    both = f" and {test.candidate_cv:.1%} between candidate runs" if test.candidate_cv else ""
    return f"varies by {test.cv:.1%} between baseline runs{both} (robust CV): "


def _how(test: MetricTest, raw: float | None, adjusted: float | None, family: int) -> str:
    runs = f"{test.n_baseline} vs {test.n_candidate} runs"
    kind = "gates" if test.gate else "informative metrics"
    if raw is None or adjusted is None:
        return f"{test.test}, {runs}"
    over = f", adjusted over {family} {kind} {adjusted:.3g}" if family > 1 else ""
    return f"one-sided p = {raw:.3g}{over} ({test.test}, {runs})"


def _amount(test: MetricTest, value: float, *, sign: bool = False) -> str:
    if math.isinf(value):
        return "unbounded" if not sign else ("+inf" if value > 0 else "-inf")
    if test.scale == "log":
        return f"{value:+.1%}" if sign else f"{value:.1%}"
    if test.rule.unit == "percentunit":
        points = value * 100
        return f"{points:+.2f} points" if sign else f"{points:.2f} points"
    return f"{value:+.4g}" if sign else f"{value:.4g}"


def _worsening_words(test: MetricTest, mdc: float) -> str:
    if math.isinf(mdc):
        return "no change, however large,"
    if test.scale == "log":
        word = "rise" if test.rule.direction == "lower" else "fall"
        if mdc >= 10:
            return f"only a {word} of more than 1000%"
        return f"a {word} of {_amount(test, mdc)} or more"
    return f"a worsening of {_amount(test, mdc)} or more"


def _change_words(test: MetricTest) -> str:
    return f"{test.metric} changed {_amount(test, test.change, sign=True)}"


def _interval_words(test: MetricTest) -> str:
    level = f"{1 - 2 * ALPHA:.0%}"
    kind = "prediction interval" if test.test == SINGLE_RUN else "CI"
    return (
        f"{level} {kind} {_amount(test, test.low, sign=True)} to "
        f"{_amount(test, test.high, sign=True)}"
    )


def _tolerance_words(test: MetricTest) -> str:
    return "±" + _amount(test, test.tolerance)
