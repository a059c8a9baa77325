"""Measuring perfdash as a user runs it: the CLI in a subprocess, its wall time, the
memory of its whole process tree, the machine and the revision measured.

Shared by the benchmarks; nothing here asserts a time (tests never do).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    """One subprocess run to completion."""

    seconds: float
    largest_process_bytes: int  # ru_maxrss of the largest process of the tree (kernel)
    tree_peak_bytes: int | None  # peak of the sum of RSS over the tree (sampled), if sampled
    processes: int | None  # most processes alive at once (sampled), if sampled
    stdout: str
    cpu_seconds: float = 0.0  # user + system CPU of the process and its reaped descendants


def perfdash_command() -> list[str]:
    """The installed ``perfdash`` script next to this interpreter (the venv's)."""
    script = Path(sys.executable).with_name("perfdash")
    if script.exists():
        return [str(script)]
    found = shutil.which("perfdash")
    if found:
        return [found]
    return [sys.executable, "-m", "perfdash"]


def measure(command: Sequence[str], *, cwd: Path, env: dict[str, str], poll: float | None) -> Run:
    """Run ``command`` to completion: wall time, and with ``poll`` the tree's memory."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        peak = most = 0
        if poll is None:
            _, status, rusage = os.wait4(process.pid, 0)
        else:
            root = psutil.Process(process.pid)
            while True:
                total = alive = 0
                try:
                    members = [root, *root.children(recursive=True)]
                except psutil.NoSuchProcess:
                    members = []
                for member in members:
                    try:
                        total += member.memory_info().rss
                        alive += 1
                    except psutil.NoSuchProcess:
                        continue
                peak, most = max(peak, total), max(most, alive)
                pid, status, rusage = os.wait4(process.pid, os.WNOHANG)
                if pid == process.pid:
                    break
                time.sleep(poll)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {process.returncode}:\n{stdout}\n{stderr}".strip()
        )
    largest = rusage.ru_maxrss * 1024  # Linux reports KiB
    cpu = rusage.ru_utime + rusage.ru_stime
    if poll is None:
        return Run(seconds, largest, None, None, stdout, cpu)
    return Run(seconds, largest, peak, most, stdout, cpu)


def machine() -> str:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = psutil.virtual_memory().total / 1024**3
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.1f} GiB RAM, "
        f"Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M')}"
    )


def revision() -> str:
    """The perfdash source measured: commit, and whether the working tree differs."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "perfdash"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}{' + uncommitted changes in perfdash/' if dirty else ''}"


def checkout(rev: str, target: Path) -> str:
    """Extract perfdash/ as of ``rev`` into ``target``; the short commit id."""
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", commit, "perfdash"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return f"{commit} (git archive)"


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())
