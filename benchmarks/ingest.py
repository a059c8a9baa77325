"""Benchmark the baseline store: ingest a big k6 file, compare on a big store.

1. Ingest: a k6 ``--out json`` file of ``--requests`` requests in the line shapes of a real
   k6 1.1.0 run (``testing.results.write_k6_real_shape``: the 13 lines, 3.4 KB, k6 writes
   per request, copied from tests/baseline/fixtures/k6/run.json) is ingested by the real
   CLI, ``perfdash baseline ingest``, as a subprocess, ``--ingests`` times (a new benchmark
   name each, so none is a duplicate). Reported: wall time, CPU time, the process tree's
   peak memory, the PostgreSQL server's CPU time, and ``grep -c http_req_duration`` over
   the same file (the I/O floor: median of 3 runs before and 3 after, file in the page
   cache). Goal: <= 3x grep's time and <= 200 MB. ``--then REV`` ingests the same file
   with perfdash as of REV too (its own database), for a before/after in one run.
2. Compare: a store holding ``--runs`` runs (20 benchmarks, main and feature branches,
   hourly) and ``--samples`` raw samples, filled in SQL. Reported: the time of
   ``compare_benchmark`` (library call: two indexed queries and the statistics) over
   ``--repeat`` calls, and the end-to-end CLI time (which adds Python's start-up).
   Goal: <= 100 ms.

Both run against a throwaway PostgreSQL 15 (``testing.postgres``: fsync off). The k6 file
is written to ``--folder`` (default: the system's temporary folder; 1M requests need
3.4 GB there) and deleted afterwards.

    python -m benchmarks.ingest
    python -m benchmarks.ingest --requests 100000 --runs 1000 --samples 1000000
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg

from perfdash.baseline.store import HASH_ALGORITHM, Store
from perfdash.baseline.workflow import Selection, compare_benchmark, content_hash
from testing.measure import checkout, load, machine, measure, perfdash_command, revision
from testing.postgres import Server, throwaway_postgres
from testing.results import write_k6_real_shape

PASSWORD = "bench-secret"
BENCHMARKS = 20
BYTES_PER_REQUEST = 3_500  # a little above write_k6_real_shape's 3.4 KB


@dataclass(frozen=True)
class Ingest:
    seconds: float
    cpu_seconds: float  # the CLI process and its children (user + system)
    server_cpu_seconds: float  # the PostgreSQL server's processes
    peak_mb: float  # the process tree's peak resident memory (sampled)
    output: str


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _server_cpu(server: Server) -> float:
    """CPU seconds of the server's processes so far (those of ended backends included)."""
    total = 0.0
    for process in psutil.process_iter(["cmdline"]):
        if str(server.data) in " ".join(process.info["cmdline"] or ()):
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
    return total


def grep_seconds(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``grep -c http_req_duration`` over ``path``."""
    before, began = _children_cpu(), time.perf_counter()
    subprocess.run(["grep", "-c", "http_req_duration", str(path)], capture_output=True, check=True)
    return time.perf_counter() - began, _children_cpu() - before


def floor_seconds(path: Path, *options: str) -> tuple[float, float]:
    """Wall and CPU seconds of ``benchmarks.json_floor`` (msgspec checks every line, on the
    same workers and parts as the ingest, and does nothing else; ``--lines``: and proves
    one object a line as the ingest does)."""
    before, began = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "benchmarks.json_floor", str(path), *options],
                   capture_output=True, check=True, cwd=Path(__file__).parent.parent)  # fmt: skip
    return time.perf_counter() - began, _children_cpu() - before


def hash_seconds(path: Path, algorithm: str) -> float:
    """CPU seconds of the file's content hash (``xxh3-128``: the run's identity; ``sha256``:
    earlier versions'), in this process, as the ingest computes it."""
    began = time.process_time()
    content_hash("k6", [path], algorithm=algorithm)
    return time.process_time() - began


def ingest_once(
    server: Server, dsn: str, path: Path, benchmark: str, extra: dict[str, str] | None = None
) -> Ingest:
    env = {**os.environ, "PERFDASH_DSN": dsn, **(extra or {})}
    command = [*perfdash_command(), "baseline", "ingest", "--benchmark", benchmark,
               "--branch", "main", "--format", "k6", str(path)]  # fmt: skip
    cpu, server_cpu = _children_cpu(), _server_cpu(server)
    run = measure(command, cwd=Path.cwd(), env=env, poll=0.05)
    return Ingest(
        run.seconds,
        _children_cpu() - cpu,
        _server_cpu(server) - server_cpu,
        (run.tree_peak_bytes or run.largest_process_bytes) / 1e6,
        run.stdout.strip(),
    )


def older_perfdash(server: Server, rev: str, folder: Path) -> tuple[str, dict[str, str]]:
    """perfdash as of ``rev`` (extracted to ``folder``) and a database it initialised."""
    label = checkout(rev, folder)
    extra = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    }
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE ingest_then")
    env = {**os.environ, "PERFDASH_DSN": server.dsn("ingest_then"), **extra}
    subprocess.run([*perfdash_command(), "baseline", "init"], env=env, check=True,
                   capture_output=True, cwd=folder)  # fmt: skip
    return label, extra


