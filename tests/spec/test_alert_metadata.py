"""Alert metadata users expect: severity values per tier, any annotation, a runbook per
SLO, and routing that needs a Team."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from perfdash.build import build_artifacts
from perfdash.errors import SpecError
from perfdash.model.fleet import Fleet
from perfdash.spec import load_fleet
from tests.helpers import run_cli, write_declaration

TEAM = """\
apiVersion: perfdash/v1
kind: Team
metadata: {name: payments}
spec:
  receivers: {page: payments-pager, ticket: payments-tickets}
"""

SERVICE = """\
apiVersion: perfdash/v1
kind: Service
metadata:
  name: checkout
  team: payments
  tier: 1
  runbook: https://runbooks.example.com/checkout
spec:
  selector: {job: checkout}
  alerting:
    severity: {page: critical, ticket: warning}
    annotations:
      dashboard: "https://grafana.example.com/d/pd-[[ service ]]?var-slo=[[ slo ]]"
  slos:
    - name: availability
      objective: 99.9
      runbook: https://wiki.example.com/checkout/availability
      sli:
        events: {total: http_requests_total, bad: {code: "5.."}}
    - name: latency
      objective: 99
      sli:
        latency: {histogram: http_request_duration_seconds, threshold: 0.3}
      alerting:
        annotations: {team_channel: "#payments-[[ severity or 'data' ]]"}
