"""What the generated dashboards show: identity, conventions, units, thresholds, links.

Expectations are written out from the declarations in slos/ (the Workbook's burn factors,
the objectives, the latency thresholds), not recomputed with perfdash's own code.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from perfdash.build import build_artifacts
from perfdash.conventions import dashboard_uid
from perfdash.grafana.baseline_panels import POSTGRES as BASELINE_STORE
from perfdash.grafana.panels import BAD, OK, WARN
from perfdash.model.fleet import Fleet
from perfdash.spec import load_fleet
from tests.conftest import REPO
from tests.grafana.dashboard_walk import (
    Dashboard,
    Panel,
    content_panels,
    dashboards_of,
    panel_titled,
    panels_by_row,
    query_variables,
    recording_rules,
    slo_row,
    targets_of,
    threshold_values,
)
from tests.helpers import MINIMAL_SERVICE, write_declaration

PROMETHEUS = {"type": "prometheus", "uid": "${datasource}"}
LEGACY_KEYS = frozenset({"rows", "style", "sharedCrosshair", "hideControls", "__inputs"})
FIRST_STEP_VALUE = re.compile(r"/fieldConfig/defaults/thresholds/steps/0/value$")
RED_ROW = "Requests, errors, duration (RED)"
GLANCE_ROW = "SLOs at a glance"

# Burn factor -> severity of every enabled alert pair, from the declarations (SRE Workbook:
# factor = budget share x SLO window / long window).
WORKBOOK_30D = {"14.4": "page", "6": "page", "3": "ticket", "1": "ticket"}
WORKBOOK_28D = {"13.44": "page", "5.6": "page", "2.8": "ticket", "14/15": "ticket"}
BURN_FACTORS = {
    ("checkout", "availability"): WORKBOOK_30D,
    ("checkout", "latency"): WORKBOOK_30D,
    ("frontend", "page-load"): WORKBOOK_30D,
    ("frontend", "availability"): WORKBOOK_30D,
    ("ledger", "write-success"): WORKBOOK_28D,
    ("ledger", "latency"): WORKBOOK_28D,
    ("search", "availability"): WORKBOOK_28D,
    # 95% over 28d: the 1h page is dropped in the declaration.
    ("search", "latency"): {"5.6": "page", "2.8": "ticket", "14/15": "ticket"},
    # page: false for the whole service.
    ("notifications", "delivery"): {"3": "ticket", "1": "ticket"},
    # 7d window, ticket: false: 2% x 168h / 1h and 5% x 168h / 6h.
    ("email-worker", "jobs"): {"3.36": "page", "1.4": "page"},
}
SEVERITY_COLOUR = {"page": BAD, "ticket": WARN}
LATENCY_THRESHOLDS = {"checkout": [0.3], "search": [0.5], "frontend": [1.0], "ledger": [1.0]}


def walk_json(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """``(json path, value)`` of every node under ``node``."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk_json(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_json(value, f"{path}/{index}")


def keys_anywhere(node: Any) -> Iterator[tuple[str, str]]:
    for path, value in walk_json(node):
        if isinstance(value, dict):
            yield from ((f"{path}/{key}", key) for key in value)


def unit(panel: Panel) -> str | None:
    unit: str | None = panel["fieldConfig"]["defaults"].get("unit")
    return unit


