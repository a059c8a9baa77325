"""Helpers shared by tests (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import os
import socket
import textwrap
from collections.abc import Sequence
from pathlib import Path

from click.testing import CliRunner, Result

from perfdash.cli import cli


def run_cli(args: Sequence[str], *, cwd: Path | None = None, input: str | None = None) -> Result:
    """Run ``perfdash ARGS`` in-process; exceptions that are bugs propagate with their traceback."""
    runner = CliRunner()
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(previous)


def free_port() -> int:
    """A TCP port nothing listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_declaration(folder: Path, name: str, text: str) -> Path:
    """Write a dedented YAML declaration to ``folder/name`` and return its path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


MINIMAL_SERVICE = """\
apiVersion: perfdash/v1
kind: Service
metadata:
  name: checkout
  team: payments
  tier: 1
  runbook: https://runbooks.example.com/checkout
spec:
  selector: {job: checkout}
  slos:
    - name: availability
      objective: 99.9
      sli:
        events: {total: http_requests_total, bad: {code: "5.."}}
"""
