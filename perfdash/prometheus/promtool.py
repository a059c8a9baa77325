"""The one place perfdash runs promtool.

The binary is ``$PERFDASH_PROMTOOL`` or ``promtool`` on PATH. It runs from an
argument list (never a shell) with a timeout, and failures become PromtoolError with
the command, exit status and output.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from perfdash.errors import PromtoolError, PromtoolNotFound
from perfdash.executables import find_executable

DEFAULT_TIMEOUT = 600.0


def find_promtool() -> str:
    return find_executable(
        "promtool", env_var="PERFDASH_PROMTOOL", package="prometheus", error=PromtoolNotFound
    )


@dataclass(frozen=True)
class PromtoolRun:
    command: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        return "\n".join(p for p in (self.stdout.rstrip(), self.stderr.rstrip()) if p)


def run(
    args: Sequence[str], *, cwd: Path | None = None, timeout: float = DEFAULT_TIMEOUT
) -> PromtoolRun:
    """Run promtool with ``args``; returns whatever it said, failing or not."""
    command = (find_promtool(), *args)
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise PromtoolError(
            command, -1, _text(exc.stdout), f"timed out after {timeout:g}s"
        ) from exc
    except OSError as exc:
        raise PromtoolNotFound(f"cannot run {command[0]}: {exc.strerror}") from exc
    return PromtoolRun(tuple(command), done.returncode, done.stdout, done.stderr)


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def check_rules(files: Sequence[Path], *, cwd: Path | None = None) -> PromtoolRun:
    """``promtool check rules``: raises PromtoolError when any file is rejected."""
    result = run(["check", "rules", *map(str, files)], cwd=cwd)
    if not result.ok:
        raise PromtoolError(result.command, result.returncode, result.stdout, result.stderr)
    return result


def test_rules_each(
    files: Sequence[Path], *, cwd: Path | None = None, jobs: int | None = None
) -> list[PromtoolRun]:
    """``promtool test rules`` once per file, ``jobs`` at a time; never raises on test failure."""
    workers = jobs or max(1, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda f: run(["test", "rules", str(f)], cwd=cwd), files))


_VERSION_RE = re.compile(r"version (\d+)\.(\d+)\.(\d+)")


def version() -> tuple[int, int, int]:
    result = run(["--version"])
    match = _VERSION_RE.search(result.output)
    if not match:
        raise PromtoolError(result.command, result.returncode, result.stdout, result.stderr)
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch
