"""Every query of the generated dashboards is valid PromQL and reads series the rules record."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import promql_parser
import pytest
import yaml

from perfdash.model.fleet import Fleet
from tests.grafana.dashboard_walk import (
    Dashboard,
    content_panels,
    panel_titled,
    prometheus_queries,
    query_variables,
    recording_rules,
    substitute_variables,
    targets_of,
)
from tests.helpers import background, free_port, wait_ready

# Names of perfdash's recorded series (slo:info too, which the overview reads).
RECORDED = re.compile(r"\bslo:[a-z_]+(?::[a-z0-9_]+)?")
ERROR_RATIO = re.compile(r"^slo:sli_error:ratio_rate(\d+[smhdwy])$")
LABEL_VALUES = re.compile(r"^label_values\((.+), (\w+)\)$", re.DOTALL)
STARTUP_SECONDS = 30.0


def recorded_names(example_artifacts: dict[str, str]) -> set[str]:
    return {rule["record"] for rule in recording_rules(example_artifacts)}


def selectors(query: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(promql_parser.parse(query), visit)
    return found


def equal_matchers(selector: promql_parser.VectorSelector) -> dict[str, str]:
    return {
        m.name: m.value
        for m in selector.matchers.matchers
        if str(m.op) == "MatchOp.Equal" and m.name in ("service", "slo")
    }


def test_grafana_variables_are_replaced_by_what_prometheus_receives() -> None:
    expr = 'sum(rate(x{route=~"$route", team=~"${team}"}[$__rate_interval])) / rate(y[$__interval])'
    assert substitute_variables(expr, regex_variables={"route", "team"}) == (
        'sum(rate(x{route=~".*", team=~".*"}[5m])) / rate(y[1m])'
    )


@pytest.mark.parametrize(
    "expr",
    ['x{slo=~"$slo"}', 'x{route="$route"}', "x[$__range]", 'x{a="$$"}'],
    ids=["unknown variable", "variable outside a regex matcher", "unknown interval", "stray $"],
)
def test_a_variable_the_substitution_does_not_know_fails_loudly(expr: str) -> None:
    with pytest.raises(AssertionError):
        substitute_variables(expr, regex_variables={"route", "team"})


def test_every_panel_query_parses_as_promql(example_dashboards: dict[str, Dashboard]) -> None:
    problems = []
    count = 0
    for path, dashboard in example_dashboards.items():
        for query in prometheus_queries(dashboard):
            count += 1
            try:
                promql_parser.parse(query)
            except Exception as error:  # promql-parser raises ValueError and friends
                problems.append(f"{path}: {query!r}: {error}")
    assert count > 100
    assert not problems, "\n".join(problems)


def test_every_query_variable_lists_values_of_a_recorded_series(
    example_dashboards: dict[str, Dashboard], example_artifacts: dict[str, str]
) -> None:
    recorded = recorded_names(example_artifacts)
    checked = 0
    for path, dashboard in example_dashboards.items():
        for name, variable in query_variables(dashboard).items():
            match = LABEL_VALUES.match(variable["query"])
            assert match, f"{path}: ${name} is not a label_values() query: {variable['query']!r}"
            selector = selectors(match.group(1))
            assert len(selector) == 1, f"{path}: ${name} reads {len(selector)} selectors"
            assert selector[0].name in recorded, f"{path}: ${name} reads {selector[0].name}"
            assert match.group(2) == name, f"{path}: ${name} lists values of {match.group(2)}"
            checked += 1
    assert checked == 2  # $route of search, $team of the overview


def test_every_recorded_series_a_panel_reads_is_recorded_by_the_rules(
    example_dashboards: dict[str, Dashboard], example_artifacts: dict[str, str]
) -> None:
    recorded = recorded_names(example_artifacts)
    read = {
        name: path
        for path, dashboard in example_dashboards.items()
        for _, target in targets_of(dashboard)
        for name in RECORDED.findall(target["expr"])
    }
    assert {name for name in read if ERROR_RATIO.match(name)} >= {
        "slo:sli_error:ratio_rate1h",
        "slo:sli_error:ratio_rate6h",
        "slo:sli_error:ratio_rate1d",
        "slo:sli_error:ratio_rate3d",
    }
    missing = {name: path for name, path in read.items() if name not in recorded}
    assert not missing, f"series read by panels but never recorded: {missing}"


def test_a_service_dashboard_reads_only_series_recorded_for_its_own_slos(
    example_fleet: Fleet,
    service_dashboards: dict[str, Dashboard],
    example_artifacts: dict[str, str],
) -> None:
    recorded = {
        (rule["record"], rule["labels"]["service"], rule["labels"]["slo"])
        for rule in recording_rules(example_artifacts)
    }
    problems = []
    ratio_windows_read = 0
    for service in example_fleet.services:
        dashboard = service_dashboards[service.name]
        own_slos = {slo.name for slo in service.slos}
        for query in prometheus_queries(dashboard):
            for selector in selectors(query):
                name = selector.name or ""
                if not RECORDED.fullmatch(name):
                    continue
                labels = equal_matchers(selector)
                where = f"{service.name}: {selector} in {query!r}"
                if labels.get("service") != service.name or labels.get("slo") not in own_slos:
                    problems.append(f"{where}: does not pick one of this service's SLOs")
                elif (name, service.name, labels["slo"]) not in recorded:
                    problems.append(f"{where}: not recorded for this SLO")
                else:
                    ratio_windows_read += bool(ERROR_RATIO.match(name))
    assert not problems, "\n".join(problems)
    assert ratio_windows_read > 0


def test_each_burn_rate_window_a_dashboard_shows_is_recorded_for_that_slo(
    example_fleet: Fleet,
    service_dashboards: dict[str, Dashboard],
    example_artifacts: dict[str, str],
) -> None:
    windows_recorded: dict[tuple[str, str], set[str]] = {}
    for rule in recording_rules(example_artifacts):
        match = ERROR_RATIO.match(rule["record"])
        if match:
            key = (rule["labels"]["service"], rule["labels"]["slo"])
            windows_recorded.setdefault(key, set()).add(match.group(1))
    for service in example_fleet.services:
        dashboard = service_dashboards[service.name]
        for slo in service.slos:
            read = {
                match.group(1)
                for _, target in targets_of(dashboard)
                if f'slo="{slo.name}"' in target["expr"]
                for name in RECORDED.findall(target["expr"])
                if (match := ERROR_RATIO.match(name))
            }
            assert "1h" in read, f"{service.name}/{slo.name} shows no 1h ratio"
            assert read <= windows_recorded[(service.name, slo.name)], (
                f"{service.name}/{slo.name} reads ratios over {sorted(read)}, rules record "
                f"{sorted(windows_recorded[(service.name, slo.name)])}"
            )


# -- against a real Prometheus ------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_prometheus(
    prometheus_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[httpx.Client]:
    """A client of a Prometheus on 127.0.0.1 with no scrape jobs and no rules, once ready."""
    root = tmp_path_factory.mktemp("empty-prometheus")
    config = root / "prometheus.yml"
    config.write_text("", encoding="utf-8")
    log_path = root / "prometheus.log"
    port = free_port()
    argv = [
        prometheus_bin,
        f"--config.file={config}",
        f"--storage.tsdb.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with background(argv, log_path) as process:
        wait_ready(f"http://127.0.0.1:{port}", process, log_path, seconds=STARTUP_SECONDS)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as client:
            yield client


@pytest.mark.integration
def test_every_panel_query_runs_on_a_real_prometheus(
    example_dashboards: dict[str, Dashboard], empty_prometheus: httpx.Client
) -> None:
    queries = sorted(
        {
            query
            for dashboard in example_dashboards.values()
            for query in prometheus_queries(dashboard)
        }
    )
    assert len(queries) > 50
    problems = []
    for query in queries:
        body = empty_prometheus.post("/api/v1/query", data={"query": query}).json()
        if body.get("status") != "success":
            problems.append(f"{query!r}: {body.get('errorType')}: {body.get('error')}")
    assert not problems, "\n".join(problems)


# -- what the queries compute, on synthetic series (promtool test rules) --------------------


def panel_query(dashboard: Dashboard, title: str, ref: str = "A") -> str:
    """The query of one panel's target, as Prometheus receives it (every option All)."""
    panel = panel_titled(content_panels(dashboard), title)
    (target,) = [t for t in panel["targets"] if t["refId"] == ref]
    return substitute_variables(target["expr"], regex_variables=query_variables(dashboard))


