"""amtool (Alertmanager's CLI), run through ``perfdash.process``: check-config and
routes test."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from perfdash.errors import ToolError
from perfdash.process import ToolRun, find_tool, run_tool

TIMEOUT = 60.0


def find_amtool() -> str:
    return find_tool("amtool", env_var="PERFDASH_AMTOOL", package="prometheus-alertmanager")


def run(args: Sequence[str], *, cwd: Path | None = None) -> ToolRun:
    return run_tool((find_amtool(), *args), cwd=cwd, timeout=TIMEOUT)


def check_config(path: Path, *, cwd: Path | None = None) -> ToolRun:
    result = run(["check-config", str(path)], cwd=cwd)
    if not result.ok:
        raise ToolError(result.command, result.returncode, result.stdout, result.stderr)
    return result


def routes_test(path: Path, labels: Mapping[str, str], *, cwd: Path | None = None) -> list[str]:
    """Receivers an alert with ``labels`` reaches under the configuration at ``path``."""
    pairs = [f"{key}={value}" for key, value in labels.items()]
    result = run(["config", "routes", "test", f"--config.file={path}", *pairs], cwd=cwd)
    if not result.ok:
        raise ToolError(result.command, result.returncode, result.stdout, result.stderr)
    return [name.strip() for name in result.stdout.strip().split(",") if name.strip()]
