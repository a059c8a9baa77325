"""Prometheus-style durations: parsing, printing (days, never weeks), and rounding for people."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfdash.durations import Duration, humanize_seconds

USAGE = "use a number and a unit, largest first, e.g. 5m, 1h30m, 28d (units w, d, h, m, s)"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("1d", 86400),
        ("28d", 28 * 86400),
        ("1w", 7 * 86400),
        ("1w2d3h4m5s", 9 * 86400 + 3 * 3600 + 4 * 60 + 5),
        ("90m", 5400),
    ],
)
def test_parse_reads_prometheus_durations(text: str, seconds: int) -> None:
    assert Duration.parse(text).seconds == seconds


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("28d", "28d"),
        ("30d", "30d"),
        ("1w", "7d"),
        ("90m", "1h30m"),
        ("3600s", "1h"),
        ("1d2h", "1d2h"),
        ("5m", "5m"),
        ("01h", "1h"),
    ],
)
def test_durations_print_in_days_hours_minutes_seconds(text: str, printed: str) -> None:
    assert str(Duration.parse(text)) == printed


@pytest.mark.parametrize(
    "text", ["", "30 days", "5x", "1h5d", "5", "1.5h", "-5m", "5M", "1h 30m", "h"]
)
def test_parse_refuses_what_prometheus_would_refuse(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        Duration.parse(text)
    assert str(caught.value) == f"{text!r} is not a duration: {USAGE}"


@pytest.mark.parametrize("text", ["0m", "0s", "0d0h"])
def test_zero_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        Duration.parse(text)
    assert str(caught.value) == f"{text!r} is not a positive duration"


@given(st.integers(min_value=1, max_value=10 * 365 * 86400))
def test_printing_then_parsing_gives_the_same_duration(seconds: int) -> None:
    duration = Duration(seconds)
    assert Duration.parse(str(duration)) == duration


@given(st.text(alphabet="0123456789wdhms", min_size=1, max_size=12))
def test_a_parsed_duration_prints_as_text_that_parses_to_it(text: str) -> None:
    try:
        duration = Duration.parse(text)
    except ValueError:
        return
    assert Duration.parse(str(duration)) == duration
    assert "w" not in str(duration)


def test_durations_order_by_length() -> None:
    windows = [Duration.parse(t) for t in ("1d", "5m", "6h", "30m", "1h")]
    assert [str(w) for w in sorted(windows)] == ["5m", "30m", "1h", "6h", "1d"]
    assert Duration.parse("1h").minutes == 60


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (4.32, "4.3s"),
        (51.84, "52s"),
        (52.0, "52s"),
        (59.6, "1m"),
        (129.6, "2m10s"),
        (259.2, "4m19s"),
        (409.2, "6m49s"),
        (3600, "1h"),
        (43200, "12h"),
        (180000, "2d2h"),
        (90061, "1d1h"),  # two most significant parts only
        (2592000, "30d"),
    ],
)
def test_humanize_seconds_rounds_for_tables(seconds: float, text: str) -> None:
    assert humanize_seconds(seconds) == text
