"""Where one process spends a build: the stages of ``perfdash build``, timed in-process.

For N services (``testing.fleet``) this loads the fleet with one process, then times
schema validation of every document by the compiled validator and by jsonschema, rule files,
promtool test files, and service dashboards rendered to JSON. Each stage is run
``--runs`` times; medians are printed. Nothing is written except the fleet, in a
temporary folder.

    python -m benchmarks.compile_stages            # N = 1000
    python -m benchmarks.compile_stages 200 --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from testing.fleet import write_fleet


def timed(function: Callable[[], Any], runs: int) -> float:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compile_stages")
    parser.add_argument("services", nargs="?", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3, help="runs per stage (default: 3)")
    args = parser.parse_args(argv)
    os.environ["PERFDASH_JOBS"] = "1"

    started = time.perf_counter()
    from perfdash.grafana.dashboards import build_service_dashboards, dashboard_json
    from perfdash.prometheus.rule_tests import build_rule_test_files
    from perfdash.prometheus.rules import build_rule_files
    from perfdash.spec import load_fleet
    from perfdash.spec.load import load_documents
    from perfdash.spec.schema import _is_valid, _validator

    imports = time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="perfdash-stages-") as tmp:
        root = Path(tmp)
        write_fleet(args.services, root / "fleet")
        files = sorted((root / "fleet").glob("*.yaml"))
        data = [d.data for d in load_documents(files, root=root)]
        fleet = load_fleet([root / "fleet"], root=root, jobs=1)
        compiled = _is_valid()
        full = _validator()
        stages = {
            "load and validate (one process)": lambda: load_fleet(
                [root / "fleet"], root=root, jobs=1
            ),
            "schema check, compiled validator (fastjsonschema)": lambda: [
                compiled(d) for d in data
            ],
            "schema check, jsonschema": lambda: [list(full.iter_errors(d)) for d in data],
            "rule files": lambda: build_rule_files(fleet),
            "promtool test files": lambda: build_rule_test_files(fleet),
            "service dashboards, to JSON": lambda: [
                dashboard_json(d) for d in build_service_dashboards(fleet.services).values()
            ],
        }
        results = {name: timed(run, args.runs) for name, run in stages.items()}

    print(
        f"{args.services} services ({len(data)} documents), one process, median of "
        f"{args.runs} runs; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs.\n"
    )
    print("| stage | median s |\n| --- | --- |")
    print(f"| imports | {imports:.2f} |")
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
