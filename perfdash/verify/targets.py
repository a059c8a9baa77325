"""Which services ``perfdash test`` tests, and whether their generated files are fresh."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from perfdash import conventions
from perfdash.build import build_output
from perfdash.errors import NotFoundError, OutputError
from perfdash.model.fleet import Fleet
from perfdash.output import plan_output


def select_services(fleet: Fleet, targets: Sequence[str]) -> frozenset[str]:
    """Names of the services ``targets`` (service names or declaration paths) mean;
    every service of the fleet when there are none."""
    names = [target for target in targets if not Path(target).exists()]
    if not names:
        return frozenset(service.name for service in fleet.services)
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


def check_fresh(
    fleet: Fleet, services: frozenset[str], *, out_dir: Path, jsonnet_dir: Path | None
) -> None:
    """Raise unless the rule and test files of ``services`` under ``out_dir`` are what
    the declarations generate."""
    output = build_output(fleet, jsonnet_dir=jsonnet_dir, services=services)
    prefixes = (conventions.RULES_DIR + "/", conventions.TESTS_DIR + "/")
    files = {path: text for path, text in output.files.items() if path.startswith(prefixes)}
    plan = plan_output(
        out_dir,
        files,
        sources=output.sources,
        digests=output.digests,
        kinds=(),
        in_scope=lambda path, entry: False,
    )
    stale = [*plan.created, *plan.updated, *(c.path for c in plan.conflicts)]
    if stale:
        shown = ", ".join(stale[:5]) + (f" and {len(stale) - 5} more" if len(stale) > 5 else "")
        raise OutputError(
            f"the generated files of the services under test are not up to date in {out_dir} "
            f"({shown}): run `perfdash build` first"
        )
