"""``perfdash check``: compare the declarations with what a live Prometheus has."""

from __future__ import annotations

from pathlib import Path

import click

from perfdash.commands.options import EXIT_CODES_HELP, paths_argument


@click.command(epilog=EXIT_CODES_HELP)
@paths_argument
@click.option(
    "--prometheus-url",
    metavar="URL",
    required=True,
    envvar="PERFDASH_PROMETHEUS_URL",
    help="Prometheus (or a compatible query API) that scrapes the services [env "
    "PERFDASH_PROMETHEUS_URL].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds per request.",
)
def check(paths: tuple[Path, ...], prometheus_url: str, timeout: float) -> None:
    """Check every SLI against a live Prometheus: its metrics and labels exist and match
    series, latency thresholds are bucket boundaries, raw PromQL returns data. Problems
    are reported as FILE:LINE:COL (exit 1), warnings on stderr.

    PATHS are declaration files or folders (default: slos/).

    \b
    Example:
      perfdash check --prometheus-url http://localhost:9090
      perfdash check slos/payments/ --prometheus-url http://prometheus:9090
    """
    from perfdash.commands.options import load_declarations
    from perfdash.errors import SpecError
    from perfdash.live.check import check_fleet
    from perfdash.live.prometheus import PrometheusAPI

    fleet = load_declarations(paths, missing_runbook="warn")
    with PrometheusAPI(prometheus_url, timeout=timeout) as api:
        report = check_fleet(fleet, api)
    for warning in sorted(report.warnings):
        click.echo(f"warning: {warning}", err=True)
    if report.problems:
        raise SpecError(report.problems)
    click.echo(
        f"ok: {report.checked_slos} SLOs of {len(fleet.services)} services measure live series "
        f"on {api.url}"
    )
