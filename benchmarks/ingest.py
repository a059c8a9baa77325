"""Benchmark the baseline store: ingest a big k6 file, compare on a big store.

1. Ingest: a k6 ``--out json`` file of ``--requests`` requests in the line shapes of a real
   k6 1.1.0 run (``testing.results.write_k6_real_shape``: the 13 lines, 3.4 KB, k6 writes
   per request, copied from tests/baseline/fixtures/k6/run.json) is ingested by the real
   CLI, ``perfdash baseline ingest``, as a subprocess. Reported: wall time, the
   subprocess's peak RSS (``ru_maxrss``) and, in the same run, ``grep -c
   http_req_duration`` over the same file (the I/O floor), file in the page cache.
   Goal: <= 3x grep's time and <= 200 MB.
2. Compare: a store holding ``--runs`` runs (20 benchmarks, main and feature branches,
   hourly) and ``--samples`` raw samples, filled in SQL. Reported: the time of
   ``compare_benchmark`` (library call: two indexed queries and the statistics) over
   ``--repeat`` calls, and the end-to-end CLI time (which adds Python's start-up).
   Goal: <= 100 ms.

Both run against a throwaway PostgreSQL 15 (``testing.postgres``: fsync off).

    python -m benchmarks.ingest
    python -m benchmarks.ingest --requests 100000 --runs 1000 --samples 1000000
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from perfdash.baseline.store import Store
from perfdash.baseline.workflow import Selection, compare_benchmark
from testing.postgres import throwaway_postgres
from testing.results import write_k6_real_shape

PASSWORD = "bench-secret"
BENCHMARKS = 20


def bench_ingest(dsn: str, requests: int, folder: Path) -> tuple[float, float, int, int, float]:
    path = folder / "k6-real-shape.json"
    began = time.perf_counter()
    lines, size = write_k6_real_shape(path, requests)
    print(f"wrote {size / 1e6:.0f} MB, {lines} lines in {time.perf_counter() - began:.1f} s",
          file=sys.stderr)  # fmt: skip
    began = time.perf_counter()
    subprocess.run(["grep", "-c", "http_req_duration", str(path)], capture_output=True, check=True)
    grep_seconds = time.perf_counter() - began
    env = {**os.environ, "PERFDASH_DSN": dsn}
    command = [sys.executable, "-m", "perfdash", "baseline", "ingest", "--benchmark", "big",
               "--branch", "main", "--format", "k6", str(path)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - began
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(done.stdout.strip(), file=sys.stderr)
    return seconds, max(peak_kb, before) / 1024, size, lines, grep_seconds


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
            """INSERT INTO perfdash.samples (run_id, ts, series, value)
               SELECT r.id, r.started_at + make_interval(secs => s * 0.01), 'latency',
                      80 * exp(0.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
               FROM perfdash.runs r, generate_series(1, %(per_run)s) AS s""",
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


def bench_compare(dsn: str, repeat: int) -> tuple[list[float], float]:
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
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "perfdash", "baseline", "compare", "--benchmark", "bench-7",
         "--branch", "feature-1", "--no-record", "--format", "json"],
        env=env, capture_output=True, check=True, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    return timings, time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, throwaway_postgres(password=PASSWORD) as server:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE ingest")
            conn.execute("CREATE DATABASE big")
        for database in ("ingest", "big"):
            with Store.open(server.dsn(database)) as store:
                store.init()
        seconds, peak_mb, size, lines, grep = bench_ingest(
            server.dsn("ingest"), args.requests, Path(tmp)
        )
        began = time.perf_counter()
        fill_store(server.dsn("big"), args.runs, args.samples)
        print(f"filled the store in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        timings, cli = bench_compare(server.dsn("big"), args.repeat)
    ms = sorted(t * 1000 for t in timings)
    print(f"| ingest real-shaped k6 NDJSON, {args.requests:,} requests ({lines:,} lines, "
          f"{size / 1e6:.0f} MB) | {seconds:.1f} s = {seconds / grep:.1f}x `grep -c` ({grep:.2f} s) "
          f"| {peak_mb:.0f} MB peak RSS | goal <= 3x grep -c, <= 200 MB |")  # fmt: skip
    print(f"| compare, store of {args.runs:,} runs and {args.samples:,} samples | median "
          f"{statistics.median(ms):.1f} ms, max {ms[-1]:.1f} ms ({args.repeat} calls); CLI end to "
          f"end {cli * 1000:.0f} ms | | goal <= 100 ms |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
