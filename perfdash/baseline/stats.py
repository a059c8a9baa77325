"""The statistics behind a verdict: pure functions of per-run values and counts, no I/O.

- ``run_sets``: a t-test on per-run values (log values for ratios) in which the
  candidate's runs count as one session of the machine unless they disagree more than the
  baseline runs do (then Welch's test); one candidate run: the t prediction interval.
- ``quasi_binomial``: failures out of requests, per run: a difference of proportions whose
  variance is binomial plus the between-run overdispersion the baseline runs show (Pearson
  chi-square), the candidate's runs again one session.
- ``Difference``: what each returns: the estimate, one-sided p-values in both directions,
  an interval, and what ``perfdash.baseline.power`` needs.
- ``t_cdf``/``t_ppf``: Student's t (any real degrees of freedom), checked against scipy.
- ``benjamini_hochberg``: false-discovery-rate adjusted p-values.
- ``robust_cv``: 1.4826 x MAD / median, how much a statistic varies between runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
class RunSetDesign:
    """What the run-set t-test's variance is made of: the baseline runs' variance ``vb``
    over ``m`` runs, the candidate runs' ``vc`` over ``n`` (``vc`` is nan for one run)."""

    vb: float
    m: int
    vc: float
    n: int


@dataclass(frozen=True)
class CountDesign:
    """What the error-rate test's variance is made of: the requests on each side, the
    candidate's runs, and each side's overdispersion (at least 1)."""

    baseline_requests: int
    candidate_requests: int
    candidate_runs: int
    baseline_dispersion: float
    candidate_dispersion: float


@dataclass(frozen=True)
class Difference:
    """candidate - baseline on the test's scale.

    ``p_increase`` is the one-sided p-value of "no change" against "the candidate is
    higher", ``p_decrease`` the other way. ``low``/``high`` is the (1 - 2 alpha) interval,
    so each bound is a one-sided (1 - alpha) bound. ``se`` is the estimate's standard error,
    ``null_se`` the one the test statistic divides by (they differ for proportions), ``df``
    the t reference's degrees of freedom (``math.inf``: normal). ``runs`` or ``counts``
    say how the variance was made, ``base_rate`` is the baseline's proportion: what
    ``perfdash.baseline.power`` needs to say what the test can detect."""

    estimate: float
    se: float
    null_se: float
    df: float
    p_increase: float
    p_decrease: float
    low: float
    high: float
    runs: RunSetDesign | None = None
    counts: CountDesign | None = None
    base_rate: float = 0.0


def run_set_variance(design: RunSetDesign) -> tuple[float, float]:
    """(variance of mean(candidate) - mean(baseline), degrees of freedom).

    A branch's runs usually run back to back, on one state of a machine (its load, its
    neighbours, its caches) that they all share: their mean can be off by as much as one
    baseline run, spread over days, varies. So the candidate mean's variance is the larger
    of the baseline runs' variance (the candidate runs counted as one session) and the
    candidate runs' own variance / n (when they disagree more than that, Welch's test).
    One candidate run: the t prediction interval of one new baseline run."""
    return run_set_variance_of(design.vb, design.m, design.vc, design.n)


def run_set_variance_of(vb: float, m: int, vc: float, n: int) -> tuple[float, float]:
    """``run_set_variance`` on plain numbers (power integrates it over a grid)."""
    if n < 2 or vb >= vc / n:
        return vb * (1 + 1 / m), m - 1.0
    base, cand = vb / m, vc / n
    total = base + cand
    return total, total**2 / (base**2 / (m - 1) + cand**2 / (n - 1))


def run_sets(baseline: Sequence[float], candidate: Sequence[float], *, alpha: float) -> Difference:
    """The t-test of mean(candidate) - mean(baseline) with ``run_set_variance``: two or more
    baseline values, one or more candidate values."""
    m, n = len(baseline), len(candidate)
    if m < 2 or n < 1:
        raise ValueError("the run-set test needs two baseline values and a candidate value")
    design = RunSetDesign(variance(baseline), m, variance(candidate) if n > 1 else math.nan, n)
    estimate = mean(candidate) - mean(baseline)
    var, df = run_set_variance(design)
    if var == 0:
        up = 0.0 if estimate > 0 else 1.0
        down = 0.0 if estimate < 0 else 1.0
        return Difference(estimate, 0.0, 0.0, math.inf, up, down, estimate, estimate, design)
    se = math.sqrt(var)
    t = estimate / se
    half = t_ppf(1 - alpha, df) * se
    return Difference(
        estimate, se, se, df, t_sf(t, df), t_cdf(t, df), estimate - half, estimate + half, design
    )


