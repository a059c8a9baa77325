"""The fleet the alerting end-to-end test and the latency benchmark run, and its bounds.

Two teams, three services, one scenario each (separate services, so the windows of one
scenario never hold another's errors):

- ``pay`` (team payments, tier 1): an outage, 100% errors, then the fix. Its availability
  SLO keeps the Workbook's long windows and budget shares, hence the default policy's
  burn factors (14.4, 6, 3, 1), thresholds and detection times, but its two page pairs
  have 1m short windows (perfdash's minimum) instead of 5m and 30m: a page resets once
  the errors leave its short window, so the resolution arrives about a minute after the
  fix instead of 5 (fast pair) or 30 minutes (slow pair, which the fast one inhibits
  while it fires and which would notify once that one resolves);
- ``search`` (team discovery, tier 2): a slow burn, 4.5x the budget rate on its 30d
  99.99% SLO (above the tickets' 3x and 1x, below the pages' 6x and 14.4x), from the
  start and in its history; default policy;
- ``catalog`` (team discovery, tier 2): a latency regression (every request 0.5s, over
  the 0.3s threshold, without errors); default policy.

Both SLOs of every service are 99.99%, so a total outage pages in 5.2s (0.144% of the
1h window) and the test stays short. Timings are the teams' own Alertmanager timings:
pages wait 1s, tickets 15s, longer than a page takes to reach Alertmanager, so a page
inhibits the tickets an outage raises at the same time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from perfdash.alertmanager.routing import receiver_names
from perfdash.model.fleet import SLO, Fleet, Service
from perfdash.model.windows import WindowFacts, window_facts
from perfdash.spec import load_fleet
from testing.service import TICK_SECONDS, Settings, SyntheticService, set_traffic
from testing.stack import (
    EVALUATION_INTERVAL,
    SCRAPE_INTERVAL,
    AlertStack,
    Binaries,
    alert_stack,
)
from testing.webhook import Notification

REQUESTS_PER_TICK = 20_000  # 200k requests/s: 4.5 x 0.01% is a whole 9 errors per tick
HISTORY_SECONDS = 6 * 3600 + 600  # the longest raw window (6h) and then some
# Sending (Prometheus notifier -> Alertmanager -> webhook), rule evaluation time and
# scheduling on a busy 2-core machine: what the bounds allow beyond the intervals.
MARGIN_SECONDS = 2.0
HEALTHY = Settings(error_ratio=Fraction(0), latency_seconds=0.05)
SLOW_BURN = Fraction(45, 100_000)  # 4.5 x the 0.01% budget
REGRESSED_LATENCY = 0.5

TEAMS = """\
apiVersion: perfdash/v1
kind: Team
metadata: {name: payments}
spec:
  receivers: {page: payments-pager, ticket: payments-tickets}
  timings:
    page: {group_wait: 1s, group_interval: 2s, repeat_interval: 1h}
    ticket: {group_wait: 15s, group_interval: 5s, repeat_interval: 1h}
---
apiVersion: perfdash/v1
kind: Team
metadata: {name: discovery}
spec:
  receivers: {page: discovery-pager, ticket: discovery-tickets}
  timings:
    page: {group_wait: 1s, group_interval: 2s, repeat_interval: 1h}
    ticket: {group_wait: 15s, group_interval: 5s, repeat_interval: 1h}
"""

# Workbook long windows and budget shares; page short windows cut to 1m (see above).
FAST_RESET_WINDOWS = """\
      alerting:
        windows:
          - {severity: page, long: 1h, short: 1m, budget_percent: 2}
          - {severity: page, long: 6h, short: 1m, budget_percent: 5}
          - {severity: ticket, long: 1d, short: 2h, budget_percent: 10}
          - {severity: ticket, long: 3d, short: 6h, budget_percent: 10}
"""


def service_yaml(name: str, *, team: str, tier: int, availability_alerting: str = "") -> str:
    return f"""\
apiVersion: perfdash/v1
kind: Service
metadata:
  name: {name}
  team: {team}
  tier: {tier}
  runbook: https://runbooks.example.com/{name}
spec:
  selector: {{job: {name}}}
  # Like the rest of this stack, the long-window group (tickets, SLI) runs every second.
  rules: {{long_window_interval: 1s}}
  slos:
    - name: availability
      objective: 99.99
      window: 30d
      sli:
        events: {{total: http_requests_total, bad: {{code: "5.."}}}}
{availability_alerting}\
    - name: latency
      objective: 99.99
      window: 30d
      sli:
        latency: {{histogram: http_request_duration_seconds, threshold: 0.3}}
"""


DECLARATIONS = {
    "teams.yaml": TEAMS,
    "pay.yaml": service_yaml(
        "pay", team="payments", tier=1, availability_alerting=FAST_RESET_WINDOWS
    ),
    "search.yaml": service_yaml("search", team="discovery", tier=2),
    "catalog.yaml": service_yaml("catalog", team="discovery", tier=2),
}
STARTING_TRAFFIC = {
    "pay": HEALTHY,
    "search": Settings(error_ratio=SLOW_BURN, latency_seconds=HEALTHY.latency_seconds),
    "catalog": HEALTHY,
}


def synthetic_services() -> list[SyntheticService]:
    return [
        SyntheticService(
            name,
            requests_per_tick=REQUESTS_PER_TICK,
            settings=settings,
            history_seconds=HISTORY_SECONDS,
        )
        for name, settings in STARTING_TRAFFIC.items()
    ]


@contextmanager
def e2e_stack(root: Path, binaries: Binaries) -> Iterator[tuple[AlertStack, Fleet]]:
    """The declarations written under ``root/slos``, their model, and the stack running them."""
    for relative, text in DECLARATIONS.items():
        (root / "slos").mkdir(parents=True, exist_ok=True)
        (root / "slos" / relative).write_text(text, encoding="utf-8")
    fleet = load_fleet([root / "slos"], root=root)
    with alert_stack(
        root, binaries=binaries, receivers=receiver_names(fleet), services=synthetic_services()
    ) as stack:
        yield stack, fleet


# -- bounds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bound:
    """An upper bound on a notification's latency, as the sum of what it is made of."""

    terms: tuple[tuple[str, float], ...]

    @property
    def seconds(self) -> float:
        return sum(value for _, value in self.terms)

    def __str__(self) -> str:
        parts = " + ".join(f"{value:g}s {name}" for name, value in self.terms if value)
        return f"{self.seconds:.2f}s = {parts}"


