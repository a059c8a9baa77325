"""Declarations -> a validated Fleet: every problem of every document, in one pass.

Each document goes through the same stages whatever is wrong with it: loading (its
own problems kept on it), the schema, mapping to the model and the checks that need
the model; each stage reads only what the stages before it did not report. Then the
checks across documents: names declared twice, generated names that would meet
(dashboard uids, folders), runbooks and routing. Only a fleet without a single problem
is returned.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from perfdash import conventions
from perfdash.errors import Problem, SpecError
from perfdash.model.fleet import Fleet, Service, Team
from perfdash.parallel import map_chunks
from perfdash.spec.checks import check_service
from perfdash.spec.document import MAX_PROBLEMS_PER_DOCUMENT, Document
from perfdash.spec.files import Candidate, declaration_candidates
from perfdash.spec.load import load_candidates
from perfdash.spec.mapping import map_service, map_team
from perfdash.spec.schema import KINDS, schema_problems

MissingRunbook = Literal["error", "warn"]
# Names taken by generated output that a service or team could otherwise also claim.
_RESERVED_UIDS = {conventions.OVERVIEW_UID: "the overview dashboard"}
_RESERVED_TEAMS = {
    conventions.EXTRA_DASHBOARDS_DIR.rsplit("/", 1)[1]: (
        f"{conventions.EXTRA_DASHBOARDS_DIR}/ holds the Jsonnet extra dashboards"
    )
}


def load_fleet(
    paths: Iterable[str | os.PathLike[str]],
    *,
    root: Path | None = None,
    jobs: int | None = None,
    missing_runbook: MissingRunbook = "error",
) -> Fleet:
    """Files and folders of declarations -> validated Fleet, or SpecError with every problem.

    Files are read and checked in parallel on large fleets; checks across files
    (duplicate names, teams without receivers) run once every file is in. A service
    with alerts but no runbook is an error, or a warning in ``Fleet.warnings``.
    """
    base = root or Path.cwd()
    found = declaration_candidates(paths, root=base)
    declared: list[_Declared] = []
    problems = list(found.problems)
    for part_declared, part_problems in map_chunks(
        partial(_load_files, root=base), found.candidates, jobs=jobs
    ):
        declared.extend(part_declared)
        problems.extend(part_problems)
    return _assemble(declared, problems, missing_runbook=missing_runbook)


def build_fleet(
    documents: Iterable[Document], *, missing_runbook: MissingRunbook = "error"
) -> Fleet:
    """Already-loaded documents -> validated Fleet (or SpecError)."""
    declared, problems = _build_documents(documents, root=Path.cwd())
    return _assemble(declared, problems, missing_runbook=missing_runbook)


@dataclass(frozen=True)
class _Declared:
    """One document of a known kind (``value`` None unless it has no problem at all)."""

    kind: str
    name: str | None  # None: the name itself is wrong (and reported)
    file: str
    line: int
    column: int
    value: Service | Team | None
    team: str | None = None  # services: metadata.team, if valid
    team_at: tuple[int, int] = (0, 0)
    metadata_at: tuple[int, int] = (0, 0)
    routing_at: tuple[int, int] = (0, 0)  # services: where spec.routing is written


def _load_files(
    candidates: Sequence[Candidate], *, root: Path
) -> tuple[list[_Declared], list[Problem]]:
    documents, stopped = load_candidates(candidates, root=root)
    declared, problems = _build_documents(documents, root=root)
    return declared, [*stopped, *problems]


def _build_documents(
    documents: Iterable[Document], *, root: Path
) -> tuple[list[_Declared], list[Problem]]:
    declared: list[_Declared] = []
    problems: list[Problem] = []
    for document in documents:
        found = [*document.problems, *schema_problems(document)]
        data = document.data
        if isinstance(data, dict) and data.get("kind") in KINDS and document.clean(("apiVersion",)):
            value: Service | Team | None
            if data["kind"] == "Team":
                value, mapped_problems = map_team(document)
            else:
                mapped, mapped_problems = map_service(document, root=root)
                mapped_problems += check_service(document, mapped)
                value = mapped.service if mapped.complete and not mapped_problems else None
            found += mapped_problems
            declared.append(_declared(document, value if not mapped_problems else None))
        # (another apiVersion: its fields mean other things; no mapping)
        problems.extend(_at_most(document, found))
    return declared, problems


def _at_most(document: Document, problems: list[Problem]) -> list[Problem]:
    """The first MAX_PROBLEMS_PER_DOCUMENT problems (in file order), and how many more."""
    total = len(problems) + document.unlisted
    if total <= MAX_PROBLEMS_PER_DOCUMENT:
        return problems
    shown = sorted(problems)[:MAX_PROBLEMS_PER_DOCUMENT]
    where = document.start
    summary = (
        f"{total} problems in this document (it may not be a declaration); "
        f"the first {len(shown)} are shown"
    )
    return [Problem(document.file, where.line, where.column, "", summary), *shown]


def _declared(document: Document, value: Service | Team | None) -> _Declared:
    metadata = document.data.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    name_ok = document.clean(("metadata", "name")) and "name" in metadata
    team_ok = document.clean(("metadata", "team")) and "team" in metadata
    name_at = document.position(("metadata", "name"))
    team_at = document.position(("metadata", "team"))
    metadata_at = document.position(("metadata",), key=True)
    routing_at = document.position(("spec", "routing"), key=True)
    return _Declared(
        document.data["kind"],
        metadata["name"] if name_ok else None,
        document.file,
        name_at.line,
        name_at.column,
        value,
        metadata["team"] if team_ok else None,
        (team_at.line, team_at.column),
        (metadata_at.line, metadata_at.column),
        (routing_at.line, routing_at.column),
    )


def _assemble(
    declared: Iterable[_Declared], problems: list[Problem], *, missing_runbook: MissingRunbook
) -> Fleet:
    services: list[Service] = []
    teams: list[Team] = []
    first: dict[tuple[str, str], _Declared] = {}
    service_items: list[_Declared] = []
    named: list[_Declared] = []
    for item in declared:
        if item.name is None:
            continue
        key = (item.kind, item.name)
        if key in first:
            earlier = first[key]
            problems.append(
                _at(
                    item,
                    "metadata.name",
                    f"duplicate {item.kind.lower()} name {item.name!r} (first declared at "
                    f"{earlier.file}:{earlier.line})",
                )
            )
            continue
        first[key] = item
        named.append(item)
        if isinstance(item.value, Service):
            services.append(item.value)
            service_items.append(item)
        elif isinstance(item.value, Team):
            teams.append(item.value)
    _check_generated_names(named, problems)
    warnings = _check_runbooks(service_items, problems, missing_runbook)
    _check_severities(service_items, problems)
    _check_routing(service_items, {t.name for t in teams}, problems)
    if problems:
        raise SpecError(problems)
    return Fleet(
        tuple(sorted(services, key=lambda s: s.name)),
        tuple(sorted(teams, key=lambda t: t.name)),
        tuple(sorted(warnings)),
    )


def _at(
    item: _Declared, field: str, message: str, *, where: tuple[int, int] | None = None
) -> Problem:
    line, column = where or (item.line, item.column)
    return Problem(item.file, line, column, field, message)


def _check_generated_names(items: Iterable[_Declared], problems: list[Problem]) -> None:
    """Names derived from service names must not meet: dashboard uids (a long name is
    truncated and hashed; ``overview`` would take the overview's), and a team's dashboard
    folder must not be one perfdash fills with something else. Rule groups, rule files
    and test files cannot meet by construction (``perfdash.conventions``)."""
    uids: dict[str, _Declared] = {}
    for item in items:
        if item.kind != "Service" or item.name is None:
            continue
        uid = conventions.dashboard_uid(item.name)
        if uid in _RESERVED_UIDS:
            problems.append(
                _at(
                    item,
                    "metadata.name",
                    f"service name {item.name!r} would give its dashboard the uid {uid!r}, "
                    f"which is {_RESERVED_UIDS[uid]}'s: choose another name",
                )
            )
        elif uid in uids:
            other = uids[uid]
            problems.append(
                _at(
                    item,
                    "metadata.name",
                    f"service {item.name!r} would get dashboard uid {uid!r}, the uid of service "
                    f"{other.name!r} ({other.file}:{other.line}): shorten one of the names",
                )
            )
        else:
            uids[uid] = item
        if item.team in _RESERVED_TEAMS:
            problems.append(
                _at(
                    item,
                    "metadata.team",
                    f"team {item.team!r} cannot be used: {_RESERVED_TEAMS[item.team]}",
                    where=item.team_at,
                )
            )


def _check_runbooks(
    items: Iterable[_Declared], problems: list[Problem], missing_runbook: MissingRunbook
) -> list[Problem]:
    """No alert without a runbook (the SRE rule): an error, or a warning when asked."""
    found = []
    for item in items:
        service = item.value
        assert isinstance(service, Service)
        if service.runbook is None and any(
            slo.runbook is None and (slo.alerting.enabled_windows() or slo.alerting.missing_data)
            for slo in service.slos
        ):
            found.append(
                _at(
                    item,
                    "metadata.runbook",
                    f"service {service.name!r} has alerts but no runbook: add metadata.runbook "
                    "(or a runbook on each alerting SLO; `perfdash runbooks` writes a stub to "
                    "start from)",
                    where=item.metadata_at,
                )
            )
    if missing_runbook == "error":
        problems.extend(found)
        return []
    return found


def _check_severities(items: Iterable[_Declared], problems: list[Problem]) -> None:
    """A severity value means one tier fleet-wide: routes and inhibit rules match on it."""
    seen: dict[str, tuple[str, str]] = {}  # value -> (tier, service) that used it first
    for item in items:
        service = item.value
        assert isinstance(service, Service)
        for slo in service.slos:
            for tier in ("page", "ticket"):
                value = slo.alerting.severity_label(tier)
                first = seen.setdefault(value, (tier, service.name))
                if first[0] != tier:
                    problems.append(
                        _at(
                            item,
                            f"spec.slos.{slo.name}.alerting.severity",
                            f"severity {value!r} marks {tier} alerts here but {first[0]} alerts "
                            f"of service {first[1]!r}: one value, one tier, fleet-wide",
                            where=item.metadata_at,
                        )
                    )
                    return


def _check_routing(items: Iterable[_Declared], teams: set[str], problems: list[Problem]) -> None:
    """Once any Team declares receivers, every team whose services alert must have one;
    and spec.routing, whose routes exist only with Teams, needs one declared."""
    if not teams:
        for item in items:
            service = item.value
            assert isinstance(service, Service)
            if service.routing is not None:
                problems.append(
                    _at(
                        item,
                        "spec.routing",
                        "perfdash writes Alertmanager routes only for a fleet that declares "
                        f"Teams: add a `kind: Team` declaration (metadata.name: {service.team}, "
                        "spec.receivers: {page: ..., ticket: ...}), e.g. in slos/teams.yaml",
                        where=item.routing_at,
                    )
                )
        return
    for item in items:
        service = item.value
        assert isinstance(service, Service)
        if service.has_alerts and service.routing is None and service.team not in teams:
            problems.append(
                _at(
                    item,
                    "metadata.team",
                    f"team {service.team!r} has no Team declaration with page and ticket "
                    "receivers (or set spec.routing on the service)",
                    where=item.team_at,
                )
            )
