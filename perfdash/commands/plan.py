"""``perfdash plan``: what apply would change in Grafana and the rule targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from perfdash.commands.deploy_options import (
    configure_logging,
    deploy_options,
    deploy_settings,
    verbose_option,
)
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
    """
    from perfdash.build import build_output
    from perfdash.deploy.render import plan_json, plan_markdown, plan_text
    from perfdash.deploy.run import Targets, plan_deploy
    from perfdash.terminal import terminal_safe

    configure_logging(verbose)
    settings = deploy_settings(options)
    built = build_output(
        load_declarations(paths, missing_runbook=missing_runbook), jsonnet_dir=jsonnet_dir
    )
    with Targets(settings) as targets:
        deploy = plan_deploy(
            built.files, targets, prune=bool(options.get("prune")), groups=built.rule_groups
        )
    render = {"text": plan_text, "markdown": plan_markdown, "json": plan_json}[output_format]
    click.echo(terminal_safe(render(deploy)))
    if detailed_exitcode and deploy.has_changes:
        ctx.exit(2)
