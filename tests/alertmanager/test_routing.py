"""Alertmanager routes, inhibition, merge and route tests generated from the declarations."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from perfdash import conventions
from perfdash.alertmanager.merge import merge_into_base
from perfdash.alertmanager.routing import (
    alertmanager_config,
    build_alertmanager_files,
    inhibit_rules,
)
from perfdash.errors import SpecError
from perfdash.model.fleet import Fleet
from perfdash.spec import load_fleet
from tests.conftest import require_binary
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration

TEAM = """\
apiVersion: perfdash/v1
kind: Team
metadata: {name: payments}
spec:
  receivers: {page: payments-pager, ticket: payments-tickets}
  timings:
    page: {group_wait: 10s}
"""


@pytest.fixture
def fleet(tmp_path: Path) -> Fleet:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    write_declaration(tmp_path / "slos", "teams.yaml", TEAM)
    return load_fleet([tmp_path / "slos"], root=tmp_path)


def test_no_team_declared_means_no_routing_output(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    assert build_alertmanager_files(load_fleet([tmp_path / "slos"], root=tmp_path)) == {}


def test_routes_send_each_severity_to_the_teams_receiver_with_its_timings(fleet: Fleet) -> None:
    route = alertmanager_config(fleet)["route"]["routes"][0]
    assert route["matchers"] == ['alertname=~"ErrorBudgetBurn|SLIDataMissing"']
    assert route["group_by"] == ["service", "slo"]
    assert route["routes"] == [
        {
            "receiver": "payments-pager",
            "matchers": ['team="payments"', 'severity="page"', 'priority="P1"'],
            "group_wait": "10s",
            "group_interval": "5m",
            "repeat_interval": "1h",
        },
        {
            "receiver": "payments-pager",
            "matchers": ['team="payments"', 'severity="page"'],
            "group_wait": "10s",
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        {
            "receiver": "payments-tickets",
            "matchers": ['team="payments"', 'severity="ticket"'],
            "group_wait": "5m",
            "group_interval": "30m",
            "repeat_interval": "1d",
        },
    ]


def test_a_page_inhibits_tickets_and_a_faster_pair_the_slower_ones(fleet: Fleet) -> None:
    names = 'alertname=~"ErrorBudgetBurn|SLIDataMissing"'
    rules = inhibit_rules(fleet)
    assert rules[0] == {
        "source_matchers": [names, 'severity="page"'],
        "target_matchers": [names, 'severity="ticket"'],
        "equal": ["service", "slo"],
    }
    pairs = [(r["source_matchers"][2], r["target_matchers"][2]) for r in rules[1:]]
    assert pairs == [('long="1h"', 'long="6h"'), ('long="1d"', 'long="3d"')]


def test_every_team_with_alerts_needs_receivers_once_teams_are_declared(tmp_path: Path) -> None:
    write_declaration(
        tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE.replace("payments", "billing")
    )
    write_declaration(tmp_path / "slos", "teams.yaml", TEAM)
    with pytest.raises(SpecError) as caught:
        load_fleet([tmp_path / "slos"], root=tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "slos/checkout.yaml:5:9: metadata.team: team 'billing' has no Team declaration with page "
        "and ticket receivers (or set spec.routing on the service)"
    ]


def test_a_team_needs_both_receivers(tmp_path: Path) -> None:
    write_declaration(
        tmp_path / "slos", "teams.yaml", TEAM.replace(", ticket: payments-tickets", "")
    )
    with pytest.raises(SpecError) as caught:
        load_fleet([tmp_path / "slos"], root=tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        "slos/teams.yaml:5:14: spec.receivers: missing required field 'ticket'"
    ]


def test_a_service_without_runbook_but_with_alerts_is_an_error_or_a_warning(tmp_path: Path) -> None:
    write_declaration(
        tmp_path / "slos",
        "checkout.yaml",
        MINIMAL_SERVICE.replace("  runbook: https://runbooks.example.com/checkout\n", ""),
    )
    result = run_cli(["validate"], cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: slos/checkout.yaml:3:1: metadata.runbook: service 'checkout' has alerts but no "
        "runbook: add metadata.runbook (or a runbook on each alerting SLO; `perfdash runbooks` "
        "writes a stub to start from)\n"
    )
    warned = run_cli(["validate", "--missing-runbook", "warn"], cwd=tmp_path)
    assert warned.exit_code == 0
    assert warned.stderr.startswith("warning: slos/checkout.yaml:3:1: metadata.runbook:")
    assert run_cli(["build", "--missing-runbook", "warn"], cwd=tmp_path).exit_code == 0
    rules = yaml.safe_load((tmp_path / "alerts/rules/checkout.yaml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
    assert alerts and all("runbook_url" not in a["annotations"] for a in alerts)
    assert all("Runbook:" not in a["annotations"]["description"] for a in alerts)


BASE = """\
global: {resolve_timeout: 5m}
route:
  receiver: ops
  routes:
    - {receiver: db, matchers: ['service="postgres"']}
