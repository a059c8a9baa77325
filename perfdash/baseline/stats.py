"""The statistics behind a verdict: pure functions of per-run values and counts, no I/O.

- ``welch``: Welch's two-sample t-test on per-run values (log values for ratios), with
  Welch-Satterthwaite degrees of freedom: the run-to-run variation is the noise.
- ``single_run``: one candidate run against the baseline runs (a t prediction interval:
  the candidate is assumed to vary as the baseline runs do).
- ``quasi_binomial``: failures out of requests, per run: a difference of proportions whose
  variance is the binomial one times the between-run overdispersion (Pearson chi-square
  over the runs, at least 1), with a t reference on runs - 2 degrees of freedom.
- ``Difference``: what each returns: the estimate, one-sided p-values in both directions,
  an interval, and the smallest change the test detects with a given power.
- ``t_cdf``/``t_ppf``: Student's t (any real degrees of freedom), checked against scipy.
- ``benjamini_hochberg``: false-discovery-rate adjusted p-values.
- ``robust_cv``: 1.4826 x MAD / median, how much a statistic varies between runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

_NORMAL = NormalDist()
MAD_SCALE = 1.4826  # MAD x this estimates the standard deviation of normal data


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        raise ValueError("median of no values")
    middle = n // 2
    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("mean of no values")
    return math.fsum(values) / len(values)


def variance(values: Sequence[float]) -> float:
    """Sample variance (n - 1); 0 for a single value."""
    if len(values) < 2:
        return 0.0
    centre = mean(values)
    return math.fsum((v - centre) ** 2 for v in values) / (len(values) - 1)


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


# -- distributions --------------------------------------------------------------------------


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
    """P(T <= t) for Student's t with ``df`` degrees of freedom (``math.inf``: normal)."""
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    if math.isinf(df):
        return _NORMAL.cdf(t)
    tail = 0.5 * _betainc(df / 2, 0.5, df / (df + t * t))
    return 1 - tail if t > 0 else tail


def t_sf(t: float, df: float) -> float:
    """P(T > t), accurate far in the upper tail."""
    return t_cdf(-t, df)


def t_pdf(t: float, df: float) -> float:
    if math.isinf(df):
        return math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return math.exp(log_norm - (df + 1) / 2 * math.log1p(t * t / df))


def t_ppf(q: float, df: float) -> float:
    """The t with P(T <= t) = q: Newton steps inside a bisection bracket (1e-12 relative)."""
    if not 0 < q < 1:
        raise ValueError("q must be in (0, 1)")
    if math.isinf(df):
        return _NORMAL.inv_cdf(q)
    if q < 0.5:
        return -t_ppf(1 - q, df)
    low, high = 0.0, 1.0
    while t_cdf(high, df) < q:
        low, high = high, high * 2
    x = min(max(_NORMAL.inv_cdf(q), low), high)
    for _ in range(200):
        error = t_cdf(x, df) - q
        if error < 0:
            low = x
        else:
            high = x
        density = t_pdf(x, df)
        step = error / density if density > 0 else math.inf
        guess = x - step
        if not low < guess < high:
            guess = (low + high) / 2
        if abs(guess - x) <= 1e-12 * max(1.0, abs(x)) or high - low <= 1e-12 * max(1.0, high):
            return guess
        x = guess
    return x


def normal_quantile(q: float) -> float:
    return _NORMAL.inv_cdf(q)


# -- two-sample comparisons -----------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """candidate - baseline on the test's scale.

    ``p_increase`` is the one-sided p-value of "no change" against "the candidate is
    higher", ``p_decrease`` the other way. ``low``/``high`` is the (1 - 2 alpha) interval,
    so each bound is a one-sided (1 - alpha) bound. ``se`` is the estimate's standard error,
    ``null_se`` the one the test statistic divides by (they differ for proportions), ``df``
    the t reference's degrees of freedom (``math.inf``: normal). ``base_rate``/``sizes``
    are set for proportions (the variance then depends on the true change). What a test
    can detect is ``perfdash.baseline.power``'s business."""

    estimate: float
    se: float
    null_se: float
    df: float
    p_increase: float
    p_decrease: float
    low: float
    high: float
    # The estimated variance of the estimate, as (variance, degrees of freedom) parts, each
    # a scaled chi-square (Welch: the baseline's and the candidate's): what power needs.
    parts: tuple[tuple[float, float], ...] = ()
    dispersion: float = 1.0
    base_rate: float | None = None
    sizes: tuple[int, int] = (0, 0)  # baseline and candidate requests (proportions)


