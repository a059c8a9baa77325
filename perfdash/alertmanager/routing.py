"""Alertmanager routing generated from the declarations.

``alerts/alertmanager/routes.yaml`` is a complete, valid Alertmanager configuration
whose receivers are only names (they carry secrets, so perfdash never writes their
integrations): a route for perfdash's alerts, then per team and severity the team's
receiver with timings per severity (P1 pages re-notify more often), services with
``spec.routing`` first; and inhibit rules: a page silences the tickets of the same SLO,
a faster window pair the slower pairs of the same severity. ``merge.py`` splices it into
a user's own alertmanager.yml; ``route-tests.yaml`` lists, for every team and severity,
the labels of an alert and the receiver it must reach (``perfdash test`` checks them with
``amtool config routes test``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from perfdash import conventions
from perfdash.durations import Duration
from perfdash.model.fleet import DEFAULT_TIMINGS, Fleet, Receivers, Service, Team, Timing
from perfdash.yamlout import dump

UNROUTED = "perfdash-unrouted"
P1_REPEAT = Duration.parse("1h")
SEVERITIES = ("page", "ticket")


def build_alertmanager_files(fleet: Fleet) -> dict[str, str]:
    """Routes and route tests, when the fleet declares Teams (else nothing)."""
    if not fleet.teams:
        return {}
    header = (
        f"{conventions.GENERATED_MARK}: Alertmanager routes for the SLO alerts, from the Team and\n"
        "Service declarations. Receivers are names only: merge into your own alertmanager.yml\n"
        "with `perfdash build --alertmanager-base FILE`. Do not edit."
    )
    tests_header = (
        f"{conventions.GENERATED_MARK}: for every team and severity, an alert's labels and the receiver\n"
        "it must reach. `perfdash test` checks them with amtool. Do not edit."
    )
    return {
        conventions.ROUTES_PATH: dump(alertmanager_config(fleet), header=header),
        conventions.ROUTE_TESTS_PATH: dump({"cases": route_test_cases(fleet)}, header=tests_header),
    }


def alert_names(fleet: Fleet) -> list[str]:
    names = {conventions.MISSING_DATA_ALERT}
    names.update(slo.alerting.name for s in fleet.services for slo in s.slos)
    return sorted(names)


def perfdash_matcher(fleet: Fleet) -> str:
    return f'alertname=~"{"|".join(alert_names(fleet))}"'


def grouping_labels(fleet: Fleet) -> list[str]:
    return sorted({label for s in fleet.services for slo in s.slos for label in slo.grouping})


def severity_values(services: Iterable[Service], tier: str) -> list[str]:
    """The ``severity`` label values the ``tier`` alerts of ``services`` carry (defaults:
    page, ticket; ``alerting.severity`` sets others)."""
    found = {slo.alerting.severity_label(tier) for s in services for slo in s.slos}
    return sorted(found) or [tier]


def severity_matcher(services: Iterable[Service], tier: str) -> str:
    values = severity_values(services, tier)
    if len(values) == 1:
        return f'severity="{values[0]}"'
    return f'severity=~"{"|".join(values)}"'


def perfdash_route(fleet: Fleet) -> dict[str, Any]:
    """The subtree for perfdash's alerts: what gets spliced into a user's route tree."""
    routes: list[dict[str, Any]] = []
    teams = {team.name: team for team in fleet.teams}
    for service in fleet.services:
        if service.routing is None or not service.has_alerts:
            continue
        team = teams.get(service.team)
        for severity in SEVERITIES:
            timing = _timing(team, severity)
            routes.append(
                _route(
                    [f'service="{service.name}"', severity_matcher([service], severity)],
                    getattr(service.routing, severity),
                    timing,
                )
            )
    for team in fleet.teams:
        receivers = team.receivers
        members = [s for s in fleet.services if s.team == team.name]
        page = [f'team="{team.name}"', severity_matcher(members, "page")]
        routes.append(
            _route(
                [*page, 'priority="P1"'],
                receivers.page,
                Timing(
                    team.page_timing.group_wait,
                    team.page_timing.group_interval,
                    min(team.page_timing.repeat_interval, P1_REPEAT),
                ),
            )
        )
        routes.append(_route(page, receivers.page, team.page_timing))
        routes.append(
            _route(
                [f'team="{team.name}"', severity_matcher(members, "ticket")],
                receivers.ticket,
                team.ticket_timing,
            )
        )
    return {
        "receiver": UNROUTED,
        "matchers": [perfdash_matcher(fleet)],
        "group_by": ["service", "slo"],
        "routes": routes,
    }


def _timing(team: Team | None, severity: str) -> Timing:
    if team is None:
        return DEFAULT_TIMINGS[severity]
    return team.page_timing if severity == "page" else team.ticket_timing


def _route(matchers: list[str], receiver: str, timing: Timing) -> dict[str, Any]:
    return {
        "receiver": receiver,
        "matchers": matchers,
        "group_wait": str(timing.group_wait),
        "group_interval": str(timing.group_interval),
        "repeat_interval": str(timing.repeat_interval),
    }


def inhibit_rules(fleet: Fleet) -> list[dict[str, Any]]:
    names = perfdash_matcher(fleet)
    same_slo = ["service", "slo", *grouping_labels(fleet)]
    rules: list[dict[str, Any]] = [
        {
            "source_matchers": [names, severity_matcher(fleet.services, "page")],
            "target_matchers": [names, severity_matcher(fleet.services, "ticket")],
            "equal": same_slo,
        }
    ]
    for severity in SEVERITIES:
        tier = severity_matcher(fleet.services, severity)
        longs = sorted(
            {
                window.long
                for s in fleet.services
                for slo in s.slos
                for window in slo.alerting.enabled_windows()
                if window.severity == severity
            }
        )
        for index, faster in enumerate(longs):
            for slower in longs[index + 1 :]:
                rules.append(
                    {
                        "source_matchers": [names, tier, f'long="{faster}"'],
                        "target_matchers": [names, tier, f'long="{slower}"'],
                        "equal": [*same_slo, "severity"],
                    }
                )
    return rules


def receiver_names(fleet: Fleet) -> list[str]:
    names: set[str] = set()
    for team in fleet.teams:
        names.update((team.receivers.page, team.receivers.ticket))
    for service in fleet.services:
        if service.routing is not None:
            names.update((service.routing.page, service.routing.ticket))
    return sorted(names)


def alertmanager_config(fleet: Fleet) -> dict[str, Any]:
    """A standalone, valid configuration: amtool can check it and test its routes."""
    return {
        "route": {"receiver": UNROUTED, "routes": [perfdash_route(fleet)]},
        "receivers": [{"name": name} for name in [UNROUTED, *receiver_names(fleet)]],
        "inhibit_rules": inhibit_rules(fleet),
    }


def expected_receivers(fleet: Fleet, service: Service) -> Receivers | None:
    if service.routing is not None:
        return service.routing
    for team in fleet.teams:
        if team.name == service.team:
            return team.receivers
    return None


def route_test_cases(fleet: Fleet) -> list[dict[str, Any]]:
    """One case per team x severity (through one of its services), and per service with
    its own routing; each names the receiver the alert must reach."""
    cases = []
    covered: set[tuple[str, str]] = set()
    for service in fleet.services:
        receivers = expected_receivers(fleet, service)
        if receivers is None or not service.has_alerts or not service.slos:
            continue
        key = ("service", service.name) if service.routing else ("team", service.team)
        if key in covered:
            continue
        covered.add(key)
        slo = service.slos[0]
        for severity in SEVERITIES:
            labels = {
                "alertname": slo.alerting.name,
                "service": service.name,
                "slo": slo.name,
                "team": service.team,
                "severity": slo.alerting.severity_label(severity),
                "priority": service.priority,
            }
            cases.append(
                {
                    "name": f"{key[0]} {key[1]}: {severity}",
                    "labels": labels,
                    "receiver": getattr(receivers, severity),
                }
            )
    return cases
