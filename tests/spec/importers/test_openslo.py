"""OpenSLO v1: the specification's examples, imported or refused at their fields."""

from __future__ import annotations

from decimal import Decimal

import pytest

from perfdash.errors import SpecError
from perfdash.model.fleet import EventsSLI, LatencySLI, Matcher, RawSLI
from tests.spec.importers.conftest import Importer

RUNBOOK = "https://runbooks.example.com/foo"


def test_the_readme_ratio_metric_becomes_total_minus_good(imported: Importer) -> None:
    fleet, _ = imported("openslo", "ratio-prometheus.yaml", runbook=RUNBOOK)
    service = fleet.service("foo")
    assert (service.team, service.tier, service.description) == ("identity", 1, "The foo service")
    slo = service.slo("foo-slo")
    assert (slo.objective, str(slo.window)) == (Decimal("98.00"), "28d")
    assert slo.sli == RawSLI(
        bad='sum(rate(localhost_server_requests{code="total", host="*", '
        'instance="127.0.0.1:9090"}[{{ window }}]))\n-\n'
        'sum(rate(localhost_server_requests{code=~"2xx|3xx", host="*", '
        'instance="127.0.0.1:9090"}[{{ window }}]))',
        total='rate(localhost_server_requests{code="total", host="*", '
        'instance="127.0.0.1:9090"}[{{ window }}])',
    )


def test_a_referenced_sli_and_a_histogram_threshold_map(imported: Importer) -> None:
    fleet, result = imported("openslo", "variant-sli-ref.yaml", runbook=RUNBOOK)
    service = fleet.service("checkout")
    assert service.team == "payments"
    assert [s.name for s in service.slos] == [
        "checkout-availability-internal",
        "checkout-availability-sla",
        "checkout-latency",
    ]
    internal = service.slo("checkout-availability-internal")
    assert internal.objective == Decimal("99.9")
    assert internal.sli == EventsSLI(
        total="http_requests_total", bad=(Matcher("code", "=~", "5.."),)
    )
    assert service.slo("checkout-availability-sla").objective == Decimal("99.5")
    assert service.selector == (Matcher("job", "=", "checkout"),)
    assert service.slo("checkout-latency").sli == LatencySLI(
        histogram="http_request_duration_seconds", threshold=Decimal("0.3")
    )
    (note,) = [c.text for c in result.changes if c.slo == "checkout-latency"]
    assert note.startswith("thresholdMetric read as a latency SLI")


def test_timeslices_calendar_windows_and_other_sources_are_refused_each_at_its_field(
    imported: Importer,
) -> None:
    with pytest.raises(SpecError) as caught:
        imported("openslo", "timeslices-slo.yaml", team="web", runbook=RUNBOOK)
    found = [(p.line, p.column, p.field) for p in caught.value.problems]
    assert found == [
        (18, 19, "spec.indicator.spec.ratioMetric.good.metricSource.type"),
        (23, 19, "spec.indicator.spec.ratioMetric.total.metricSource.type"),
        (30, 9, "spec.timeWindow[0].calendar"),
        (32, 20, "spec.budgetingMethod"),
    ]
    messages = [p.message for p in caught.value.problems]
    assert messages[2].startswith("calendar-aligned windows cannot map")
    assert messages[3] == (
        "'Timeslices' cannot map: perfdash counts events (Occurrences), not time slices"
    )


def test_a_threshold_metric_from_another_source_is_refused(imported: Importer) -> None:
    with pytest.raises(SpecError) as caught:
        imported("openslo", "occurrences-slo.yaml", team="web", runbook=RUNBOOK)
    (problem,) = caught.value.problems
    assert problem.field == "spec.indicator.spec.thresholdMetric.metricSource.type"
    assert "perfdash reads Prometheus only" in problem.message
