"""Helpers shared by tests (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from perfdash.cli import cli
from perfdash.output import plan_output, write_plan
from testing.processes import background, free_port, stop

__all__ = ["background", "free_port", "stop"]


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


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, *, seconds: float) -> None:
    """Poll ``url``/-/ready (Prometheus, Alertmanager, Pushgateway) until it answers 200;
    fail with the log when the process exits or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url}: the process exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} not ready within {seconds:g} s:\n{log.read_text()}")


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


def write_generated(root: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` into ``root`` the way ``perfdash build`` does (with a manifest)."""
    write_plan(plan_output(root, files, sources={}, kinds=("files",)))