def fastest_page(slo: SLO) -> WindowFacts:
    """The page pair that detects a total outage first (the 1h pair of the default policy)."""
    pages = [facts for facts in window_facts(slo) if facts.window.severity == "page"]
    return min(pages, key=lambda facts: facts.detection_seconds)


def _pipeline_terms() -> tuple[tuple[str, float], ...]:
    return (
        ("traffic tick", TICK_SECONDS),
        ("scrape interval", SCRAPE_INTERVAL),
        ("evaluation interval", EVALUATION_INTERVAL),
    )


def page_bound(fleet: Fleet, service: Service, slo: SLO) -> Bound:
    """Error injection -> webhook call, for the fastest page of ``slo``.

    detection (perfdash's ``window_facts``: threshold x long window, the Workbook's figure
    for raw windows; the ratio needs that long at 100% errors after a full window of
    healthy traffic) + ``for:`` + one traffic tick (the injection applies at the next one)
    + one scrape interval (the last sample may be that old) + one evaluation interval
    + the page route's group_wait + MARGIN_SECONDS.
    """
    facts = fastest_page(slo)
    hold = slo.alerting.for_.seconds if slo.alerting.for_ else 0
    return Bound(
        (
            ("detection", facts.detection_seconds),
            ("for", float(hold)),
            *_pipeline_terms(),
            ("group_wait", float(fleet.team(service.team).page_timing.group_wait.seconds)),
            ("margin", MARGIN_SECONDS),
        )
    )


def resolution_bound(fleet: Fleet, service: Service, slo: SLO) -> Bound:
    """Fix -> webhook call with the fastest page resolved.

    The pair resets when its short window no longer holds enough errors: at most the short
    window after the fix (exactly short x (1 - threshold)); + tick, scrape and evaluation
    intervals; a resolved alert then leaves Prometheus at once and Alertmanager sends it
    with the group's next flush, at most the page route's group_interval later; + margin.
    """
    facts = fastest_page(slo)
    return Bound(
        (
            ("reset (short window)", float(facts.window.short.seconds)),
            *_pipeline_terms(),
            ("group_interval", float(fleet.team(service.team).page_timing.group_interval.seconds)),
            ("margin", MARGIN_SECONDS),
        )
    )


# -- the outage scenario ---------------------------------------------------------------


@dataclass(frozen=True)
class OutageRun:
    """What happened when: unix times, and the first notifications of each kind."""

    injected_at: float
    page: Notification  # the first page for the SLO after injection
    restored_at: float
    resolution: Notification  # the first with the fastest page pair resolved

    @property
    def page_latency(self) -> float:
        return self.page.arrived_at - self.injected_at

    @property
    def resolution_latency(self) -> float:
        return self.resolution.arrived_at - self.restored_at


def fast_page_labels(service: Service, slo: SLO) -> dict[str, str]:
    window = fastest_page(slo).window
    return {
        "service": service.name,
        "slo": slo.name,
        "severity": "page",
        "long": str(window.long),
        "short": str(window.short),
    }


def run_outage(
    stack: AlertStack,
    fleet: Fleet,
    *,
    service: str,
    slo: str,
    while_firing: Callable[[Notification], None] | None = None,
) -> OutageRun:
    """100% errors until the page arrives (and ``while_firing`` returns), then none until
    the page's resolution arrives. Waits up to twice each bound (plus 10s): callers
    compare the latencies with the bounds themselves."""
    owner = fleet.service(service)
    model = owner.slo(slo)
    fast = fast_page_labels(owner, model)
    page_wait = 2 * page_bound(fleet, owner, model).seconds + 10
    resolution_wait = 2 * resolution_bound(fleet, owner, model).seconds + 10

    injected_at = set_traffic(stack.services[service], error_ratio=Fraction(1))
    page = stack.wait_for_notification(
        f"page for {service}/{slo} within {page_wait:.0f}s of the errors",
        lambda n: (
            n.arrived_at >= injected_at
            and any(
                a.status == "firing" for a in n.matching(service=service, slo=slo, severity="page")
            )
        ),
        deadline=injected_at + page_wait,
    )
    if while_firing is not None:
        while_firing(page)
    restored_at = set_traffic(stack.services[service], error_ratio=Fraction(0))
    resolution = stack.wait_for_notification(
        f"resolution of {fast} within {resolution_wait:.0f}s of the fix",
        lambda n: (
            n.arrived_at >= restored_at and any(a.status == "resolved" for a in n.matching(**fast))
        ),
        deadline=restored_at + resolution_wait,
    )
    return OutageRun(injected_at, page, restored_at, resolution)
