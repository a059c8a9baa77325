"""The multiwindow multi-burn-rate policy: burn factors, detection and exhaustion times.

The SRE Workbook ("Alerting on SLOs", table 5-8) is the reference: for a 30-day SLO
the four pairs burn at 14.4x, 6x, 3x and 1x; a total outage of a 99.9% SLO is caught
in 52 seconds by the fast page and in 4 minutes 19 seconds (Workbook figure) by tickets.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from perfdash.durations import Duration, humanize_seconds
from perfdash.model.fleet import SLO
from perfdash.model.windows import (
    DEFAULT_POLICY,
    budget_interval,
    budget_seconds,
    burn_threshold,
    detection_seconds,
    is_derived,
    recorded_windows,
    tile_ranges,
    window_facts,
)
from perfdash.numbers import promql_number
from perfdash.spec import build_fleet
from perfdash.spec.load import load_text
from tests.helpers import MINIMAL_SERVICE


def make_slo(objective: str = "99.9", window: str = "30d", *, alerting: str = "") -> SLO:
    """One SLO through the real loader and validator (the model is internal)."""
    text = MINIMAL_SERVICE.replace("objective: 99.9", f"objective: {objective}")
    text += f"      window: {window}\n"
    if alerting:
        text += f"      alerting: {alerting}\n"
    return build_fleet(load_text(text, "checkout.yaml")).services[0].slos[0]


def pairs(windows: tuple[Duration, ...]) -> list[str]:
    return [str(w) for w in windows]


# -- burn factors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slo_window", "expected"),
    [
        ("30d", [Fraction("14.4"), Fraction(6), Fraction(3), Fraction(1)]),
        ("28d", [Fraction("13.44"), Fraction("5.6"), Fraction("2.8"), Fraction(14, 15)]),
    ],
)
def test_burn_factors_match_the_sre_workbook(slo_window: str, expected: list[Fraction]) -> None:
    window = Duration.parse(slo_window)
    assert [pair.burn_factor(window) for pair in DEFAULT_POLICY] == expected


@pytest.mark.parametrize(
    ("slo_window", "printed"),
    [("30d", ["14.4", "6", "3", "1"]), ("28d", ["13.44", "5.6", "2.8", "(14 / 15)"])],
)
def test_burn_factors_print_as_exact_promql_numbers(slo_window: str, printed: list[str]) -> None:
    facts = window_facts(make_slo(window=slo_window))
    assert [promql_number(row.factor) for row in facts] == printed


def test_the_default_policy_is_the_workbooks_four_pairs() -> None:
    assert [(w.severity, str(w.long), str(w.short), w.budget_fraction) for w in DEFAULT_POLICY] == [
        ("page", "1h", "5m", Decimal("0.02")),
        ("page", "6h", "30m", Decimal("0.05")),
        ("ticket", "1d", "2h", Decimal("0.1")),
        ("ticket", "3d", "6h", Decimal("0.1")),
    ]


def test_the_threshold_is_the_factor_times_the_budget_exactly() -> None:
    slo = make_slo()
    assert [burn_threshold(w, slo) for w in DEFAULT_POLICY] == [
        Fraction("0.0144"),
        Fraction("0.006"),
        Fraction("0.003"),
        Fraction("0.001"),
    ]
    assert promql_number(burn_threshold(DEFAULT_POLICY[0], slo)) == "0.0144"


# -- detection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pair", "workbook", "detection", "shown"),
    [
        (0, 51.84, 51.84, "52s"),  # 1h page: raw windows, the Workbook's figure
        (1, 129.6, 129.6, "2m10s"),  # 6h page: still read from raw series
        (2, 259.2, 259.2 + 15, "4m34s"),  # 1d ticket: tiles, 15 s of ingestion delay
        (3, 259.2, 259.2 + 15, "4m34s"),  # 3d ticket: tiles, 15 s of ingestion delay
    ],
    ids=["page-1h", "page-6h", "ticket-1d", "ticket-3d"],
)
def test_detection_times_of_a_total_outage_on_a_999_slo(
    pair: int, workbook: float, detection: float, shown: str
) -> None:
    row = window_facts(make_slo())[pair]
    assert row.workbook_detection_seconds == pytest.approx(workbook)
    assert row.detection_seconds == pytest.approx(detection)
    assert humanize_seconds(row.detection_seconds) == shown


def test_the_workbook_detection_time_of_tickets_reads_4m19s() -> None:
    facts = window_facts(make_slo())
    assert [humanize_seconds(row.workbook_detection_seconds) for row in facts] == [
        "52s",
        "2m10s",
        "4m19s",
        "4m19s",
    ]


def test_windows_up_to_6h_are_raw_and_longer_ones_derived() -> None:
    assert not is_derived(Duration.parse("5m"))
    assert not is_derived(Duration.parse("6h"))
    assert is_derived(Duration.parse("6h1s"))
    assert is_derived(Duration.parse("1d"))


@pytest.mark.parametrize(
    ("window", "threshold", "expected"),
    [
        # Raw windows: threshold x window, linear.
        ("1h", Fraction("0.0144"), 51.84),
        ("6h", Fraction("0.006"), 129.6),
        # Tiled windows: just as linear (no trailing rate to ramp up), the ingestion delay
        # later, however small the threshold.
        ("1d", Fraction("0.003"), 259.2 + 15),
        ("3d", Fraction("0.01"), 2592 + 15),
        ("3d", Fraction("0.0001"), 25.92 + 15),
    ],
)
def test_detection_seconds_is_the_workbook_figure_plus_the_tiles_ingestion_delay(
    window: str, threshold: Fraction, expected: float
) -> None:
    assert detection_seconds(Duration.parse(window), threshold) == pytest.approx(expected)


def test_a_pair_is_detected_when_its_slower_window_crosses() -> None:
    slo = make_slo("99.99")
    ticket_3d = window_facts(slo)[3]
    # 3d needs 25.92 s (tiled: 15 s later); 6h raw needs 2.16 s.
    assert ticket_3d.detection_seconds == pytest.approx(25.92 + 15)


def test_tiles_partition_time_an_interval_apart() -> None:
    tiles = tile_ranges(Duration.parse("1m"))
    assert (str(tiles.current), str(tiles.delay)) == ("1d1m", "15s")
    assert (str(tiles.previous), str(tiles.previous_offset)) == ("1d", "1m15s")
    # Both ranges start at the same instant, so an increase is in both or in neither
    # unless its later sample falls in the last interval.
    start_current = tiles.delay.seconds + tiles.current.seconds
    start_previous = tiles.previous_offset.seconds + tiles.previous.seconds
    assert start_current == start_previous
    assert tiles.previous_offset.seconds - tiles.delay.seconds == 60


# -- budget and exhaustion --------------------------------------------------------------------


def test_exhaustion_times_are_the_slo_window_over_the_factor() -> None:
    facts = window_facts(make_slo())
    assert [row.exhaustion_seconds for row in facts] == pytest.approx(
        [180_000, 432_000, 864_000, 2_592_000]
    )
    assert [humanize_seconds(row.exhaustion_seconds) for row in facts] == [
        "2d2h",
        "5d",
        "10d",
        "30d",
    ]


def test_budget_consumed_is_the_pairs_share_of_the_budget() -> None:
    assert [row.budget_consumed for row in window_facts(make_slo())] == [
        Decimal("0.02"),
        Decimal("0.05"),
        Decimal("0.1"),
        Decimal("0.1"),
    ]


def test_the_budget_of_a_999_slo_over_30d_is_2592_seconds() -> None:
    slo = make_slo()
    assert budget_seconds(slo) == pytest.approx(2592)
    assert budget_seconds(slo, Duration.parse("1d")) == pytest.approx(86.4)
    assert budget_seconds(make_slo("99.95", "28d")) == pytest.approx(1209.6)


# -- recorded windows -------------------------------------------------------------------------


def test_recorded_windows_hold_5m_1h_every_policy_window_and_the_slo_window() -> None:
    assert pairs(recorded_windows(make_slo())) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
    assert pairs(recorded_windows(make_slo(window="28d")))[-1] == "28d"


def test_disabled_tiers_drop_their_windows() -> None:
    no_tickets = make_slo(alerting="{ticket: false}")
    assert pairs(recorded_windows(no_tickets)) == ["5m", "30m", "1h", "6h", "30d"]
    no_pages = make_slo(alerting="{page: false}")
    assert pairs(recorded_windows(no_pages)) == ["5m", "1h", "2h", "6h", "1d", "3d", "30d"]
    silent = make_slo(alerting="{page: false, ticket: false}")
    assert pairs(recorded_windows(silent)) == ["5m", "1h", "30d"]
    assert window_facts(silent) == ()


def test_disabled_tiers_have_no_window_facts() -> None:
    facts = window_facts(make_slo(alerting="{page: false}"))
    assert [(row.window.severity, str(row.window.long)) for row in facts] == [
        ("ticket", "1d"),
        ("ticket", "3d"),
    ]


def test_custom_windows_are_recorded_instead_of_the_default_ones() -> None:
    slo = make_slo(
        alerting="{windows: [{severity: page, long: 2h, short: 10m, budget_percent: 5}]}"
    )
    assert pairs(recorded_windows(slo)) == ["5m", "10m", "1h", "2h", "30d"]
    [row] = window_facts(slo)
    assert row.factor == Fraction(18)  # 5% x 720h / 2h


@pytest.mark.parametrize(
    ("long_window_interval", "expected"),
    [("1m", "4m"), ("15s", "1m"), ("30s", "2m"), ("2m", "4m"), ("4m", "4m"), ("5m", "5m")],
)
def test_the_budget_group_runs_every_4_intervals_and_within_the_5m_lookback(
    long_window_interval: str, expected: str
) -> None:
    """Four long-window intervals, at most 4m (inside Prometheus' 5m lookback, so the SLI
    and budget panels always find a value), never more often than the tiles change."""
    interval = budget_interval(Duration.parse(long_window_interval))
    assert interval == Duration.parse(expected)
