"""``perfdash explain``: the SRE Workbook's table, computed for one SLO."""

from __future__ import annotations

from dataclasses import dataclass

from perfdash.durations import Duration, humanize_seconds
from perfdash.errors import NotFoundError
from perfdash.model.fleet import SLO, Fleet, Service
from perfdash.model.windows import WindowFacts, budget_seconds, recorded_windows, window_facts
from perfdash.numbers import format_decimal, human_number
from perfdash.text import table


@dataclass(frozen=True)
class Explanation:
    service: Service
    slo: SLO
    budget: tuple[tuple[Duration, float], ...]  # (window, seconds of total outage allowed)
    windows: tuple[WindowFacts, ...]


def explain(fleet: Fleet, target: str) -> list[Explanation]:
    """``SERVICE`` (all its SLOs) or ``SERVICE/SLO`` -> one Explanation per SLO."""
    service_name, _, slo_name = target.partition("/")
    try:
        service = fleet.service(service_name)
    except KeyError:
        known = ", ".join(s.name for s in fleet.services) or "none"
        raise NotFoundError(f"no service {service_name!r} (services: {known})") from None
    slos = service.slos
    if slo_name:
        try:
            slos = (service.slo(slo_name),)
        except KeyError:
            known = ", ".join(s.name for s in service.slos) or "none"
            raise NotFoundError(
                f"service {service_name!r} has no SLO {slo_name!r} (SLOs: {known})"
            ) from None
    return [
        Explanation(
            service=service,
            slo=slo,
            budget=tuple((w, budget_seconds(slo, w)) for w in recorded_windows(slo)),
            windows=tuple(window_facts(slo)),
        )
        for slo in slos
    ]


def explanation_text(explanation: Explanation) -> str:
    service, slo = explanation.service, explanation.slo
    kind = slo.sli.kind
    grouping = f", one per {', '.join(slo.grouping)}" if slo.grouping else ""
    lines = [
        f"{service.name}/{slo.name}: {format_decimal(slo.objective)}% good over {slo.window} "
        f"({kind} SLI{grouping}); team {service.team}, priority {service.priority}",
        f"error budget: {format_decimal(slo.error_budget * 100)}% of events",
        "",
        "Budget as minutes of total outage per window:",
        table(
            ["window", "budget"],
            [[str(w), _minutes(seconds)] for w, seconds in explanation.budget],
        ),
    ]
    if not explanation.windows:
        lines += ["", "No burn-rate alerts (page and ticket tiers are disabled)."]
        return "\n".join(lines)
    for_text = f" + for {slo.alerting.for_}" if slo.alerting.for_ else ""
    lines += [
        "",
        f"Burn-rate alerts ({slo.alerting.name}); detection is for a total outage{for_text}:",
        table(
            [
                "severity",
                "long/short",
                "factor",
                "error ratio >",
                "budget spent",
                "detection",
                "workbook",
                "exhaustion",
            ],
            [
                [
                    f.window.severity,
                    f"{f.window.long}/{f.window.short}",
                    human_number(f.factor),
                    f"{human_number(f.threshold * 100, digits=4)}%",
                    f"{format_decimal(f.budget_consumed * 100)}%",
                    humanize_seconds(f.detection_seconds),
                    humanize_seconds(f.workbook_detection_seconds),
                    humanize_seconds(f.exhaustion_seconds),
                ]
                for f in explanation.windows
            ],
        ),
        "",
        "detection: time from the outage's start until both windows exceed the threshold with",
        "perfdash's rules (windows over 6h sum per-minute tiles that end 15s back);",
        "workbook: the SRE Workbook's figure (threshold x long window); exhaustion: time to",
        "spend the whole budget at exactly that burn factor.",
    ]
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{human_number(minutes, digits=4)} min ({humanize_seconds(seconds)})"
