"""Which alerts will behave differently: two fleets compared SLO by SLO.

A pull request's rule files are generated and collapsed in review; what a reviewer needs
is what the change does to the pager. ``alert_changes(before, after)`` compares, for
every SLO, the facts that decide when an alert fires and who hears of it: objective and
window, each window pair's burn factor and the error ratio it fires above, ``for:``,
severity values, the receivers of pages and tickets, the missing-data alert. ``perfdash
plan --since REF`` shows them next to the dashboard changes, as text, Markdown or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from perfdash.model.fleet import SLO, Fleet, Service
from perfdash.model.windows import window_facts
from perfdash.numbers import format_decimal, human_number

Facts = dict[str, str]
PLAN_MARKER = "<!-- perfdash-plan -->"


@dataclass(frozen=True, order=True)
class AlertChange:
    service: str
    slo: str
    what: str
    before: str  # "" when added
    after: str  # "" when removed

    @property
    def symbol(self) -> str:
        return "+" if not self.before else "-" if not self.after else "~"


def slo_facts(fleet: Fleet, service: Service, slo: SLO) -> Facts:
    """What decides when the SLO's alerts fire and where they go, as short texts."""
    alerting = slo.alerting
    facts: Facts = {
        "objective": f"{format_decimal(slo.objective)}% over {slo.window}",
        "alert name": alerting.name,
        "for": str(alerting.for_) if alerting.for_ else "none (fires at once)",
        "severity": f"page={alerting.severity_page}, ticket={alerting.severity_ticket}",
        "missing data": f"after {alerting.missing_data_for}" if alerting.missing_data else "off",
    }
    for row in window_facts(slo):
        window = row.window
        percent = human_number(row.threshold * 100, digits=4)
        facts[f"{window.severity} {window.long}/{window.short}"] = (
            f"{human_number(row.factor)}x burn: fires above {percent}% errors"
        )
    receivers = service.routing
    if receivers is None:
        team = next((t for t in fleet.teams if t.name == service.team), None)
        receivers = team.receivers if team else None
    if receivers is not None:
        facts["pages go to"] = receivers.page
        facts["tickets go to"] = receivers.ticket
    return facts


def fleet_facts(fleet: Fleet) -> dict[tuple[str, str], Facts]:
    return {
        (service.name, slo.name): slo_facts(fleet, service, slo)
        for service in fleet.services
        for slo in service.slos
    }


def alert_changes(before: Fleet, after: Fleet) -> list[AlertChange]:
    old, new = fleet_facts(before), fleet_facts(after)
    changes = []
    for key in sorted(old.keys() | new.keys()):
        service, slo = key
        if key not in old:
            changes.append(AlertChange(service, slo, "SLO", "", _summary(new[key])))
        elif key not in new:
            changes.append(AlertChange(service, slo, "SLO", _summary(old[key]), ""))
        else:
            for what in [*old[key], *(k for k in new[key] if k not in old[key])]:
                was, now = old[key].get(what, ""), new[key].get(what, "")
                if was != now:
                    changes.append(AlertChange(service, slo, what, was, now))
    return changes


def _summary(facts: Facts) -> str:
    pairs = [k for k in facts if k.startswith(("page ", "ticket "))]
    return f"{facts['objective']}; alerts {', '.join(pairs) or 'none'}"


# -- rendering ------------------------------------------------------------------------


def changes_text(changes: Sequence[AlertChange], *, since: str) -> str:
    if not changes:
        return f"Alerts: no change in behaviour since {since}."
    lines = [f"Alerts that will behave differently (since {since}):"]
    current = None
    for change in changes:
        if (change.service, change.slo) != current:
            current = (change.service, change.slo)
            lines.append(f"  {change.service}/{change.slo}:")
        lines.append(f"    {change.symbol} {change.what}: {_transition(change)}")
    return "\n".join(lines)


def changes_markdown(changes: Sequence[AlertChange], *, since: str) -> str:
    if not changes:
        return f"**Alerts**: no change in behaviour since `{since}`."
    lines = [
        f"### Alerts that will behave differently (since `{since}`)",
        "",
        "| | SLO | what | before | after |",
        "|---|---|---|---|---|",
    ]
    for change in changes:
        cells = [
            change.symbol,
            f"`{change.service}/{change.slo}`",
            change.what,
            change.before or "",
            change.after or "",
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def changes_json(changes: Sequence[AlertChange], *, since: str) -> dict[str, object]:
    return {"since": since, "changes": [asdict(change) for change in changes]}


def with_plan(output_format: str, changes: Sequence[AlertChange], since: str, plan: str) -> str:
    """The alert changes and the rendered deploy ``plan`` (``""``: none) as one document."""
    if output_format == "json":
        document = json.loads(plan) if plan else {}
        document["alerts"] = changes_json(changes, since=since)
        return json.dumps(document, indent=2, sort_keys=True)
    if output_format == "markdown":
        text = changes_markdown(changes, since=since)
        # The marker lets CI update one pull-request comment (the deploy plan has its own).
        return f"{text}\n\n{plan}" if plan else f"{PLAN_MARKER}\n{text}"
    text = changes_text(changes, since=since)
    return f"{text}\n\n{plan}" if plan else text


def _transition(change: AlertChange) -> str:
    if not change.before:
        return change.after
    if not change.after:
        return f"{change.before} (removed)"
    return f"{change.before} -> {change.after}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
