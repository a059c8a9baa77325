"""What a comparison can detect: the power of the verdict's rule and the smallest change it
finds with a given power. Pure.

The rule calls a change a regression when its estimate is significant (one-sided, at
``alpha``) *and* beyond a floor (the practical threshold). For a t-test both the standard
error and the degrees of freedom the test uses are estimated from the runs, so power is
averaged over their sampling distribution: the baseline's and the candidate's variances
are scaled chi-squares, integrated on a grid, and each grid point goes through the test's
own choice of variance and degrees of freedom (``stats.run_set_variance``). A formula that
took them as known would promise changes these runs do not detect (the simulations in
``benchmarks/stats_calibration.py`` check the promise). For proportions the normal
approximation with the variance at the changed rate.
"""

from __future__ import annotations

import bisect
import math
from functools import lru_cache

from perfdash.baseline.stats import (
    Difference,
    RunSetDesign,
    count_ses,
    run_set_variance_of,
    t_ppf,
    t_sf,
)

GRID_POINTS = 32  # per variance part
CUT_BINS = 96  # the grid's critical values, merged into this many weighted bins
DF_KNOTS = 24  # t quantiles interpolated between this many degrees of freedom


def power(difference: Difference, change: float, *, alpha: float, floor: float) -> float:
    """Probability that a true increase of ``change`` gives an estimate that is both
    significant (one-sided, at ``alpha``) and above ``floor``."""
    d = difference
    if d.counts is not None:
        se, null_se = count_ses(d.counts, d.base_rate, min(1.0, d.base_rate + change))
        if se == 0:
            return 1.0 if change > max(floor, 0.0) else 0.0
        return t_sf((max(floor, _quantile(1 - alpha, d.df) * null_se) - change) / se, d.df)
    if d.se == 0 or d.runs is None:
        return 1.0 if change > max(floor, 0.0) else 0.0
    cuts, weights = _cuts(d.runs, alpha)
    return math.fsum(
        w * _normal_sf((max(floor, cut) - change) / d.se)
        for cut, w in zip(cuts, weights, strict=True)
    )


def detectable(difference: Difference, *, alpha: float, power_wanted: float, floor: float) -> float:
    """The smallest true increase detected with probability ``power_wanted`` (inf: none)."""
    d = difference
    low = max(floor, 0.0)
    if d.counts is None and d.se == 0:
        return low
    if d.counts is not None:
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


@lru_cache(maxsize=1024)
def _quantile(q: float, df: float) -> float:
    return t_ppf(q, df)


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
def _cuts(design: RunSetDesign, alpha: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The estimate the test needs to be significant (critical value x estimated standard
    error) over the sampling distribution of the runs' variances, binned by size."""
    m, n = design.m, design.n
    independent = n >= 2 and math.isfinite(design.vc)
    critical = _critical_values(min(m - 1.0, n - 1.0) if independent else m - 1.0,
                                m + n - 2.0 if independent else m - 1.0, alpha)  # fmt: skip
    base_nodes, base_weights = _chi2_ratio_grid(m - 1.0)
    cand_nodes, cand_weights = _chi2_ratio_grid(n - 1.0) if independent else ((1.0,), (1.0,))
    points: list[tuple[float, float]] = []
    for ub, wb in zip(base_nodes, base_weights, strict=True):
        vb = design.vb * ub
        for uc, wc in zip(cand_nodes, cand_weights, strict=True):
            var, df = run_set_variance_of(vb, m, design.vc * uc, n)
            points.append((critical(df) * math.sqrt(var), wb * wc))
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
        return _Interpolated((1 / low,), (_quantile(1 - alpha, low),))
    xs = tuple(1 / high + (1 / low - 1 / high) * i / (DF_KNOTS - 1) for i in range(DF_KNOTS))
    return _Interpolated(xs, tuple(_quantile(1 - alpha, 1 / x) for x in xs))


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
