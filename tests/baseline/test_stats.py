"""The statistics, checked against scipy (a test-only dependency), textbook formulas and
their own calibration (seeded, so every run draws the same numbers)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import stats as sp

from perfdash.baseline import power, stats
from perfdash.baseline.metrics import min_samples_for


def _samples(seed: int, m: int, n: int, shift: float, sd: float = 1.0) -> tuple[list[float], ...]:
    rng = random.Random(seed)
    return [rng.gauss(0, 1) for _ in range(m)], [rng.gauss(shift, sd) for _ in range(n)]


@pytest.mark.parametrize(("m", "n"), [(5, 3), (10, 3), (3, 10), (5, 5), (2, 2), (30, 8)])
@pytest.mark.parametrize(("shift", "sd"), [(0.0, 1.0), (0.8, 2.0), (-2.5, 0.5)])
def test_welch_matches_scipy(m: int, n: int, shift: float, sd: float) -> None:
    x, y = _samples(m * 100 + n, m, n, shift, sd)
    ours = stats.welch(x, y, alpha=0.05)
    greater = sp.ttest_ind(y, x, equal_var=False, alternative="greater")
    less = sp.ttest_ind(y, x, equal_var=False, alternative="less")
    assert ours.p_increase == pytest.approx(greater.pvalue, rel=1e-9)
    assert ours.p_decrease == pytest.approx(less.pvalue, rel=1e-9)
    assert ours.df == pytest.approx(greater.df, rel=1e-12)
    interval = sp.ttest_ind(y, x, equal_var=False).confidence_interval(0.90)
    assert (ours.low, ours.high) == pytest.approx((interval.low, interval.high), rel=1e-9)


def test_single_run_is_the_pooled_t_test_with_one_candidate_value() -> None:
    baseline = [math.log(v) for v in (100, 102, 98, 101, 99, 103, 97, 100, 101, 99)]
    candidate = math.log(130)
    ours = stats.single_run(baseline, candidate, alpha=0.05)
    theirs = sp.ttest_ind([candidate], baseline, equal_var=True, alternative="greater")
    assert ours.p_increase == pytest.approx(theirs.pvalue, rel=1e-9)
    assert ours.df == len(baseline) - 1
    n = len(baseline)
    sd = float(np.std(baseline, ddof=1))
    half = sp.t.ppf(0.95, n - 1) * sd * math.sqrt(1 + 1 / n)
    estimate = candidate - float(np.mean(baseline))
    assert (ours.low, ours.high) == pytest.approx((estimate - half, estimate + half))


def test_identical_runs_give_no_evidence_and_constant_shifts_give_certainty() -> None:
    same = stats.welch([3.0, 3.0, 3.0], [3.0, 3.0], alpha=0.05)
    assert (same.p_increase, same.p_decrease, same.low, same.high) == (1.0, 1.0, 0.0, 0.0)
    more = stats.welch([3.0, 3.0, 3.0], [4.0, 4.0], alpha=0.05)
    assert (more.p_increase, more.p_decrease) == (0.0, 1.0)


def test_overdispersion_is_pearson_chi_square_per_degree_of_freedom() -> None:
    baseline = [(3, 2800), (9, 2750), (1, 2900), (5, 2810), (0, 2830)]
    candidate = [(90, 2790), (70, 2800), (110, 2760)]
    phi, df = stats.overdispersion([baseline, candidate])
    chi2 = sum(
        sp.chi2_contingency([[f, n - f] for f, n in runs], correction=False).statistic
        for runs in (baseline, candidate)
    )
    assert df == len(baseline) + len(candidate) - 2
    assert phi == pytest.approx(chi2 / df, rel=1e-12)


def test_quasi_binomial_is_the_score_test_scaled_by_the_overdispersion() -> None:
    baseline = [(3, 2800), (9, 2750), (1, 2900), (5, 2810), (0, 2830)]
    candidate = [(90, 2790), (70, 2800), (110, 2760)]
    result = stats.quasi_binomial(baseline, candidate, alpha=0.05)
    phi, df = stats.overdispersion([baseline, candidate])
    fb, nb = sum(f for f, _ in baseline), sum(n for _, n in baseline)
    fc, nc = sum(f for f, _ in candidate), sum(n for _, n in candidate)
    pooled = (fb + fc) / (nb + nc)
    z = (fc / nc - fb / nb) / math.sqrt(max(1, phi) * pooled * (1 - pooled) * (1 / nb + 1 / nc))
    assert result.dispersion == max(1.0, phi)
    assert result.estimate == pytest.approx(fc / nc - fb / nb)
    assert result.p_increase == pytest.approx(sp.t.sf(z, df), rel=1e-9)
    assert result.p_decrease == pytest.approx(sp.t.cdf(z, df), rel=1e-9)
    assert result.low < result.estimate < result.high


def test_no_failures_anywhere_is_no_evidence_yet_an_honest_interval() -> None:
    result = stats.quasi_binomial([(0, 3000)] * 5, [(0, 3000)] * 3, alpha=0.05)
    assert (result.p_increase, result.p_decrease) == (1.0, 1.0)
    assert result.low < 0 < result.high  # Agresti-Caffo: zero counts still bound the change
    assert result.high < 0.005


def test_the_count_test_keeps_its_level_on_binomial_and_overdispersed_runs() -> None:
    rng = np.random.default_rng(7)
    for dispersion in (0.0, 0.5):
        false = 0
        for _ in range(2000):
            rates = 0.01 * np.exp(rng.normal(0, dispersion, 8))
            fails = rng.binomial(3000, rates)
            runs = [(int(f), 3000) for f in fails]
            false += stats.quasi_binomial(runs[:5], runs[5:], alpha=0.05).p_increase < 0.05
        assert false / 2000 <= 0.065, (dispersion, false / 2000)


def test_the_welch_test_keeps_its_level() -> None:
    rng = np.random.default_rng(8)
    false = sum(
        stats.welch(list(rng.normal(0, 0.1, 5)), list(rng.normal(0, 0.1, 3)), alpha=0.05).p_increase
        < 0.05
        for _ in range(4000)
    )
    assert 0.035 <= false / 4000 <= 0.065


@pytest.mark.parametrize(("m", "n", "sd"), [(5, 3, 0.05), (10, 3, 0.1), (5, 5, 0.08), (3, 2, 0.1)])
def test_the_detectable_change_is_detected_as_often_as_it_says(m: int, n: int, sd: float) -> None:
    """Simulate runs with exactly the change ``detectable`` states for the true spread:
    the full rule (significant at alpha, estimate beyond the floor) finds it ~90% of the
    time."""
    alpha, floor = 0.05 / 3, math.log1p(0.2)
    parts = ((sd**2 / m, m - 1.0), (sd**2 / n, n - 1.0))
    se = sd * math.sqrt(1 / m + 1 / n)
    truth = stats.Difference(0.0, se, se, math.nan, 0.5, 0.5, -math.inf, math.inf, parts)
    change = power.detectable(truth, alpha=alpha, power_wanted=0.9, floor=floor)
    assert power.power(truth, change, alpha=alpha, floor=floor) == pytest.approx(0.9, abs=1e-4)
    rng = np.random.default_rng(m * n)
    found = 0
    for _ in range(3000):
        result = stats.welch(
            list(rng.normal(0, sd, m)), list(rng.normal(change, sd, n)), alpha=alpha
        )
        found += result.p_increase < alpha and result.estimate > floor
    assert 0.87 <= found / 3000 <= 0.93, found / 3000


def test_the_detectable_error_rate_change_is_what_the_counts_detect() -> None:
    baseline = [(3, 3000)] * 5
    result = stats.quasi_binomial(baseline, [(3, 3000)] * 3, alpha=0.05)
    change = power.detectable(result, alpha=0.05 / 3, power_wanted=0.9, floor=0.005)
    assert 0.005 < change < 0.01
    assert power.power(result, change, alpha=0.05 / 3, floor=0.005) == pytest.approx(0.9, abs=1e-4)
    rng = np.random.default_rng(3)
    found = 0
    for _ in range(2000):
        base = [(int(f), 3000) for f in rng.binomial(3000, 0.001, 5)]
        cand = [(int(f), 3000) for f in rng.binomial(3000, 0.001 + change, 3)]
        test = stats.quasi_binomial(base, cand, alpha=0.05 / 3)
        found += test.p_increase < 0.05 / 3 and test.estimate > 0.005
    assert 0.83 <= found / 2000 <= 0.97, found / 2000


@pytest.mark.parametrize("df", [1, 1.5, 2, 3.3, 4.34, 9, 19, 60, 500])
def test_student_t_matches_scipy(df: float) -> None:
    for t in (-8.0, -2.1, -0.3, 0.0, 0.7, 1.96, 4.5, 30.0):
        assert stats.t_cdf(t, df) == pytest.approx(sp.t.cdf(t, df), abs=1e-12)
        assert stats.t_sf(t, df) == pytest.approx(sp.t.sf(t, df), rel=1e-8, abs=1e-300)
        assert stats.t_pdf(t, df) == pytest.approx(sp.t.pdf(t, df), rel=1e-10)
    for q in (0.5, 0.6, 0.9, 0.975, 0.995, 0.9999, 0.01):
        assert stats.t_ppf(q, df) == pytest.approx(sp.t.ppf(q, df), rel=1e-9)


def test_student_t_with_infinite_degrees_of_freedom_is_normal() -> None:
    assert stats.t_cdf(1.96, math.inf) == pytest.approx(sp.norm.cdf(1.96), abs=1e-12)
    assert stats.t_ppf(0.95, math.inf) == pytest.approx(sp.norm.ppf(0.95), rel=1e-9)


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
