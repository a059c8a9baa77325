"""Alerting end to end: declarations -> ``perfdash build`` -> a real Prometheus and a real
Alertmanager -> the owning team's receiver, on live traffic.

The stack (testing/stack.py, shared with benchmarks/alert_latency.py) runs three
synthetic services instrumented with prometheus_client, each with 6h10m of history at its
starting traffic backfilled (full 1h and 6h windows, as in production), a Prometheus
scraping and evaluating every second with the generated rules, and an Alertmanager with
the generated routes merged into a base configuration whose receivers are webhooks of
this test. testing/alert_fleet.py holds the declarations (two
teams; services pay, search and catalog, one scenario each) and the bounds.

Bounds are computed from the declarations, not guessed:

    page:       detection of the fastest page (perfdash's window_facts: threshold x long
                window, the Workbook figure: 0.144% x 1h = 5.184s for 99.99% over 30d)
                + for: + traffic tick (0.1s) + scrape interval (1s) + evaluation
                interval (1s) + the page route's group_wait (1s) + 2s margin for sending
                and processing;
    resolution: the page pair's short window (its reset time: 1m for pay's pages)
                + tick + scrape + evaluation + the page route's group_interval (2s)
                + 2s margin.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest

from perfdash import conventions
from perfdash.model.fleet import SLO, Fleet, Service
from perfdash.model.windows import window_facts
from testing.alert_fleet import (
    MARGIN_SECONDS,
    REGRESSED_LATENCY,
    e2e_stack,
    fast_page_labels,
    page_bound,
    resolution_bound,
    run_outage,
)
from testing.service import set_traffic
from testing.stack import EVALUATION_INTERVAL, AlertStack, Binaries
from testing.webhook import Notification, ReceivedAlert, unix_time
from tests.conftest import require_binary

pytestmark = pytest.mark.integration

BURN_ALERT = "ErrorBudgetBurn"


@dataclass(frozen=True)
class Live:
    stack: AlertStack
    fleet: Fleet


@pytest.fixture(scope="module")
def alertmanager_bin() -> str:
    """Debian installs Alertmanager as prometheus-alertmanager; upstream as alertmanager."""
    return shutil.which("alertmanager") or require_binary("prometheus-alertmanager")


@pytest.fixture(scope="module")
def live(
    prometheus_bin: str,
    promtool_bin: str,
    alertmanager_bin: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Live]:
    """The running stack, ready: every rule group evaluated on scraped data. When a test of
    this module failed, the logs and notifications are printed as it stops."""
    binaries = Binaries(prometheus_bin, alertmanager_bin, promtool_bin)
    failed_before = request.session.testsfailed
    with e2e_stack(tmp_path_factory.mktemp("alerting"), binaries) as (stack, fleet):
        yield Live(stack, fleet)
        if request.session.testsfailed > failed_before:
            reporter = request.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_sep("-", "alerting stack: notifications and logs")
                reporter.write_line(stack.diagnostics())


def for_slo(notifications: list[Notification], service: str, slo: str) -> list[Notification]:
    return [n for n in notifications if n.matching(service=service, slo=slo)]


def firing(notification: Notification, **labels: str) -> list[ReceivedAlert]:
    return [a for a in notification.matching(**labels) if a.status == "firing"]


def expected_labels(service: Service, slo: SLO, severity: str) -> dict[str, str]:
    return {
        "alertname": BURN_ALERT,
        "service": service.name,
        "slo": slo.name,
        "team": service.team,
        "severity": severity,
        "priority": service.priority,
    }


def assert_delivered_as_declared(
    stack: AlertStack, notification: Notification, alert: ReceivedAlert, receiver: str
) -> None:
    """Routed to ``receiver`` (payload and URL), with the runbook of the alert's SLO."""
    assert (notification.receiver, notification.path) == (receiver, receiver), stack.diagnostics()
    service = alert.labels["service"]
    slo = alert.labels["slo"]
    assert alert.annotations["runbook_url"] == f"https://runbooks.example.com/{service}#{slo}"
    assert alert.annotations["summary"].startswith(f"{service}/{slo} is burning")


def _unix(text: str) -> float:
    found = unix_time(text)
    assert found is not None, text
    return found


def alertmanager_states(stack: AlertStack, service: str, slo: str) -> dict[str, dict[str, Any]]:
    """Alertmanager's burn alerts of one SLO by window pair (``1h/1m``): labels and status."""
    return {
        f"{a['labels']['long']}/{a['labels']['short']}": a
        for a in stack.alertmanager_alerts(alertname=BURN_ALERT, service=service, slo=slo)
    }


