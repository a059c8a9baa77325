"""``perfdash test``: promtool on the generated rules and their unit tests, amtool on
the routes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from perfdash.commands.options import (
    EXIT_CODES_HELP,
    echo,
    jobs_option,
    load_declarations,
    out_option,
    runbook_option,
)
from perfdash.errors import OutputError
from perfdash.terminal import terminal_safe


@click.command(name="test", epilog=EXIT_CODES_HELP)
@click.argument("targets", nargs=-1, metavar="[SERVICE|PATH]...")
@out_option
@runbook_option
@jobs_option
@click.option(
    "--record",
    "record_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the record of passed tests (default: ~/.cache/perfdash/tests).",
)
@click.option("--no-record", is_flag=True, help="Run every test; read and write no record.")
def test_command(
    targets: tuple[str, ...],
    out_dir: Path,
    missing_runbook: str,
    jobs: int | None,
    record_dir: Path | None,
    no_record: bool,
) -> None:
    """Run promtool check rules and the generated promtool unit tests, per SLO, and
    amtool on the generated routes.

    TARGETS are service names or declaration files/folders (default: every service in
    slos/). Their generated files under --out must be fresh (run `perfdash build`).
    A test that passed before, unchanged (same rules, test and promtool), is not run
    again; SLOs whose rules are provably the same up to names share one run.

    \b
    Example:
      perfdash build && perfdash test
      perfdash test checkout search
      perfdash test slos/payments/
    """
    from perfdash.verify.record import TestRecord, default_record_dir
    from perfdash.verify.report import test_failures, test_report_text
    from perfdash.verify.routes import run_routing_checks
    from perfdash.verify.rules import run_rule_checks
    from perfdash.verify.targets import select_services

    paths = [Path(t) for t in targets if Path(t).exists()]
    fleet = load_declarations(paths, missing_runbook=missing_runbook)
    record = TestRecord(None if no_record else record_dir or default_record_dir())
    if record.problem:
        echo(f"warning: {record.problem}", err=True)
    report = run_rule_checks(
        fleet,
        out_dir,
        jobs=jobs,
        services=select_services(fleet, targets),
        record=record,
        progress=_progress,
    )
    routing = run_routing_checks(out_dir) if not targets else None
    echo(test_report_text(report, routing))
    failed = test_failures(report, routing)
    if failed:
        raise OutputError(failed)


def _progress(done: int, total: int, what: str) -> None:
    """On a terminal, one line that updates; piped (CI logs), a plain line per run."""
    line = f"[{done}/{total}] {terminal_safe(what)}"
    if sys.stderr.isatty():  # our own control characters: a line that updates
        end = "\n" if done == total else ""
        click.echo(f"\r\033[K{line}{end}", err=True, nl=False)
    else:
        echo(line, err=True)
