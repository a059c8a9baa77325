"""The one place perfdash runs amtool (Alertmanager's CLI), like promtool.py for promtool."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from perfdash.errors import ExternalToolError
from perfdash.executables import find_executable
from perfdash.prometheus.promtool import PromtoolRun

TIMEOUT = 60.0


def find_amtool() -> str:
    return find_executable(
        "amtool",
        env_var="PERFDASH_AMTOOL",
        package="prometheus-alertmanager",
        error=ExternalToolError,
    )


def run(args: Sequence[str], *, cwd: Path | None = None) -> PromtoolRun:
    command = (find_amtool(), *args)
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ExternalToolError(f"{' '.join(command)} timed out after {TIMEOUT:g}s") from exc
    except OSError as exc:
        raise ExternalToolError(f"cannot run {command[0]}: {exc.strerror}") from exc
    return PromtoolRun(tuple(command), done.returncode, done.stdout, done.stderr)


def check_config(path: Path, *, cwd: Path | None = None) -> PromtoolRun:
    result = run(["check-config", str(path)], cwd=cwd)
    if not result.ok:
        indented = "\n".join("    " + line for line in result.output.splitlines())
        raise ExternalToolError(f"amtool check-config {path} failed:\n{indented}")
    return result


def routes_test(path: Path, labels: Mapping[str, str], *, cwd: Path | None = None) -> list[str]:
    """Receivers an alert with ``labels`` reaches under the configuration at ``path``."""
    pairs = [f"{key}={value}" for key, value in labels.items()]
    result = run(["config", "routes", "test", f"--config.file={path}", *pairs], cwd=cwd)
    if not result.ok:
        raise ExternalToolError(f"amtool config routes test failed: {result.output}")
    return [name.strip() for name in result.stdout.strip().split(",") if name.strip()]