def count_ses(design: CountDesign, base_rate: float, candidate_rate: float) -> tuple[float, float]:
    """(standard error of the difference of proportions, its standard error under no
    change, at the pooled proportion).

    Baseline: phi_b p(1 - p) / N_b. Candidate, its runs one session: the between-run part
    of one baseline run, (phi_b - 1) p(1 - p) / (requests per candidate run), plus the
    binomial p(1 - p) / N_c; or, when its own runs disagree more, phi_c p(1 - p) / N_c."""
    d = design
    per_run = d.candidate_requests / d.candidate_runs

    def candidate(p: float) -> float:
        session = (d.baseline_dispersion - 1) / per_run + 1 / d.candidate_requests
        return p * (1 - p) * max(session, d.candidate_dispersion / d.candidate_requests)

    def baseline(p: float) -> float:
        return d.baseline_dispersion * p * (1 - p) / d.baseline_requests

    pooled = (base_rate * d.baseline_requests + candidate_rate * d.candidate_requests) / (
        d.baseline_requests + d.candidate_requests
    )
    se = math.sqrt(baseline(base_rate) + candidate(candidate_rate))
    return se, math.sqrt(baseline(pooled) + candidate(pooled))


def overdispersion(runs: Sequence[tuple[int, int]]) -> float:
    """Pearson chi-square of the runs' ``(failures, requests)`` / (runs - 1): how much more
    their failure proportions vary than binomial sampling explains (1 = as binomial; nan
    for one run)."""
    if len(runs) < 2:
        return math.nan
    failures, requests = sum(f for f, _ in runs), sum(n for _, n in runs)
    rate = failures / requests
    if not 0 < rate < 1:
        return 0.0
    chi2 = math.fsum((f - n * rate) ** 2 / (n * rate * (1 - rate)) for f, n in runs)
    return chi2 / (len(runs) - 1)


def quasi_binomial(
    baseline: Sequence[tuple[int, int]], candidate: Sequence[tuple[int, int]], *, alpha: float
) -> Difference:
    """Difference of failure proportions from per-run ``(failures, requests)``.

    The score statistic (the pooled proportion under no change) with ``count_ses``'s
    variance, against t on baseline runs - 1 degrees of freedom (the baseline's
    overdispersion is estimated). The interval is Agresti-Caffo's (one failure and one
    success added to each side, so that zero failures still give an honest interval)."""
    if len(baseline) < 2 or not candidate:
        raise ValueError("the error-rate test needs two baseline runs and a candidate run")
    fb, nb = sum(f for f, _ in baseline), sum(n for _, n in baseline)
    fc, nc = sum(f for f, _ in candidate), sum(n for _, n in candidate)
    if nb <= 0 or nc <= 0:
        raise ValueError("both sides need requests")
    phi_c = overdispersion(candidate)
    design = CountDesign(
        nb, nc, len(candidate), max(1.0, overdispersion(baseline)),
        max(1.0, phi_c) if math.isfinite(phi_c) else 1.0,
    )  # fmt: skip
    df = len(baseline) - 1.0
    pb, pc = fb / nb, fc / nc
    estimate = pc - pb
    se, null_se = count_ses(design, pb, pc)
    if null_se == 0:
        p_up, p_down = 1.0, 1.0
    else:
        t = estimate / null_se
        p_up, p_down = t_sf(t, df), t_cdf(t, df)
    ab, ac = (fb + 1) / (nb + 2), (fc + 1) / (nc + 2)
    adjusted = replace(design, baseline_requests=nb + 2, candidate_requests=nc + 2)
    half = t_ppf(1 - alpha, df) * count_ses(adjusted, ab, ac)[0]
    return Difference(
        estimate, se, null_se, df, p_up, p_down, ac - ab - half, ac - ab + half,
        counts=design, base_rate=pb,
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
