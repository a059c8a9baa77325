"""Benchmark the real ``perfdash`` CLI on synthetic fleets: build, no-op rebuild, validate.

For each fleet size N (N services x 4 SLOs, from ``testing.fleet``) this runs, as
subprocesses exactly as a user or CI would, from an empty working directory:

- ``perfdash build FLEET --out OUT`` into a new OUT, a folder not there before;
- the same into a new OUT just after the previous fresh output (same fleet) was deleted:
  ext4 then makes every file creation slower (its inode allocator checks, for each free
  inode it considers, whether it was freed in the last one to five minutes; ``perf``
  shows ``recently_deleted`` under ``ext4_create``), which is what ``rm -rf alerts
  dashboards && perfdash build`` meets. Outputs of the first case are deleted only when
  the whole benchmark is over, so this benchmark deletes nothing before a timed fresh
  build in that case, but the previous fleet size's "just deleted" case (or the
  previous run's clean-up) did: ``--settle 330`` waits that out before each size;
- the same onto an existing, unchanged OUT (the no-op rebuild: nothing is written);
- ``perfdash validate FLEET``;

with perfdash's default parallelism and with ``PERFDASH_JOBS=1`` (one process), the two
modes interleaved run by run so a burst of load from a neighbour hits both alike. One
build per mode before the measured ones is discarded (it warms the page cache and
Python's bytecode cache).

Time: wall clock from spawn to exit, over ``--runs`` runs that nothing else disturbs.

Memory, over the process tree (perfdash forks worker processes):

- tree peak RSS: the largest sum of the RSS of every process in the tree (perfdash and
  all its descendants), sampled every ``--poll`` seconds with psutil, in ``--memory-runs``
  extra runs (sampling costs CPU, so those runs are not timed). Forked workers share
  copy-on-write pages with their parent and RSS counts them once per process, so the sum
  over-counts physical memory a little: it is the conservative figure, and the one
  compared with the goal. A spike shorter than the interval can be missed.
- largest process RSS: the kernel's high-water mark of the largest single process of
  the tree, ``ru_maxrss`` from ``wait4`` (which covers the child and its reaped
  descendants: what ``/usr/bin/time -f %M`` prints). Exact, but not a sum; every run.

    python -m benchmarks.compile              # N = 100 and 1000
    python -m benchmarks.compile 1000 --runs 7
    python -m benchmarks.compile --at HEAD    # the last commit, whatever the working tree
    python -m benchmarks.compile 1000 --compare 84a548a --no-single   # against an older main
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from testing.fleet import write_fleet
from testing.measure import Run, checkout, load, machine, measure, perfdash_command, revision

GOAL_SERVICES = 1000
GOAL_SECONDS = 3.0
GOAL_MB = 300.0
WROTE = re.compile(r"wrote (\d+), unchanged (\d+), removed (\d+) \(of (\d+) generated files\)")
MB = 1024 * 1024
REPO = Path(__file__).resolve().parent.parent


@dataclass
class Case:
    """Every run of one operation on one fleet size in one parallelism mode."""

    services: int
    mode: str
    operation: str
    timed: list[Run] = field(default_factory=list)
    sampled: list[Run] = field(default_factory=list)  # runs with the memory sampler
    files_written: int | None = None
    files_total: int | None = None
    output_bytes: int | None = None

    def seconds(self) -> list[float]:
        return [r.seconds for r in self.timed]

    def cpu_seconds(self) -> list[float]:
        return [r.cpu_seconds for r in self.timed]

    def tree_mb(self) -> list[float]:
        return [r.tree_peak_bytes / MB for r in self.sampled if r.tree_peak_bytes is not None]

    def largest_mb(self) -> float:
        return max(r.largest_process_bytes for r in self.timed + self.sampled) / MB

    def processes(self) -> int:
        return max((r.processes or 0) for r in self.sampled) if self.sampled else 0


def output_size(out_dir: Path) -> tuple[int, int]:
    """Files and bytes under ``out_dir``."""
    # perfdash counts the files it generated, not its manifest (.perfdash/manifest.json)
    files = [p for p in out_dir.rglob("*") if p.is_file() and ".perfdash" not in p.parts]
    return len(files), sum(p.stat().st_size for p in files)


def parse_written(stdout: str) -> tuple[int, int]:
    """``(written, total generated)`` from ``perfdash build``'s summary line."""
    match = WROTE.search(stdout)
    if not match:
        raise RuntimeError(f"unexpected perfdash build output: {stdout!r}")
    return int(match.group(1)), int(match.group(4))


