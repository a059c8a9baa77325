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
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from perfdash import conventions
from perfdash.build import OUTPUT_KINDS, Output, OutputKind, build_parts
from perfdash.errors import OutputError
from perfdash.grafana.provisioning import provisioning_files
from perfdash.model.fleet import Fleet
from perfdash.output import Manifest, OutputPlan, plan_output, read_manifest, recover
from perfdash.output.commit import Staging
from perfdash.output.plan import PartPlan, Scope, finish_plan, plan_part
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
    plan: OutputPlan
    kinds: tuple[OutputKind, ...]
    complete: bool  # every declaration was read: the fleet-wide files are included
    recovered: bool  # an interrupted build's write was completed first
    staging: Staging | None = None  # the files staged already (None: nothing staged)
    rule_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # the generated files, kept on request

    @property
    def partial(self) -> bool:
        return not self.complete


def plan_build(
    paths: Sequence[Path],
    *,
    out_dir: Path,
    jsonnet_dir: Path | None,
    kinds: Sequence[OutputKind] | None = None,
    force: bool = False,
    missing_runbook: MissingRunbook = "error",
    jobs: int | None = None,
    stage: bool = False,
    keep_files: bool = False,
) -> BuildPlan:
    """Everything ``perfdash build`` does short of committing: load, generate, compare
    with ``out_dir`` and (``stage``) stage the new files where each part is generated,
    so the output never travels between processes (``keep_files`` keeps a copy, for
    --provisioning). ``kinds`` None: the kinds the folder was last built with."""
    recovered = recover(out_dir)
    fleet = load_fleet(paths or DEFAULT_DECLARATIONS, missing_runbook=missing_runbook, jobs=jobs)
    manifest = read_manifest(out_dir) or Manifest()
    chosen = tuple(kinds or _recorded_kinds(manifest.kinds))
    loaded = frozenset(service.source for service in fleet.services)
    recorded = {e.source for e in manifest.files.values() if e.source}
    complete = not {source for source in recorded - loaded if os.path.exists(source)}
    scope = Scope(complete, loaded)
    staging = Staging(out_dir, OUTPUT_FOLDERS) if stage else None
    plan_one = partial(
        _plan_part, root=out_dir, manifest=manifest, scope=scope, force=force, stage=staging
    )
    parts = []
    groups: dict[str, dict[str, Any]] = {}
    files: dict[str, str] = {}
    try:
        for part, part_groups, part_files in build_parts(
            fleet,
            partial(plan_one, keep_files=keep_files),
            jobs=jobs,
            jsonnet_dir=jsonnet_dir,
            kinds=chosen,
            services=None if complete else {s.name for s in fleet.services},
        ):
            parts.append(part)
            groups.update(part_groups)
            files.update(part_files)
        plan = finish_plan(
            out_dir,
            parts,
            manifest=manifest,
            kinds=chosen,
            scope=scope,
            force=force,
            folders=OUTPUT_FOLDERS,
        )
    except BaseException:
        if staging is not None:
            staging.discard()
        raise
    return BuildPlan(fleet, plan, chosen, complete, recovered, staging, groups, files)


def _plan_part(
    output: Output,
    *,
    root: Path,
    manifest: Manifest,
    scope: Scope,
    force: bool,
    stage: Staging | None,
    keep_files: bool,
) -> tuple[PartPlan, dict[str, dict[str, Any]], dict[str, str]]:
    part = plan_part(
        root,
        output.files,
        sources=output.sources,
        manifest=manifest,
        scope=scope,
        force=force,
        stage=stage,
    )
    return part, output.rule_groups, output.files if keep_files else {}


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
    dashboards, a folder per team, tracked by a manifest of their own in DIR (``build``
    must have kept its files)."""
    recover(directory)
    where = grafana_path or str((directory / conventions.DASHBOARDS_DIR).resolve())
    files = provisioning_files(build.files, grafana_path=where)
    return plan_output(
        directory,
        files,
        sources={},
        kinds=("provisioning",),
        scope=Scope(build.complete),
        force=force,
        folders=(conventions.DASHBOARDS_DIR,),
    )