def threshold_colours(panel: Panel) -> list[str]:
    return [step["color"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def threshold_style(panel: Panel) -> str:
    mode: str = panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"]
    return mode


def objective_ratio(objective: Decimal) -> float:
    return float(objective / 100)


# -- identity -----------------------------------------------------------------------------


def test_each_service_dashboard_is_identified_by_its_service_and_team(
    example_fleet: Fleet, service_dashboards: dict[str, Dashboard]
) -> None:
    for service in example_fleet.services:
        dashboard = service_dashboards[service.name]
        assert dashboard["uid"] == f"pd-{service.name}"
        assert len(dashboard["uid"]) <= 40
        assert {"perfdash", f"team:{service.team}", f"service:{service.name}"} <= set(
            dashboard["tags"]
        )


def test_a_uid_fits_grafanas_40_characters_exactly_up_to_a_37_character_name() -> None:
    assert dashboard_uid("a" * 37) == "pd-" + "a" * 37
    longer = dashboard_uid("a" * 38)
    assert len(longer) <= 40
    assert longer.startswith("pd-aaaa")
    assert longer != "pd-" + "a" * 37


def test_63_character_names_get_a_hashed_uid_that_stays_unique() -> None:
    first, second = "x" * 62 + "1", "x" * 62 + "2"
    uids = {dashboard_uid(first), dashboard_uid(second)}
    assert len(uids) == 2
    assert all(len(uid) <= 40 and uid.startswith("pd-xxx") for uid in uids)
    assert dashboard_uid(first) == dashboard_uid(first)


def test_a_long_named_service_dashboard_and_its_info_series_share_the_hashed_uid(
    tmp_path: Path,
) -> None:
    name = "checkout-" + "x" * 54
    assert len(name) == 63
    write_declaration(
        tmp_path / "slos", "long.yaml", MINIMAL_SERVICE.replace("name: checkout", f"name: {name}")
    )
    artifacts = build_artifacts(load_fleet([tmp_path / "slos"], root=tmp_path), jobs=1)
    dashboard = dashboards_of(artifacts)[f"dashboards/payments/{name}.json"]
    assert dashboard["uid"] == dashboard_uid(name)
    assert len(dashboard["uid"]) <= 40
    info = [rule for rule in recording_rules(artifacts) if rule["record"] == "slo:info"]
    assert [rule["labels"]["dashboard_uid"] for rule in info] == [dashboard["uid"]]


# -- conventions every dashboard follows ----------------------------------------------------


def test_every_dashboard_has_a_modern_integer_schema_version(
    example_dashboards: dict[str, Dashboard],
) -> None:
    for path, dashboard in example_dashboards.items():
        version = dashboard["schemaVersion"]
        assert type(version) is int and version >= 36, f"{path}: schemaVersion {version!r}"


def test_no_dashboard_carries_legacy_keys(example_dashboards: dict[str, Dashboard]) -> None:
    found = [
        f"{path}: {where}"
        for path, dashboard in example_dashboards.items()
        for where, key in keys_anywhere(dashboard)
        if key in LEGACY_KEYS
    ]
    assert not found, "\n".join(found)


def test_the_only_nulls_are_the_base_values_of_thresholds(
    example_dashboards: dict[str, Dashboard],
) -> None:
    found = [
        f"{path}: {where}"
        for path, dashboard in example_dashboards.items()
        for where, value in walk_json(dashboard)
        if value is None and not FIRST_STEP_VALUE.search(where)
    ]
    assert not found, "\n".join(found)


def test_every_query_reads_the_prometheus_chosen_in_the_datasource_variable(
    example_dashboards: dict[str, Dashboard],
) -> None:
    for path, dashboard in example_dashboards.items():
        variables = dashboard["templating"]["list"]
        assert [
            (v["name"], v["type"], v["query"])
            for v in variables
            if v["type"] == "datasource" and v["name"] != "baseline_datasource"
        ] == [("datasource", "datasource", "prometheus")], path
        for name, variable in query_variables(dashboard).items():
            assert variable["datasource"] == PROMETHEUS, f"{path}: ${name}"
        for panel in content_panels(dashboard):
            if panel["datasource"] == BASELINE_STORE:  # test_baseline_panels.py checks these
                continue
            assert panel["datasource"] == PROMETHEUS, f"{path}: {panel['title']}"
        for panel, target in targets_of(dashboard):
            assert target["datasource"] == PROMETHEUS, f"{path}: {panel['title']}"


def test_every_panel_has_a_title_and_says_what_it_shows(
    example_dashboards: dict[str, Dashboard],
) -> None:
    for path, dashboard in example_dashboards.items():
        for panel in content_panels(dashboard):
            assert panel.get("title", "").strip(), f"{path}: panel {panel['id']} has no title"
            assert panel.get("description", "").strip(), f"{path}: {panel['title']}"


def test_red_panels_rate_raw_counters_over_the_rate_interval(
    service_dashboards: dict[str, Dashboard],
) -> None:
    red_rows = {
        name: panels_by_row(dashboard)[RED_ROW]
        for name, dashboard in service_dashboards.items()
        if RED_ROW in panels_by_row(dashboard)
    }
    assert sorted(red_rows) == ["checkout", "email-worker", "frontend", "ledger", "search"]
    for name, panels in red_rows.items():
        for panel in panels:
            for target in panel["targets"]:
                expr = target["expr"]
                ranges = re.findall(r"\[([^\]]*)\]", expr)
                assert ranges, f"{name}: {panel['title']}: {expr!r} reads no range"
                assert len(ranges) == expr.count("rate("), f"{name}: {expr!r}"
                assert set(ranges) == {"$__rate_interval"}, f"{name}: {expr!r}"


# -- units, thresholds ----------------------------------------------------------------------


def test_every_panel_shows_its_values_in_the_unit_of_what_it_measures(
    example_fleet: Fleet, service_dashboards: dict[str, Dashboard]
) -> None:
    for service in example_fleet.services:
        expected: dict[str, str | None] = {
            "Request rate": "reqps",
            "Error ratio": "percentunit",
            "Latency percentiles": "s",
            "SLI vs objective": "percentunit",
            "Error budget remaining": "percentunit",
            "Burn rate per alert window": "suffix:x",
            "Firing alerts": None,
            # the baseline row (services with baselines:)
            "Latency per run vs baseline band": "ms",
            "Throughput per run": "reqps",
            "Error rate per run": "percentunit",
            "Latest verdicts": None,
        }
        for slo in service.slos:
            expected[f"{slo.name}: SLI over {slo.window}"] = "percentunit"
            expected[f"{slo.name}: error budget left"] = "percentunit"
            expected[f"{slo.name}: budget gone in"] = "s"
        for panel in content_panels(service_dashboards[service.name]):
            assert panel["title"] in expected, f"{service.name}: unexpected {panel['title']!r}"
            assert unit(panel) == expected[panel["title"]], f"{service.name}: {panel['title']}"


def test_sli_panels_turn_blue_exactly_at_the_objective(
    example_fleet: Fleet, service_dashboards: dict[str, Dashboard]
) -> None:
    for service in example_fleet.services:
        dashboard = service_dashboards[service.name]
        glance = panels_by_row(dashboard)[GLANCE_ROW]
        for slo in service.slos:
            ratio = objective_ratio(slo.objective)
            stat = panel_titled(glance, f"{slo.name}: SLI over {slo.window}")
            over_time = panel_titled(slo_row(dashboard, slo.name), "SLI vs objective")
            for panel in (stat, over_time):
                where = f"{service.name}/{slo.name}: {panel['title']}"
                assert threshold_values(panel) == [None, ratio], where
                assert threshold_colours(panel) == [BAD, OK], where
            assert threshold_style(over_time) != "off"


def test_the_objectives_of_the_example_fleet_become_these_ratios(
    service_dashboards: dict[str, Dashboard],
) -> None:
    stat = panel_titled(
        panels_by_row(service_dashboards["ledger"])[GLANCE_ROW], "write-success: SLI over 28d"
    )
    assert threshold_values(stat) == [None, 0.9995]
    stat = panel_titled(
        panels_by_row(service_dashboards["checkout"])[GLANCE_ROW], "availability: SLI over 30d"
    )
    assert threshold_values(stat) == [None, 0.999]


def test_the_latency_panel_draws_a_line_at_each_latency_slo_threshold(
    service_dashboards: dict[str, Dashboard],
) -> None:
    with_latency = {
        name: panel_titled(panels_by_row(dashboard)[RED_ROW], "Latency percentiles")
        for name, dashboard in service_dashboards.items()
        if any(p["title"] == "Latency percentiles" for p in content_panels(dashboard))
    }
    assert sorted(with_latency) == sorted(LATENCY_THRESHOLDS)
    for name, panel in with_latency.items():
        assert threshold_values(panel) == [None, *LATENCY_THRESHOLDS[name]], name
        assert threshold_style(panel) == "dashed", name


def test_the_burn_rate_panel_has_one_threshold_per_burn_factor_of_the_enabled_alerts(
    example_fleet: Fleet, service_dashboards: dict[str, Dashboard]
) -> None:
    declared = {(s.name, slo.name) for s in example_fleet.services for slo in s.slos}
    assert declared == set(BURN_FACTORS)
    for (service, slo), factors in BURN_FACTORS.items():
        panel = panel_titled(
            slo_row(service_dashboards[service], slo), "Burn rate per alert window"
        )
        expected = sorted((float(Fraction(f)), SEVERITY_COLOUR[s]) for f, s in factors.items())
        where = f"{service}/{slo}"
        assert threshold_values(panel) == [None, *(value for value, _ in expected)], where
        assert threshold_colours(panel) == [OK, *(colour for _, colour in expected)], where
        assert threshold_style(panel) == "dashed", where


def test_a_burn_factor_shared_by_a_page_and_a_ticket_is_one_threshold_coloured_as_the_page(
    tmp_path: Path,
) -> None:
    windows = (
        "      alerting:\n"
        "        windows:\n"
        "          - {severity: page, long: 1h, short: 5m, budget_percent: 2}\n"
        "          - {severity: ticket, long: 2h, short: 10m, budget_percent: 4}\n"
    )
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE + windows)
    artifacts = build_artifacts(load_fleet([tmp_path / "slos"], root=tmp_path), jobs=1)
    dashboard = dashboards_of(artifacts)["dashboards/payments/checkout.json"]
    panel = panel_titled(slo_row(dashboard, "availability"), "Burn rate per alert window")
    # 2% of 30d in 1h and 4% of 30d in 2h are both 14.4x.
    assert threshold_values(panel) == [None, 14.4]
    assert threshold_colours(panel) == [OK, BAD]


# -- grouped SLOs ---------------------------------------------------------------------------


def test_a_grouped_slo_gets_a_variable_per_label_and_its_panels_filter_on_it(
    example_fleet: Fleet, service_dashboards: dict[str, Dashboard]
) -> None:
    grouped = [(s, slo) for s in example_fleet.services for slo in s.slos if slo.grouping]
    assert [(s.name, slo.name, slo.grouping) for s, slo in grouped] == [
        ("search", "availability", ("route",)),
        ("search", "latency", ("route",)),
    ]
    for service, slo in grouped:
        dashboard = service_dashboards[service.name]
        route = query_variables(dashboard)["route"]
        assert (route["multi"], route["includeAll"]) == (True, True)
        assert route["query"] == 'label_values(slo:sli:ratio{service="search"}, route)'
        glance = [
            panel
            for panel in panels_by_row(dashboard)[GLANCE_ROW]
            if panel["title"].startswith(f"{slo.name}: ")
        ]
        assert len(glance) == 3
        for panel in [*glance, *slo_row(dashboard, slo.name)]:
            for target in panel["targets"]:
                assert 'route=~"$route"' in target["expr"], f"{slo.name}: {panel['title']}"


def test_services_without_grouped_slos_have_no_grouping_variable(
    service_dashboards: dict[str, Dashboard],
) -> None:
    for name, dashboard in service_dashboards.items():
        expected = ["route"] if name == "search" else []
        assert sorted(query_variables(dashboard)) == expected, name


# -- links ----------------------------------------------------------------------------------


def test_service_dashboards_link_to_the_runbook_the_overview_and_the_alert_list(
    example_fleet: Fleet, service_dashboards: dict[str, Dashboard]
) -> None:
    for service in example_fleet.services:
        links = [(link["title"], link["url"]) for link in service_dashboards[service.name]["links"]]
        assert links == [
            ("Runbook", service.runbook),
            ("SLO overview", "/d/pd-overview"),
            ("Alerts", "/alerting/list?search=" + quote(f"label:service={service.name}")),
        ]


def test_slo_stats_link_to_the_slos_section_of_the_runbook(
    example_fleet: Fleet, service_dashboards: dict[str, Dashboard]
) -> None:
    for service in example_fleet.services:
        glance = panels_by_row(service_dashboards[service.name])[GLANCE_ROW]
        for slo in service.slos:
            for panel in glance:
                if panel["title"].startswith(f"{slo.name}: "):
                    assert [(link["title"], link["url"]) for link in panel["links"]] == [
                        ("Runbook", f"{service.runbook}#{slo.name}")
                    ]


# -- the overview ---------------------------------------------------------------------------


def test_the_overview_is_filtered_by_team(overview: Dashboard) -> None:
    assert overview["uid"] == "pd-overview"
    assert "perfdash" in overview["tags"]
    team = query_variables(overview)["team"]
    assert (team["multi"], team["includeAll"], team["query"]) == (
        True,
        True,
        "label_values(slo:info, team)",
    )
    for panel, target in targets_of(overview):
        assert 'team=~"$team"' in target["expr"], panel["title"]


def test_the_overview_table_merges_instant_table_queries_and_sorts_worst_budget_first(
    overview: Dashboard,
) -> None:
    (table,) = [panel for panel in content_panels(overview) if panel["type"] == "table"]
    assert len(table["targets"]) > 1
    for target in table["targets"]:
        assert (target.get("instant"), target.get("range")) == (True, False), target["refId"]
    transformations = [t["id"] for t in table["transformations"]]
    assert transformations[0] == "merge"
    columns = set()
    for t in table["transformations"]:
        if t["id"] == "organize":
            columns |= set(t["options"]["renameByName"].values())
    sorts = [t for t in table["transformations"] if t["id"] == "sortBy"]
    if sorts:
        order = [(s["field"], bool(s.get("desc"))) for s in sorts[0]["options"]["sort"]]
    else:
        order = [(s["displayName"], bool(s["desc"])) for s in table["options"]["sortBy"]]
    assert order == [("Budget left %", False)]
    assert "Budget left %" in columns


def test_the_overview_table_asks_prometheus_for_tables_so_merge_can_join_the_columns(
    overview: Dashboard,
) -> None:
    # Without format "table" Grafana returns one time-series frame per series, with no
    # "Value #<refId>" fields: merge joins nothing and the organize/rename and sortBy
    # by "Budget left %" match no column.
    (table,) = [panel for panel in content_panels(overview) if panel["type"] == "table"]
    formats = {target["refId"]: target.get("format") for target in table["targets"]}
    assert formats == dict.fromkeys(formats, "table")


def test_the_overview_bar_gauge_lists_the_worst_budget_first(overview: Dashboard) -> None:
    (bars,) = [panel for panel in content_panels(overview) if panel["type"] == "bargauge"]
    (target,) = bars["targets"]
    assert (target["instant"], target["range"]) == (True, False)
    assert target["expr"].startswith("sort(")  # ascending: the least budget left first
    assert unit(bars) == "percentunit"
    assert threshold_values(bars) == [None, 0.0, 0.25]
    assert threshold_colours(bars) == [BAD, WARN, OK]


# -- determinism ----------------------------------------------------------------------------


def test_building_twice_gives_the_same_bytes(example_fleet: Fleet) -> None:
    first = build_artifacts(example_fleet, jobs=1)
    again = build_artifacts(load_fleet([REPO / "slos"], root=REPO), jobs=1)
    assert first == again


@pytest.fixture
def two_fleets(tmp_path: Path) -> tuple[Path, Path]:
    """Two copies of slos/ under tmp_path (``before/``, ``after/``), for one to be edited."""
    before, after = tmp_path / "before", tmp_path / "after"
    shutil.copytree(REPO / "slos", before / "slos")
    shutil.copytree(REPO / "slos", after / "slos")
    return before, after


def changed_files(before: Path, after: Path) -> set[str]:
    old = build_artifacts(load_fleet([before / "slos"], root=before), jobs=1)
    new = build_artifacts(load_fleet([after / "slos"], root=after), jobs=1)
    return {path for path in old.keys() | new.keys() if old.get(path) != new.get(path)}


def edit_checkout(root: Path, edit: Any) -> None:
    path = root / "slos/payments/checkout.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")


