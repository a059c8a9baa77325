"""Scenario traffic read back from the generated promtool tests (no Prometheus needed)."""

from __future__ import annotations

import pytest

from perfdash.preview.backfill import alert_states
from perfdash.preview.scenario import expand_values, openmetrics, scenario_traffic

TESTS = {
    "alerts/tests/api/availability.yaml": """
rule_files: [../../rules/api.yaml]
evaluation_interval: 1m
tests:
- name: "total outage: nothing fires before it"
  interval: 1m
  input_series:
  - series: 'http_requests_total{code="200", job="api"}'
    values: 0 600+600x3 2400+0x2
  - series: 'http_requests_total{code="500", job="api"}'
    values: 0 0+0x3 600+600x2
  promql_expr_test:
  - expr: count_over_time(ALERTS{alertstate="firing"}[4m])
    eval_time: 4m
    exp_samples: []
  - expr: ALERTS{alertstate="firing", long="1h", short="5m"}
    eval_time: 6m
    exp_samples: [{labels: 'ALERTS{alertname="X"}', value: 1}]
""",
    "alerts/tests/api/availability.slow-burn.yaml": """
rule_files: [../../rules/api.yaml]
evaluation_interval: 5m
tests:
- name: burn at 90% of the slowest factor
  interval: 1m
  input_series:
  - series: 'http_requests_total{code="200", job="api"}'
    values: 0 599+599x9
  - series: 'http_requests_total{code="500", job="api"}'
    values: 0 1+1x9
  promql_expr_test:
  - expr: count_over_time(ALERTS{alertstate="firing"}[10m])
    eval_time: 10m
    exp_samples: []
""",
}


def test_expanding_notation() -> None:
    assert expand_values("0 1+2x2 _ 5x1 7-1x1 stale") == [0, 1, 3, 5, None, 5, 5, 7, 6, None]


@pytest.mark.parametrize(
    ("scenario", "minutes", "last_errors"),
    [("outage", 7, 1200), ("healthy", 5, 0), ("slow-burn", 11, 10)],
)
def test_each_scenario_ends_where_its_test_asserts(
    scenario: str, minutes: int, last_errors: float
) -> None:
    [slo] = scenario_traffic(TESTS, scenario)
    good, bad = slo.series
    assert len(good.values) == len(bad.values) == minutes
    assert bad.values[-1] == last_errors
    # The history before the test grows at the healthy slope of the outage test.
    assert (good.healthy_slope, bad.healthy_slope) == (600, 0)


def test_openmetrics_extends_history_back_at_the_healthy_slope() -> None:
    text = openmetrics(scenario_traffic(TESTS, "outage"), end=10_000, start=10_000 - 9 * 60)
    lines = text.splitlines()
    assert lines[0] == "# TYPE http_requests_total unknown" and lines[-1] == "# EOF"
    good = [line for line in lines if 'code="200"' in line]
    # Three minutes of history (0, 600, 1200), then the test's 7 samples shifted by 1800.
    assert good[:3] == [
        'http_requests_total{code="200",job="api"} 0 9460',
        'http_requests_total{code="200",job="api"} 600 9520',
        'http_requests_total{code="200",job="api"} 1200 9580',
    ]
    assert good[3] == 'http_requests_total{code="200",job="api"} 1800 9640'
    assert good[-1] == 'http_requests_total{code="200",job="api"} 4200 10000'


def test_alerts_fire_once_held_for_their_for_duration() -> None:
    times = [0, 60, 120, 180, 300, 360]  # a gap at 240: the expression stopped holding
    assert alert_states(times, step=60, hold=120) == [
        (0, "pending"), (60, "pending"), (120, "firing"), (180, "firing"),
        (300, "pending"), (360, "pending"),
    ]  # fmt: skip
    assert alert_states([0, 60], step=60, hold=0) == [(0, "firing"), (60, "firing")]
