"""Sloth's published examples, imported."""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfdash.errors import SpecError
from perfdash.model.fleet import EventsSLI, LatencySLI, Matcher, RawSLI
from perfdash.spec.importers import explain_text
from tests.spec.importers.conftest import Importer

RUNBOOK = "https://runbooks.example.com/wifi"


def test_getting_started_becomes_an_events_slo_with_its_alert_name_and_labels(
    imported: Importer,
) -> None:
    fleet, result = imported("sloth", "getting-started.yml", runbook=RUNBOOK)
    service = fleet.service("myservice")
    assert (service.team, service.tier) == ("myteam", 2)  # labels owner and tier
    assert service.selector == (Matcher("job", "=", "myservice"),)
    assert dict(service.labels) == {"owner": "myteam", "repo": "myorg/myservice", "tier": "2"}
    slo = service.slo("requests-availability")
    assert slo.objective == Decimal("99.9")
    assert str(slo.window) == "30d"
    assert slo.sli == EventsSLI(
        total="http_request_duration_seconds_count", bad=(Matcher("code", "=~", "(5..|429)"),)
    )
    assert slo.alerting.name == "MyServiceHighErrorRate"
    assert dict(slo.alerting.labels) == {"category": "availability"}
    assert slo.alerting.annotations.summary == "High error rate on 'myservice' requests responses"
    assert str(slo.alerting.for_) == "5m"  # the page alert's, the shorter
    explained = " ".join(explain_text(result.changes).split())
    assert "for: 5m (the page alert's) applies to every alert of the SLO" in explained
    assert "routing_key='myteam' dropped" in explained
    assert (slo.alerting.severity_page, slo.alerting.severity_ticket) == ("pageteam", "slack")
    assert "become four rules, one per window pair" in explained


def test_the_latency_query_count_minus_bucket_becomes_a_latency_sli(imported: Importer) -> None:
    fleet, result = imported("sloth", "kubernetes-apiserver.yml", team="platform")
    service = fleet.service("k8s-apiserver")
    latency = service.slo("requests-latency")
    assert latency.sli == LatencySLI(
        histogram="apiserver_request_duration_seconds",
        threshold=Decimal("0.4"),
        matchers=(Matcher("verb", "!=", "WATCH"),),
    )
    assert service.slo("requests-availability").sli == EventsSLI(
        total="apiserver_request_total", bad=(Matcher("code", "=~", "(5..|429)"),)
    )
    # Each SLO keeps its runbook annotation as its own runbook, anchor and all.
    assert service.runbook is None
    assert latency.runbook == (
        "https://github.com/kubernetes-monitoring/kubernetes-mixin/tree/master/runbook.md"
        "#alert-name-kubeapilatencyhigh"
    )
    # Sloth's severities per tier stay what they were.
    assert (latency.alerting.severity_page, latency.alerting.severity_ticket) == (
        "critical",
        "ticket",  # the example's ticket alert carries `disable: true` as a label instead
    )
    availability = service.slo("requests-availability")
    assert (availability.alerting.severity_page, availability.alerting.severity_ticket) == (
        "critical",
        "warning",
    )
    explained = " ".join(explain_text(result.changes).split())
    # The example's `disable: true` sits under labels (a label, as Go decodes it): the
    # ticket alert stays, the per-tier label is reported, not applied.
    assert latency.alerting.ticket is True
    assert "the ticket alert's label disable='true' dropped" in explained


def test_queries_that_are_not_a_counter_pair_stay_promql_with_perfdash_s_window(
    imported: Importer,
) -> None:
    fleet, _ = imported("sloth", "home-wifi.yml", team="home", runbook=RUNBOOK)
    sli = fleet.service("home-wifi").slo("good-wifi-client-satisfaction").sli
    assert sli == RawSLI(
        bad="sum_over_time((count(unifipoller_client_satisfaction_ratio < 0.75))"
        "[{{ window }}:]) OR on() vector(0)",
        total="sum_over_time((count(unifipoller_client_satisfaction_ratio))[{{ window }}:])",
    )


def test_a_raw_error_ratio_becomes_bad_over_a_total_of_one(imported: Importer) -> None:
    fleet, _ = imported("sloth", "raw-home-wifi.yml", team="home", runbook=RUNBOOK)
    sli = fleet.service("home-wifi").slo("wifi-client-satisfaction").sli
    assert isinstance(sli, RawSLI)
    assert sli.bad.startswith("1 - (\n  sum(sum_over_time(unifipoller_client_satisfaction_ratio")
    assert sli.total.startswith("0 * (\n  1 - (") and sli.total.endswith("\n) + 1")


def test_disabled_alerts_are_disabled_tiers_and_need_no_runbook(imported: Importer) -> None:
    fleet, _ = imported("sloth", "no-alerts.yml")
    slo = fleet.service("myapp").slo("http-availability")
    assert (slo.alerting.page, slo.alerting.ticket) == (False, False)


def test_the_crd_spells_its_fields_in_camel_case(imported: Importer) -> None:
    fleet, _ = imported("sloth", "k8s-home-wifi.yml", team="home", runbook=RUNBOOK)
    service = fleet.service("home-wifi")
    assert [slo.name for slo in service.slos] == [
        "good-wifi-client-satisfaction",
        "risk-wifi-client-satisfaction",
    ]
    assert service.slos[0].description == "Will warn us that we don't have a good wifi at home."


def test_without_a_team_the_error_points_at_the_service_and_names_the_option(
    imported: Importer,
) -> None:
    with pytest.raises(SpecError) as caught:
        imported("sloth", "home-wifi.yml", runbook=RUNBOOK)
    assert [str(p) for p in caught.value.problems] == [
        f"{caught.value.problems[0].file}:2:10: service: service 'home-wifi' has no team "
        "(Sloth names none here): pass --team NAME (the Grafana folder and the alerts' team label)"
    ]
    assert caught.value.problems[0].file.endswith("fixtures/sloth/home-wifi.yml")


def test_without_a_runbook_the_error_points_at_the_service(imported: Importer) -> None:
    with pytest.raises(SpecError) as caught:
        imported("sloth", "home-wifi.yml", team="home")
    (problem,) = caught.value.problems
    assert (problem.line, problem.column, problem.field) == (2, 10, "service")
    assert "pass perfdash import --runbook URL" in problem.message
