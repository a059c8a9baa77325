"""Pyrra's published examples, imported."""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfdash.errors import SpecError
from perfdash.model.fleet import EventsSLI, LatencySLI, Matcher, RawSLI
from perfdash.spec.importers import explain_text
from perfdash.spec.importers.pyrra import pyrra_windows
from tests.spec.importers.conftest import Importer

RUNBOOK = "https://runbooks.example.com/k8s"


def test_ratio_slos_selecting_one_job_become_events_slos_of_that_service(
    imported: Importer,
) -> None:
    fleet, _ = imported("pyrra", "apiserver-request-errors.yaml", team="platform", runbook=RUNBOOK)
    (service,) = fleet.services
    assert service.name == "apiserver"
    assert service.selector == (Matcher("job", "=", "apiserver"),)
    read = service.slo("apiserver-read-response-errors")
    assert read.objective == Decimal("99.99")
    assert str(read.window) == "14d"  # 2w
    assert read.sli == EventsSLI(
        total="apiserver_request_total",
        bad=(Matcher("code", "=~", "5.."),),
        matchers=(Matcher("verb", "=~", "LIST|GET"),),
    )
    assert str(service.slo("apiserver-write-response-errors").window) == "7d"


def test_latency_over_bucket_and_count_becomes_a_latency_sli(imported: Importer) -> None:
    fleet, _ = imported("pyrra", "coredns-request-latency.yaml", team="platform", runbook=RUNBOOK)
    slo = fleet.service("coredns").slo("coredns-request-latency")
    assert slo.sli == LatencySLI(
        histogram="coredns_dns_request_duration_seconds", threshold=Decimal("0.032")
    )


def test_a_90_percent_slo_leaves_out_the_page_that_could_never_fire(imported: Importer) -> None:
    fleet, result = imported("pyrra", "caddy-response-latency.yaml", team="web", runbook=RUNBOOK)
    slo = fleet.service("caddy").slo("caddy-response-latency")
    assert slo.sli == LatencySLI(
        histogram="caddy_http_response_duration_seconds", threshold=Decimal("0.05")
    )
    pairs = [(w.severity, str(w.long), str(w.short)) for w in slo.alerting.windows]
    assert pairs == [("page", "6h", "30m"), ("ticket", "1d", "2h"), ("ticket", "3d", "6h")]
    text = " ".join(explain_text(result.changes).split())
    assert "alerts page 1h/5m left out: at 90% they need an error ratio above 100%" in text


def test_success_buckets_with_other_matchers_than_the_total_stay_what_pyrra_computes(
    imported: Importer,
) -> None:
    # nginx.yaml's latency SLO filters the buckets by status but not the count: not a
    # histogram threshold perfdash can express, so errors = total - success, as Pyrra has it.
    fleet, result = imported("pyrra", "nginx.yaml", team="web", runbook=RUNBOOK)
    assert sorted(s.name for s in fleet.services) == ["nginx-api-errors", "nginx-api-latency"]
    sli = fleet.service("nginx-api-latency").slo("nginx-api-latency").sli
    assert isinstance(sli, RawSLI)
    assert sli.bad.startswith("sum(rate(nginx_ingress_controller_request_duration_seconds_count{")
    assert "\n-\nsum(rate(nginx_ingress_controller_request_duration_seconds_bucket{" in sli.bad
    text = " ".join(explain_text(result.changes).split())
    assert "spec.latency ignored: not a Pyrra field" in text


def test_service_option_puts_every_slo_in_one_service(imported: Importer) -> None:
    fleet, _ = imported("pyrra", "nginx.yaml", team="web", runbook=RUNBOOK, service="nginx")
    (service,) = fleet.services
    assert [slo.name for slo in service.slos] == ["nginx-api-errors", "nginx-api-latency"]
    # The raw latency SLI ignores spec.selector: the events SLI's matchers move there.
    assert service.selector == (
        Matcher("ingress", "=", "lastfm"),
        Matcher("namespace", "=", "lastfm"),
        Matcher("service", "=", "lastfm"),
    )
    assert service.slo("nginx-api-errors").sli == EventsSLI(
        total="nginx_ingress_controller_requests", bad=(Matcher("status", "=~", "5.."),)
    )


def test_bool_gauge_counts_samples_at_zero_and_labels_give_the_team(imported: Importer) -> None:
    fleet, _ = imported("pyrra", "variant-bool-gauge.yaml", runbook=RUNBOOK)
    service = fleet.service("prometheus-k8s")
    assert service.team == "observability"  # pyrra.dev/team
    slo = service.slo("prometheus-availability")
    assert slo.sli == RawSLI(
        bad='count_over_time(up{job="prometheus-k8s"}[{{ window }}])\n-\n'
        'sum_over_time(up{job="prometheus-k8s"}[{{ window }}])',
        total='count_over_time(up{job="prometheus-k8s"}[{{ window }}])',
    )
    assert slo.alerting.name == "PrometheusAvailabilityErrorBudgetBurn"
    # Pyrra's severities: critical for the fast alerts, warning for the slow ones.
    assert (slo.alerting.severity_page, slo.alerting.severity_ticket) == ("critical", "warning")
    assert slo.alerting.missing_data is False  # absent: false


def test_dynamic_burn_rates_are_refused_at_their_field(imported: Importer) -> None:
    with pytest.raises(SpecError) as caught:
        imported("pyrra", "dynamic-burn-rate-bool-gauge.yaml", team="x", runbook=RUNBOOK)
    (problem,) = caught.value.problems
    assert (problem.line, problem.column, problem.field) == (18, 19, "spec.alerting.burnRateType")
    assert problem.message.startswith("'dynamic' burn rates cannot map")


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # Pyrra's table for 28 days, and scaled (rounded to the minute) for 30 days.
        (
            "28d",
            [
                ("critical", 120, 3600, 300, 14),
                ("critical", 900, 21600, 1800, 7),
                ("warning", 3600, 86400, 7200, 2),
                ("warning", 10800, 345600, 21600, 1),
            ],
        ),
        (
            "30d",
            [
                ("critical", 120, 3840, 300, 14),
                ("critical", 960, 23160, 1920, 7),
                ("warning", 3840, 92580, 7740, 2),
                ("warning", 11580, 370260, 23160, 1),
            ],
        ),
    ],
)
def test_pyrra_windows_are_its_28_day_table_scaled(
    window: str, expected: list[tuple[str, int, int, int, int]]
) -> None:
    days = int(window.removesuffix("d"))
    assert pyrra_windows(days * 86400) == expected


def test_explain_compares_pyrra_s_alerts_with_perfdash_s(imported: Importer) -> None:
    _, result = imported("pyrra", "variant-bool-gauge.yaml", runbook=RUNBOOK)
    text = " ".join(explain_text(result.changes).split())
    assert "Pyrra fires at 14x over 1h/5m (for 2m), 7x over 6h/30m (for 15m)" in text
    assert "perfdash at 13.44x over 1h/5m, 5.6x over 6h/30m, 2.8x over 1d/2h" in text