"""


def load(tmp_path: Path, *texts: str) -> Fleet:
    for index, text in enumerate(texts):
        write_declaration(tmp_path / "slos", f"{index}.yaml", text)
    return load_fleet([tmp_path / "slos"], root=tmp_path)


def alerts(files: dict[str, str], path: str = "alerts/rules/checkout.yaml") -> list[dict[str, Any]]:
    groups = yaml.safe_load(files[path])["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def test_severity_values_per_tier_reach_alerts_routes_and_inhibitions(tmp_path: Path) -> None:
    files = build_artifacts(load(tmp_path, TEAM, SERVICE))
    by_kind = {
        (rule["alert"], rule["labels"]["slo"], rule["labels"].get("long")): rule["labels"][
            "severity"
        ]
        for rule in alerts(files)
    }
    assert by_kind[("ErrorBudgetBurn", "availability", "1h")] == "critical"
    assert by_kind[("ErrorBudgetBurn", "availability", "6h")] == "critical"
    assert by_kind[("ErrorBudgetBurn", "availability", "1d")] == "warning"
    assert by_kind[("SLIDataMissing", "availability", None)] == "warning"
    routes = yaml.safe_load(files["alerts/alertmanager/routes.yaml"])
    matchers = [r["matchers"] for r in routes["route"]["routes"][0]["routes"]]
    assert matchers == [
        ['team="payments"', 'severity="critical"', 'priority="P1"'],
        ['team="payments"', 'severity="critical"'],
        ['team="payments"', 'severity="warning"'],
    ]
    first = routes["inhibit_rules"][0]
    assert (first["source_matchers"][1], first["target_matchers"][1]) == (
        'severity="critical"',
        'severity="warning"',
    )
    cases = yaml.safe_load(files["alerts/alertmanager/route-tests.yaml"])["cases"]
    assert [(c["labels"]["severity"], c["receiver"]) for c in cases] == [
        ("critical", "payments-pager"),
        ("warning", "payments-tickets"),
    ]


def test_any_annotation_is_rendered_and_the_runbook_is_per_slo(tmp_path: Path) -> None:
    files = build_artifacts(load(tmp_path, TEAM, SERVICE))
    rules = alerts(files)
    page = next(
        r for r in rules if r["labels"]["slo"] == "availability" and r["labels"].get("long") == "1h"
    )
    assert page["annotations"]["dashboard"] == (
        "https://grafana.example.com/d/pd-checkout?var-slo=availability"
    )
    assert page["annotations"]["runbook_url"] == "https://wiki.example.com/checkout/availability"
    latency = [r for r in rules if r["labels"]["slo"] == "latency"]
    assert {r["annotations"]["runbook_url"] for r in latency} == {
        "https://runbooks.example.com/checkout#latency"
    }
    channels = {r["alert"]: r["annotations"]["team_channel"] for r in latency}
    assert channels == {"ErrorBudgetBurn": "#payments-ticket", "SLIDataMissing": "#payments-data"}


def test_a_runbook_on_every_alerting_slo_stands_in_for_the_service_s(tmp_path: Path) -> None:
    text = SERVICE.replace("  runbook: https://runbooks.example.com/checkout\n", "").replace(
        "      objective: 99\n", "      objective: 99\n      runbook: https://wiki.example.com/l\n"
    )
    fleet = load(tmp_path, TEAM, text)
    assert fleet.service("checkout").runbook is None
    with pytest.raises(SpecError) as caught:
        load(tmp_path, TEAM, text.replace("      runbook: https://wiki.example.com/l\n", ""))
    assert "has alerts but no runbook" in str(caught.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            (
                "severity: {page: critical, ticket: warning}",
                "severity: {page: urgent, ticket: urgent}",
            ),
            "slos/1.yaml:11:15: spec.alerting.severity: page and ticket alerts both have severity "
            "'urgent': Alertmanager could not tell them apart (routes, inhibition)",
        ),
        (
            ("      dashboard: ", "      runbook_url: "),
            "slos/1.yaml:13:7: spec.alerting.annotations.runbook_url: runbook_url is generated: set "
            "metadata.runbook (alerts link <runbook>#<slo>) or the SLO's runbook",
        ),
        (
            ("var-slo=[[ slo ]]", "var-slo=[[ nope ]]"),
            "slos/1.yaml:13:18: spec.alerting.annotations.dashboard: annotation template: 'nope' "
            "is undefined",
        ),
    ],
)
def test_metadata_mistakes_are_located(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    with pytest.raises(SpecError) as caught:
        load(tmp_path, TEAM, SERVICE.replace(*change))
    assert [str(p) for p in caught.value.problems] == [expected]


def test_one_severity_value_means_one_tier_across_the_fleet(tmp_path: Path) -> None:
    other = SERVICE.replace("name: checkout", "name: ledger").replace(
        "severity: {page: critical, ticket: warning}", "severity: {page: warning, ticket: info}"
    )
    with pytest.raises(SpecError) as caught:
        load(tmp_path, TEAM, SERVICE, other)
    assert [p.message for p in caught.value.problems] == [
        "severity 'warning' marks page alerts here but ticket alerts of service 'checkout': "
        "one value, one tier, fleet-wide"
    ]


def test_routing_without_any_team_says_what_to_add(tmp_path: Path) -> None:
    write_declaration(
        tmp_path / "slos",
        "checkout.yaml",
        SERVICE.replace(
            "  selector: {job: checkout}\n",
            "  selector: {job: checkout}\n  routing: {page: a, ticket: b}\n",
        ),
    )
    result = run_cli(["validate"], cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: slos/checkout.yaml:10:3: spec.routing: perfdash writes Alertmanager routes only "
        "for a fleet that declares Teams: add a `kind: Team` declaration (metadata.name: "
        "payments, spec.receivers: {page: ..., ticket: ...}), e.g. in slos/teams.yaml\n"
    )


@pytest.mark.integration
def test_the_generated_rule_and_route_tests_pass_with_custom_severities(tmp_path: Path) -> None:
    from tests.conftest import require_binary

    require_binary("promtool")
    require_binary("amtool")
    write_declaration(tmp_path / "slos", "teams.yaml", TEAM)
    write_declaration(tmp_path / "slos", "checkout.yaml", SERVICE)
    assert run_cli(["build"], cwd=tmp_path).exit_code == 0
    tested = run_cli(["test"], cwd=tmp_path)
    assert tested.exit_code == 0, tested.output
