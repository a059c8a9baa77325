"""The statistics behind a verdict: pure functions of per-run values, no I/O.

- ``mann_whitney``: two-sided Mann-Whitney U test (exact distribution without ties,
  normal approximation with tie and continuity correction otherwise), as scipy computes it.
- ``hodges_lehmann``: shift estimate and its distribution-free confidence interval.
- ``t_cdf``/``t_ppf``: Student's t, for the single-run prediction interval.
- ``benjamini_hochberg``: false-discovery-rate adjusted p-values over the metrics.
- ``robust_cv``: 1.4826 x MAD / median, how much a statistic varies between runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

_NORMAL = NormalDist()
EXACT_LIMIT = 2500  # m x n up to which U's exact distribution is used (without ties)
MAD_SCALE = 1.4826  # MAD x this estimates the standard deviation of normal data


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        raise ValueError("median of no values")
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def robust_sd(values: Sequence[float]) -> float:
    """1.4826 x the median absolute deviation: a standard deviation that outliers don't move."""
    centre = median(values)
    return MAD_SCALE * median([abs(v - centre) for v in values])


def robust_cv(values: Sequence[float]) -> float:
    """Robust coefficient of variation (0.05 = 5%); infinite when the median is 0."""
    centre = median(values)
    spread = robust_sd(values)
    if centre == 0:
        return 0.0 if spread == 0 else math.inf
    return spread / abs(centre)


@lru_cache(maxsize=256)
def _u_counts(m: int, n: int) -> tuple[int, ...]:
    """How many orderings give U = 0..m*n: the coefficients of the Gaussian binomial
    [m+n choose m]_q, built by multiplying (1 - q^(n+i)) and dividing (1 - q^i)."""
    size = m * n + 1
    poly = [0] * size
    poly[0] = 1
    for i in range(1, m + 1):
        step = n + i
        for k in range(size - 1, step - 1, -1):
            poly[k] -= poly[k - step]
        for k in range(i, size):
            poly[k] += poly[k - i]
    return tuple(poly)


def _u_cdf(u: int, m: int, n: int) -> float:
    """P(U <= u) under the null hypothesis, exactly."""
    counts = _u_counts(m, n)
    if u < 0:
        return 0.0
    return sum(counts[: u + 1]) / math.comb(m + n, m)


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Mid-ranks (1-based) and the sizes of the tie groups."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        ties.append(end - start + 1)
        start = end + 1
    return ranks, ties


@dataclass(frozen=True)
class UTest:
    u: float  # U statistic of the first sample
    p_value: float  # two-sided
    exact: bool


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> UTest:
    """Two-sided Mann-Whitney U test of ``x`` against ``y``."""
    m, n = len(x), len(y)
    if not m or not n:
        raise ValueError("both samples need values")
    ranks, ties = _ranks([*x, *y])
    u1 = sum(ranks[:m]) - m * (m + 1) / 2
    big = max(u1, m * n - u1)
    if all(t == 1 for t in ties) and m * n <= EXACT_LIMIT:
        # P(U >= big) = P(U <= m*n - big) by symmetry.
        p = 2 * _u_cdf(round(m * n - big), m, n)
        return UTest(u1, min(1.0, p), True)
    total = m + n
    tie_term = sum(t**3 - t for t in ties) / (total * (total - 1))
    variance = m * n / 12 * ((total + 1) - tie_term)
    if variance <= 0:
        return UTest(u1, 1.0, False)
    z = (big - m * n / 2 - 0.5) / math.sqrt(variance)
    return UTest(u1, min(1.0, 2 * (1 - _NORMAL.cdf(z))), False)


def min_p_value(m: int, n: int) -> float:
    """The smallest two-sided p-value the exact U test can reach with these sample sizes."""
    if m * n > EXACT_LIMIT:
        return 0.0
    return min(1.0, 2 / math.comb(m + n, m))


@dataclass(frozen=True)
class Shift:
    estimate: float  # median of all pairwise differences y - x
    low: float  # -inf / +inf when the data cannot bound it at this level
    high: float


def hodges_lehmann(x: Sequence[float], y: Sequence[float], *, alpha: float = 0.05) -> Shift:
    """Shift of ``y`` relative to ``x`` with a (1 - alpha) distribution-free interval
    (Bauer 1972): the k-th smallest and largest pairwise differences."""
    m, n = len(x), len(y)
    diffs = sorted(b - a for a in x for b in y)
    k = _hl_rank(m, n, alpha)
    if k < 1:
        return Shift(median(diffs), -math.inf, math.inf)
    return Shift(median(diffs), diffs[k - 1], diffs[m * n - k])


def _hl_rank(m: int, n: int, alpha: float) -> int:
    """Largest k with P(U <= k - 1) <= alpha / 2 (0: no interval at this level)."""
    if m * n <= EXACT_LIMIT:
        counts = _u_counts(m, n)
        total = math.comb(m + n, m)
        cumulative = 0
        k = 0
        while k < len(counts) and (cumulative + counts[k]) / total <= alpha / 2:
            cumulative += counts[k]
            k += 1
        return k
    sigma = math.sqrt(m * n * (m + n + 1) / 12)
    return max(0, math.floor(m * n / 2 - _NORMAL.inv_cdf(1 - alpha / 2) * sigma))


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / (d if abs(d) > tiny else tiny)
        c = 1 + aa / c if abs(1 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1 - front * _betacf(b, a, 1 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


def t_ppf(q: float, df: float) -> float:
    """The t with P(T <= t) = q (bisection on ``t_cdf``; 1e-12 relative precision)."""
    if not 0 < q < 1:
        raise ValueError("q must be in (0, 1)")
    if q < 0.5:
        return -t_ppf(1 - q, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < q:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, df) < q:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, high):
            break
    return (low + high) / 2


@dataclass(frozen=True)
class Prediction:
    """Where a single new run of the baseline would fall, and how far the candidate is."""

    p_value: float  # two-sided
    low: float  # the (1 - alpha) prediction interval of one new baseline run
    high: float
    mean: float
    scale: float  # s x sqrt(1 + 1/n)


def single_run_prediction(
    baseline: Sequence[float], candidate: float, *, alpha: float = 0.05
) -> Prediction:
    """t prediction interval of one new run from ``baseline`` (usually log values)."""
    n = len(baseline)
    if n < 2:
        raise ValueError("a prediction interval needs at least two baseline values")
    mean = sum(baseline) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in baseline) / (n - 1))
    scale = sd * math.sqrt(1 + 1 / n)
    quantile = t_ppf(1 - alpha / 2, n - 1)
    if scale == 0:
        p = 1.0 if candidate == mean else 0.0
    else:
        p = 2 * (1 - t_cdf(abs(candidate - mean) / scale, n - 1))
    return Prediction(min(1.0, p), mean - quantile * scale, mean + quantile * scale, mean, scale)


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Adjusted p-values controlling the false-discovery rate; ``None`` entries are skipped."""
    indexed = sorted(((p, i) for i, p in enumerate(p_values) if p is not None), reverse=True)
    count = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 1.0
    for position, (p, index) in enumerate(indexed):
        rank = count - position
        running = min(running, p * count / rank)
        adjusted[index] = min(1.0, running)
    return adjusted


def normal_quantile(q: float) -> float:
    return _NORMAL.inv_cdf(q)
