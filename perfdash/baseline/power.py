"""What a comparison can detect: the power of the verdict's rule and the smallest change it
finds with a given power. Pure.

The rule calls a change a regression when its estimate is significant (one-sided, at
``alpha``) *and* beyond a floor (the practical threshold). For a t-test both the standard
error and the degrees of freedom the test uses are estimated from the runs, so power is
averaged over their sampling distribution: each part of the variance (Welch: the
baseline's and the candidate's) is a scaled chi-square, integrated on a grid. With three
candidate runs, Welch's degrees of freedom are often near 2 and its critical value large;
a formula that took them as known would promise changes these runs do not detect (the
simulations in ``benchmarks/stats_calibration.py`` check the promise). For proportions the
normal approximation with the variance at the changed rate.
"""

from __future__ import annotations

import bisect
import itertools
import math
from functools import lru_cache

from perfdash.baseline.stats import Difference, proportion_ses, t_ppf, t_sf

GRID_POINTS = 32  # per variance part
CUT_BINS = 96  # the grid's critical values, merged into this many weighted bins
DF_KNOTS = 24  # t quantiles interpolated between this many degrees of freedom


def power(difference: Difference, change: float, *, alpha: float, floor: float) -> float:
    """Probability that a true increase of ``change`` gives an estimate that is both
    significant (one-sided, at ``alpha``) and above ``floor``."""
    d = difference
    if d.base_rate is not None:
        se, null_se = proportion_ses(d.base_rate, change, d.sizes, d.dispersion)
        if se == 0:
            return 1.0 if change > max(floor, 0.0) else 0.0
        return t_sf((max(floor, t_ppf(1 - alpha, d.df) * null_se) - change) / se, d.df)
    if d.se == 0:
        return 1.0 if change > max(floor, 0.0) else 0.0
    cuts, weights = _cuts(d.parts, alpha)
    return math.fsum(
        w * _normal_sf((max(floor, cut) - change) / d.se)
        for cut, w in zip(cuts, weights, strict=True)
    )


def detectable(difference: Difference, *, alpha: float, power_wanted: float, floor: float) -> float:
    """The smallest true increase detected with probability ``power_wanted`` (inf: none)."""
    d = difference
    low = max(floor, 0.0)
    if d.base_rate is None and d.se == 0:
        return low
    if d.base_rate is not None:
        high = 1 - d.base_rate
        if power(d, high, alpha=alpha, floor=floor) < power_wanted:
            return math.inf
    else:
        high = low + d.se
        while power(d, high, alpha=alpha, floor=floor) < power_wanted:
            low, high = high, high + 2 * (high - low)
            if high > 1e9:
                return math.inf
    while high - low > 1e-5 * max(high, 1e-12):
        middle = (low + high) / 2
        if power(d, middle, alpha=alpha, floor=floor) < power_wanted:
            low = middle
        else:
            high = middle
    return high


def _normal_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2))


@lru_cache(maxsize=64)
def _chi2_ratio_grid(df: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Nodes u and weights w with sum(w * g(u)) ~ E[g(X / df)] for X ~ chi-square(df): the
    trapezoid rule on log X, which covers the long left tail of small df."""
    top, bottom = math.log(df + 12 * math.sqrt(2 * df) + 60), math.log(1e-9)
    step = (top - bottom) / (GRID_POINTS - 1)
    log_norm = -(df / 2) * math.log(2) - math.lgamma(df / 2)
    nodes, weights = [], []
    for i in range(GRID_POINTS):
        log_x = bottom + i * step
        density = math.exp(log_norm + (df / 2) * log_x - math.exp(log_x) / 2)  # of log X
        nodes.append(math.exp(log_x) / df)
        weights.append(density * (0.5 if i in (0, GRID_POINTS - 1) else 1.0))
    total = math.fsum(weights)
    return tuple(nodes), tuple(w / total for w in weights)


@lru_cache(maxsize=512)
def _cuts(
    parts: tuple[tuple[float, float], ...], alpha: float
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The estimate the test needs to be significant (critical value x estimated standard
    error), over the joint distribution of the variance parts, binned by size."""
    dfs = tuple(d for _, d in parts)
    critical = _critical_values(min(dfs), math.fsum(dfs), alpha)
    scaled = []
    for variance, df in parts:
        nodes, node_weights = _chi2_ratio_grid(df)
        scaled.append([(variance * u, w, df) for u, w in zip(nodes, node_weights, strict=True)])
    points: list[tuple[float, float]] = []
    for combo in itertools.product(*scaled):
        var = math.fsum(share for share, _, _ in combo)
        df = var**2 / math.fsum(share * share / d for share, _, d in combo)
        points.append((critical(df) * math.sqrt(var), math.prod(w for _, w, _ in combo)))
    points.sort()
    cuts: list[float] = []
    weights: list[float] = []
    size = len(points) / CUT_BINS
    for b in range(CUT_BINS):
        chunk = points[round(b * size) : round((b + 1) * size)]
        total = math.fsum(w for _, w in chunk)
        if total > 0:
            cuts.append(math.fsum(c * w for c, w in chunk) / total)
            weights.append(total)
    return tuple(cuts), tuple(weights)


@lru_cache(maxsize=256)
def _critical_values(low: float, high: float, alpha: float) -> _Interpolated:
    """t_ppf(1 - alpha, df) for any df Satterthwaite can give (between the smallest part's
    df and their sum), interpolated in 1 / df."""
    if high - low < 1e-9:
        return _Interpolated((1 / low,), (t_ppf(1 - alpha, low),))
    xs = tuple(1 / high + (1 / low - 1 / high) * i / (DF_KNOTS - 1) for i in range(DF_KNOTS))
    return _Interpolated(xs, tuple(t_ppf(1 - alpha, 1 / x) for x in xs))


class _Interpolated:
    """Piecewise-linear in 1 / df."""

    def __init__(self, xs: tuple[float, ...], ys: tuple[float, ...]) -> None:
        self.xs, self.ys = xs, ys

    def __call__(self, df: float) -> float:
        x = 1 / df
        xs, ys = self.xs, self.ys
        if len(xs) == 1 or x <= xs[0]:
            return ys[0]
        if x >= xs[-1]:
            return ys[-1]
        i = bisect.bisect_right(xs, x)
        t = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
        return ys[i - 1] + t * (ys[i] - ys[i - 1])
