"""The perfdash command line: parse options, call the library, print.

This is the only module that writes to stdout/stderr or decides exit codes:

    0    success
    1    invalid declarations, a failed check (stale output, failing rule tests),
         or a refusal by promtool
    2    usage error; `plan --detailed-exitcode`: changes are present
    70   a bug in perfdash (the traceback is printed; please report it)
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import click

from perfdash import __version__, conventions
from perfdash.errors import OutputError, PerfdashError

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
EXIT_CODES_HELP = """\b
Exit status:
  0    success
  1    invalid input, a failed check, or a tool/server refused
  2    usage error; `plan --detailed-exitcode`: changes are present
  70   internal error (a bug: please report it)
  130  interrupted
"""
DEFAULT_PATHS = ("slos",)


# Commands in their own modules, imported only when run or listed: the baseline and
# deploy commands pull in HTTP and statistics code that `perfdash build` never uses.
LAZY_COMMANDS = {
    "apply": "perfdash.commands.apply:apply",
    "baseline": "perfdash.commands.baseline:baseline",
    "plan": "perfdash.commands.plan:plan",
    "preview": "perfdash.commands.preview:preview",
}


class PerfdashGroup(click.Group):
    """Turns every PerfdashError into ``Error: ...`` on stderr with its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module_name, attribute = LAZY_COMMANDS[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PerfdashError as exc:
            error = click.ClickException(str(exc))
            error.exit_code = exc.exit_code  # type: ignore[misc]  # per instance, by design
            raise error from exc


def paths_argument(function: F) -> F:
    return click.argument("paths", nargs=-1, type=click.Path(path_type=Path))(function)


def out_option(function: F) -> F:
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Folder that holds alerts/ (and dashboards/).",
    )(function)


def jsonnet_option(function: F) -> F:
    return click.option(
        "--jsonnet-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("dashboards"),
        show_default=True,
        help="Folder of dashboard overrides (overrides/<service>.libsonnet) and extra "
        "dashboards (src/*.jsonnet).",
    )(function)


def runbook_option(function: F) -> F:
    return click.option(
        "--missing-runbook",
        type=click.Choice(["error", "warn"]),
        default="error",
        show_default=True,
        help="A service with alerts but no runbook URL is an error, or only a warning.",
    )(function)


def _load(paths: Sequence[Path], *, missing_runbook: str = "error", warn: bool = True) -> Any:
    """Load the fleet; warnings go to stderr (errors raise and become exit status 1)."""
    from perfdash.spec import load_fleet

    fleet = load_fleet(
        paths or [Path(p) for p in DEFAULT_PATHS],
        missing_runbook=missing_runbook,  # type: ignore[arg-type]  # a click.Choice
    )
    if warn:
        _warn(fleet)
    return fleet


def _warn(fleet: Any) -> None:
    for warning in fleet.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.group(cls=PerfdashGroup, context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "-V", "--version", prog_name="perfdash")
def cli() -> None:
    """SLOs, burn-rate alerts and dashboards as code for Prometheus and Grafana.

    Declarations live in slos/*.yaml; `perfdash build` compiles them into
    alerts/ (Prometheus rules and their promtool tests).
    """


@cli.command(epilog=EXIT_CODES_HELP)
@paths_argument
@runbook_option
def validate(paths: tuple[Path, ...], missing_runbook: str) -> None:
    """Check declarations and report every problem as FILE:LINE:COL.

    PATHS are files or folders (default: slos/).

    \b
    Example:
      perfdash validate
      perfdash validate slos/checkout.yaml
    """
    fleet = _load(paths, missing_runbook=missing_runbook)
    teams = f", {len(fleet.teams)} teams" if fleet.teams else ""
    click.echo(f"ok: {len(fleet.services)} services, {fleet.slo_count} SLOs{teams}")


