"""``perfdash init``: start a repository of declarations."""

from __future__ import annotations

from pathlib import Path

import click

from perfdash.commands.options import EXIT_CODES_HELP


@click.command(epilog=EXIT_CODES_HELP)
@click.argument(
    "directory", required=False, default=Path("."), type=click.Path(file_okay=False, path_type=Path)
)
@click.option("--team", required=True, help="Owning team: Grafana folder and alert label.")
@click.option("--service", required=True, help="The first service to declare.")
@click.option("--job", help="Prometheus job label of the service [default: the service name].")
@click.option(
    "--tier",
    type=click.IntRange(1, 4),
    default=2,
    show_default=True,
    help="Criticality: alerts get priority P<tier>.",
)
@click.option("--runbook", metavar="URL", help="Runbook URL (alerts link <URL>#<slo>).")
@click.option(
    "--prometheus-url",
    metavar="URL",
    help="Propose SLIs from what this Prometheus has for the job (its request counter and "
    "duration histogram) instead of default metric names.",
)
@click.option("--page-receiver", help="Alertmanager receiver for pages [<team>-pager].")
@click.option("--ticket-receiver", help="Alertmanager receiver for tickets [<team>-tickets].")
@click.option("--force", is_flag=True, help="Replace files that exist already.")
def init(
    directory: Path,
    team: str,
    service: str,
    job: str | None,
    tier: int,
    runbook: str | None,
    prometheus_url: str | None,
    page_receiver: str | None,
    ticket_receiver: str | None,
    force: bool,
) -> None:
    """Scaffold a repository: slos/ with a Team and a Service (SLIs from a live
    Prometheus with --prometheus-url), the JSON Schema the editor modeline points to,
    the CI workflows (plan on pull requests, apply on main) and a .gitattributes that
    collapses generated files in pull-request diffs. Nothing is written if a file exists
    (without --force) or the declarations would not validate.

    \b
    Example:
      perfdash init --team payments --service checkout --runbook https://runbooks.example.com/checkout
      perfdash init --team payments --service checkout --job checkout-api \\
                    --prometheus-url http://localhost:9090 --runbook https://runbooks.example.com/checkout
    """
    from perfdash.errors import OutputError
    from perfdash.output import write_file
    from perfdash.scaffold import GITATTRIBUTES, Scaffold, merged_gitattributes, scaffold_files

    discovered = None
    if prometheus_url:
        from perfdash.errors import NotFoundError
        from perfdash.live.discover import discover
        from perfdash.live.prometheus import PrometheusAPI

        with PrometheusAPI(prometheus_url) as api:
            discovered = discover(api, job or service)
        if not (discovered.requests or discovered.histogram):
            raise NotFoundError(
                f"job {discovered.job!r} has no request counter with a status code label and "
                f"no histogram: its metrics are {', '.join(discovered.metrics[:20])}"
            )
    files = scaffold_files(
        Scaffold(
            team=team,
            service=service,
            job=job or service,
            tier=tier,
            runbook=runbook,
            page_receiver=page_receiver,
            ticket_receiver=ticket_receiver,
            discovered=discovered,
        )
    )
    attributes = directory / GITATTRIBUTES
    if attributes.is_file():
        files[GITATTRIBUTES] = merged_gitattributes(attributes.read_text(encoding="utf-8"))
    existing = [p for p in files if p != GITATTRIBUTES and (directory / p).exists()]
    if existing and not force:
        raise OutputError(
            "exist already (nothing written; --force replaces them): " + ", ".join(existing),
            paths=existing,
        )
    for relative, text in files.items():
        write_file(directory / relative, text)
        click.echo(f"wrote {directory / relative}", err=True)
    click.echo("next: perfdash validate && perfdash build && perfdash test")
