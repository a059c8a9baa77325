"""Grafana's variable semantics, as the preview substitutes them before querying."""

from __future__ import annotations

import pytest

from perfdash.preview.grafana_vars import (
    Selection,
    builtin_values,
    duration_text,
    interpolate,
    query_interval,
    rate_interval,
    referenced,
    round_interval_ms,
)


@pytest.mark.parametrize(
    ("raw_ms", "rounded_ms"),
    [(9, 10), (40_525, 30_000), (54_000, 60_000), (100_000, 120_000), (2_000_000, 1_200_000)],
)
def test_intervals_round_like_grafanas_round_interval(raw_ms: float, rounded_ms: int) -> None:
    assert round_interval_ms(raw_ms) == rounded_ms


def test_interval_is_range_over_width_never_below_the_scrape_interval() -> None:
    six_hours = 6 * 3600
    assert query_interval(six_hours, 533, 15) == 30  # a w=8 panel: 40.5s -> 30s
    assert query_interval(six_hours, 400, 15) == 60  # a w=6 panel: 54s -> 1m
    assert query_interval(six_hours, 533, 60) == 60  # the scrape interval is the floor
    assert query_interval(30 * 86400, 100_000, 1) == pytest.approx(30 * 86400 / 11_000)


def test_rate_interval_is_interval_plus_scrape_or_four_scrapes() -> None:
    assert rate_interval(30, 15) == 60  # 4 x 15s wins over 30s + 15s
    assert rate_interval(120, 15) == 135
    assert duration_text(60) == "1m" and duration_text(135) == "135s"


def test_builtins_and_template_variables_in_promql() -> None:
    builtins = builtin_values(start=0, end=21600, interval=30, scrape_seconds=15)
    team = Selection(
        "team", ("pay.ments",), multi=True, include_all=True, options=("pay.ments", "web")
    )
    single = Selection("branch", ("it's",))
    text = 'rate(x{team=~"$team", b="${branch}"}[$__rate_interval]) [$__range] $nope'
    assert interpolate(text, {"team": team, "branch": single}, builtins) == (
        'rate(x{team=~"pay\\\\.ments", b="it\\\\\'s"}[1m]) [21600s] $nope'
    )
    assert referenced(text) == {"team", "branch", "__rate_interval", "__range", "nope"}


def test_all_inserts_the_custom_all_value_or_every_value() -> None:
    custom = Selection("team", (), all=True, multi=True, include_all=True, all_value=".*",
                       options=("a", "b"))  # fmt: skip
    listed = Selection("team", (), all=True, multi=True, include_all=True, options=("a", "b"))
    assert interpolate('{team=~"$team"}', {"team": custom}) == '{team=~".*"}'
    assert interpolate('{team=~"$team"}', {"team": listed}) == '{team=~"(a|b)"}'


def test_sql_formats_quote_values() -> None:
    branch = Selection("baseline_branch", ("o'main",))
    assert interpolate("branch = ${baseline_branch:sqlstring}", {"baseline_branch": branch}) == (
        "branch = 'o''main'"
    )
