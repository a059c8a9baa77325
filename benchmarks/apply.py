"""Benchmark plan/apply: N dashboards against the Grafana double with per-request latency.

Generates an N-service fleet (``testing.fleet``: N service dashboards plus the
overview, in 8 team folders), compiles it once, then against an empty Grafana double
answering every request after ``--latency`` seconds (20 ms by default):

1. the first apply (read live state, plan, create folders and dashboards);
2. a no-op apply (nothing changed: it must write nothing);
3. the no-op apply again through the real CLI as a subprocess (``perfdash apply``, what
   CI runs), which also compiles the declarations.

The double runs in its own process, as Grafana would: its (Python) request handling
does not compete with perfdash for the interpreter lock. It counts requests by method.
Requests run at perfdash's default concurrency (8) unless ``--concurrency`` says.

    python -m benchmarks.apply                 # 1000 dashboards, 20 ms
    python -m benchmarks.apply 200 --latency 0.05
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from testing.fleet import write_fleet

GOAL_FIRST_SECONDS = 20.0
GOAL_NOOP_SECONDS = 5.0


def _serve(latency: float, pipe: Connection) -> None:
    """The child process: a GrafanaDouble, driven by commands on ``pipe``."""
    from testing.doubles.grafana import GrafanaDouble

    with GrafanaDouble(latency=latency) as double:
        pipe.send((double.url, double.token))
        while True:
            command = pipe.recv()
            if command == "stats":
                log = double.requests()
                writes = len(double.writes())
                pipe.send(
                    {"requests": len(log), "writes": writes, "dashboards": len(double.dashboards)}
                )
            elif command == "reset":
                double.server.reset_log()
                pipe.send(None)
            else:
                return


@dataclass(frozen=True)
class Measured:
    what: str
    seconds: float
    requests: int
    writes: int
    failed: int


class Double:
    def __init__(self, latency: float) -> None:
        self._pipe, child = multiprocessing.Pipe()
        self._process = multiprocessing.Process(target=_serve, args=(latency, child), daemon=True)
        self._process.start()
        child.close()  # only the child holds its end now: if it dies, recv() fails at once
        try:
            self.url, self.token = self._pipe.recv()
        except EOFError:
            raise SystemExit("the Grafana double's process failed to start (see above)") from None

    def ask(self, command: str) -> Any:
        self._pipe.send(command)
        return self._pipe.recv()

    def stop(self) -> None:
        self._pipe.send("stop")
        self._process.join(timeout=10)


def _apply_once(what: str, double: Double, artifacts: dict[str, str], concurrency: int) -> Measured:
    from perfdash.deploy.fingerprint import ChangeContext
    from perfdash.deploy.run import Targets, apply_deploy, plan_deploy
    from perfdash.deploy.settings import DeploySettings, GrafanaSettings, Secret

    settings = DeploySettings(
        grafana=GrafanaSettings(double.url, token=Secret(double.token), concurrency=concurrency)
    )
    double.ask("reset")
    started = time.monotonic()
    with Targets(settings) as targets:
        plan = plan_deploy(artifacts, targets)
        report = apply_deploy(plan, targets, context=ChangeContext())
    seconds = time.monotonic() - started
    stats = double.ask("stats")
    return Measured(what, seconds, stats["requests"], stats["writes"], len(report.failed))


def _cli_noop(double: Double, fleet: Path, concurrency: int) -> Measured:
    env = {
        **os.environ,
        "GRAFANA_URL": double.url,
        "GRAFANA_TOKEN": double.token,
    }
    double.ask("reset")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "perfdash", "apply", str(fleet), "--concurrency", str(concurrency)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=fleet.parent,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"perfdash apply failed ({done.returncode}):\n{done.stderr}")
    stats = double.ask("stats")
    return Measured(
        "no-op `perfdash apply` (CLI subprocess, compile included)",
        seconds,
        stats["requests"],
        stats["writes"],
        0,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="?", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per request")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)

    from perfdash.build import build_artifacts
    from perfdash.spec import load_fleet

    with tempfile.TemporaryDirectory(prefix="perfdash-apply-bench-") as tmp:
        fleet = Path(tmp) / "slos"
        write_fleet(args.services, fleet, per_file=50)
        started = time.monotonic()
        artifacts = build_artifacts(load_fleet([fleet], root=Path(tmp)))
        compile_seconds = time.monotonic() - started
        dashboards = sum(1 for p in artifacts if p.startswith("dashboards/"))
        size = sum(len(t) for p, t in artifacts.items() if p.startswith("dashboards/"))
        double = Double(args.latency)
        try:
            results = [
                _apply_once("first apply (empty Grafana)", double, artifacts, args.concurrency),
                _apply_once("no-op apply", double, artifacts, args.concurrency),
                _cli_noop(double, fleet, args.concurrency),
            ]
        finally:
            double.stop()

    print(
        f"{dashboards} dashboards ({size / 1e6:.1f} MB of JSON) of {args.services} services, "
        f"{args.latency * 1000:g} ms per request, concurrency {args.concurrency}; "
        f"compiling them took {compile_seconds:.1f} s (not included in the first two rows)\n"
    )
    print("| run | wall time | requests | writes | failed | goal |")
    print("| --- | --- | --- | --- | --- | --- |")
    goals = [f"<= {GOAL_FIRST_SECONDS:g} s", f"0 writes, <= {GOAL_NOOP_SECONDS:g} s", ""]
    for result, goal in zip(results, goals, strict=True):
        print(
            f"| {result.what} | {result.seconds:.2f} s | {result.requests} | {result.writes} "
            f"| {result.failed} | {goal} |"
        )
    first, noop = results[0], results[1]
    met = (
        first.seconds <= GOAL_FIRST_SECONDS
        and noop.seconds <= GOAL_NOOP_SECONDS
        and noop.writes == 0
        and not first.failed
    )
    print(f"\ngoals {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
