"""``perfdash test``: promtool on the generated rules and their unit tests, amtool on
the routes."""

from __future__ import annotations

from pathlib import Path

import click

from perfdash.commands.options import (
    EXIT_CODES_HELP,
    jobs_option,
    jsonnet_option,
    load_declarations,
    out_option,
    runbook_option,
)
from perfdash.errors import OutputError


@click.command(name="test", epilog=EXIT_CODES_HELP)
@click.argument("targets", nargs=-1, metavar="[SERVICE|PATH]...")
@out_option
@jsonnet_option
@runbook_option
@jobs_option
def test_command(
    targets: tuple[str, ...],
    out_dir: Path,
    jsonnet_dir: Path,
    missing_runbook: str,
    jobs: int | None,
) -> None:
    """Run promtool check rules and the generated promtool unit tests, per SLO, and
    amtool on the generated routes.

    TARGETS are service names or declaration files/folders (default: every service in
    slos/). Their generated files under --out must be fresh (run `perfdash build`).

    \b
    Example:
      perfdash build && perfdash test
      perfdash test checkout search
      perfdash test slos/payments/
    """
    from perfdash.verify.report import test_failures, test_report_text
    from perfdash.verify.routes import run_routing_checks
    from perfdash.verify.rules import run_rule_checks
    from perfdash.verify.targets import check_fresh, select_services

    paths = [Path(t) for t in targets if Path(t).exists()]
    fleet = load_declarations(paths, missing_runbook=missing_runbook)
    services = select_services(fleet, targets)
    check_fresh(fleet, services, out_dir=out_dir, jsonnet_dir=jsonnet_dir)
    report = run_rule_checks(fleet, out_dir, jobs=jobs, services=services)
    routing = run_routing_checks(out_dir) if not targets else None
    click.echo(test_report_text(report, routing))
    failed = test_failures(report, routing)
    if failed:
        raise OutputError(failed)
