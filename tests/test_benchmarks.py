"""Smoke runs of the benchmarks at toy sizes: they still run after the code they drive
changes (CI never runs them at full size). No timings are asserted."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

MODULES = sorted(p.stem for p in (REPO / "benchmarks").glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("module", MODULES)
def test_every_benchmark_module_imports(module: str) -> None:
    # In a child Python: tests never import benchmarks (they share testing/ instead).
    done = subprocess.run(
        [sys.executable, "-c", f"import benchmarks.{module}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["benchmarks.apply", "3", "--latency", "0"], "| no-op apply |"),
        (
            ["benchmarks.compile", "3", "--runs", "1", "--memory-runs", "1", "--no-single"],
            "| 3 (12) | default jobs (1) | build (fresh output, previous output just deleted) |",
        ),
        (["benchmarks.compile_stages", "5", "--runs", "1"], "| promtool test files |"),
        (
            ["benchmarks.stats_calibration", "--comparisons", "20", "--requests", "200"],
            "| 10 vs 3 |",
        ),
    ],
    ids=["apply", "compile", "compile_stages", "stats_calibration"],
)
def test_a_benchmark_runs_at_a_toy_size(args: list[str], expected: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert expected in result.stdout


def test_the_test_scale_benchmark_runs_at_a_toy_size() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.test_scale", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[2:]] == [
        "| cold: empty record",
        "| one service changed",
        "| nothing changed",
    ]
    assert rows[-1].endswith("| 0 |")  # nothing changed: no promtool test runs
