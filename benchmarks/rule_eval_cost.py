"""Rule evaluation cost on a real Prometheus: perfdash's rules vs naive raw-window rules.

perfdash records 5m event rates and reads the raw counters only for windows up to 6h;
the 1d, 3d and SLO windows divide ``sum_over_time`` of the recorded 5m rates. The
"naive" rule set computes every window (5m, 30m, 1h, 2h, 6h, 1d, 3d and the SLO window)
as ``rate(bad[W]) / rate(total[W])`` straight from the raw counters, as Sloth does for
all but its period window (Sloth averages its 5m ratio over the period). Both sets carry
the same SLI, budget, burn and metadata series and the same alerts; only the way the
error ratios are computed differs.

Long windows only cost something when there is history, so the script:

1. generates the fleet (``benchmarks.fleet``, first ``--services`` services x 4 SLOs)
   and both rule sets from the same model (``perfdash.spec.load_fleet``; the naive
   expressions come from ``perfdash.prometheus.promql``), and checks both with promtool;
2. synthesises ``--days`` of history as OpenMetrics text, one sample every ``--step``:
   per service 24 ``http_requests_total`` series (3 instances x 2 routes x codes
   200/429/500/503), a latency histogram (``le`` 0.25 and +Inf, ``_count``) per instance
   and route, and ``jobs_processed_total``/``jobs_failed_total`` per instance, with a
   daily traffic cycle, noise and incidents; plus, every ``--record-step``, the
   ``slo:total_events:rate5m`` / ``slo:bad_events:rate5m`` series perfdash's long
   windows read, computed from the same counters with the labels the generated rules
   give them (service, slo, env and the grouping label route): both rule sets see the
   same history, as if they had been running for ``--days``;
3. backfills it with ``promtool tsdb create-blocks-from openmetrics``;
4. for each rule set: copies the TSDB, backfills the minutes since step 2 (so no run
   starts with a gap), starts Prometheus on 127.0.0.1 (free port, compaction off) with
   the rules and a scrape of an in-process exporter that continues the same counters
   live, lets ``--warmup`` evaluations pass, then reads ``/metrics`` and
   ``/api/v1/rules`` every evaluation interval, ``--samples`` times; then runs every
   rule expression once, one after the other, through the query API with statistics;
5. reports, per rule set, the median over samples of the sum over rule groups of
   ``prometheus_rule_group_last_duration_seconds`` (the headline figure; wall time, so
   it moves with the machine's load), the CPU seconds Prometheus used per evaluation
   cycle, the samples read per cycle (``totalQueryableSamples``, deterministic) and the
   engine time of the sequential pass; the ratios perfdash/naive (goal: <= 0.5); the
   cost per kind of rule; and, as a check that the comparison is fair, how far
   perfdash's derived 1d/3d/SLO-window ratios are from the raw ones at the end of the
   backfilled history.

The per-evaluation cost depends on the history, not on how often rules run: the live
``--eval-interval`` (default 15s) is short only to collect samples sooner. Use
``--record-step`` to backfill the recorded rates as a shorter production evaluation
interval would have left them (more samples for the long windows to read).

Everything runs in a temporary directory, removed at the end (``--keep`` keeps it).

    python -m benchmarks.rule_eval_cost
    python -m benchmarks.rule_eval_cost --rounds 2 --record-step 15
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, TextIO

import yaml
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.fleet import write_fleet
from perfdash.durations import Duration
from perfdash.prometheus import promql
from perfdash.prometheus.rules import (
    GENERATED_MARK,
    MISSING_DATA_ALERT,
    alerting_rules,
    build_rule_files,
    group_name,
    recording_rules,
    series_labels,
)
from perfdash.spec import SLO, Fleet, Service, load_fleet
from perfdash.spec.model import LatencySLI
from perfdash.yamlout import dump

GOAL_RATIO = 0.5
# Sloth's windows: the four alert pairs plus the SLO window (added per SLO).
NAIVE_WINDOWS = tuple(Duration.parse(w) for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"))
INSTANCES = (("10.0.1.11:8080", 0.36), ("10.0.1.12:8080", 0.33), ("10.0.1.13:8080", 0.31))
ROUTES = (("/api/orders", 0.65), ("/api/search", 0.35))
CODES = ("200", "429", "500", "503")
LATENCY_BUCKET = "0.25"  # the fleet's latency threshold, a bucket boundary
RATIO_PREFIX = "slo:sli_error:ratio_rate"
# Data keeps flowing this long after the history ends (exporter, gap fills).
FUTURE = 6 * 3600


# --------------------------------------------------------------------------- rules


def naive_rule_files(fleet: Fleet) -> dict[str, str]:
    """Same outputs as perfdash's rules, every error ratio computed from raw counters."""
    files = {}
    for service in fleet.services:
        groups = [naive_group(service, slo) for slo in service.slos]
        if groups:
            header = (
                f"{GENERATED_MARK.replace('perfdash', 'benchmarks.rule_eval_cost')}: naive rules"
            )
            files[f"{service.name}.yaml"] = dump({"groups": groups}, header=header)
    return files