def assert_evaluates(
    promtool: str,
    folder: Path,
    query: str,
    *,
    series: dict[str, str],
    expected: dict[str, float],
    at: str = "10m",
) -> None:
    """``query`` over ``series`` (promtool's expanding notation, one sample a minute)
    gives exactly ``expected`` (``{labels: value}``) at ``at``."""
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "promql_expr_test": [
                    {
                        "expr": query,
                        "eval_time": at,
                        "exp_samples": [{"labels": k, "value": v} for k, v in expected.items()],
                    }
                ],
            }
        ],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "dashboard_query_test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
    result = subprocess.run(
        [promtool, "test", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"{query}\n{result.stdout}{result.stderr}", pytrace=False)


SEARCH_ROUTE = 'service="search", slo="availability", route="{route}"'
SEARCH_INFO = 'slo:info{service="search", slo="availability", team="discovery"}'


@pytest.mark.integration
def test_the_overview_counts_a_grouped_slo_out_of_budget_once(
    overview: Dashboard, promtool_bin: str, tmp_path: Path
) -> None:
    query = panel_query(overview, "SLOs out of budget")
    series = {
        f"slo:error_budget_remaining:ratio{{{SEARCH_ROUTE.format(route=r)}}}": "-0.5x15"
        for r in ("/a", "/b", "/c")
    }
    series[SEARCH_INFO] = "1x15"
    assert_evaluates(promtool_bin, tmp_path, query, series=series, expected={"{}": 1})


@pytest.mark.integration
def test_the_overview_counts_a_grouped_slo_burning_too_fast_once(
    overview: Dashboard, promtool_bin: str, tmp_path: Path
) -> None:
    query = panel_query(overview, "SLOs burning too fast")
    series = {
        f"slo:current_burn_rate:ratio{{{SEARCH_ROUTE.format(route=r)}}}": "2x15"
        for r in ("/a", "/b", "/c")
    }
    series[SEARCH_INFO] = "1x15"
    assert_evaluates(promtool_bin, tmp_path, query, series=series, expected={"{}": 1})


@pytest.mark.integration
def test_budget_gone_in_is_the_budget_left_over_the_current_burn(
    service_dashboards: dict[str, Dashboard], promtool_bin: str, tmp_path: Path
) -> None:
    query = panel_query(service_dashboards["checkout"], "availability: budget gone in")
    own = 'service="checkout", slo="availability"'
    series = {
        f"slo:error_budget_remaining:ratio{{{own}}}": "0.5x15",
        f"slo:window:seconds{{{own}}}": "2592000x15",
    }
    # Half the 30d budget left, burning at 2x: 0.5 x 30d / 2 = 7.5 days.
    burning = {**series, f"slo:current_burn_rate:ratio{{{own}}}": "2x15"}
    assert_evaluates(
        promtool_bin, tmp_path / "burning", query, series=burning, expected={f"{{{own}}}": 648000}
    )
    # Not burning at all: capped at the window, which the panel maps to "not at risk".
    idle = {**series, f"slo:current_burn_rate:ratio{{{own}}}": "0x15"}
    assert_evaluates(
        promtool_bin, tmp_path / "idle", query, series=idle, expected={f"{{{own}}}": 2592000}
    )


@pytest.mark.integration
def test_the_error_ratio_panel_shows_zero_while_no_request_failed(
    service_dashboards: dict[str, Dashboard], promtool_bin: str, tmp_path: Path
) -> None:
    # Error series (code="5..") appear only with the first error; until then the panel
    # must read 0%, as the recording rules do, not "no data".
    query = panel_query(service_dashboards["checkout"], "Error ratio")
    series = {'http_requests_total{job="checkout", code="200"}': "0+60x15"}
    assert_evaluates(promtool_bin, tmp_path, query, series=series, expected={"{}": 0})
