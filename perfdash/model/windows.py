"""The multiwindow multi-burn-rate alert policy, as data, and the arithmetic around it.

Google SRE Workbook, "Alerting on SLOs", approach 6: page when 2% of the error budget
burns in 1h (confirmed over 5m) or 5% in 6h (30m); ticket when 10% burns in 1d (2h)
or in 3d (6h). Burn factors are derived, never tabulated: factor = budget share x
SLO window / long window, so a 30d SLO gets 14.4, 6, 3, 1 and a 28d SLO gets 13.44,
5.6, 2.8, 14/15.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from perfdash.durations import Duration
from perfdash.model.fleet import SLO, AlertWindow

DEFAULT_POLICY: tuple[AlertWindow, ...] = (
    AlertWindow("page", Duration.parse("1h"), Duration.parse("5m"), Decimal("0.02")),
    AlertWindow("page", Duration.parse("6h"), Duration.parse("30m"), Decimal("0.05")),
    AlertWindow("ticket", Duration.parse("1d"), Duration.parse("2h"), Decimal("0.1")),
    AlertWindow("ticket", Duration.parse("3d"), Duration.parse("6h"), Decimal("0.1")),
)

# The SLI ratio over the shortest window is recorded directly from raw counters; every
# other window up to this one too (cheap enough and exact for the fast pages). Longer
# windows (1d, 3d, the SLO window) are sums of per-interval event counts ("tiles", see
# ``tile_ranges``): reading raw series over days on every evaluation is what makes naive
# SLO rules expensive.
BASE_WINDOW = Duration.parse("5m")
MAX_RAW_WINDOW = Duration.parse("6h")
# The window of the "current burn rate" series shown on dashboards.
CURRENT_BURN_WINDOW = Duration.parse("1h")
# A tile counts a counter's increase across a scrape gap (or a Prometheus outage) up to
# this long: the 1d window then counts every increase raw ``increase(x[1d])`` counts.
GAP_LOOKBACK = Duration.parse("1d")
# Tiles end this long before their evaluation, so that every scrape they cover has been
# written (Prometheus stamps samples with the scrape's start; its default scrape timeout
# is 10s). A sample written after the evaluation that should have counted it would
# otherwise be lost: the next tile would see it on both sides of its difference.
INGESTION_DELAY = Duration.parse("15s")


# The SLO window moves slowly (4 minutes of a 30-day window is 0.01% of it) and summing it
# is the dearest rule of an SLO (43,200 tiles a side for 30 days): it is recorded, with
# the SLI and the budget left, every this many long-window intervals, and at most every
# 4 minutes, inside Prometheus' 5m lookback.
BUDGET_INTERVALS = 4
BUDGET_INTERVAL_MAX = Duration.parse("4m")


def budget_interval(long_window_interval: Duration) -> Duration:
    """Interval of an SLO's budget group (SLO-window ratio, SLI, budget remaining)."""
    seconds = long_window_interval.seconds
    return Duration(min(BUDGET_INTERVALS * seconds, max(seconds, BUDGET_INTERVAL_MAX.seconds)))


@dataclass(frozen=True)
class TileRanges:
    """The two ranges whose difference is one tile: events whose sample was scraped in
    the interval ``(t - delay - interval, t - delay]``, each counter increase once.

    ``increase(x[current] offset delay) - increase(x[previous] offset previous_offset)``:
    both ranges start at ``t - delay - interval - lookback``, so an increase between two
    samples up to ``lookback`` apart is in both or in neither, except when its later
    sample falls in the tile: then it is in ``current`` only. Consecutive tiles therefore
    partition time, and a jump across a gap lands in exactly one of them.
    """

    current: Duration  # lookback + interval
    delay: Duration  # offset of the current range
    previous: Duration  # lookback
    previous_offset: Duration  # interval + delay


def tile_ranges(interval: Duration) -> TileRanges:
    """Ranges of the tile recorded every ``interval`` (the long-window group's)."""
    return TileRanges(
        current=Duration(GAP_LOOKBACK.seconds + interval.seconds),
        delay=INGESTION_DELAY,
        previous=GAP_LOOKBACK,
        previous_offset=Duration(interval.seconds + INGESTION_DELAY.seconds),
    )


def burn_threshold(window: AlertWindow, slo: SLO) -> Fraction:
    """Error ratio above which ``window`` fires: burn factor x error budget."""
    return _times_budget(window.burn_factor(slo.window), slo.error_budget)


@lru_cache(maxsize=4096)
def _times_budget(factor: Fraction, error_budget: Decimal) -> Fraction:
    return factor * Fraction(error_budget)


def recorded_windows(slo: SLO) -> tuple[Duration, ...]:
    """Every window the SLO's ratio is recorded for: policy windows, 5m, 1h and the SLO window."""
    windows = {BASE_WINDOW, CURRENT_BURN_WINDOW, slo.window}
    for window in slo.alerting.enabled_windows():
        windows.update((window.long, window.short))
    return tuple(sorted(windows))


def is_derived(window: Duration) -> bool:
    """True when the ratio over ``window`` sums tiles instead of reading raw series."""
    return window > MAX_RAW_WINDOW


def detection_seconds(window: Duration, threshold: Fraction) -> float:
    """Seconds of a total outage (100% errors) until the ratio over ``window`` exceeds
    ``threshold``.

    A raw window reads the counters directly, so its ratio rises linearly: threshold x
    window (the Workbook's figure). A tiled window rises the same way, but its tiles end
    ``INGESTION_DELAY`` before their evaluation, so it crosses that much later. Both
    then wait for their group's next evaluation.
    """
    needed = float(threshold) * window.seconds
    if is_derived(window):
        return needed + INGESTION_DELAY.seconds
    return needed


@dataclass(frozen=True)
class WindowFacts:
    """One row of ``perfdash explain``: the Workbook's table for one alert pair."""

    window: AlertWindow
    factor: Fraction
    threshold: Fraction
    budget_consumed: Decimal  # share of the budget burnt over ``long`` when it fires
    detection_seconds: float  # total outage -> alert (long and short both over threshold)
    workbook_detection_seconds: float  # the Workbook's figure: threshold x long window
    exhaustion_seconds: float  # time to burn the whole budget at exactly this factor


@lru_cache(maxsize=8192)
def window_facts(slo: SLO) -> tuple[WindowFacts, ...]:
    """One row per enabled alert pair (cached: rules, annotations and tests all ask)."""
    rows = []
    for window in slo.alerting.enabled_windows():
        factor = window.burn_factor(slo.window)
        threshold = burn_threshold(window, slo)
        detection = max(
            detection_seconds(window.long, threshold), detection_seconds(window.short, threshold)
        )
        rows.append(
            WindowFacts(
                window=window,
                factor=factor,
                threshold=threshold,
                budget_consumed=window.budget_fraction,
                detection_seconds=detection,
                workbook_detection_seconds=float(threshold) * window.long.seconds,
                exhaustion_seconds=slo.window.seconds / float(factor),
            )
        )
    return tuple(rows)


def budget_seconds(slo: SLO, window: Duration | None = None) -> float:
    """Seconds of total outage the budget allows over ``window`` (default: the SLO window)."""
    span = (window or slo.window).seconds
    return float(slo.error_budget) * span