def naive_ratio(service: Service, slo: SLO, window: Duration) -> str:
    total = promql.total_rate(service, slo, window)
    if isinstance(slo.sli, LatencySLI):
        good = promql.good_latency_rate(service, slo, window)
        return f"1 - (\n  {good}\n/\n  {total}\n)"
    return f"{promql.bad_rate(service, slo, window)}\n/\n{total}"


def naive_group(service: Service, slo: SLO) -> dict[str, Any]:
    labels = series_labels(service, slo)
    windows = sorted({*NAIVE_WINDOWS, slo.window})
    ratios = [
        {
            "record": promql.error_ratio_name(w),
            "expr": naive_ratio(service, slo, w),
            "labels": labels,
        }
        for w in windows
    ]
    # SLI, budget, burn and metadata series exactly as perfdash records them.
    tail = [
        rule
        for rule in recording_rules(service, slo)
        if rule["record"] not in (promql.TOTAL_RATE, promql.BAD_RATE)
        and not rule["record"].startswith(RATIO_PREFIX)
    ]
    alerts = alerting_rules(service, slo)
    own = promql.slo_selector(service, slo)
    for alert in alerts:
        if alert["alert"] == MISSING_DATA_ALERT:  # no 5m event rates here: watch the 5m ratio
            alert["expr"] = f"absent({promql.error_ratio_name(NAIVE_WINDOWS[0])}{own})"
    return {"name": group_name(service, slo), "rules": [*ratios, *tail, *alerts]}