def is_checkouts(path: str) -> bool:
    return path in (
        "alerts/rules/checkout.yaml",
        "dashboards/payments/checkout.json",
    ) or path.startswith("alerts/tests/checkout/")


def test_changing_one_objective_changes_only_that_services_dashboard(
    two_fleets: tuple[Path, Path],
) -> None:
    before, after = two_fleets
    # Round-trip both copies through the same YAML writer: only the edit differs.
    edit_checkout(before, lambda doc: None)
    edit_checkout(after, lambda doc: doc["spec"]["slos"][0].update(objective=99.95))
    changed = changed_files(before, after)
    assert {p for p in changed if p.startswith("dashboards/")} == {
        "dashboards/payments/checkout.json"
    }
    assert all(is_checkouts(p) for p in changed), sorted(changed)


def test_adding_an_slo_changes_only_that_services_dashboard_and_the_overview(
    two_fleets: tuple[Path, Path],
) -> None:
    before, after = two_fleets
    extra = {
        "name": "errors-4xx",
        "objective": 99,
        "sli": {"events": {"total": "http_requests_total", "bad": {"code": "4.."}}},
    }
    edit_checkout(before, lambda doc: None)
    edit_checkout(after, lambda doc: doc["spec"]["slos"].append(extra))
    changed = changed_files(before, after)
    assert {p for p in changed if p.startswith("dashboards/")} == {
        "dashboards/payments/checkout.json",
        "dashboards/overview.json",
    }
    assert all(is_checkouts(p) or p == "dashboards/overview.json" for p in changed)
