"""``perfdash explain``: an SLO's budget and alert table, computed."""

from __future__ import annotations

from pathlib import Path

import click

from perfdash.commands.options import EXIT_CODES_HELP, echo, load_declarations


@click.command(epilog=EXIT_CODES_HELP)
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
    from perfdash.explain import explanation_text

    for index, explanation in enumerate(explain_slo(load_declarations(paths), target)):
        if index:
            echo()
        echo(explanation_text(explanation))