def write_rules(files: dict[str, str], folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for relative, text in files.items():
        path = folder / Path(relative).name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


# ------------------------------------------------------------------ synthetic data


def label_text(name: str, labels: dict[str, str]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return f"{name}{{{inner}}}"


@dataclass
class Series:
    """One raw counter: identity and cumulative values on the whole time grid."""

    name: str
    labels: dict[str, str]
    values: array[float]

    @property
    def text(self) -> str:
        return label_text(self.name, self.labels)


@dataclass(frozen=True)
class Grid:
    """Sample times: ``start + i * step`` for i in [0, size); history ends at ``now_index``."""

    start: int
    step: int
    now_index: int
    size: int
    record_step: int  # how often the recorded 5m rates have a sample (the rules' interval)

    def time(self, index: int) -> int:
        return self.start + index * self.step

    def index_at(self, seconds: float) -> int:
        return min(self.size - 1, int((seconds - self.start) // self.step))


def incidents(
    rng: random.Random, size: int, step: int, count: int, peak: float
) -> list[tuple[int, int, float]]:
    """``count`` (start index, end index, ratio) incidents of 5 minutes to 2 hours."""
    found = []
    for _ in range(count):
        length = max(1, int(rng.uniform(300, 7200) // step))
        start = rng.randrange(0, max(1, size - length))
        found.append((start, start + length, rng.uniform(peak / 20, peak)))
    return found


def ratio_profile(
    rng: random.Random, grid: Grid, background: float, peak: float, days: float
) -> array[float]:
    values = array("d", [background]) * grid.size
    for start, end, level in incidents(rng, grid.size, grid.step, max(1, round(days / 2)), peak):
        for i in range(start, end):
            values[i] = min(0.9, background + level)
    return values


def service_series(index: int, service: Service, grid: Grid, seed: int) -> list[Series]:
    """Raw counters of one service of ``benchmarks.fleet``, over the whole grid."""
    rng = random.Random(seed * 1_000_003 + index)
    days = grid.now_index * grid.step / 86400
    rps = 20.0 + 10.0 * (index % 7)
    phase = rng.random()
    traffic = array(
        "d",
        (
            rps
            * grid.step
            * (1 + 0.35 * math.sin(2 * math.pi * (grid.time(i) / 86400 + phase)))
            * (0.92 + 0.16 * rng.random())
            for i in range(grid.size)
        ),
    )
    errors = ratio_profile(rng, grid, 0.0004 * (1 + index % 3), 0.2, days)
    slow = ratio_profile(rng, grid, 0.004, 0.1, days)
    failed = ratio_profile(rng, grid, 0.0005, 0.05, days)
    throttled = 0.001
    job = service.name
    out: list[Series] = []

    def counter(name: str, labels: dict[str, str], increments: Iterable[float]) -> None:
        out.append(Series(name, {"job": job, **labels}, array("d", accumulate(increments))))

    for instance, instance_share in INSTANCES:
        for route, route_share in ROUTES:
            share = instance_share * route_share
            where = {"instance": instance, "route": route}
            fractions = {
                "200": (1 - throttled - e for e in errors),
                "429": (throttled for _ in errors),
                "500": (0.8 * e for e in errors),
                "503": (0.2 * e for e in errors),
            }
            for code in CODES:
                counter(
                    "http_requests_total",
                    {**where, "code": code},
                    (t * share * f for t, f in zip(traffic, fractions[code], strict=True)),
                )
            count_labels = {"instance": instance, "route": route}
            counter(
                "http_request_duration_seconds_count", count_labels, (t * share for t in traffic)
            )
            count = out[-1].values
            counter(
                "http_request_duration_seconds_bucket",
                {**count_labels, "le": LATENCY_BUCKET},
                (t * share * (1 - s) for t, s in zip(traffic, slow, strict=True)),
            )
            out.append(
                Series(
                    "http_request_duration_seconds_bucket",
                    {"job": job, **count_labels, "le": "+Inf"},
                    count,
                )
            )
    jobs_share = 0.1  # background jobs per request
    for instance, instance_share in INSTANCES:
        share = jobs_share * instance_share
        counter("jobs_processed_total", {"instance": instance}, (t * share for t in traffic))
        counter(
            "jobs_failed_total",
            {"instance": instance},
            (t * share * f for t, f in zip(traffic, failed, strict=True)),
        )
    return out


def _sum(series: Iterable[Series]) -> array[float]:
    return array("d", (sum(column) for column in zip(*(s.values for s in series), strict=True)))


def recorded_series(
    service: Service, raw: Sequence[Series]
) -> list[tuple[str, array[float], array[float]]]:
    """``(labels text, total cumulative, bad cumulative)`` per recorded SLO series.

    Mirrors the generated rules' 5m event rates: labels service, slo, env (the service's
    labels) and the grouping label; values from the same raw counters.
    """
    env = dict(service.labels)
    requests = [s for s in raw if s.name == "http_requests_total"]
    out = []

    def add(
        slo: str, total: list[Series], bad: list[Series], extra: dict[str, str] | None = None
    ) -> None:
        labels = {"service": service.name, "slo": slo, **env, **(extra or {})}
        out.append((label_text("", labels), _sum(total), _sum(bad)))

    add("availability", requests, [s for s in requests if s.labels["code"].startswith("5")])
    counts = [s for s in raw if s.name == "http_request_duration_seconds_count"]
    good = [s for s in raw if s.labels.get("le") == LATENCY_BUCKET]
    total = _sum(counts)
    fast = _sum(good)
    labels = {"service": service.name, "slo": "latency", **env}
    out.append(
        (
            label_text("", labels),
            total,
            array("d", (t - f for t, f in zip(total, fast, strict=True))),
        )
    )
    for route, _ in ROUTES:
        mine = [s for s in requests if s.labels["route"] == route]
        bad = [s for s in mine if s.labels["code"] in ("429", "500", "503")]
        add("routes", mine, bad, {"route": route})
    add(
        "jobs",
        [s for s in raw if s.name == "jobs_processed_total"],
        [s for s in raw if s.name == "jobs_failed_total"],
    )
    return out


def rates(
    cumulative: array[float], first: int, last: int, grid: Grid, offset: int
) -> Iterator[tuple[float, int]]:
    """(5m rate, time) every ``record_step`` from grid index ``first`` to ``last``: the
    increase of the counters over the last 4 scrape intervals of 5m, per second, as
    ``rate(x[5m])`` sees it (``cumulative`` starts at grid index ``offset``; between
    samples it is interpolated)."""
    span = max(1, 300 // grid.step - 1)
    seconds = span * grid.step
    per_step = grid.step // grid.record_step

    def at(position: float) -> float:
        j = int(position)
        fraction = position - j
        if not fraction:
            return cumulative[j]
        return cumulative[j] + (cumulative[j + 1] - cumulative[j]) * fraction

    for i in range(max(first, offset + span), last + 1):
        for k in range(1 if i == last else per_step):
            position = i - offset + k / per_step
            yield (
                (at(position) - at(position - span)) / seconds,
                grid.time(i) + k * grid.record_step,
            )


def write_samples(
    handle: TextIO,
    service: Service,
    raw: Sequence[Series],
    grid: Grid,
    first: int,
    last: int,
    offset: int = 0,
) -> tuple[int, int]:
    """OpenMetrics lines for grid indexes [first, last] of one service's raw counters and
    recorded 5m rates (``raw`` arrays start at grid index ``offset``): (lines, series)."""
    stamps = [f" {grid.time(i)}\n" for i in range(first, last + 1)]
    lines = series_count = 0
    for series in raw:
        prefix = series.text + " "
        values = series.values[first - offset : last + 1 - offset]
        handle.write(
            "".join([f"{prefix}{v}{s}" for v, s in zip(map(round, values), stamps, strict=True)])
        )
        lines += len(stamps)
        series_count += 1
    for labels, total, bad in recorded_series(service, raw):
        for name, cumulative in ((promql.TOTAL_RATE, total), (promql.BAD_RATE, bad)):
            prefix = name + labels + " "
            chunk = [
                f"{prefix}{v:.6g} {t}\n" for v, t in rates(cumulative, first, last, grid, offset)
            ]
            handle.write("".join(chunk))
            lines += len(chunk)
            series_count += 1
    return lines, series_count


# ---------------------------------------------------------------- tools & servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_tool(command: Sequence[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def backfill(promtool: str, source: Path, tsdb: Path) -> None:
    # Large blocks: promtool re-reads the whole input once per block range.
    run_tool(
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=1000h",
            "-q",
            str(source),
            str(tsdb),
        ]
    )


class Exporter:
    """Serves the raw counters at the current time (interpolated on the grid)."""

    def __init__(self, series: Sequence[Series], grid: Grid, offset: int) -> None:
        self.series = series
        self.grid = grid
        self.offset = offset
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.render(time.time()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def render(self, now: float) -> str:
        index = self.grid.index_at(now)
        if index + 1 >= self.grid.size:
            raise RuntimeError("the benchmark outlived its synthetic data")
        fraction = (now - self.grid.time(index)) / self.grid.step
        j = index - self.offset
        lines = []
        for s in self.series:
            value = s.values[j] + (s.values[j + 1] - s.values[j]) * fraction
            lines.append(f"{s.text} {value:.3f}\n")
        return "".join(lines)

    def __enter__(self) -> Exporter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def get(url: str, timeout: float = 10.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return str(response.read().decode("utf-8"))


@dataclass
class Scrape:
    """What one read of Prometheus's /metrics tells about rule evaluation."""

    durations: dict[str, float]  # rule group -> last duration (s)
    iterations: dict[str, float]  # rule group -> evaluations so far
    missed: float
    failures: float
    cpu: float
    compactions: float


def read_metrics(base: str) -> Scrape:
    text = get(f"{base}/metrics")
    durations: dict[str, float] = {}
    iterations: dict[str, float] = {}
    missed = failures = cpu = compactions = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name, value = sample.name, sample.value
            if name == "prometheus_rule_group_last_duration_seconds":
                durations[sample.labels["rule_group"]] = value
            elif name == "prometheus_rule_group_iterations_total":
                iterations[sample.labels["rule_group"]] = value
            elif name == "prometheus_rule_group_iterations_missed_total":
                missed += value
            elif name == "prometheus_rule_evaluation_failures_total":
                failures += value
            elif name == "process_cpu_seconds_total":
                cpu = value
            elif name == "prometheus_tsdb_compactions_total":
                compactions = value
    return Scrape(durations, iterations, missed, failures, cpu, compactions)


def instant_query(base: str, expr: str, at: float | None = None) -> dict[str, Any]:
    """``/api/v1/query`` with per-query statistics; the ``data`` object."""
    params = {"query": expr, "stats": "all"}
    if at is not None:
        params["time"] = f"{at:.3f}"
    body = json.loads(get(f"{base}/api/v1/query?{urllib.parse.urlencode(params)}", timeout=120))
    if body.get("status") != "success":
        raise RuntimeError(f"query failed: {expr}: {body}")
    data: dict[str, Any] = body["data"]
    return data


def rule_key(name: str, labels: dict[str, str]) -> str:
    """What a rule computes, across SLOs: the recorded series, or the alert and its windows."""
    if "long" in labels:
        return f"{name} {labels['long']}/{labels['short']}"
    return name


@dataclass(frozen=True)
class ExprCost:
    """Every expression of a rule set run once, one after the other, at the same time."""

    samples: int  # totalQueryableSamples: samples read from storage
    seconds: float  # sum of evalTotalTime: engine time without concurrency
    by_rule: dict[str, tuple[int, float]]  # rule key -> (samples, seconds)


def expression_cost(base: str, expressions: Sequence[tuple[str, str]], at: float) -> ExprCost:
    by_rule: dict[str, tuple[int, float]] = {}
    for key, expr in expressions:
        stats = instant_query(base, expr, at)["stats"]
        samples, seconds = by_rule.get(key, (0, 0.0))
        by_rule[key] = (
            samples + int(stats["samples"]["totalQueryableSamples"]),
            seconds + float(stats["timings"]["evalTotalTime"]),
        )
    return ExprCost(
        sum(v[0] for v in by_rule.values()), sum(v[1] for v in by_rule.values()), by_rule
    )


def rule_times(base: str) -> dict[str, float]:
    """Last evaluation time of every rule (``/api/v1/rules``), summed per rule key."""
    body = json.loads(get(f"{base}/api/v1/rules", timeout=60))
    out: dict[str, float] = {}
    for group in body["data"]["groups"]:
        for rule in group["rules"]:
            key = rule_key(rule["name"], rule.get("labels") or {})
            out[key] = out.get(key, 0.0) + float(rule["evaluationTime"])
    return out


@dataclass
class Result:
    variant: str
    groups: int
    rules: int
    sums: list[float] = field(default_factory=list)  # per sample: sum of last durations
    by_slo: dict[str, list[float]] = field(default_factory=dict)  # slo name -> sums
    cpu_per_cycle: float = math.nan
    missed: float = 0.0
    failures: float = 0.0
    compactions: float = 0.0
    log_problems: list[str] = field(default_factory=list)
    cost: ExprCost | None = None
    consistency: list[tuple[str, float]] = field(default_factory=list)  # (window, rel. diff)
    by_rule: dict[str, list[float]] = field(default_factory=dict)  # rule key -> summed times

    @property
    def median(self) -> float:
        return statistics.median(self.sums)


@dataclass(frozen=True)
class RuleSet:
    variant: str
    folder: Path
    groups: int
    rules: int
    expressions: tuple[tuple[str, str], ...]  # (rule key, expr)


def rule_set(variant: str, files: dict[str, str], work: Path, promtool: str) -> RuleSet:
    folder = work / f"rules-{variant}"
    paths = write_rules(files, folder)
    run_tool([promtool, "check", "rules", *map(str, paths)])
    groups = [g for text in files.values() for g in yaml.safe_load(text)["groups"]]
    expressions = tuple(
        (rule_key(rule.get("record") or rule["alert"], rule.get("labels") or {}), rule["expr"])
        for g in groups
        for rule in g["rules"]
    )
    return RuleSet(variant, folder, len(groups), len(expressions), expressions)


@dataclass(frozen=True)
class Setup:
    """What every Prometheus run shares."""

    work: Path
    base_tsdb: Path
    grid: Grid
    services: Sequence[Service]
    tails: Sequence[Sequence[Series]]
    tail_offset: int
    exporter: Exporter
    args: argparse.Namespace


def run_prometheus(rules: RuleSet, setup: Setup, *, check: bool) -> Result:
    """One Prometheus with ``rules`` on a copy of the history; measured, then stopped."""
    args, grid = setup.args, setup.grid
    run_dir = setup.work / f"run-{rules.variant}-{time.time_ns()}"
    tsdb = run_dir / "tsdb"
    shutil.copytree(setup.base_tsdb, tsdb)
    # Backfill the minutes since the history was generated: the run starts without a gap.
    now_index = grid.index_at(time.time())
    if now_index > grid.now_index:
        gap = run_dir / "gap.om"
        with gap.open("w", encoding="utf-8") as handle:
            for service, tail in zip(setup.services, setup.tails, strict=True):
                write_samples(
                    handle, service, tail, grid, grid.now_index + 1, now_index, setup.tail_offset
                )
            handle.write("# EOF\n")
        backfill(args.promtool, gap, tsdb)
        gap.unlink()
    port = free_port()
    config = run_dir / "prometheus.yml"
    config.write_text(
        json.dumps(
            {
                "global": {
                    "evaluation_interval": f"{args.eval_interval}s",
                    "scrape_interval": f"{args.step}s",
                },
                "rule_files": [str(rules.folder / "*.yaml")],
                "scrape_configs": [
                    {
                        "job_name": "synthetic",
                        "honor_labels": True,
                        "static_configs": [{"targets": [setup.exporter.address]}],
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    log_path = run_dir / "prometheus.log"
    command = [
        args.prometheus,
        f"--config.file={config}",
        f"--storage.tsdb.path={tsdb}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=3650d",
        # A single block range: nothing to compact while measuring.
        "--storage.tsdb.min-block-duration=2h",
        "--storage.tsdb.max-block-duration=2h",
        "--log.level=warn",
    ]
    base = f"http://127.0.0.1:{port}"
    result = Result(rules.variant, rules.groups, rules.rules)
    name = rules.variant
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(base, process)
            progress(f"  {name}: ready on {base}, waiting for {args.warmup} evaluations")
            deadline = time.time() + (args.warmup + 3) * args.eval_interval + 60
            while True:
                scrape = read_metrics(base)
                done = [v for v in scrape.iterations.values() if v >= args.warmup + 1]
                if len(done) == rules.groups:
                    break
                if time.time() > deadline:
                    raise RuntimeError(f"{name}: rule groups did not evaluate in time ({log_path})")
                time.sleep(1)
            scrapes = [scrape]
            for number in range(args.samples):
                time.sleep(args.eval_interval)
                scrapes.append(read_metrics(base))
                for key, seconds in rule_times(base).items():
                    result.by_rule.setdefault(key, []).append(seconds)
                total = sum(scrapes[-1].durations.values())
                progress(f"  {name}: sample {number + 1}/{args.samples}: {total:.3f} s")
            progress(f"  {name}: running each of the {rules.rules} expressions once")
            result.cost = expression_cost(base, rules.expressions, time.time())
            if check:
                result.consistency = consistency(base, setup)
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    first, last = scrapes[0], scrapes[-1]
    for scrape in scrapes[1:]:
        result.sums.append(sum(scrape.durations.values()))
        per_slo: dict[str, float] = {}
        for group, seconds in scrape.durations.items():
            slo = group.rsplit("-", 1)[-1]
            per_slo[slo] = per_slo.get(slo, 0.0) + seconds
        for slo, seconds in per_slo.items():
            result.by_slo.setdefault(slo, []).append(seconds)
    cycles = (sum(last.iterations.values()) - sum(first.iterations.values())) / rules.groups
    if cycles:
        result.cpu_per_cycle = (last.cpu - first.cpu) / cycles
    result.missed = last.missed
    result.failures = last.failures
    result.compactions = last.compactions
    result.log_problems = [
        line
        for line in log_path.read_text().splitlines()
        if ("level=warn" in line or "level=error" in line) and "SIGTERM" not in line
    ]
    if not args.keep:
        shutil.rmtree(run_dir)
    return result


def consistency(base: str, setup: Setup) -> list[tuple[str, float]]:
    """perfdash's derived long-window ratio vs the raw one, at the end of the history.

    Both read the same backfilled data: the recorded 5m rates and the raw counters they
    were computed from. A small difference shows the two rule sets were compared on
    equivalent data (and how close perfdash's derived windows are to the exact ones).
    """
    at = float(setup.grid.time(setup.grid.now_index))
    out = []
    for service in setup.services:
        for slo in service.slos:
            own = promql.slo_selector(service, slo)
            for window in sorted({Duration.parse("1d"), Duration.parse("3d"), slo.window}):
                derived = (
                    f"sum_over_time({promql.BAD_RATE}{own}[{window}])\n/\n"
                    f"sum_over_time({promql.TOTAL_RATE}{own}[{window}])"
                )
                got = by_grouping(instant_query(base, derived, at), slo.grouping)
                want = by_grouping(
                    instant_query(base, naive_ratio(service, slo, window), at), slo.grouping
                )
                for key, value in want.items():
                    if key in got:
                        out.append((str(window), abs(got[key] - value) / max(abs(value), 1e-6)))
    return out


def by_grouping(data: dict[str, Any], grouping: Sequence[str]) -> dict[tuple[str, ...], float]:
    return {
        tuple(item["metric"].get(label, "") for label in grouping): float(item["value"][1])
        for item in data["result"]
    }


def wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}")
        with contextlib.suppress(OSError):
            if get(f"{base}/-/ready", timeout=2).strip():
                return
        time.sleep(0.5)
    raise RuntimeError("prometheus did not become ready in 120 s")


# ------------------------------------------------------------------------ report


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def report(
    results: Sequence[Result],
    args: argparse.Namespace,
    phases: dict[str, float],
    data: dict[str, Any],
) -> None:
    print(
        f"Fleet: {args.services} services x 4 SLOs. History: {args.days:g} days, "
        f"{data['raw_series']} raw series every {args.step}s and {data['recorded_series']} "
        f"recorded 5m-rate series every {args.record_step or args.step}s, "
        f"{data['samples'] / 1e6:.1f}M samples backfilled. Evaluation interval "
        f"{args.eval_interval}s; {args.samples} samples per run after {args.warmup} warm-up "
        f"evaluations; {args.rounds} run(s) per rule set."
    )
    print(f"Prometheus: {data['version']}. Machine: {machine()}.\n")
    print(
        "| rule set | groups | rules | Σ last group durations: median s | min s | max s "
        "| CPU s per evaluation cycle | samples read per cycle | sequential engine time s "
        "| failures | missed | compactions |"
    )
    print("|" + " --- |" * 12)
    for r in results:
        cost = r.cost or ExprCost(0, math.nan, {})
        print(
            f"| {r.variant} | {r.groups} | {r.rules} | {r.median:.3f} | {min(r.sums):.3f} "
            f"| {max(r.sums):.3f} | {r.cpu_per_cycle:.3f} | {cost.samples:,} | {cost.seconds:.3f} "
            f"| {r.failures:g} | {r.missed:g} | {r.compactions:g} |"
        )
    variants = {v: [r for r in results if r.variant == v] for v in ("perfdash", "naive")}

    def median_of(variant: str, value: Any) -> float:
        return statistics.median(value(r) for r in variants[variant])

    p_median = statistics.median(s for r in variants["perfdash"] for s in r.sums)
    n_median = statistics.median(s for r in variants["naive"] for s in r.sums)
    ratio = p_median / n_median
    print("\nBy SLO kind: Σ last durations of its groups, median s\n")
    kinds = sorted({k for r in results for k in r.by_slo})
    print("| rule set | " + " | ".join(kinds) + " |")
    print("|" + " --- |" * (len(kinds) + 1))
    for variant, group in variants.items():
        cells = [f"{statistics.median(s for r in group for s in r.by_slo[k]):.3f}" for k in kinds]
        print(f"| {variant} | " + " | ".join(cells) + " |")
    print("\nperfdash / naive:\n")
    print(f"- Σ rule group durations (median): {p_median:.3f} / {n_median:.3f} = {ratio:.3f}")
    cpu = median_of("perfdash", lambda r: r.cpu_per_cycle) / median_of(
        "naive", lambda r: r.cpu_per_cycle
    )
    print(f"- CPU seconds per evaluation cycle: {cpu:.3f}")
    samples = median_of("perfdash", lambda r: r.cost.samples) / median_of(
        "naive", lambda r: r.cost.samples
    )
    print(f"- samples read per evaluation cycle: {samples:.3f}")
    engine = median_of("perfdash", lambda r: r.cost.seconds) / median_of(
        "naive", lambda r: r.cost.seconds
    )
    print(f"- sequential engine time of all expressions: {engine:.3f}")
    print_by_rule(variants)
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"\nGoal perfdash/naive <= {GOAL_RATIO} (rule group durations): {verdict}")
    problems = [line for r in results for line in r.log_problems]
    if problems:
        print(f"\nPrometheus logged {len(problems)} warnings/errors, e.g.: {problems[0]}")
    checked = [c for r in results for c in r.consistency]
    if checked:
        print(
            "\nConsistency at the end of the history: perfdash's derived ratio vs the raw one, "
            "|derived - raw| / raw over every SLO (and route)\n"
        )
        print("| window | compared | median | max |")
        print("| --- | --- | --- | --- |")
        windows = sorted({w for w, _ in checked}, key=lambda w: Duration.parse(w).seconds)
        for window in windows:
            diffs = [d for w, d in checked if w == window]
            print(
                f"| {window} | {len(diffs)} | {statistics.median(diffs) * 100:.2f}% "
                f"| {max(diffs) * 100:.2f}% |"
            )
    print("\nPhases: " + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items()))


def print_by_rule(variants: dict[str, list[Result]]) -> None:
    """Where the time goes: each kind of rule, summed over the SLOs that have it."""
    keys = sorted(
        {k for group in variants.values() for r in group for k in r.by_rule},
        key=lambda k: (not k.startswith("slo:"), k),
    )
    print(
        "\nWhere the time goes, per rule (summed over SLOs): live evaluation time from "
        "/api/v1/rules (median over samples, s) and samples read when run alone\n"
    )
    print("| rule | perfdash s | naive s | perfdash samples | naive samples |")
    print("| --- | --- | --- | --- | --- |")
    for key in keys:
        cells = []
        for group in variants.values():
            times = [t for r in group for t in r.by_rule.get(key, [])]
            cells.append(f"{statistics.median(times):.3f}" if times else "")
        for group in variants.values():
            counts = [r.cost.by_rule[key][0] for r in group if r.cost and key in r.cost.by_rule]
            cells.append(f"{statistics.median(counts):,.0f}" if counts else "")
        print(f"| {key} | " + " | ".join(cells) + " |")
    print()


def machine() -> str:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}, "
        f"{time.strftime('%Y-%m-%d')}, load average {load}"
    )


# -------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.rule_eval_cost",
        description="Rule evaluation cost on a real Prometheus with backfilled history: "
        "perfdash's generated rules vs naive rules reading raw counters for every window.",
    )
    parser.add_argument(
        "--services", type=int, default=25, help="services x 4 SLOs (default: 25 = 100 SLOs)"
    )
    parser.add_argument(
        "--days", type=float, default=14, help="days of backfilled history (default: 14)"
    )
    parser.add_argument(
        "--step", type=int, default=60, help="scrape interval of the history, s (default: 60)"
    )
    parser.add_argument(
        "--record-step",
        type=int,
        default=0,
        help="interval of the backfilled slo:*:rate5m history, i.e. the evaluation interval "
        "the rules had in the past; must divide --step (default: --step)",
    )
    parser.add_argument(
        "--eval-interval", type=int, default=15, help="rule evaluation interval, s (default: 15)"
    )
    parser.add_argument(
        "--warmup", type=int, default=2, help="evaluations before measuring (default: 2)"
    )
    parser.add_argument(
        "--samples", type=int, default=6, help="reads of /metrics per run (default: 6)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="perfdash/naive run pairs, alternating (default: 1)"
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the synthetic data (default: 1)"
    )
    parser.add_argument(
        "--prometheus", default=shutil.which("prometheus") or "prometheus", help="prometheus binary"
    )
    parser.add_argument(
        "--promtool", default=shutil.which("promtool") or "promtool", help="promtool binary"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory and print it"
    )
    args = parser.parse_args(argv)
    if args.record_step and (args.record_step < 1 or args.step % args.record_step):
        parser.error("--record-step must divide --step")
    if args.services < 1 or args.days < 4 or args.step < 10 or args.samples < 1 or args.rounds < 1:
        parser.error(
            "need --services >= 1, --days >= 4 (the 3d window), --step >= 10, --samples/--rounds >= 1"
        )
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    phases: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="perfdash-rule-cost-"))
    try:
        version = run_tool([args.prometheus, "--version"]).splitlines()[0]
        # 1. fleet and both rule sets, checked by promtool
        write_fleet(args.services, work / "fleet")
        fleet = load_fleet([work / "fleet"], root=work)
        rule_sets = [
            rule_set("perfdash", build_rule_files(fleet), work, args.promtool),
            rule_set("naive", naive_rule_files(fleet), work, args.promtool),
        ]
        phases["rules"] = time.perf_counter() - started

        # 2. + 3. history, backfilled
        mark = time.perf_counter()
        step = args.step
        now = int(time.time()) // step * step
        history = int(args.days * 86400) // step
        grid = Grid(
            start=now - history * step,
            step=step,
            now_index=history,
            size=history + 1 + FUTURE // step,
            record_step=args.record_step or step,
        )
        services = list(fleet.services)
        progress(f"generating {args.days:g} days of history for {len(services)} services")
        # Keep the end of each raw series only: gap fills and the exporter start there.
        tail_offset = grid.now_index - 300 // step
        tails: list[list[Series]] = []
        source = work / "history.om"
        samples = series_count = 0
        with source.open("w", encoding="utf-8") as handle:
            for index, service in enumerate(services):
                raw = service_series(index, service, grid, args.seed)
                written, count = write_samples(handle, service, raw, grid, 0, grid.now_index)
                samples, series_count = samples + written, series_count + count
                tails.append([Series(s.name, s.labels, s.values[tail_offset:]) for s in raw])
            handle.write("# EOF\n")
        size = source.stat().st_size
        phases["generate history"] = time.perf_counter() - mark
        mark = time.perf_counter()
        progress(f"backfilling {samples / 1e6:.1f}M samples ({size / 1e9:.2f} GB of OpenMetrics)")
        base_tsdb = work / "tsdb"
        backfill(args.promtool, source, base_tsdb)
        source.unlink()
        phases["backfill"] = time.perf_counter() - mark
        raw_count = sum(len(t) for t in tails)
        data = {
            "raw_series": raw_count,
            "recorded_series": series_count - raw_count,
            "samples": samples,
            "version": version,
        }

        # 4. one Prometheus per rule set (and round)
        mark = time.perf_counter()
        results = []
        with Exporter([s for t in tails for s in t], grid, tail_offset) as exporter:
            setup = Setup(work, base_tsdb, grid, services, tails, tail_offset, exporter, args)
            for round_ in range(args.rounds):
                for rules in rule_sets:
                    progress(f"running Prometheus with the {rules.variant} rules")
                    check = rules.variant == "perfdash" and round_ == 0
                    results.append(run_prometheus(rules, setup, check=check))
        phases["Prometheus runs"] = time.perf_counter() - mark
        phases["total"] = time.perf_counter() - started
        report(results, args, phases, data)
    finally:
        if args.keep:
            progress(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
