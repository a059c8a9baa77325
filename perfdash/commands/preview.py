"""``perfdash preview``: every generated dashboard as an offline HTML page (CLI only)."""

from __future__ import annotations

from pathlib import Path

import click

from perfdash.commands.options import (
    EXIT_CODES_HELP,
    echo,
    jsonnet_option,
    load_declarations,
    paths_argument,
    runbook_option,
)
from perfdash.durations import Duration
from perfdash.preview.scenario import SCENARIOS


def _scrape_seconds(text: str) -> float:
    try:
        return float(Duration.parse(text).seconds)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--scrape-interval") from exc


@click.command(epilog=EXIT_CODES_HELP, short_help="Render every dashboard as an offline HTML page.")
@paths_argument
@jsonnet_option
@runbook_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("preview"), show_default=True,
              help="Folder for <uid>.html per dashboard, index.html and (--png) <uid>.png.")  # fmt: skip
@click.option("--scenario", type=click.Choice(SCENARIOS), default="outage", show_default=True,
              help="Without --prometheus-url: the synthetic traffic a throwaway Prometheus "
              "is filled with (the generated promtool tests' own).")  # fmt: skip
@click.option("--prometheus-url", envvar="PERFDASH_PROMETHEUS_URL", show_envvar=True,
              help="Query this Prometheus instead, over each dashboard's default time range.")  # fmt: skip
@click.option("--scrape-interval", default="15s", show_default=True,
              help="With --prometheus-url: the scrape interval Grafana's data source assumes "
              "($__rate_interval, the smallest step).")  # fmt: skip
@click.option("--dashboard", "dashboards", multiple=True, metavar="UID|PATH",
              help="Only these dashboards (repeatable; default: all).")  # fmt: skip
@click.option("--png", is_flag=True, help="Also a screenshot of each page (headless Chromium).")
def preview(paths: tuple[Path, ...], jsonnet_dir: Path, missing_runbook: str, out_dir: Path,
            scenario: str, prometheus_url: str | None, scrape_interval: str,
            dashboards: tuple[str, ...], png: bool) -> None:  # fmt: skip
    """Draw each generated dashboard (service dashboards, the overview and Jsonnet ones,
    overrides applied) as a self-contained HTML page that opens offline: Grafana's grid,
    rows, panels, variables and links, with data from a real Prometheus.

    Without --prometheus-url, perfdash starts Prometheus on 127.0.0.1, backfills it with
    the synthetic traffic of the generated promtool tests for --scenario, loads the
    generated rules, and draws the dashboards at the moment the tests assert (the page
    firing, for outage).

    \b
    Example:
      perfdash preview --out preview/                      # outage scenario
      perfdash preview --scenario slow-burn --dashboard pd-checkout --png
      perfdash preview --prometheus-url http://prometheus:9090 --scrape-interval 30s
    """
    from perfdash.build import build_artifacts
    from perfdash.preview import preview as render_preview

    fleet = load_declarations(paths, missing_runbook=missing_runbook)
    artifacts = build_artifacts(fleet, jsonnet_dir=jsonnet_dir)
    echo(
        "querying Prometheus..." if prometheus_url else f"running scenario {scenario}...", err=True
    )
    result = render_preview(
        artifacts, out_dir, dashboards=dashboards, scenario=scenario,
        prometheus_url=prometheus_url, scrape_seconds=_scrape_seconds(scrape_interval), png=png,
    )  # fmt: skip
    for page in result.pages:
        echo(f"wrote {out_dir / page.name} ({page.title}, {page.panels} panels)")
    for picture in result.pictures:
        echo(f"wrote {picture}")
    echo(f"open {out_dir / 'index.html'}")
