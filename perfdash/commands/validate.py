"""``perfdash validate``: check declarations and report every problem."""

from __future__ import annotations

from pathlib import Path

import click

from perfdash.commands.options import (
    EXIT_CODES_HELP,
    echo,
    load_declarations,
    paths_argument,
    runbook_option,
)


@click.command(epilog=EXIT_CODES_HELP)
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
    fleet = load_declarations(paths, missing_runbook=missing_runbook)
    teams = f", {len(fleet.teams)} teams" if fleet.teams else ""
    echo(f"ok: {len(fleet.services)} services, {fleet.slo_count} SLOs{teams}")
