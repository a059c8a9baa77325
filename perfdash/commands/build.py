"""``perfdash build``: compile declarations into alerts/ and dashboards/."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from perfdash.build import OutputKind
from perfdash.commands.options import (
    EXIT_CODES_HELP,
    echo,
    echo_warnings,
    jobs_option,
    jsonnet_option,
    out_option,
    paths_argument,
    runbook_option,
)
from perfdash.errors import OutputError
from perfdash.output import MANIFEST_PATH, OutputPlan
from perfdash.output.commit import Staging
from perfdash.pipeline import BuildPlan
from perfdash.spec import MissingRunbook


@click.command(epilog=EXIT_CODES_HELP)
@paths_argument
@out_option
@jsonnet_option
@runbook_option
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if generated files are missing or stale."
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite or delete generated files edited since perfdash wrote them, and files "
    "perfdash did not write that are in the way of generated ones.",
)
@click.option(
    "--provisioning",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write a Grafana dashboard provider and the dashboards, a folder per team, here.",
)
@click.option(
    "--provisioning-path",
    help="Where Grafana sees PROVISIONING/dashboards (default: its absolute path here).",
)
@click.option(
    "--alertmanager-base",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Your alertmanager.yml: write it with perfdash's routes and inhibit rules merged in.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["files", "prometheus-rule"]),
    default=None,
    help="prometheus-rule: also write alerts/kubernetes/<service>.yaml, PrometheusRule "
    "manifests (monitoring.coreos.com/v1) of the same rule groups. Default: what the "
    "output folder was last built with (files for a new one).",
)
@click.option(
    "--alertmanager-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("alertmanager.yml"),
    show_default=True,
    help="Where the merged configuration goes (it holds your receivers' secrets: do not commit).",
)
@jobs_option
def build(
    paths: tuple[Path, ...],
    out_dir: Path,
    jsonnet_dir: Path,
    missing_runbook: str,
    check: bool,
    force: bool,
    provisioning: Path | None,
    provisioning_path: str | None,
    alertmanager_base: Path | None,
    output_format: str | None,
    alertmanager_out: Path,
    jobs: int | None,
) -> None:
    """Compile declarations into alerts/ (rules, promtool tests) and dashboards/.

    Writes are all or nothing, and touch only files perfdash recorded as its own in
    .perfdash/manifest.json (and that still hold what it wrote); unchanged input gives
    byte-identical output. Given some declaration files, only what those generate is
    rebuilt: nothing the other declarations generated is removed.

    \b
    Example:
      perfdash build
      perfdash build --check          # in CI: is the committed output fresh?
      perfdash build slos/payments/checkout.yaml
      perfdash build slos/ --out /tmp/preview
      perfdash build --provisioning /etc/grafana/perfdash
      perfdash build --alertmanager-base am/base.yml --alertmanager-out am/alertmanager.yml
      perfdash build --format prometheus-rule   # + alerts/kubernetes/*.yaml
    """
    from perfdash.alertmanager.merge import merge_into_base
    from perfdash.output import write_file, write_plan
    from perfdash.pipeline import plan_build, plan_provisioning

    built = plan_build(
        paths,
        out_dir=out_dir,
        jsonnet_dir=jsonnet_dir,
        kinds=FORMATS.get(output_format or ""),
        force=force,
        missing_runbook=cast(MissingRunbook, missing_runbook),
        jobs=jobs,
        stage=not check,  # the workers stage the new files where they make them
        keep_files=provisioning is not None,
    )
    try:
        echo_warnings(built.fleet)
        plans = [("", built.plan, built.staging)]
        if provisioning is not None:
            where = plan_provisioning(
                built, provisioning, grafana_path=provisioning_path, force=force
            )
            plans.append(("provisioning: ", where, None))
        merged = None
        if alertmanager_base is not None:  # merged before any write: a bad base writes nothing
            base = alertmanager_base.read_text(encoding="utf-8")
            merged = merge_into_base(built.fleet, base, base_name=str(alertmanager_base))
        _notes(built, out_dir)
        _conflicts(plans)
        if check:
            _check(plans)
            echo(f"ok: {len(built.plan.unchanged)} generated files are up to date")
            return
        for label, plan, staging in plans:
            report = write_plan(plan, staging)
            total = len(report.written) + len(report.unchanged)
            echo(
                f"{label}wrote {len(report.written)}, unchanged {len(report.unchanged)}, "
                f"removed {len(report.removed)} (of {total} generated files)"
            )
    except BaseException:
        if built.staging is not None:
            built.staging.discard()  # nothing staged may stay behind; committed files stay
        raise
    if merged is not None:
        write_file(alertmanager_out, merged)
        echo(f"wrote {alertmanager_out} (merged with {alertmanager_base})")


FORMATS: dict[str, tuple[OutputKind, ...]] = {
    "files": ("files",),
    "prometheus-rule": ("files", "prometheus-rule"),
}
Labelled = list[tuple[str, OutputPlan, Staging | None]]


def _notes(built: BuildPlan, out_dir: Path) -> None:
    if built.recovered:
        echo(f"completed the write of an interrupted build in {out_dir}", err=True)
    if built.partial:
        echo(
            "note: built the given declarations only; files made from the whole fleet "
            "(overview, Alertmanager routes, extra dashboards) were left as they are: "
            "`perfdash build` rebuilds everything",
            err=True,
        )
    for path in built.plan.foreign:
        echo(f"note: {path} is not perfdash's: left alone", err=True)


def _conflicts(plans: Labelled) -> None:
    for label, plan, _ in plans:
        for conflict in plan.conflicts:
            echo(f"conflict: {label}{conflict.path}: {conflict.reason}", err=True)


def _check(plans: Labelled) -> None:
    """``--check``: list every file that is not what the declarations generate."""
    for label, plan, _ in plans:
        for kind, paths in (
            ("missing", plan.created),
            ("stale", plan.updated),
            ("extra", plan.deleted),
        ):
            for path in paths:
                echo(f"{kind}: {label}{path}", err=True)
        if plan.manifest_changed and not (plan.created or plan.updated or plan.deleted):
            echo(f"stale: {label}{MANIFEST_PATH}", err=True)
    if not all(plan.clean for _, plan, _ in plans):
        raise OutputError(
            "generated files are out of date: run `perfdash build` and commit the result"
        )