def bench_ingest(
    server: Server, requests: int, ingests: int, folder: Path, then: str | None
) -> list[str]:
    free = shutil.disk_usage(folder).free
    if free < requests * BYTES_PER_REQUEST * 1.2:
        sys.exit(f"{folder} has {free / 1e9:.1f} GB free: {requests:,} requests need about "
                 f"{requests * BYTES_PER_REQUEST / 1e9:.1f} GB (--folder elsewhere)")  # fmt: skip
    path = folder / "k6-real-shape.json"
    try:
        began = time.perf_counter()
        lines, size = write_k6_real_shape(path, requests)
        print(f"wrote {size / 1e6:.0f} MB, {lines:,} lines in {time.perf_counter() - began:.0f} s",
              file=sys.stderr)  # fmt: skip
        grep_seconds(path)  # into the page cache
        greps = [grep_seconds(path) for _ in range(3)]
        floors = [floor_seconds(path) for _ in range(3)]
        proofs = [floor_seconds(path, "--lines") for _ in range(3)]
        hashes = [hash_seconds(path, HASH_ALGORITHM) for _ in range(3)]
        sha256s = [hash_seconds(path, "sha256") for _ in range(3)]
        runs, before = [], []
        for index in range(ingests):
            runs.append(ingest_once(server, server.dsn("ingest"), path, f"big-{index}"))
            print(f"{runs[-1].output} ({runs[-1].seconds:.1f} s)", file=sys.stderr)
        if then is not None:
            with tempfile.TemporaryDirectory() as source:
                label, extra = older_perfdash(server, then, Path(source))
                for index in range(ingests):
                    dsn = server.dsn("ingest_then")
                    before.append(ingest_once(server, dsn, path, f"big-{index}", extra))
                    print(f"at {label}: {before[-1].output} ({before[-1].seconds:.1f} s)",
                          file=sys.stderr)  # fmt: skip
        greps += [grep_seconds(path) for _ in range(3)]
    finally:
        path.unlink(missing_ok=True)
    grep_wall = statistics.median(g[0] for g in greps)
    grep_cpu = statistics.median(g[1] for g in greps)

    def row(what: str, measured: list[Ingest]) -> str:
        wall = statistics.median(r.seconds for r in measured)
        cpu = statistics.median(r.cpu_seconds for r in measured)
        server_cpu = statistics.median(r.server_cpu_seconds for r in measured)
        peak = max(r.peak_mb for r in measured)
        return (
            f"| {what} of {requests:,} requests ({lines:,} lines, {size / 1e6:,.0f} MB), every "
            f"line checked; median of {len(measured)} | {wall:.1f} s = {wall / grep_wall:.1f}x "
            f"`grep -c` ({grep_wall:.2f} s); CPU {cpu:.1f} s = {cpu / grep_cpu:.1f}x grep's "
            f"({grep_cpu:.2f} s), PostgreSQL {server_cpu:.1f} s | {peak:.0f} MB peak RSS (tree) "
            "| <= 3x grep -c, <= 200 MB |"
        )

    floor_wall = statistics.median(f[0] for f in floors)
    floor_cpu = statistics.median(f[1] for f in floors)
    proof_wall = statistics.median(f[0] for f in proofs)
    proof_cpu = statistics.median(f[1] for f in proofs)
    rows = [
        f"| floor + proof of one object a line (`json_floor --lines`: the newline and "
        f"`}}\\n{{` counts too); median of 3 | {proof_wall:.1f} s = "
        f"{proof_wall / grep_wall:.1f}x `grep -c`; CPU {proof_cpu:.1f} s = "
        f"{proof_cpu / grep_cpu:.1f}x grep's | | |",
        f"| floor: msgspec checks every line of the same file (`benchmarks.json_floor`, 2 "
        f"workers, nothing kept); median of 3 | {floor_wall:.1f} s = {floor_wall / grep_wall:.1f}x "
        f"`grep -c`; CPU {floor_cpu:.1f} s = {floor_cpu / grep_cpu:.1f}x grep's; the file's "
        f"content hash: XXH3-128 CPU {statistics.median(hashes):.2f} s (sha256, before: "
        f"{statistics.median(sha256s):.2f} s) | | |",
        row("`perfdash baseline ingest`", runs),
    ]
    if before:
        rows.append(row(f"the same, perfdash at {then}", before))
    return rows