def bench_size(
    services: int,
    *,
    runs: int,
    memory_runs: int,
    poll: float,
    modes: Sequence[tuple[str, dict[str, str]]],
    work: Path,
    settle: float = 0.0,
) -> list[Case]:
    """Every case for one fleet size, modes interleaved run by run; fleet and output go
    in ``work`` (the caller deletes it once every size is measured)."""
    perfdash = perfdash_command()
    inherited = {k: v for k, v in os.environ.items() if k != "PERFDASH_JOBS"}
    envs = {mode: {**inherited, **extra} for mode, extra in modes}
    names = [mode for mode, _ in modes]
    fleet = work / "fleet"
    write_fleet(services, fleet)
    existing = {m: work / f"existing-{i}" for i, m in enumerate(names)}

    def run(mode: str, args: Sequence[str], sampled: bool) -> Run:
        # cwd is the work dir, which has no dashboards/: no Jsonnet overrides apply.
        return measure([*perfdash, *args], cwd=work, env=envs[mode], poll=poll if sampled else None)

    fresh_outputs: list[Path] = []

    def fresh(case: Case, sampled: bool) -> Run:
        out = work / f"fresh-{len(fresh_outputs)}"
        result = run(case.mode, ["build", str(fleet), "--out", str(out)], sampled)
        case.files_written, case.files_total = parse_written(result.stdout)
        files, case.output_bytes = output_size(out)
        if files != case.files_total:
            raise RuntimeError(f"{out}: {files} files, perfdash reported {case.files_total}")
        fresh_outputs.append(out)
        return result

    def fresh_after_delete(case: Case, sampled: bool) -> Run:
        shutil.rmtree(fresh_outputs.pop())  # not timed: what it leaves behind is
        return fresh(case, sampled)

    def noop(case: Case, sampled: bool) -> Run:
        out = existing[case.mode]
        result = run(case.mode, ["build", str(fleet), "--out", str(out)], sampled)
        case.files_written, case.files_total = parse_written(result.stdout)
        if case.files_written:
            raise RuntimeError(f"the no-op rebuild wrote {case.files_written} files")
        _, case.output_bytes = output_size(out)
        return result

    def validate(case: Case, sampled: bool) -> Run:
        return run(case.mode, ["validate", str(fleet)], sampled)

    for mode in names:
        progress(f"N={services} {mode}: warm-up build (not measured)")
        run(mode, ["build", str(fleet), "--out", str(existing[mode])], False)
    if settle:
        progress(f"waiting {settle:g} s for recently deleted inodes to age (--settle)")
        time.sleep(settle)

    operations: list[tuple[str, Callable[[Case, bool], Run]]] = [
        ("build (fresh output, new folder)", fresh),
        ("build (fresh output, previous output just deleted)", fresh_after_delete),
        ("build (no-op rebuild)", noop),
        ("validate", validate),
    ]
    cases = []
    for operation, action in operations:
        by_mode = {m: Case(services, m, operation) for m in names}
        for index in range(runs + memory_runs):
            sampled = index >= runs
            for mode in names:
                result = action(by_mode[mode], sampled)
                (by_mode[mode].sampled if sampled else by_mode[mode].timed).append(result)
                kind = "memory run" if sampled else "run"
                progress(
                    f"  N={services} {mode}: {operation} {kind}: {result.seconds:.2f} s "
                    f"(CPU {result.cpu_seconds:.2f} s, load {os.getloadavg()[0]:.1f})"
                )
        cases += by_mode.values()
    return sorted(cases, key=lambda c: names.index(c.mode))


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def markdown_table(cases: Sequence[Case]) -> str:
    header = (
        "| services (SLOs) | mode (processes at once) | operation | median s | max s "
        "| tree CPU median s "
        "| tree peak RSS median MB | tree peak RSS max MB | largest process max MB "
        "| files written | output bytes |"
    )
    lines = [header, "|" + " --- |" * (header.count("|") - 1)]
    for case in cases:
        written = "" if case.files_written is None else f"{case.files_written} / {case.files_total}"
        size = "" if case.output_bytes is None else f"{case.output_bytes:,}"
        tree = case.tree_mb()
        tree_cells = f"{statistics.median(tree):.0f} | {max(tree):.0f}" if tree else " | "
        seconds = case.seconds()
        lines.append(
            f"| {case.services} ({case.services * 4}) | {case.mode} ({case.processes()}) "
            f"| {case.operation} | {statistics.median(seconds):.2f} | {max(seconds):.2f} "
            f"| {statistics.median(case.cpu_seconds()):.2f} | {tree_cells} "
            f"| {case.largest_mb():.0f} | {written} | {size} |"
        )
    return "\n".join(lines)


