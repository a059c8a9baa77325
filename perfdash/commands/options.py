"""Options, help text and helpers every command shares (CLI only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from perfdash.model.fleet import Fleet
from perfdash.terminal import terminal_safe

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CODES_HELP = """\b
Exit status:
  0    success
  1    invalid input, a failed check, or a tool/server refused
  2    usage error; `plan --detailed-exitcode`: changes are present
  70   internal error (a bug: please report it)
  130  interrupted (143: terminated by SIGTERM)
"""


def paths_argument(function: F) -> F:
    return click.argument("paths", nargs=-1, type=click.Path(path_type=Path))(function)


def out_option(function: F) -> F:
    return click.option(
        "--out",
        "out_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Folder that holds alerts/ and dashboards/ (and .perfdash/manifest.json).",
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


def jobs_option(function: F) -> F:
    return click.option(
        "-j",
        "--jobs",
        type=click.IntRange(min=1),
        default=None,
        help="Worker processes at once (default: CPUs, or PERFDASH_JOBS).",
    )(function)


def load_declarations(paths: Sequence[Path], *, missing_runbook: str = "error") -> Fleet:
    """Load the fleet (default: slos/); warnings go to stderr, errors raise (exit 1)."""
    from perfdash.pipeline import DEFAULT_DECLARATIONS
    from perfdash.spec import MissingRunbook, load_fleet

    fleet = load_fleet(
        paths or DEFAULT_DECLARATIONS, missing_runbook=cast(MissingRunbook, missing_runbook)
    )
    echo_warnings(fleet)
    return fleet


def echo_warnings(fleet: Fleet) -> None:
    for warning in fleet.warnings:
        echo(f"warning: {warning}", err=True)


def echo(text: str = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` of text that may carry outside text (file names, declarations,
    promtool's output): control characters are shown, never acted on by the terminal."""
    click.echo(terminal_safe(text), err=err, nl=nl)
