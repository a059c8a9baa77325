"""promtool, run through ``perfdash.process``: ``check rules``, ``test rules``, version.

The binary is ``$PERFDASH_PROMTOOL`` or ``promtool`` on PATH (Debian: apt-get install
prometheus). Failures to run become PromtoolError with the command, exit status and
output; a missing binary is PromtoolNotFound.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from perfdash.errors import PromtoolError, PromtoolNotFound
from perfdash.process import ToolRun, find_tool, run_tool

DEFAULT_TIMEOUT = 600.0
_VERSION_RE = re.compile(r"version (\d+)\.(\d+)\.(\d+)")


def find_promtool() -> str:
    return find_tool(
        "promtool", env_var="PERFDASH_PROMTOOL", package="prometheus", error=PromtoolNotFound
    )


def run(
    args: Sequence[str], *, cwd: Path | None = None, timeout: float = DEFAULT_TIMEOUT
) -> ToolRun:
    """Run promtool with ``args``; returns whatever it said, failing or not."""
    return run_tool((find_promtool(), *args), cwd=cwd, timeout=timeout, error=PromtoolError)


def check_rules(files: Sequence[Path], *, cwd: Path | None = None) -> ToolRun:
    """``promtool check rules``: raises PromtoolError when any file is rejected."""
    result = run(["check", "rules", *map(str, files)], cwd=cwd)
    if not result.ok:
        raise PromtoolError(result.command, result.returncode, result.stdout, result.stderr)
    return result


def test_rules(files: Sequence[Path], *, cwd: Path | None = None) -> ToolRun:
    """``promtool test rules``: never raises on a failing test (see ``ToolRun.ok``)."""
    return run(["test", "rules", *map(str, files)], cwd=cwd)


def version() -> tuple[int, int, int]:
    major, minor, patch, _ = _version()
    return major, minor, patch


def version_text() -> str:
    """What promtool says of its version (its first line, whatever the exit status): part
    of every recorded test result's key, so another promtool never reuses a result."""
    return _version_line(find_promtool())


@cache
def _version_line(binary: str) -> str:
    result = run_tool((binary, "--version"), timeout=DEFAULT_TIMEOUT, error=PromtoolError)
    return (result.output.splitlines() or ["unknown"])[0]


@cache
def _version() -> tuple[int, int, int, str]:
    result = run(["--version"])
    match = _VERSION_RE.search(result.output)
    if not match:
        raise PromtoolError(result.command, result.returncode, result.stdout, result.stderr)
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch, result.output.splitlines()[0]
