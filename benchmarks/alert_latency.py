"""Alert latency on a live Prometheus + Alertmanager: error injection -> page, fix -> resolved.

Runs the stack of the end-to-end test (testing/stack.py, with the fleet and
bounds of testing/alert_fleet.py) ``--runs`` times, each time fresh (new folder,
backfilled history, new Prometheus and Alertmanager), and in each the ``pay`` outage:
100% errors until the fast page (1h/1m pair of a 99.99%/30d SLO) reaches the webhook,
then none until its resolution does. Reports median and max of

- page latency: the service applying 100% errors -> the webhook receiving the page, split
  at the alert's ``startsAt`` (the evaluation at which the rule fired) into Prometheus'
  part (detection, scrape and evaluation) and Alertmanager's (send, group_wait, webhook);
- resolution latency: the service back to 0% errors -> the webhook receiving the page
  resolved, split at the alert's ``endsAt`` the same way (reset, scrape, evaluation;
  send, group_interval, webhook);

next to the computed bounds and the Workbook's detection and reset times.

    python -m benchmarks.alert_latency            # 5 runs, about 7 minutes
    python -m benchmarks.alert_latency --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from perfdash.model.fleet import Fleet
from testing.alert_fleet import (
    e2e_stack,
    fast_page_labels,
    fastest_page,
    page_bound,
    resolution_bound,
    run_outage,
)
from testing.stack import Binaries, environment_binaries
from testing.webhook import ReceivedAlert

SERVICE = "pay"
SLO_NAME = "availability"


@dataclass(frozen=True)
class Measured:
    """One run, in seconds."""

    page: float  # injection -> webhook
    page_prometheus: float  # injection -> the alert's startsAt
    resolution: float  # fix -> webhook
    resolution_prometheus: float  # fix -> the alert's endsAt

    @property
    def page_alertmanager(self) -> float:
        return self.page - self.page_prometheus

    @property
    def resolution_alertmanager(self) -> float:
        return self.resolution - self.resolution_prometheus


def measure_once(binaries: Binaries) -> tuple[Measured, Fleet]:
    with (
        tempfile.TemporaryDirectory(prefix="perfdash-alert-latency-") as folder,
        e2e_stack(Path(folder), binaries) as (stack, fleet),
    ):
        run = run_outage(stack, fleet, service=SERVICE, slo=SLO_NAME)
        owner = fleet.service(SERVICE)
        labels = fast_page_labels(owner, owner.slo(SLO_NAME))
        fired = _only(run.page.matching(**labels))
        resolved = _only(run.resolution.matching(**labels))
        assert resolved.ends_at is not None
        measured = Measured(
            page=run.page_latency,
            page_prometheus=fired.starts_at - run.injected_at,
            resolution=run.resolution_latency,
            resolution_prometheus=resolved.ends_at - run.restored_at,
        )
        return measured, fleet


def _only(alerts: list[ReceivedAlert]) -> ReceivedAlert:
    if len(alerts) != 1:
        raise RuntimeError(f"expected one alert, got {alerts}")
    return alerts[0]


def machine(binaries: Binaries) -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    versions = [
        _first_line([binaries.prometheus, "--version"]),
        _first_line([binaries.alertmanager, "--version"]),
    ]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}, "
        f"{'; '.join(versions)}, {time.strftime('%Y-%m-%d')}, load average before {load}"
    )


def _first_line(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    return (done.stdout or done.stderr).splitlines()[0].split(" (")[0]


def _stats(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f}s | {max(values):.2f}s"


def report(runs: Sequence[Measured], fleet: Fleet) -> str:
    service = fleet.service(SERVICE)
    slo = service.slo(SLO_NAME)
    facts = fastest_page(slo)
    page = page_bound(fleet, service, slo)
    reset = resolution_bound(fleet, service, slo)
    pair = f"{facts.window.long}/{facts.window.short}"
    rows = [
        "| | median | max | bound | Workbook |",
        "| --- | --- | --- | --- | --- |",
        f"| page: 100% errors -> webhook | {_stats([r.page for r in runs])} | "
        f"{page.seconds:.2f}s | detection {facts.workbook_detection_seconds:.3f}s |",
        f"| - Prometheus: errors -> alert fires | {_stats([r.page_prometheus for r in runs])} | "
        f"| |",
        f"| - Alertmanager: fires -> webhook | {_stats([r.page_alertmanager for r in runs])} | | |",
        f"| resolution: 0% errors -> webhook | {_stats([r.resolution for r in runs])} | "
        f"{reset.seconds:.2f}s | reset {facts.window.short.seconds}s (short window) |",
        f"| - Prometheus: fix -> alert resolves | "
        f"{_stats([r.resolution_prometheus for r in runs])} | | |",
        f"| - Alertmanager: resolves -> webhook | "
        f"{_stats([r.resolution_alertmanager for r in runs])} | | |",
    ]
    each = "; ".join(f"{r.page:.2f}s/{r.resolution:.2f}s" for r in runs)
    return "\n".join(
        [
            f"{len(runs)} runs, fast page of {SERVICE}/{SLO_NAME} ({slo.objective}% over "
            f"{slo.window}, pair {pair}, {float(facts.factor):g}x, threshold "
            f"{float(facts.threshold):g}).",
            "",
            *rows,
            "",
            f"Page bound: {page}.",
            f"Resolution bound: {reset}.",
            f"Each run (page/resolution): {each}.",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh stacks to run (default 5)")
    args = parser.parse_args(argv)
    binaries = environment_binaries()
    started = time.monotonic()
    host = machine(binaries)
    runs = []
    fleet = None
    for index in range(args.runs):
        measured, fleet = measure_once(binaries)
        runs.append(measured)
        print(
            f"run {index + 1}/{args.runs}: page {measured.page:.2f}s "
            f"(Prometheus {measured.page_prometheus:.2f}s), resolution {measured.resolution:.2f}s "
            f"(Prometheus {measured.resolution_prometheus:.2f}s)",
            file=sys.stderr,
        )
    assert fleet is not None
    print(f"Machine: {host}. Wall time {time.monotonic() - started:.0f}s.\n")
    print(report(runs, fleet))
    return 0


if __name__ == "__main__":
    sys.exit(main())
