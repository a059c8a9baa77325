"""The statistics, checked against scipy (a test-only dependency) and textbook values."""

from __future__ import annotations

import itertools
import math
import random

import pytest
from scipy import stats as sp

from perfdash.baseline import stats
from perfdash.baseline.metrics import min_samples_for


def _samples(seed: int, m: int, n: int, shift: float) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    return [rng.gauss(0, 1) for _ in range(m)], [rng.gauss(shift, 1) for _ in range(n)]


@pytest.mark.parametrize(("m", "n"), [(3, 3), (10, 3), (3, 10), (5, 5), (10, 1), (12, 9), (30, 30)])
@pytest.mark.parametrize("shift", [0.0, 0.8, 2.5])
def test_mann_whitney_without_ties_matches_scipy_exact(m: int, n: int, shift: float) -> None:
    x, y = _samples(m * 100 + n, m, n, shift)
    ours = stats.mann_whitney(x, y)
    theirs = sp.mannwhitneyu(x, y, alternative="two-sided", method="exact")
    assert ours.exact
    assert ours.u == theirs.statistic
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_mann_whitney_with_ties_matches_scipy_asymptotic(seed: int) -> None:
    rng = random.Random(seed)
    x = [rng.choice([0.0, 0.01, 0.02, 0.05]) for _ in range(10)]
    y = [rng.choice([0.0, 0.02, 0.05, 0.1]) for _ in range(4)]
    ours = stats.mann_whitney(x, y)
    theirs = sp.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    assert not ours.exact
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)


def test_mann_whitney_of_identical_constants_is_not_significant() -> None:
    assert stats.mann_whitney([0.0] * 10, [0.0] * 3).p_value == 1.0


def test_large_samples_use_the_normal_approximation_like_scipy() -> None:
    x, y = _samples(7, 60, 50, 0.3)
    ours = stats.mann_whitney(x, y)
    theirs = sp.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    assert not ours.exact
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)


def test_the_smallest_reachable_p_value_limits_small_run_sets() -> None:
    assert stats.min_p_value(3, 3) == pytest.approx(0.1)  # 3 vs 3 runs can never reach 0.05
    assert stats.min_p_value(10, 3) == pytest.approx(2 / 286)
    assert stats.min_p_value(5, 5) == pytest.approx(2 / 252)


@pytest.mark.parametrize(("m", "n"), [(10, 3), (5, 5), (8, 8), (20, 6)])
def test_hodges_lehmann_interval_has_its_exact_coverage(m: int, n: int) -> None:
    x, y = _samples(m + n, m, n, 1.0)
    shift = stats.hodges_lehmann(x, y, alpha=0.05)
    diffs = sorted(b - a for a in x for b in y)
    assert shift.estimate == pytest.approx(float(sp.scoreatpercentile(diffs, 50)))
    k = diffs.index(shift.low) + 1
    assert diffs[m * n - k] == shift.high
    # the widest k whose tail stays within alpha / 2: P(U <= k - 1) <= 2.5% < P(U <= k)
    assert stats._u_cdf(k - 1, m, n) <= 0.025 < stats._u_cdf(k, m, n)


@pytest.mark.parametrize(("m", "n"), [(3, 4), (5, 3), (4, 6)])
def test_u_distribution_is_the_count_of_every_ordering(m: int, n: int) -> None:
    counts = [0] * (m * n + 1)
    for ranks in itertools.combinations(range(1, m + n + 1), m):
        counts[sum(ranks) - m * (m + 1) // 2] += 1
    total = math.comb(m + n, m)
    for u in range(m * n + 1):
        assert stats._u_cdf(u, m, n) == pytest.approx(sum(counts[: u + 1]) / total, rel=1e-12)


def test_hodges_lehmann_has_no_interval_when_runs_are_too_few() -> None:
    shift = stats.hodges_lehmann([1.0, 2.0, 3.0], [4.0, 5.0], alpha=0.05)
    assert shift.low == -math.inf and shift.high == math.inf


@pytest.mark.parametrize("df", [1, 2, 3, 5, 9, 19, 60])
def test_student_t_matches_scipy(df: int) -> None:
    for t in (-8.0, -2.1, -0.3, 0.0, 0.7, 1.96, 4.5):
        assert stats.t_cdf(t, df) == pytest.approx(sp.t.cdf(t, df), abs=1e-12)
    for q in (0.6, 0.9, 0.975, 0.995):
        assert stats.t_ppf(q, df) == pytest.approx(sp.t.ppf(q, df), rel=1e-9)


def test_single_run_prediction_interval_is_the_textbook_one() -> None:
    baseline = [math.log(v) for v in (100, 102, 98, 101, 99, 103, 97, 100, 101, 99)]
    candidate = math.log(130)
    prediction = stats.single_run_prediction(baseline, candidate)
    n = len(baseline)
    mean = sum(baseline) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in baseline) / (n - 1))
    half = sp.t.ppf(0.975, n - 1) * sd * math.sqrt(1 + 1 / n)
    assert prediction.low == pytest.approx(mean - half)
    assert prediction.high == pytest.approx(mean + half)
    t = (candidate - mean) / (sd * math.sqrt(1 + 1 / n))
    assert prediction.p_value == pytest.approx(2 * sp.t.sf(abs(t), n - 1))


def test_benjamini_hochberg_matches_scipy_and_skips_missing() -> None:
    p = [0.01, 0.04, 0.03, 0.2, 0.001, 0.5]
    expected = sp.false_discovery_control(p)
    assert stats.benjamini_hochberg(p) == pytest.approx(list(expected))
    assert stats.benjamini_hochberg([0.01, None, 0.04]) == pytest.approx([0.02, None, 0.04])


def test_robust_cv_ignores_one_outlier_run() -> None:
    steady = [100.0, 101.0, 99.0, 100.5, 99.5, 100.0, 250.0]
    assert stats.robust_cv(steady) < 0.01
    assert stats.robust_cv([0.0, 0.0, 0.0]) == 0.0


def test_a_percentile_needs_enough_requests_to_be_bounded() -> None:
    assert min_samples_for(0.95) == 72
    assert min_samples_for(0.99) == 368
    assert min_samples_for(0.999) == 3688