def test_an_outage_pages_the_team_once_within_the_bound_then_resolves(live: Live) -> None:
    stack, fleet = live.stack, live.fleet
    service = fleet.service("pay")
    slo = service.slo("availability")
    team = fleet.team(service.team)
    pairs = [f"{f.window.long}/{f.window.short}" for f in window_facts(slo)]
    fast = fast_page_labels(service, slo)
    fast_pair = f"{fast['long']}/{fast['short']}"
    (slow_pair,) = [
        f"{f.window.long}/{f.window.short}"
        for f in window_facts(slo)
        if f.window.severity == "page" and str(f.window.long) != fast["long"]
    ]
    bound = page_bound(fleet, service, slo)
    # The premise of inhibition: a page reaches Alertmanager (its bound without the page
    # group_wait) before the ticket group, started by tickets firing as early as the
    # outage itself, flushes.
    to_alertmanager = bound.seconds - team.page_timing.group_wait.seconds
    assert team.ticket_timing.group_wait.seconds > to_alertmanager
    held: dict[str, dict[str, Any]] = {}

    def while_firing(page: Notification) -> None:
        """Keep the errors on until every pair fires in Alertmanager and the ticket group's
        group_wait has run out: the page must have kept the tickets from being sent."""

        def every_pair() -> dict[str, dict[str, Any]] | None:
            states = alertmanager_states(stack, "pay", slo.name)
            return states if sorted(states) == sorted(pairs) else None

        held.update(
            stack.wait(
                f"Alertmanager to hold every burn alert of pay/availability ({pairs})",
                every_pair,
                deadline=time.time() + 30,
            )
        )
        tickets = [a for a in held.values() if a["labels"]["severity"] == "ticket"]
        first_ticket = min(_unix(a["startsAt"]) for a in tickets)
        flushed = first_ticket + team.ticket_timing.group_wait.seconds + MARGIN_SECONDS
        stack.wait(
            "the ticket group's first flush",
            lambda: True if time.time() >= flushed else None,
            deadline=flushed + 1,
        )
        held.update(alertmanager_states(stack, "pay", slo.name))

    run = run_outage(stack, fleet, service="pay", slo=slo.name, while_firing=while_firing)

    # The page: the fast pair alone, to the team's pager, inside the computed bound.
    assert run.page_latency <= bound.seconds, (
        f"page after {run.page_latency:.2f}s, bound {bound}\n{stack.diagnostics()}"
    )
    (page_alert,) = firing(run.page, service="pay", slo=slo.name)
    assert page_alert.labels == {**expected_labels(service, slo, "page"), **fast}
    assert_delivered_as_declared(stack, run.page, page_alert, team.receivers.page)

    # While it fired, Alertmanager inhibited the slower page and both tickets...
    fast_fingerprint = held[fast_pair]["fingerprint"]
    assert held[fast_pair]["status"]["state"] == "active"
    for pair, alert in held.items():
        if pair != fast_pair:
            assert alert["status"]["state"] == "suppressed", (pair, alert)
            assert alert["status"]["inhibitedBy"], (pair, alert)
    assert held[slow_pair]["status"]["inhibitedBy"] == [fast_fingerprint]

    # ...so the pager heard of the fast pair only, and the ticket queue of nothing.
    during = [
        n
        for n in for_slo(stack.webhook.notifications, "pay", slo.name)
        if n.arrived_at < run.resolution.arrived_at
    ]
    assert [n.path for n in during] == [team.receivers.page], stack.diagnostics()

    # The fix: the page resolves, and says so, inside its bound.
    reset_bound = resolution_bound(fleet, service, slo)
    assert run.resolution_latency <= reset_bound.seconds, (
        f"resolved after {run.resolution_latency:.2f}s, bound {reset_bound}\n{stack.diagnostics()}"
    )
    assert run.resolution.path == team.receivers.page
    (resolved,) = run.resolution.matching(**fast)
    assert resolved.status == "resolved"
    assert resolved.ends_at is not None
    assert resolved.ends_at >= run.restored_at

    # Inhibited is not lost: the tickets still burn (their short windows are 2h and 6h), so
    # once the page has ended the faster ticket reaches the ticket queue, never before.
    ticket = stack.wait_for_notification(
        "the pay/availability ticket once the page resolved",
        lambda n: bool(firing(n, service="pay", slo=slo.name, severity="ticket")),
        deadline=resolved.ends_at + team.ticket_timing.group_interval.seconds + 2 * MARGIN_SECONDS,
    )
    assert ticket.arrived_at >= resolved.ends_at
    (ticket_alert,) = firing(ticket, service="pay", slo=slo.name)
    assert ticket_alert.labels == {
        **expected_labels(service, slo, "ticket"),
        "long": "1d",
        "short": "2h",
    }
    assert_delivered_as_declared(stack, ticket, ticket_alert, team.receivers.ticket)

    # The outage concerned pay's availability only, and pay's team only.
    others = [
        n.summary()
        for n in stack.webhook.notifications
        if n.matching(service="pay") and not n.matching(service="pay", slo=slo.name)
    ]
    assert others == []
    assert {n.path for n in stack.webhook.notifications if n.matching(service="pay")} == {
        team.receivers.page,
        team.receivers.ticket,
    }