@cli.command(epilog=EXIT_CODES_HELP)
@paths_argument
@out_option
@jsonnet_option
@runbook_option
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 if generated files are missing or stale."
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
    default="files",
    show_default=True,
    help="prometheus-rule: also write alerts/kubernetes/<service>.yaml, PrometheusRule "
    "manifests (monitoring.coreos.com/v1) of the same rule groups.",
)
@click.option(
    "--alertmanager-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("alertmanager.yml"),
    show_default=True,
    help="Where the merged configuration goes (it holds your receivers' secrets: do not commit).",
)
def build(
    paths: tuple[Path, ...],
    out_dir: Path,
    jsonnet_dir: Path,
    missing_runbook: str,
    check: bool,
    provisioning: Path | None,
    provisioning_path: str | None,
    alertmanager_base: Path | None,
    output_format: str,
    alertmanager_out: Path,
) -> None:
    """Compile declarations into alerts/ (rules, promtool tests) and dashboards/.

    Writes are atomic and only touch files perfdash generated; unchanged input gives
    byte-identical output.

    \b
    Example:
      perfdash build
      perfdash build --check          # in CI: is the committed output fresh?
      perfdash build slos/ --out /tmp/preview
      perfdash build --provisioning /etc/grafana/perfdash
      perfdash build --alertmanager-base am/base.yml --alertmanager-out am/alertmanager.yml
      perfdash build --format prometheus-rule   # + alerts/kubernetes/*.yaml
    """
    from perfdash.alertmanager.merge import merge_into_base
    from perfdash.build import OWNED_DIRS, build_artifacts, process_declarations
    from perfdash.grafana.provisioning import provisioning_files
    from perfdash.output import (
        check_output,
        check_part,
        stage_part,
        staging_suffix,
        write_file,
        write_output,
    )

    base = alertmanager_base.read_text(encoding="utf-8") if alertmanager_base else None
    merged: list[str] = []  # the merged Alertmanager configuration, once the fleet is valid

    def on_fleet(fleet: Any) -> None:
        _warn(fleet)
        if base is not None:  # merged before any write: a bad base writes nothing
            merged.append(merge_into_base(fleet, base, base_name=str(alertmanager_base)))

    owned: tuple[str, ...] = OWNED_DIRS
    suffix = staging_suffix()
    if output_format == "files" and provisioning is None:
        # One pass of workers loads, checks, generates and compares or stages each chunk.
        on_disk = (
            partial(check_part, out_dir) if check else partial(stage_part, out_dir, suffix=suffix)
        )
        artifacts: Any = process_declarations(
            paths or DEFAULT_PATHS,
            on_disk,
            jsonnet_dir=jsonnet_dir,
            missing_runbook=missing_runbook,  # type: ignore[arg-type]  # a click.Choice
            on_fleet=on_fleet,
        )
    else:
        fleet = _load(paths, missing_runbook=missing_runbook, warn=False)
        on_fleet(fleet)
        artifacts = build_artifacts(fleet, jsonnet_dir=jsonnet_dir)
        if output_format == "prometheus-rule":
            from perfdash.prometheus.operator import prometheus_rule_manifests

            artifacts = {**artifacts, **prometheus_rule_manifests(artifacts)}
            owned = (*owned, conventions.KUBERNETES_DIR)
    if check:
        _report_staleness(check_output(out_dir, artifacts, owned))
        return
    click.echo(_written(write_output(out_dir, artifacts, owned, suffix=suffix)))
    if provisioning is not None:
        where = provisioning_path or str((provisioning / "dashboards").resolve())
        files = provisioning_files(artifacts, grafana_path=where)
        click.echo("provisioning: " + _written(write_output(provisioning, files, ("",))))
    if merged:
        write_file(alertmanager_out, merged[0])
        click.echo(f"wrote {alertmanager_out} (merged with {alertmanager_base})")


def _written(report: Any) -> str:
    total = len(report.written) + len(report.unchanged)
    return (
        f"wrote {len(report.written)}, unchanged {len(report.unchanged)}, "
        f"removed {len(report.removed)} (of {total} generated files)"
    )


def _report_staleness(staleness: Any) -> None:
    if staleness.clean:
        click.echo(f"ok: {staleness.checked} generated files are up to date")
        return
    for label, items in (
        ("missing", staleness.missing),
        ("stale", staleness.stale),
        ("extra", staleness.extra),
    ):
        for item in items:
            click.echo(f"{label}: {item}", err=True)
    raise OutputError("generated files are out of date: run `perfdash build` and commit the result")