def verdicts(cases: Sequence[Case]) -> list[str]:
    """The issue's goal: a build of 1000 services in <= 3 s and <= 300 MB."""
    lines = []
    for case in cases:
        if case.services != GOAL_SERVICES or not case.operation.startswith("build"):
            continue
        seconds = statistics.median(case.seconds())
        tree = case.tree_mb()
        memory = max(tree) if tree else case.largest_mb()
        time_ok = "met" if seconds <= GOAL_SECONDS else "NOT met"
        memory_ok = "met" if memory <= GOAL_MB else "NOT met"
        lines.append(
            f"- {case.operation}, {case.mode}: time {seconds:.2f} s (median) vs "
            f"{GOAL_SECONDS:g} s: {time_ok} ({seconds / GOAL_SECONDS:.2f}x the goal); "
            f"memory {memory:.0f} MB (max tree peak) vs {GOAL_MB:g} MB: {memory_ok} "
            f"({memory / GOAL_MB:.2f}x the goal)"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compile",
        description="Time and memory of `perfdash build` (fresh and no-op) and `perfdash "
        "validate` on synthetic fleets of N services x 4 SLOs, run as real subprocesses.",
    )
    parser.add_argument(
        "services",
        nargs="*",
        type=int,
        default=[100, 1000],
        help="fleet sizes in services (default: 100 1000)",
    )
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (default: 5)")
    parser.add_argument(
        "--memory-runs",
        type=int,
        default=2,
        help="extra runs per case sampling the process tree's RSS (default: 2)",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=0.01,
        help="seconds between RSS samples in memory runs (default: 0.01)",
    )
    parser.add_argument(
        "--at",
        metavar="REV",
        help="benchmark perfdash/ as of this git revision (extracted with git archive and put "
        "first on PYTHONPATH) instead of the working tree",
    )
    parser.add_argument(
        "--compare",
        metavar="REV",
        help="also benchmark perfdash/ as of REV in the same run, its builds interleaved with "
        "the measured tree's (e.g. --compare 84a548a: the previous main)",
    )
    parser.add_argument(
        "--tmp",
        type=Path,
        metavar="DIR",
        help="put fleets and output under DIR, e.g. /dev/shm to leave the disk out",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long before each fleet size's first measured build, e.g. 330: the "
        "previous size (or run) deleted files on this filesystem (see the module docstring)",
    )
    parser.add_argument(
        "--no-single",
        action="store_true",
        help="skip the PERFDASH_JOBS=1 (single process) comparison",
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.memory_runs < 1 or any(n < 1 for n in args.services):
        parser.error("sizes, --runs and --memory-runs must be positive")
    started = time.perf_counter()
    load_before = load()
    with tempfile.TemporaryDirectory(prefix="perfdash-src-") as source:
        common: dict[str, str] = {}
        measured = revision()
        if args.at:
            measured = checkout(args.at, Path(source))
            path = os.environ.get("PYTHONPATH")
            common["PYTHONPATH"] = source + (os.pathsep + path if path else "")
        modes: list[tuple[str, dict[str, str]]] = [("default jobs", common)]
        if not args.no_single:
            modes.append(("PERFDASH_JOBS=1", {**common, "PERFDASH_JOBS": "1"}))
        if args.compare:
            other = Path(source) / "compare"
            other.mkdir()
            compared = checkout(args.compare, other)
            path = os.environ.get("PYTHONPATH")
            modes.append(
                (f"at {compared}", {"PYTHONPATH": str(other) + (os.pathsep + path if path else "")})
            )
        cases: list[Case] = []
        # Every size's fleet and outputs are deleted at the end, not between sizes: a
        # deletion just before a fresh build would slow its file creation (see above).
        with tempfile.TemporaryDirectory(prefix="perfdash-bench-", dir=args.tmp) as work:
            for services in args.services:
                (Path(work) / str(services)).mkdir()
                cases += bench_size(
                    services,
                    runs=args.runs,
                    memory_runs=args.memory_runs,
                    poll=args.poll,
                    modes=modes,
                    work=Path(work) / str(services),
                    settle=args.settle,
                )
    print(
        f"Machine: {machine()}; load average {load_before} before, {load()} after. "
        f"perfdash {measured}. Output under {args.tmp or tempfile.gettempdir()}. "
        f"{args.runs} timed runs per case; tree RSS from "
        f"{args.memory_runs} more, sampled every {args.poll} s.\n"
    )
    print(markdown_table(cases))
    goal = verdicts(cases)
    if goal:
        print(f"\nGoal: {GOAL_SERVICES} services build in <= {GOAL_SECONDS:g} s, <= {GOAL_MB:g} MB")
        print("\n".join(goal))
    print(f"\nBenchmark wall time: {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
