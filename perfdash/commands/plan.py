"""``perfdash plan``: what apply would change in Grafana and the rule targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


@click.command(
    epilog=EXIT_CODES_HELP,
    short_help="Show what apply would change in Grafana and the rule targets.",
)
@paths_argument
@jsonnet_option
@runbook_option
@deploy_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="markdown is for a pull-request comment; json for scripts.",
)
@click.option(
    "--since",
    metavar="REF",
    help="Also list the alerts that behave differently than with the declarations at this "
    "git revision (thresholds, factors, windows, for, severity, receivers), per SLO. "
    "Without a deploy target, only that.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when nothing would change, 2 when something would, 1 on errors.",
)
@verbose_option
@click.pass_context
def plan(
    ctx: click.Context,
    /,
    paths: tuple[Path, ...],
    jsonnet_dir: Path,
    missing_runbook: str,
    output_format: str,
    since: str | None,
    detailed_exitcode: bool,
    verbose: int,
    **options: Any,
) -> None:
    """Compile the declarations in memory and compare them with live Grafana (and the
    rule targets): dashboards and folders to create, update, move or delete, drift
    (edited in Grafana since perfdash wrote it), conflicts, with a structural diff of
    each dashboard. Reads only; changes nothing.

    \b
    Example:
      export GRAFANA_URL=https://grafana.example.com GRAFANA_TOKEN=glsa_...
      perfdash plan
      perfdash plan --format markdown > plan.md     # a PR comment
      perfdash plan --detailed-exitcode || [ $? -eq 2 ]
      perfdash plan --rules-dir /etc/prometheus/rules/perfdash
      perfdash plan --since origin/main --format markdown   # what alerts will do differently
    """
    from perfdash.build import build_output
    from perfdash.deploy.render import plan_json, plan_markdown, plan_text
    from perfdash.deploy.run import Targets, plan_deploy
    from perfdash.terminal import terminal_safe

    configure_logging(verbose)
    settings = deploy_settings(options)
    fleet = load_declarations(paths, missing_runbook=missing_runbook)
    render = {"text": plan_text, "markdown": plan_markdown, "json": plan_json}[output_format]
    rendered, changed = "", False
    if not (since and settings.empty):
        built = build_output(fleet, jsonnet_dir=jsonnet_dir)
        with Targets(settings) as targets:
            deploy = plan_deploy(
                built.files, targets, prune=bool(options.get("prune")), groups=built.rule_groups
            )
        rendered, changed = render(deploy), deploy.has_changes
    if since:
        rendered, moved = _with_alert_changes(fleet, since, paths, output_format, rendered)
        changed = changed or moved
    click.echo(terminal_safe(rendered))
    if detailed_exitcode and changed:
        ctx.exit(2)


def _with_alert_changes(
    fleet: Any, since: str, paths: tuple[Path, ...], output_format: str, rendered: str
) -> tuple[str, bool]:
    from perfdash.alert_changes import alert_changes, with_plan
    from perfdash.git_revision import declarations_at
    from perfdash.model.fleet import Fleet
    from perfdash.pipeline import DEFAULT_DECLARATIONS
    from perfdash.spec import load_fleet

    with declarations_at(since, paths or DEFAULT_DECLARATIONS, cwd=Path.cwd()) as (
        old_project,
        old_paths,
    ):
        before = (
            load_fleet(old_paths, root=old_project, missing_runbook="warn")
            if old_paths
            else Fleet()
        )
    changes = alert_changes(before, fleet)
    return with_plan(output_format, changes, since, rendered), bool(changes)
