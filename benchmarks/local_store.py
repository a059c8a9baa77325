"""Benchmark the local store (no PERFDASH_DSN): what starting it on demand costs.

1. Create: a new ``$PERFDASH_HOME`` -> initdb, start, create the database, stop
   (``perfdash.baseline.local.running_cluster``, the code every command runs).
2. Start and stop an existing cluster (what each later command pays).
3. ``perfdash baseline init`` end to end as a subprocess on the local store (the
   schema up to date) against the same command with ``--dsn`` to a running throwaway
   PostgreSQL 15: the difference is the local store's per-command cost.

Reported: medians (and max) over ``--repeat`` rounds, in one run, so that the ratios
hold on a shared machine.

    python -m benchmarks.local_store
    python -m benchmarks.local_store --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from perfdash.baseline.local import running_cluster, server_binaries
from perfdash.baseline.store import Store
from testing.postgres import throwaway_postgres

PASSWORD = "bench-secret"


def timed(seconds: list[float], began: float) -> float:
    now = time.perf_counter()
    seconds.append(now - began)
    return now


def cli_seconds(args: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run([sys.executable, "-m", "perfdash", *args], env=env, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - began


def line(what: str, seconds: list[float]) -> str:
    return (
        f"| {what} | {statistics.median(seconds) * 1000:.0f} ms | "
        f"{max(seconds) * 1000:.0f} ms | {len(seconds)} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    binaries = server_binaries()
    create, create_stop, start, stop = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.repeat):
            home = Path(tmp) / f"new-{round_}"
            began = time.perf_counter()
            with running_cluster(home, binaries=binaries):
                began = timed(create, began)
            timed(create_stop, began)
        home = Path(tmp) / "warm"
        with running_cluster(home, binaries=binaries):
            pass
        for _ in range(args.repeat):
            began = time.perf_counter()
            with running_cluster(home, binaries=binaries):
                began = timed(start, began)
            timed(stop, began)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PERFDASH_")}
        local_env = {**env, "PERFDASH_HOME": str(home)}
        cli_seconds(["baseline", "init"], local_env)
        local_cli = [cli_seconds(["baseline", "init"], local_env) for _ in range(args.repeat)]
        with throwaway_postgres(password=PASSWORD) as server:
            dsn = server.dsn()
            with Store.open(dsn) as store:
                store.init()
            server_env = {**env, "PERFDASH_DSN": dsn}
            server_cli = [cli_seconds(["baseline", "init"], server_env) for _ in range(args.repeat)]
    print("| what | median | max | rounds |")
    print("| --- | --- | --- | --- |")
    print(line("create a local store (initdb, start, create database)", create))
    print(line("stop it (fast shutdown)", create_stop))
    print(line("start an existing local store", start))
    print(line("stop it", stop))
    print(line("`perfdash baseline init`, local store (start, init, stop)", local_cli))
    print(line("`perfdash baseline init --dsn` to a running PostgreSQL 15", server_cli))
    extra = statistics.median(local_cli) - statistics.median(server_cli)
    print(f"\nper-command cost of the local store: {extra * 1000:.0f} ms (median difference)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
