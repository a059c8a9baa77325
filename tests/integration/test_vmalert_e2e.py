"""Rules on VictoriaMetrics: ``perfdash apply`` loads the rules folder into vmalert, and an
outage pages the owning team through vmalert, Alertmanager and its receiver.

The same service, declarations and bounds as the Prometheus end-to-end test
(tests/integration/test_alerting_e2e.py, testing/alert_fleet.py): pay's availability SLO
at 99.99% over 30 days, 6h10m of healthy history imported into VictoriaMetrics before it
scrapes every second. vmalert adds to the bound what its rule chain costs: an alert reads
the error ratios recorded in the same group only once vmalert has flushed them to
VictoriaMetrics (flush interval) and VictoriaMetrics shows them (search latency offset,
which also delays the scraped samples the ratios read), one evaluation later.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from perfdash import conventions
from perfdash.alertmanager.routing import receiver_names
from perfdash.model.fleet import Fleet
from perfdash.spec import load_fleet
from testing.alert_fleet import Bound, fast_page_labels, page_bound, resolution_bound, run_outage
from testing.victoria import (
    EVALUATION_INTERVAL,
    FLUSH_INTERVAL,
    LATENCY_OFFSET,
    VMStack,
    environment_binaries,
    vm_stack,
    write_declarations,
)
from tests.conftest import IN_CI
from tests.helpers import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    root = tmp_path_factory.mktemp("vm-fleet")
    write_declarations(root)
    return load_fleet([root / "slos"], root=root)


@pytest.fixture(scope="module")
def stack(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VMStack]:
    binaries = environment_binaries()
    if binaries is None:
        message = "victoria-metrics and vmalert are not installed (Debian: apt-get install victoria-metrics)"
        if IN_CI:
            pytest.fail(f"{message}; CI must provide them", pytrace=False)
        pytest.skip(message)
    with vm_stack(tmp_path_factory.mktemp("vm"), binaries, receivers=receiver_names(fleet)) as live:
        yield live


def vmalert_terms(bound: Bound) -> Bound:
    return Bound(
        (
            *bound.terms,
            ("vmalert flush", FLUSH_INTERVAL),
            ("VictoriaMetrics latency offset (recorded ratios)", LATENCY_OFFSET),
            ("VictoriaMetrics latency offset (scraped samples)", LATENCY_OFFSET),
            ("next evaluation", EVALUATION_INTERVAL),
        )
    )


def test_apply_loads_the_rules_into_vmalert_and_an_outage_pages(
    stack: VMStack, fleet: Fleet
) -> None:
    applied = run_cli(
        ["apply", "slos", "--rules-dir", str(stack.rules_dir), "--vmalert-url", stack.vmalert.url],
        cwd=stack.root,
    )
    assert applied.exit_code == 0, applied.output
    assert f"  reload   vmalert {stack.vmalert.url}\n" in applied.stdout
    groups = {group["name"]: group for group in stack.rule_groups()}
    assert sorted(groups) == sorted(
        name(service, slo)
        for slo in ("availability", "latency")
        for service in ("pay",)
        for name in (
            conventions.group_name,
            conventions.long_group_name,
            conventions.budget_group_name,
        )
    )
    assert {Path(g["file"]).parent for g in groups.values()} == {stack.rules_dir}
    again = run_cli(
        ["apply", "slos", "--rules-dir", str(stack.rules_dir), "--vmalert-url", stack.vmalert.url],
        cwd=stack.root,
    )
    assert again.exit_code == 0 and "reload" not in again.stdout, again.output

    # The chain works on VictoriaMetrics: ratios recorded, read back by the alerts, no errors.
    stack.wait(
        "the 1h error ratio of pay/availability in VictoriaMetrics",
        lambda: (
            stack.query('slo:sli_error:ratio_rate1h{service="pay", slo="availability"}') or None
        ),
        deadline=time.time() + 30,
    )
    broken = [
        (g["name"], r["name"], r["lastError"])
        for g in stack.rule_groups()
        for r in g["rules"]
        if r.get("lastError")
    ]
    assert broken == [], stack.diagnostics()

    service = fleet.service("pay")
    slo = service.slo("availability")
    team = fleet.team(service.team)
    run = run_outage(stack, fleet, service="pay", slo="availability")  # type: ignore[arg-type]

    bound = vmalert_terms(page_bound(fleet, service, slo))
    assert run.page_latency <= bound.seconds, (
        f"page after {run.page_latency:.2f}s, bound {bound}\n{stack.diagnostics()}"
    )
    assert (run.page.receiver, run.page.path) == (team.receivers.page, team.receivers.page)
    (alert,) = [
        a for a in run.page.matching(**fast_page_labels(service, slo)) if a.status == "firing"
    ]
    assert alert.labels["alertname"] == "ErrorBudgetBurn"
    assert alert.labels["priority"] == "P1"
    assert alert.annotations["runbook_url"] == "https://runbooks.example.com/pay#availability"

    reset = vmalert_terms(resolution_bound(fleet, service, slo))
    print(  # shown with -s: the figures docs/scaling-rules.md quotes
        f"vmalert: paged after {run.page_latency:.2f}s (bound {bound}); resolved after "
        f"{run.resolution_latency:.2f}s (bound {reset})"
    )
    assert run.resolution_latency <= reset.seconds, (
        f"resolved after {run.resolution_latency:.2f}s, bound {reset}\n{stack.diagnostics()}"
    )