receivers:
  - name: ops
  - name: db
    webhook_configs: [{url: "http://db.example.com/hook"}]
  - {name: payments-pager}
  - {name: payments-tickets}
inhibit_rules:
  - {source_matchers: ['alertname="NodeDown"'], target_matchers: ['alertname="DiskFull"'], equal: [instance]}
"""


def test_merge_keeps_the_users_config_and_puts_perfdash_routes_first(fleet: Fleet) -> None:
    merged = yaml.safe_load(merge_into_base(fleet, BASE, base_name="am.yml"))
    assert merged["global"] == {"resolve_timeout": "5m"}
    assert merged["receivers"] == yaml.safe_load(BASE)["receivers"]
    routes = merged["route"]["routes"]
    assert routes[0]["matchers"] == ['alertname=~"ErrorBudgetBurn|SLIDataMissing"']
    assert routes[0]["receiver"] == "ops"
    assert routes[1] == {"receiver": "db", "matchers": ['service="postgres"']}
    assert merged["inhibit_rules"][0]["equal"] == ["instance"]
    assert len(merged["inhibit_rules"]) == 1 + len(inhibit_rules(fleet))
    again = yaml.safe_load(
        merge_into_base(fleet, merge_into_base(fleet, BASE, base_name="a"), base_name="a")
    )
    assert again["route"] == merged["route"] and again["inhibit_rules"] == merged["inhibit_rules"]


def test_merge_refuses_a_base_without_the_declared_receivers(fleet: Fleet) -> None:
    with pytest.raises(SpecError) as caught:
        merge_into_base(
            fleet, BASE.replace("  - {name: payments-tickets}\n", ""), base_name="am.yml"
        )
    assert str(caught.value) == (
        "am.yml: receivers: receivers named by the Team declarations are not defined here: "
        "payments-tickets"
    )


def test_a_bad_base_writes_nothing(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    write_declaration(tmp_path / "slos", "teams.yaml", TEAM)
    (tmp_path / "base.yml").write_text("receivers: []\n")
    result = run_cli(["build", "--alertmanager-base", "base.yml"], cwd=tmp_path)
    assert result.exit_code == 1
    assert "an Alertmanager configuration needs a route" in result.stderr
    assert not (tmp_path / "alerts").exists() and not (tmp_path / "alertmanager.yml").exists()


@pytest.mark.integration
def test_generated_and_merged_configs_pass_amtool_and_route_as_declared(
    fleet: Fleet, tmp_path: Path
) -> None:
    amtool = require_binary("amtool")
    files = build_alertmanager_files(fleet)
    routes = tmp_path / "routes.yaml"
    routes.write_text(files[conventions.ROUTES_PATH])
    merged = tmp_path / "merged.yml"
    merged.write_text(merge_into_base(fleet, BASE, base_name="base"))
    cases = yaml.safe_load(files[conventions.ROUTE_TESTS_PATH])["cases"]
    assert [c["receiver"] for c in cases] == ["payments-pager", "payments-tickets"]
    for config in (routes, merged):
        check = subprocess.run(
            [amtool, "check-config", str(config)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout + check.stderr
        for case in cases:
            labels = [f"{k}={v}" for k, v in case["labels"].items()]
            done = subprocess.run(
                [amtool, "config", "routes", "test", f"--config.file={config}", *labels],
                capture_output=True,
                text=True,
            )
            assert done.stdout.strip() == case["receiver"], case
    other = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={merged}", "alertname=NodeDown"],
        capture_output=True,
        text=True,
    )
    assert other.stdout.strip() == "ops"