def _t_difference(
    estimate: float, parts: tuple[tuple[float, float], ...], alpha: float
) -> Difference:
    """The t-test of ``estimate`` whose variance is the sum of ``parts`` (Satterthwaite)."""
    var = math.fsum(v for v, _ in parts)
    if var == 0:
        up = 0.0 if estimate > 0 else 1.0
        down = 0.0 if estimate < 0 else 1.0
        return Difference(estimate, 0.0, 0.0, math.inf, up, down, estimate, estimate, parts)
    se = math.sqrt(var)
    df = var**2 / math.fsum(v**2 / d for v, d in parts)
    t = estimate / se
    half = t_ppf(1 - alpha, df) * se
    return Difference(
        estimate, se, se, df, t_sf(t, df), t_cdf(t, df), estimate - half, estimate + half, parts
    )


def welch(baseline: Sequence[float], candidate: Sequence[float], *, alpha: float) -> Difference:
    """Welch's t-test of mean(candidate) - mean(baseline); both need two or more values."""
    m, n = len(baseline), len(candidate)
    if m < 2 or n < 2:
        raise ValueError("Welch's test needs two or more values on each side")
    parts = ((variance(baseline) / m, m - 1.0), (variance(candidate) / n, n - 1.0))
    return _t_difference(mean(candidate) - mean(baseline), parts, alpha)


def single_run(baseline: Sequence[float], candidate: float, *, alpha: float) -> Difference:
    """One candidate value against the baseline's: the t prediction interval of one new
    baseline run (the candidate varies as the baseline runs do; ``len(baseline) - 1`` df)."""
    m = len(baseline)
    if m < 2:
        raise ValueError("a prediction interval needs two or more baseline values")
    parts = ((variance(baseline) * (1 + 1 / m), m - 1.0),)
    return _t_difference(candidate - mean(baseline), parts, alpha)


def proportion_ses(
    base_rate: float, change: float, sizes: tuple[int, int], dispersion: float
) -> tuple[float, float]:
    """(standard error of the difference, its standard error under no change) when the
    candidate's rate is ``base_rate + change``."""
    nb, nc = sizes
    pc = min(1.0, max(0.0, base_rate + change))
    pooled = (base_rate * nb + pc * nc) / (nb + nc)
    se = math.sqrt(dispersion * (base_rate * (1 - base_rate) / nb + pc * (1 - pc) / nc))
    null_se = math.sqrt(dispersion * pooled * (1 - pooled) * (1 / nb + 1 / nc))
    return se, null_se


def overdispersion(groups: Sequence[Sequence[tuple[int, int]]]) -> tuple[float, int]:
    """Pearson chi-square over the runs / (runs - groups): how much more the runs' failure
    proportions vary than binomial sampling explains (1 = not at all). Returns the
    estimate (not clamped) and its degrees of freedom."""
    chi2, runs = 0.0, 0
    for runs_of_group in groups:
        failures = sum(f for f, _ in runs_of_group)
        requests = sum(n for _, n in runs_of_group)
        rate = failures / requests
        runs += len(runs_of_group)
        if 0 < rate < 1:
            chi2 += math.fsum(
                (f - n * rate) ** 2 / (n * rate * (1 - rate)) for f, n in runs_of_group
            )
    df = runs - len(groups)
    return (chi2 / df if df > 0 else math.nan), df


def quasi_binomial(
    baseline: Sequence[tuple[int, int]], candidate: Sequence[tuple[int, int]], *, alpha: float
) -> Difference:
    """Difference of failure proportions from per-run ``(failures, requests)``.

    The test statistic is the score statistic (pooled proportion under no change) with the
    binomial variance times the overdispersion (at least 1), against t on runs - 2 degrees
    of freedom. The interval is Agresti-Caffo's (one failure and one success added to each
    side, so that zero failures still give an honest interval), widened the same way."""
    if len(baseline) + len(candidate) < 3:
        raise ValueError("the error-rate test needs three or more runs in all")
    fb, nb = sum(f for f, _ in baseline), sum(n for _, n in baseline)
    fc, nc = sum(f for f, _ in candidate), sum(n for _, n in candidate)
    if nb <= 0 or nc <= 0:
        raise ValueError("both sides need requests")
    phi_hat, df = overdispersion([baseline, candidate])
    phi = max(1.0, phi_hat) if math.isfinite(phi_hat) else 1.0
    pb, pc = fb / nb, fc / nc
    estimate = pc - pb
    se, null_se = proportion_ses(pb, estimate, (nb, nc), phi)
    if null_se == 0:
        p_up, p_down = 1.0, 1.0
    else:
        t = estimate / null_se
        p_up, p_down = t_sf(t, df), t_cdf(t, df)
    ab, ac = (fb + 1) / (nb + 2), (fc + 1) / (nc + 2)
    adjusted_se = math.sqrt(phi * (ab * (1 - ab) / (nb + 2) + ac * (1 - ac) / (nc + 2)))
    half = t_ppf(1 - alpha, df) * adjusted_se
    return Difference(
        estimate, se, null_se, df, p_up, p_down, ac - ab - half, ac - ab + half,
        dispersion=phi, base_rate=pb, sizes=(nb, nc),
    )  # fmt: skip


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
