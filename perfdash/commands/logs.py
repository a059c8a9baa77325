"""Where perfdash's log records go: stderr, redacted and terminal-safe, at the level
the command's ``-v`` asks for (CLI only)."""

from __future__ import annotations

import logging

import click

from perfdash.errors import redact
from perfdash.terminal import terminal_safe


class _EchoHandler(logging.Handler):
    """Log records on stderr, redacted and with control characters escaped: they quote
    servers (httpx's own records at -vv too)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(terminal_safe(redact(self.format(record))), err=True)


_HANDLER = _EchoHandler()
_HANDLER.setFormatter(logging.Formatter("%(message)s"))


def configure_logging(verbosity: int) -> None:
    """-v: perfdash's request log (and retries) on stderr; -vv: httpx's too. Without
    -v only warnings show. Set afresh before every command (tests run many in one
    process, and a -v of one must not leak into the next)."""
    levels: dict[str, int | None] = {
        "perfdash": logging.DEBUG if verbosity else logging.WARNING,
        "httpx": logging.DEBUG if verbosity >= 2 else None,
        "httpcore": logging.DEBUG if verbosity >= 2 else None,
    }
    for name, level in levels.items():
        logger = logging.getLogger(name)
        if level is None:
            logger.removeHandler(_HANDLER)
            logger.setLevel(logging.NOTSET)
            continue
        if _HANDLER not in logger.handlers:
            logger.addHandler(_HANDLER)
        logger.setLevel(level)