def fill_store(dsn: str, runs: int, samples: int) -> None:
    """``runs`` runs over 20 benchmarks with summaries, and ``samples`` raw samples, in SQL."""
    per_run = max(1, samples // runs)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO perfdash.runs (benchmark, started_at, branch, format, files,
                   content_hash, tool, samples)
               SELECT 'bench-' || (i %% %(benchmarks)s),
                      now() - make_interval(hours => (%(runs)s - i) / %(benchmarks)s),
                      CASE WHEN i %% 7 = 0 THEN 'feature-' || (i %% 3) ELSE 'main' END,
                      'k6', ARRAY['run.json'], md5(i::text), 'k6', %(per_run)s
               FROM generate_series(1, %(runs)s) AS i""",
            {"benchmarks": BENCHMARKS, "runs": runs, "per_run": per_run},
        )
        conn.execute(
            """INSERT INTO perfdash.sample_blocks (run_id, series, ts, n, total, min, max,
                   sample_values, offsets_us)
               SELECT r.id, 'latency', date_trunc('minute', r.started_at), count(*), sum(v),
                      min(v), max(v), array_agg(v), array_agg(o)
               FROM perfdash.runs r,
                    LATERAL (SELECT 80 * exp(0.5 * sqrt(-2 * ln(1 - random()))
                                    * cos(2 * pi() * random())) AS v,
                                    (s * 1000 %% 60000000)::integer AS o
                             FROM generate_series(1, %(per_run)s) AS s) AS x
               GROUP BY r.id, r.started_at""",
            {"per_run": per_run},
        )
        conn.execute(
            """INSERT INTO perfdash.run_summary (run_id, benchmark, branch, started_at, metric,
                   value, n, unit, better)
               SELECT r.id, r.benchmark, r.branch, r.started_at, m.metric,
                      m.base * exp(0.02 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())),
                      5000, m.unit, m.better
               FROM perfdash.runs r,
                    (VALUES ('p50', 80.0, 'ms', 'lower'), ('p90', 150.0, 'ms', 'lower'),
                            ('p95', 180.0, 'ms', 'lower'), ('p99', 250.0, 'ms', 'lower'),
                            ('p99.9', 400.0, 'ms', 'lower'), ('mean', 90.0, 'ms', 'lower'),
                            ('max', 900.0, 'ms', 'lower'), ('rps', 200.0, 'reqps', 'higher'),
                            ('error_rate', 0.001, 'percentunit', 'lower'),
                            ('requests', 5000.0, '', 'lower'))
                    AS m(metric, base, unit, better)"""
        )
        conn.execute("ANALYZE")


def bench_compare(dsn: str, runs: int, samples: int, repeat: int) -> list[str]:
    selection = Selection("bench-7", branch="feature-1")
    timings = []
    with Store.open(dsn) as store:
        for _ in range(repeat):
            began = time.perf_counter()
            report = compare_benchmark(store, selection, now=datetime.now(UTC))
            timings.append(time.perf_counter() - began)
    print(f"compared runs {report.candidate.ids} with {len(report.baseline.ids)} baseline runs",
          file=sys.stderr)  # fmt: skip
    env = {**os.environ, "PERFDASH_DSN": dsn}
    command = [*perfdash_command(), "baseline", "compare", "--benchmark", "bench-7",
               "--branch", "feature-1", "--no-record", "--format", "json"]  # fmt: skip
    cli = measure(command, cwd=Path(tempfile.gettempdir()), env=env, poll=None).seconds
    ms = sorted(t * 1000 for t in timings)
    return [
        f"| compare, store of {runs:,} runs and {samples:,} samples | median "
        f"{statistics.median(ms):.1f} ms, max {ms[-1]:.1f} ms ({repeat} calls); CLI end to "
        f"end {cli * 1000:.0f} ms | | goal <= 100 ms |"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--ingests", type=int, default=1, help="ingests of the file (median)")
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--then", metavar="REV", help="also ingest with perfdash at REV")
    parser.add_argument("--skip-compare", action="store_true")
    args = parser.parse_args(argv)
    print(f"{machine()}; perfdash {revision()}; load average before: {load()}", file=sys.stderr)
    rows = []
    with throwaway_postgres(password=PASSWORD) as server:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE ingest")
            conn.execute("CREATE DATABASE big")
        for database in ("ingest", "big"):
            with Store.open(server.dsn(database)) as store:
                store.init()
        rows += bench_ingest(server, args.requests, args.ingests, args.folder, args.then)
        print(f"load average after ingest: {load()}", file=sys.stderr)
        if not args.skip_compare:
            began = time.perf_counter()
            fill_store(server.dsn("big"), args.runs, args.samples)
            print(f"filled the store in {time.perf_counter() - began:.0f} s", file=sys.stderr)
            rows += bench_compare(server.dsn("big"), args.runs, args.samples, args.repeat)
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
