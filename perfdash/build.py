"""Compile a fleet into every generated file: ``{relative path: text}``.

Rules, their promtool tests and the service dashboards depend on one service each and
are generated in parallel chunks; the overview needs the whole fleet.

Pure: no file is read or written here. ``perfdash.output`` writes or checks the result.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from perfdash import conventions
from perfdash.alertmanager.routing import build_alertmanager_files
from perfdash.conventions import OVERVIEW_UID, dashboard_uid
from perfdash.errors import Problem, SpecError
from perfdash.grafana.dashboards import (
    build_overview,
    build_service_dashboards,
    dashboard_json,
    has_dashboard,
)
from perfdash.grafana.jsonnet import apply_override, build_extra_dashboards, find_overrides
from perfdash.model.fleet import Fleet, Service
from perfdash.parallel import forks, imap_chunks
from perfdash.prometheus.rule_tests import build_rule_test_files
from perfdash.prometheus.rules import build_rule_files
from perfdash.spec.load import declaration_candidates
from perfdash.spec.validate import MissingRunbook, load_fleet, load_fleet_then

R = TypeVar("R")

# Folders whose perfdash-generated files a build owns: it may replace or delete them.
OWNED_DIRS = ("alerts/rules", "alerts/tests", "alerts/alertmanager", "dashboards")


def build_artifacts(
    fleet: Fleet, *, jobs: int | None = None, jsonnet_dir: Path | None = None
) -> dict[str, str]:
    """Every generated file. With ``jsonnet_dir``, dashboard overrides found there (or
    declared) are applied and extra Jsonnet dashboards built; without, no file is read."""
    artifacts: dict[str, str] = {}
    for part in iter_artifacts(fleet, jobs=jobs, jsonnet_dir=jsonnet_dir):
        artifacts.update(part)
    return dict(sorted(artifacts.items()))


def iter_artifacts(
    fleet: Fleet, *, jobs: int | None = None, jsonnet_dir: Path | None = None
) -> Iterator[dict[str, str]]:
    """The generated files in parts, as worker processes finish them: a large fleet's
    output can be written while the rest is generated, without holding all of it."""
    return iter_processed(fleet, _unchanged, jobs=jobs, jsonnet_dir=jsonnet_dir)


def iter_processed(
    fleet: Fleet,
    process: Callable[[dict[str, str]], R],
    *,
    jobs: int | None = None,
    jsonnet_dir: Path | None = None,
) -> Iterator[R]:
    """``process`` of each part of the generated files, applied where the part is made
    (in the worker, for large fleets): the caller's edge, e.g. staging the files, runs
    in parallel and only its small result travels back."""
    overrides = find_overrides(fleet.services, jsonnet_dir) if jsonnet_dir else {}
    extra = build_extra_dashboards(jsonnet_dir) if jsonnet_dir else {}
    _check_unique_uids(fleet, extra)
    generate = partial(_service_artifacts, overrides=overrides, jsonnet_dir=jsonnet_dir)
    yield from imap_chunks(partial(_then, generate, process), fleet.services, jobs=jobs)
    yield process(_fleet_wide_files(fleet, extra))


def process_declarations(
    paths: Sequence[str | os.PathLike[str]],
    process: Callable[[dict[str, str]], R],
    *,
    jobs: int | None = None,
    jsonnet_dir: Path | None = None,
    missing_runbook: MissingRunbook = "error",
    on_fleet: Callable[[Fleet], None] | None = None,
) -> Iterator[R]:
    """Load, check and generate in one pass of worker processes: each worker reads a
    chunk of the declaration files, generates the files of the services it found, and
    applies ``process`` to them (e.g. stages them on disk); only ``process``'s small
    result comes back. (With too few files to share out, the fleet is loaded first and
    its services shared out instead, as ``iter_processed`` does.)

    Once every chunk is in and the whole fleet is valid, ``on_fleet(fleet)`` runs (the
    caller's last chance to refuse, e.g. merging an Alertmanager base), then the
    fleet-wide files (overview, Alertmanager routes, extra Jsonnet dashboards) are
    processed last. Invalid declarations raise SpecError with every problem once the
    workers are done, while iterating: whatever ``process`` left behind is the caller's
    to discard, as for any error while iterating (``output.write_output`` does).
    """
    candidates = declaration_candidates(paths)
    if not forks(len(candidates), jobs=jobs):
        # Few files (perhaps of many services each): load them, then spread the
        # services, not the files, over the workers.
        fleet = load_fleet(paths, jobs=jobs, missing_runbook=missing_runbook)
        if on_fleet is not None:
            on_fleet(fleet)
        yield from iter_processed(fleet, process, jobs=jobs, jsonnet_dir=jsonnet_dir)
        return
    generate = partial(_generate_chunk, process=process, jsonnet_dir=jsonnet_dir)
    fleet, parts = load_fleet_then(candidates, generate, jobs=jobs, missing_runbook=missing_runbook)
    extra = build_extra_dashboards(jsonnet_dir) if jsonnet_dir else {}
    _check_unique_uids(fleet, extra)
    if on_fleet is not None:
        on_fleet(fleet)
    yield from parts
    yield process(_fleet_wide_files(fleet, extra))


def _fleet_wide_files(fleet: Fleet, extra: Mapping[str, dict[str, Any]]) -> dict[str, str]:
    """The files that need the whole fleet: overview, extra Jsonnet dashboards, routes."""
    tail = {path: dashboard_json(d) for path, d in {**build_overview(fleet), **extra}.items()}
    return {**tail, **build_alertmanager_files(fleet)}


def _generate_chunk(
    services: Sequence[Service],
    *,
    process: Callable[[dict[str, str]], R],
    jsonnet_dir: Path | None,
) -> R:
    overrides = find_overrides(tuple(services), jsonnet_dir) if jsonnet_dir else {}
    return process(_service_artifacts(services, overrides=overrides, jsonnet_dir=jsonnet_dir))


def _unchanged(part: dict[str, str]) -> dict[str, str]:
    return part


def _then(
    generate: Callable[[Sequence[Service]], dict[str, str]],
    process: Callable[[dict[str, str]], R],
    services: Sequence[Service],
) -> R:
    return process(generate(services))


def _service_artifacts(
    services: Sequence[Service], *, overrides: Mapping[str, str], jsonnet_dir: Path | None
) -> dict[str, str]:
    """Files that depend on these services alone: rules, their tests, dashboards."""
    subset = Fleet(tuple(services))
    dashboards = build_service_dashboards(services)
    for service in services:
        if service.name in overrides and jsonnet_dir is not None:
            path = conventions.dashboard_path(service.team, service.name)
            dashboards[path] = apply_override(
                dashboards[path], overrides[service.name], jsonnet_dir=jsonnet_dir
            )
    rendered = {path: dashboard_json(d) for path, d in dashboards.items()}
    return {**build_rule_files(subset), **build_rule_test_files(subset), **rendered}


def _check_unique_uids(fleet: Fleet, extra: Mapping[str, dict[str, Any]]) -> None:
    """Extra Jsonnet dashboards must not take a generated dashboard's uid."""
    taken = {
        dashboard_uid(s.name): conventions.dashboard_path(s.team, s.name)
        for s in fleet.services
        if has_dashboard(s)
    }
    taken[OVERVIEW_UID] = conventions.OVERVIEW_PATH
    for path, dashboard in extra.items():
        uid = dashboard.get("uid")
        if uid in taken:
            raise SpecError(
                [
                    Problem(
                        path, 0, 0, "uid", f"dashboard uid {uid!r} is already used by {taken[uid]}"
                    )
                ]
            )
