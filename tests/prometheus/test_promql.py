"""PromQL fragments of the tiles: ranges shifted back by an offset, for every SLI kind."""

from __future__ import annotations

import pytest

from perfdash.durations import Duration
from perfdash.prometheus.promql import render_raw, tiles_range

DAY = Duration.parse("1d")
OFFSET = Duration.parse("1m15s")


def test_a_raw_query_takes_the_offset_after_each_of_its_ranges() -> None:
    query = "sum(rate(a_total{job='x'}[{{ window }}])) + sum(rate(b_total[ {{window}} ]))"

    assert render_raw(query, DAY, OFFSET) == (
        "sum(rate(a_total{job='x'}[1d] offset 1m15s)) + sum(rate(b_total[1d] offset 1m15s))"
    )
    assert render_raw(query, DAY) == ("sum(rate(a_total{job='x'}[1d])) + sum(rate(b_total[ 1d ]))")


@pytest.mark.parametrize(
    "query",
    [
        # Already shifted: a second offset would not parse.
        "sum(rate(a_total[{{ window }}] offset 1h))",
        # The placeholder outside a range: a subquery's range.
        "max_over_time(sum(rate(a_total[5m]))[{{ window }}:1m])",
    ],
)
def test_a_raw_query_that_cannot_take_the_offset_is_evaluated_whole_at_that_time(
    query: str,
) -> None:
    rendered = render_raw(query, DAY, OFFSET)

    whole = render_raw(query, DAY)
    assert rendered == f"last_over_time(({whole})[1ms:1ms] offset 1m15s)"


@pytest.mark.parametrize(
    ("window", "expected"),
    [("1d", "23h59m59s999ms"), ("3d", "2d23h59m59s999ms"), ("28d", "27d23h59m59s999ms")],
)
def test_tiles_range_holds_a_window_of_tiles_under_closed_and_open_ranges(
    window: str, expected: str
) -> None:
    assert tiles_range(Duration.parse(window)) == expected
