"""The perfdash command line: the group, the one error path, and ``main()``.

Each command lives in ``perfdash.commands.<name>`` and is imported only when run or
listed. This is the only module that decides exit codes:

    0    success
    1    invalid declarations, a failed check (stale output, failing rule tests),
         or a refusal by a tool or server
    2    usage error; `plan --detailed-exitcode`: changes are present
    70   a bug in perfdash (the traceback is printed; please report it)
    130  interrupted (Ctrl-C); 143: terminated (SIGTERM, e.g. a cancelled CI job)
"""

from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from types import FrameType
from typing import Any

import click

from perfdash import __version__
from perfdash.commands.logs import configure_logging
from perfdash.commands.options import EXIT_CODES_HELP
from perfdash.errors import PerfdashError, redact, register_environment_secrets
from perfdash.terminal import terminal_safe

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

COMMANDS = {
    "apply": "perfdash.commands.apply:apply",
    "baseline": "perfdash.commands.baseline:baseline",
    "build": "perfdash.commands.build:build",
    "check": "perfdash.commands.check:check",
    "explain": "perfdash.commands.explain:explain",
    "import": "perfdash.commands.import_:import_command",
    "init": "perfdash.commands.init:init",
    "plan": "perfdash.commands.plan:plan",
    "preview": "perfdash.commands.preview:preview",
    "runbooks": "perfdash.commands.runbooks:runbooks",
    "schema": "perfdash.commands.schema:schema",
    "test": "perfdash.commands.test:test_command",
    "validate": "perfdash.commands.validate:validate",
}


class Terminated(BaseException):
    """SIGTERM arrived: unwinds like Ctrl-C (children stopped, staged files removed)."""


class PerfdashGroup(click.Group):
    """Loads commands on demand, and turns every PerfdashError into ``Error: ...`` on
    stderr with its exit code (control characters escaped: messages quote servers and
    declarations)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = COMMANDS[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PerfdashError as exc:
            error = click.ClickException(terminal_safe(str(exc)))
            error.exit_code = exc.exit_code  # type: ignore[misc]  # per instance, by design
            raise error from exc


@click.group(cls=PerfdashGroup, context_settings=CONTEXT_SETTINGS, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "-V", "--version", prog_name="perfdash")
def cli() -> None:
    """SLOs, burn-rate alerts and dashboards as code for Prometheus and Grafana.

    Declarations live in slos/*.yaml; `perfdash build` compiles them into
    alerts/ (Prometheus rules and their promtool tests) and dashboards/.
    """
    configure_logging(0)  # commands with -v raise it


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise Terminated


# Compiling a fleet allocates millions of short-lived objects and few reference cycles:
# collecting the youngest generation every 50,000 allocations instead of Python's 700
# saves about a tenth of a large build's CPU (a 300-service build: 4.4 -> 4.0 CPU-s). A
# process-wide setting, so the program sets it here, not library code.
GC_THRESHOLD = (50_000, 10, 10)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: maps bugs to exit 70, Ctrl-C to 130 and SIGTERM to 143.

    A bug's traceback goes through the same redaction as every message (the secrets of
    the environment are registered first) and has its control characters escaped.
    """
    gc.set_threshold(*GC_THRESHOLD)
    signal.signal(signal.SIGTERM, _terminate)
    register_environment_secrets(os.environ)
    try:
        _main(argv)
    finally:
        # Whatever happened is decided: a signal during exit must not turn it into another
        # status (or a traceback from the interpreter's shutdown).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _main(argv: Sequence[str] | None) -> None:
    try:
        returned = cli.main(args=argv, prog_name="perfdash", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Terminated:
        click.echo("Terminated.", err=True)
        sys.exit(143)
    except Exception:
        click.echo(terminal_safe(redact(traceback.format_exc())), err=True, nl=False)
        click.echo(
            "perfdash crashed: this is a bug. Please report it with the traceback above.", err=True
        )
        sys.exit(70)
    sys.exit(returned if isinstance(returned, int) else 0)
