"""``perfdash apply``: make Grafana and the rule targets match the declarations."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from perfdash.commands.deploy_options import (
    deploy_options,
    deploy_settings,
    verbose_option,
)
from perfdash.commands.logs import configure_logging
from perfdash.commands.options import (
    EXIT_CODES_HELP,
    jsonnet_option,
    load_declarations,
    paths_argument,
    runbook_option,
)
from perfdash.terminal import terminal_safe

if TYPE_CHECKING:
    from perfdash.deploy.settings import Endpoint


@click.command(
    epilog=EXIT_CODES_HELP,
    short_help="Make Grafana and the rule targets match the declarations.",
)
@paths_argument
@jsonnet_option
@runbook_option
@deploy_options
@click.option("--force", is_flag=True, help="Overwrite dashboards edited in Grafana (drift) too.")
@click.option("--dry-run", is_flag=True, help="Show the plan; change nothing.")
@click.option(
    "--prometheus-url",
    metavar="URL",
    help="With --rules-dir: reload this Prometheus (POST /-/reload, needs "
    "--web.enable-lifecycle) and check that every group loaded.",
)
@click.option(
    "--vmalert-url",
    metavar="URL",
    envvar="PERFDASH_VMALERT_URL",
    help="With --rules-dir: reload this vmalert (started with -rule=DIR/*.yaml, evaluating "
    "on VictoriaMetrics) and check that every group loaded [env PERFDASH_VMALERT_URL].",
)
@click.option(
    "--pushgateway",
    metavar="URL",
    help="Push metrics of this run (duration, changes, failures, conflicts) to a Pushgateway.",
)
@verbose_option
def apply(
    paths: tuple[Path, ...],
    jsonnet_dir: Path,
    missing_runbook: str,
    force: bool,
    dry_run: bool,
    vmalert_url: str | None,
    verbose: int,
    **options: Any,
) -> None:
    """Plan, then execute exactly that plan: folders first, then dashboards (each save
    carries the live version, so a concurrent edit is a conflict, never clobbered),
    rule files (then a Prometheus reload) and ruler groups. A failed object is reported
    and the rest applied (exit 1); a re-run changes only what still differs.

    \b
    Example:
      export GRAFANA_URL=https://grafana.example.com GRAFANA_TOKEN=glsa_...
      perfdash apply
      perfdash apply --prune                  # also delete what is no longer generated
      perfdash apply --rules-dir /etc/prometheus/rules/perfdash \\
                     --prometheus-url http://localhost:9090
      perfdash apply --ruler-url http://mimir:8080 --tenant team-a
      perfdash apply --rules-dir /etc/vmalert/rules --vmalert-url http://localhost:8880
    """
    from perfdash.build import build_output
    from perfdash.deploy.fingerprint import ChangeContext
    from perfdash.deploy.render import plan_text, report_text
    from perfdash.deploy.run import Targets, apply_deploy, plan_deploy
    from perfdash.errors import ApplyError

    configure_logging(verbose)
    settings = deploy_settings(options)
    built = build_output(
        load_declarations(paths, missing_runbook=missing_runbook), jsonnet_dir=jsonnet_dir
    )
    started, report = time.monotonic(), None
    try:
        with Targets(settings, vmalert_url=vmalert_url) as targets:
            deploy = plan_deploy(
                built.files, targets, prune=bool(options.get("prune")), groups=built.rule_groups
            )
            click.echo(terminal_safe(plan_text(deploy)))
            if dry_run:
                return
            context = ChangeContext.from_environ(os.environ)
            report = apply_deploy(deploy, targets, force=force, context=context)
    finally:
        if settings.pushgateway and not dry_run:
            _push(settings.pushgateway, report, time.monotonic() - started)
    click.echo(terminal_safe(report_text(report)))
    if report.failed:
        raise ApplyError([o.describe() for o in report.failed], applied=len(report.applied))


def _push(pushgateway: Endpoint, report: Any, duration: float) -> None:
    """Metrics are for graphs and alerts: a failed push warns, it does not fail apply."""
    from perfdash.deploy.metrics import push_apply_metrics
    from perfdash.errors import PushError

    try:
        push_apply_metrics(pushgateway, report, duration=duration)
    except PushError as exc:
        click.echo(terminal_safe(f"warning: {exc}"), err=True)