def test_a_slow_burn_opens_a_ticket_and_pages_nobody(live: Live) -> None:
    stack, fleet = live.stack, live.fleet
    service = fleet.service("search")
    slo = service.slo("availability")
    team = fleet.team(service.team)
    # The service burns at 4.5x from the start (and in its history), so the tickets fire at
    # the first evaluation, before the stack is ready; then the ticket group_wait.
    deadline = stack.ready_at + team.ticket_timing.group_wait.seconds + 2 * MARGIN_SECONDS
    ticket = stack.wait_for_notification(
        "ticket for search/availability",
        lambda n: bool(firing(n, service="search", slo=slo.name, severity="ticket")),
        deadline=deadline,
    )

    # The faster ticket pair (1d/2h) inhibits the slower (3d/6h): one ticket.
    (alert,) = firing(ticket, service="search", slo=slo.name)
    assert alert.labels == {**expected_labels(service, slo, "ticket"), "long": "1d", "short": "2h"}
    assert_delivered_as_declared(stack, ticket, alert, team.receivers.ticket)

    # The burn is in the ticket range over every window: above each ticket threshold,
    # below each page threshold. So no page may have been pending or firing, ever.
    for facts in window_facts(slo):
        for window in (facts.window.long, facts.window.short):
            name = conventions.error_ratio_name(window)
            (sample,) = stack.query(f'{name}{{service="search", slo="{slo.name}"}}')
            ratio = Fraction(sample["value"][1])
            if facts.window.severity == "ticket":
                assert ratio > facts.threshold, (name, ratio, facts)
            else:
                assert ratio < facts.threshold, (name, ratio, facts)
    pages = stack.query('count_over_time(ALERTS{service="search", severity="page"}[1h])')
    assert pages == [], pages
    received = {n.path for n in stack.webhook.notifications if n.matching(service="search")}
    assert received == {team.receivers.ticket}, stack.diagnostics()


def test_a_latency_regression_pages_the_latency_slo_only(live: Live) -> None:
    stack, fleet = live.stack, live.fleet
    service = fleet.service("catalog")
    latency = service.slo("latency")
    availability = service.slo("availability")
    team = fleet.team(service.team)
    bound = page_bound(fleet, service, latency)

    injected_at = set_traffic(stack.services["catalog"], latency_seconds=REGRESSED_LATENCY)
    page = stack.wait_for_notification(
        "page for catalog/latency",
        lambda n: (
            n.arrived_at >= injected_at
            and bool(firing(n, service="catalog", slo=latency.name, severity="page"))
        ),
        deadline=injected_at + 2 * bound.seconds + 10,
    )

    assert page.arrived_at - injected_at <= bound.seconds, (
        f"page after {page.arrived_at - injected_at:.2f}s, bound {bound}\n{stack.diagnostics()}"
    )
    (alert,) = firing(page, service="catalog", slo=latency.name)
    assert alert.labels == {
        **expected_labels(service, latency, "page"),
        **fast_page_labels(service, latency),
    }
    assert_delivered_as_declared(stack, page, alert, team.receivers.page)

    # The availability SLO saw the same traffic (no errors) and fired nothing: checked once
    # its rule group has evaluated again after the latency page arrived.
    group = conventions.group_name("catalog", availability.name)
    stack.wait(
        f"an evaluation of {group} after the page",
        lambda: True if _last_evaluation(stack, group) > page.arrived_at else None,
        deadline=page.arrived_at + 5 * EVALUATION_INTERVAL,
    )
    fired = stack.query(
        f'count_over_time(ALERTS{{service="catalog", slo="{availability.name}"}}[1h])'
    )
    assert fired == [], fired
    assert for_slo(stack.webhook.notifications, "catalog", availability.name) == []


def _last_evaluation(stack: AlertStack, group: str) -> float:
    for found in stack.rule_groups():
        if found["name"] == group:
            return _unix(found["lastEvaluation"])
    raise AssertionError(f"no rule group {group}")
