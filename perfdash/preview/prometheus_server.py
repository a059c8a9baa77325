"""A throwaway Prometheus on 127.0.0.1 for a scenario preview (Debian's ``prometheus``).

Started on a free port over a data folder the caller filled (backfilled blocks), with
the given rule files loaded; stopped (terminated, then killed) when the context ends.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import yaml

from perfdash.errors import ToolError, ToolNotFound
from perfdash.preview.prometheus_api import PrometheusApi
from perfdash.process import find_tool

STARTUP_SECONDS = 60.0
LOG_LINES = 30


def find_prometheus() -> str:
    return find_tool(
        "prometheus", env_var="PERFDASH_PROMETHEUS", package="prometheus", error=ToolNotFound
    )


@contextmanager
def running_prometheus(
    data_dir: Path, *, rule_files: Sequence[Path] = (), evaluation_interval: str = "1m"
) -> Iterator[str]:
    """Start Prometheus over ``data_dir``; yields its base URL once it is ready."""
    binary = find_prometheus()
    config = data_dir.parent / f"{data_dir.name}-prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"evaluation_interval": evaluation_interval},
                "rule_files": [str(p) for p in rule_files],
            }
        ),
        encoding="utf-8",
    )
    port = _free_port()
    log_path = data_dir.parent / f"{data_dir.name}-prometheus.log"
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address=127.0.0.1:{port}",
        # Backfilled history is weeks old: keep it, however old it looks.
        "--storage.tsdb.retention.time=100y",
        "--log.level=warn",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, url, log_path)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with PrometheusApi(url) as api:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ToolError(
                    f"prometheus exited with status {process.returncode}:\n{_tail(log_path)}"
                )
            if api.ready():
                return
            time.sleep(0.1)
    raise ToolError(f"prometheus was not ready within {STARTUP_SECONDS:g}s:\n{_tail(log_path)}")


def _tail(log_path: Path) -> str:
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_LINES:]
    return "\n".join("    " + line for line in lines)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
