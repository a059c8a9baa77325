"""``perfdash import``: Sloth, Pyrra and OpenSLO files as perfdash/v1 declarations."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from perfdash.commands.options import EXIT_CODES_HELP, runbook_option


@click.command("import", epilog=EXIT_CODES_HELP)
@click.argument("source", type=click.Choice(["sloth", "pyrra", "openslo"]))
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("slos"),
    show_default=True,
    help="Declarations folder: each service goes to <out>/<team>/<service>.yaml.",
)
@click.option("--team", help="Team of services whose files name none (Sloth, Pyrra often don't).")
@click.option(
    "--tier", type=click.IntRange(1, 4), help="Tier (1..4) of services that name none [2]."
)
@click.option("--runbook", metavar="URL", help="Runbook URL of services that name none.")
@click.option(
    "--service",
    help="Put every imported SLO into this one service (Pyrra SLOs are otherwise grouped by "
    "the job they select).",
)
@click.option(
    "--window",
    default="30d",
    show_default=True,
    callback=lambda ctx, param, value: _duration(value),
    help="SLO window of Sloth SLOs (Sloth's --default-slo-period; not in its files).",
)
@click.option(
    "--series-prefix",
    metavar="PREFIX",
    help="Record the imported services' series under this prefix (e.g. perfdash:), so they "
    "cannot mix with the old tool's while both run (spec.rules.series_prefix).",
)
@click.option(
    "--explain", is_flag=True, help="Also list what behaves differently after the import."
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the declarations; write nothing.")
@click.option("--force", is_flag=True, help="Replace declaration files that exist already.")
@runbook_option
def import_command(
    source: str,
    paths: tuple[Path, ...],
    out_dir: Path,
    team: str | None,
    tier: int | None,
    runbook: str | None,
    service: str | None,
    window: str,
    series_prefix: str | None,
    explain: bool,
    to_stdout: bool,
    force: bool,
    missing_runbook: str,
) -> None:
    """Translate SOURCE files (sloth, pyrra or openslo) into perfdash/v1 declarations,
    one file per service, validated like any other; nothing is written if any problem
    is found (each reported as FILE:LINE:COL of the imported file).

    \b
    Sloth:   prometheus/v1 specs and sloth.slok.dev/v1 PrometheusServiceLevel
    Pyrra:   pyrra.dev/v1alpha1 ServiceLevelObjective
    OpenSLO: openslo/v1 Service, SLO, SLI, DataSource

    \b
    Example:
      perfdash import sloth sloth/ --team payments --explain --series-prefix perfdash:
      perfdash import pyrra pyrra/slos/ --service checkout --runbook https://runbooks.example.com/checkout
      perfdash import openslo openslo.yaml --stdout
    """
    from perfdash.output import write_file
    from perfdash.spec.fleet import MissingRunbook
    from perfdash.spec.importers import ImportOptions, explain_text, import_declarations

    options = ImportOptions(
        team=team,
        tier=tier,
        runbook=runbook,
        service=service,
        window=window,
        series_prefix=series_prefix,
    )
    result = import_declarations(
        source,
        paths,
        out_dir=out_dir,
        options=options,
        missing_runbook=cast(MissingRunbook, missing_runbook),
        force=force or to_stdout,
    )
    for file in result.files:
        if to_stdout:
            click.echo(f"--- # {file.path}\n{file.text}", nl=False)
        else:
            write_file(file.path, file.text)
            click.echo(f"{'replaced' if file.exists else 'wrote'} {file.path}", err=True)
    if explain:
        click.echo(("\n" if to_stdout else "") + explain_text(result.changes))


def _duration(value: str) -> str:
    from perfdash.durations import Duration

    try:
        return str(Duration.parse(value))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
