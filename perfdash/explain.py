"""``perfdash explain``: the SRE Workbook's table, computed for one SLO."""

from __future__ import annotations

from dataclasses import dataclass

from perfdash.durations import Duration
from perfdash.errors import NotFoundError
from perfdash.model.fleet import SLO, Fleet, Service
from perfdash.model.windows import WindowFacts, budget_seconds, recorded_windows, window_facts


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
