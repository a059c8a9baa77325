"""The one way perfdash runs another program (promtool, amtool).

The program is found once (``$PERFDASH_<NAME>`` or PATH), run from an argument list
(never a shell) with a timeout, and what it said is returned, failing or not. Missing
programs, timeouts and programs that cannot start become ``ToolNotFound`` /
``ToolError`` (each tool module picks its subclass). Every running child is known: when
perfdash is interrupted (Ctrl-C, SIGTERM) the caller's ``stop_children()`` ends them,
so nothing outlives perfdash.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perfdash.errors import ToolError, ToolNotFound

_running: set[subprocess.Popen[str]] = set()
_lock = threading.Lock()


@dataclass(frozen=True)
class ToolRun:
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


def find_tool(
    name: str, *, env_var: str, package: str, error: type[ToolNotFound] = ToolNotFound
) -> str:
    """``$env_var`` if set, else ``name`` on PATH; absolute, since tools may run in another
    working directory. Raises ``error`` saying how to install or point at it."""
    configured = os.environ.get(env_var)
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise error(f"{env_var}={configured} is not an executable file")
        return os.path.abspath(configured)
    found = shutil.which(name)
    if not found:
        raise error(
            f"{name} not found on PATH; install it (Debian/Ubuntu: apt-get install {package}) "
            f"or set {env_var} to its path"
        )
    return os.path.abspath(found)


def run_tool(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float,
    error: type[ToolError] = ToolError,
) -> ToolRun:
    """Run ``command``; what it said, failing or not. Raises ``error`` when it times out
    or cannot be started."""
    argv = tuple(command)
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError as exc:
        raise error(argv, -1, "", f"cannot run {argv[0]}: {exc.strerror}") from exc
    with _lock:
        _running.add(process)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        process.kill()
        stdout, _ = process.communicate()
        raise error(argv, -1, stdout or "", f"timed out after {timeout:g}s") from exc
    except BaseException:
        process.kill()
        process.wait()
        raise
    finally:
        with _lock:
            _running.discard(process)
    return ToolRun(argv, process.returncode, stdout, stderr)


def stop_children() -> None:
    """Kill every program ``run_tool`` started that is still running (an interruption:
    threads waiting on them then return at once)."""
    with _lock:
        running = list(_running)
    for process in running:
        process.kill()