@cli.command(name="test", epilog=EXIT_CODES_HELP)
@paths_argument
@out_option
@jsonnet_option
@runbook_option
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="promtool processes at once (default: CPUs).",
)
def test_command(
    paths: tuple[Path, ...],
    out_dir: Path,
    jsonnet_dir: Path,
    missing_runbook: str,
    jobs: int | None,
) -> None:
    """Run promtool check rules and the generated promtool unit tests, per SLO.

    The output under --out must be fresh (run `perfdash build` first).

    \b
    Example:
      perfdash build && perfdash test
    """
    from perfdash.build import OWNED_DIRS, build_artifacts
    from perfdash.output import check_output
    from perfdash.render import test_failures, test_report_text
    from perfdash.verify.routes import run_routing_checks
    from perfdash.verify.rules import run_rule_checks

    fleet = _load(paths, missing_runbook=missing_runbook)
    if not check_output(out_dir, build_artifacts(fleet, jsonnet_dir=jsonnet_dir), OWNED_DIRS).clean:
        raise OutputError(
            f"the output in {out_dir} is not what the declarations generate: run `perfdash build`"
        )
    report = run_rule_checks(fleet, out_dir, jobs=jobs)
    routing = run_routing_checks(out_dir)
    click.echo(test_report_text(report, routing))
    failed = test_failures(report, routing)
    if failed:
        raise OutputError(failed)


@cli.command(epilog=EXIT_CODES_HELP)
def schema() -> None:
    """Print the JSON Schema of perfdash/v1 declarations.

    Editors validate and complete declarations with it: save it and add
    `# yaml-language-server: $schema=perfdash-v1.schema.json` on top of each file.

    \b
    Example:
      perfdash schema > perfdash-v1.schema.json
    """
    from perfdash.spec.schema import schema_text

    click.echo(schema_text(), nl=False)


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("target", metavar="SERVICE[/SLO]")
@click.option(
    "-p",
    "--path",
    "paths",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Declaration file or folder (repeatable; default: slos/).",
)
def explain(target: str, paths: tuple[Path, ...]) -> None:
    """Show an SLO's error budget and, per alert, its burn factor, detection time and
    time to exhaustion (the SRE Workbook's table, computed).

    \b
    Example:
      perfdash explain checkout/availability
      perfdash explain checkout
    """
    from perfdash.explain import explain as explain_slo
    from perfdash.render import explanation_text

    for index, explanation in enumerate(explain_slo(_load(paths), target)):
        if index:
            click.echo()
        click.echo(explanation_text(explanation))


@cli.command(epilog=EXIT_CODES_HELP)
@paths_argument
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("docs/runbooks"),
    show_default=True,
    help="Folder of runbooks: <service>.md stubs are written here when missing.",
)
@click.option(
    "--template",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Your own Jinja2 template (default: perfdash's; see perfdash/templates/).",
)
@click.option("--grafana-url", default="", help="Grafana base URL, for absolute dashboard links.")
def runbooks(
    paths: tuple[Path, ...], out_dir: Path, template: Path | None, grafana_url: str
) -> None:
    """Write a Markdown runbook stub for every service that has none yet.

    Each SLO gets a section (its name is the anchor alerts link to) with the objective,
    budget, alert table and first queries. Existing files are never overwritten.

    \b
    Example:
      perfdash runbooks --out docs/runbooks --grafana-url https://grafana.example.com
    """
    from perfdash.output import write_file
    from perfdash.runbooks import plan_runbooks

    existing = {p.name for p in out_dir.glob("*.md")} if out_dir.is_dir() else set()
    plan = plan_runbooks(
        _load(paths, missing_runbook="warn"),
        existing,
        template=template.read_text(encoding="utf-8") if template else None,
        template_name=str(template or "runbook.md.j2"),
        grafana_url=grafana_url,
    )
    for name, text in plan.written.items():
        write_file(out_dir / name, text)
        click.echo(f"wrote {out_dir / name}")
    for name in plan.kept:
        click.echo(f"kept {out_dir / name} (exists)")


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: maps bugs to exit 70 and Ctrl-C to 130."""
    try:
        returned = cli.main(args=argv, prog_name="perfdash", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception:
        traceback.print_exc()
        click.echo(
            "perfdash crashed: this is a bug. Please report it with the traceback above.", err=True
        )
        sys.exit(70)
    sys.exit(returned if isinstance(returned, int) else 0)
