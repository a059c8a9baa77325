"""Which services ``perfdash test`` tests: service names or declaration paths."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from perfdash.errors import NotFoundError
from perfdash.model.fleet import Fleet


def select_services(fleet: Fleet, targets: Sequence[str]) -> frozenset[str]:
    """Names of the services ``targets`` (service names or declaration paths) mean;
    every service of the fleet when there are none."""
    if not targets:
        return frozenset(service.name for service in fleet.services)
    names = [target for target in targets if not Path(target).exists()]
    known = {service.name for service in fleet.services}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise NotFoundError(
            f"no service or declaration file {', '.join(map(repr, unknown))} "
            f"(services: {', '.join(sorted(known)) or 'none'})"
        )
    from_paths = {
        s.name
        for s in fleet.services
        if any(_within(s.source, t) for t in targets if t not in names)
    }
    return frozenset({*names, *from_paths})


def _within(source: str, target: str) -> bool:
    source_path, target_path = Path(source).resolve(), Path(target).resolve()
    return source_path == target_path or target_path in source_path.parents
