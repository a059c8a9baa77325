"""``perfdash build`` as a library call: load the declarations, generate, and plan the
write into an output folder (``perfdash.output`` carries the plan out).

A build of some declaration files only (``perfdash build slos/checkout.yaml``) answers
for the files generated from those: it never deletes what other declarations generated,
and it leaves the files made from the whole fleet (overview, Alertmanager routes, extra
dashboards) as they are. A build is partial when declaration files that generated the
current output still exist and were not given; otherwise it is complete.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perfdash import conventions
from perfdash.build import OUTPUT_KINDS, Output, OutputKind, build_output
from perfdash.errors import OutputError
from perfdash.grafana.provisioning import provisioning_files
from perfdash.model.fleet import Fleet
from perfdash.output import Entry, OutputPlan, plan_output, read_manifest, recover
from perfdash.spec import MissingRunbook, load_fleet

DEFAULT_DECLARATIONS = (Path("slos"),)
OUTPUT_FOLDERS = (
    conventions.RULES_DIR,
    conventions.TESTS_DIR,
    conventions.ALERTMANAGER_DIR,
    conventions.KUBERNETES_DIR,
    conventions.DASHBOARDS_DIR,
)


@dataclass(frozen=True)
class BuildPlan:
    fleet: Fleet
    output: Output
    plan: OutputPlan
    kinds: tuple[OutputKind, ...]
    recovered: bool  # an interrupted build's write was completed first

    @property
    def partial(self) -> bool:
        return not self.output.complete


def plan_build(
    paths: Sequence[Path],
    *,
    out_dir: Path,
    jsonnet_dir: Path | None,
    kinds: Sequence[OutputKind] | None = None,
    force: bool = False,
    missing_runbook: MissingRunbook = "error",
    jobs: int | None = None,
) -> BuildPlan:
    """Everything ``perfdash build`` does short of writing. ``kinds`` None: the kinds the
    output folder was last built with (``files`` for a new one)."""
    recovered = recover(out_dir)
    fleet = load_fleet(paths or DEFAULT_DECLARATIONS, missing_runbook=missing_runbook, jobs=jobs)
    manifest = read_manifest(out_dir)
    chosen = tuple(kinds or _recorded_kinds(manifest.kinds if manifest else ()))
    loaded = {service.source for service in fleet.services}
    recorded = {e.source for e in manifest.files.values() if e.source} if manifest else set()
    others = {source for source in recorded - loaded if os.path.exists(source)}
    services = None if not others else {service.name for service in fleet.services}
    output = build_output(
        fleet, jobs=jobs, jsonnet_dir=jsonnet_dir, kinds=chosen, services=services
    )

    def in_scope(path: str, entry: Entry) -> bool:
        return output.complete or entry.source in loaded

    plan = plan_output(
        out_dir,
        output.files,
        sources=output.sources,
        digests=output.digests,
        kinds=chosen,
        in_scope=in_scope,
        force=force,
        folders=OUTPUT_FOLDERS,
    )
    return BuildPlan(fleet, output, plan, chosen, recovered)


def _recorded_kinds(recorded: Sequence[str]) -> tuple[OutputKind, ...]:
    kinds = tuple(kind for kind in OUTPUT_KINDS if kind in recorded)
    unknown = set(recorded) - set(OUTPUT_KINDS)
    if unknown:
        raise OutputError(f"the output was built with unknown --format {sorted(unknown)}")
    return kinds or ("files",)


def plan_provisioning(
    build: BuildPlan, directory: Path, *, grafana_path: str | None, force: bool = False
) -> OutputPlan:
    """The write of ``--provisioning DIR``: a Grafana dashboard provider and the
    dashboards, a folder per team, tracked by a manifest of their own in DIR."""
    recover(directory)
    where = grafana_path or str((directory / conventions.DASHBOARDS_DIR).resolve())
    files = provisioning_files(build.output.files, grafana_path=where)
    return plan_output(
        directory,
        files,
        sources={},
        kinds=("provisioning",),
        in_scope=lambda path, entry: build.output.complete,
        force=force,
        folders=(conventions.DASHBOARDS_DIR,),
    )
