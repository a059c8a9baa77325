"""Rule evaluation cost on a real Prometheus: perfdash's rules vs naive raw-window rules.

perfdash records 5m event rates and reads the raw counters only for windows up to 6h;
the 1d, 3d and SLO windows divide ``sum_over_time`` of the recorded 5m rates. The
"naive" rule set computes every window (5m, 30m, 1h, 2h, 6h, 1d, 3d and the SLO window)
as ``rate(bad[W]) / rate(total[W])`` straight from the raw counters, as Sloth does for
all but its period window (Sloth averages its 5m ratio over the period). Both sets carry
the same SLI, budget, burn and metadata series and the same alerts; only the way the
error ratios are computed differs.

Long windows only cost something when there is history, so the script:

1. generates the fleet (``testing.fleet``, first ``--services`` services x 4 SLOs)
   and both rule sets from the same model (``perfdash.spec.load_fleet``; the naive
   expressions come from ``perfdash.prometheus.promql``), and checks both with promtool;
2. synthesises ``--days`` of history as OpenMetrics text, one sample every ``--step``:
   per service 24 ``http_requests_total`` series (3 instances x 2 routes x codes
   200/429/500/503), a latency histogram (``le`` 0.25 and +Inf, ``_count``) per instance
   and route, and ``jobs_processed_total``/``jobs_failed_total`` per instance, with a
   daily traffic cycle, noise and incidents; plus the ``slo:total_events:rate5m`` /
   ``slo:bad_events:rate5m`` series perfdash's long windows read, computed from the
   same counters with the labels the generated rules give them (service, slo, env and
   the grouping label route), one sample per evaluation of the group that records them
   (its ``interval``, else ``--eval-interval``; ``--record-step`` overrides): both rule
   sets see the same history, as if they had been running for ``--days``;
3. backfills it with ``promtool tsdb create-blocks-from openmetrics``;
4. for each rule set: copies the TSDB, backfills the minutes since step 2 (so no run
   starts with a gap), starts Prometheus on 127.0.0.1 (free port, compaction off) with
   the rules and a scrape of an in-process exporter that continues the same counters
   live, waits until every group has been evaluated ``--warmup`` times, then reads
   ``/metrics`` and ``/api/v1/rules`` every ``--eval-interval``, ``--samples`` times;
   then runs every rule expression once, one after the other, through the query API
   with statistics;
5. reports, per rule set: the median over samples of the sum over rule groups of
   ``prometheus_rule_group_last_duration_seconds`` (one evaluation of every group);
   the rule evaluation time per minute (each group's last duration times its
   evaluations a minute: what matters when groups have different intervals); the CPU
   seconds Prometheus used per minute; the samples read per minute (from
   ``totalQueryableSamples``: deterministic) and the engine time per minute of the
   sequential pass; the ratios perfdash/naive (goal: <= 0.5); the cost per kind of
   rule; and, as a check that the comparison is fair, how far perfdash's derived
   1d/3d/SLO-window ratios are from the raw ones at the end of the backfilled history.

The naive set evaluates every group at ``--eval-interval`` (default 15s). Wall-clock
figures move with the machine's load; samples read do not.

Everything runs in a temporary directory, removed at the end (``--keep`` keeps it).

    python -m benchmarks.rule_eval_cost
    python -m benchmarks.rule_eval_cost --rounds 2 --eval-interval 30
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

from perfdash import conventions
from perfdash.durations import Duration
from perfdash.model import SLO, Fleet, Service
from perfdash.model.fleet import LatencySLI
from perfdash.prometheus import promql
from perfdash.prometheus.rules import build_rule_files, series_labels
from perfdash.spec import load_fleet
from perfdash.yamlout import dump
from testing.fleet import write_fleet
from testing.processes import free_port

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


def naive_rule_files(fleet: Fleet, perfdash: dict[str, str]) -> dict[str, str]:
    """Same outputs as perfdash's rule files (``perfdash``), one group per SLO evaluated at
    the global interval, and every error ratio computed from raw counters.

    The SLI, budget, burn and metadata series and the alerts are taken from perfdash's
    generated files as they are (whatever groups perfdash puts them in), so the two sets
    differ only in how the error ratios are computed.
    """
    kept: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for text in perfdash.values():
        for group in yaml.safe_load(text)["groups"]:
            for rule in group["rules"]:
                name = rule.get("record", "")
                if name in (conventions.TOTAL_RATE, conventions.BAD_RATE) or name.startswith(
                    RATIO_PREFIX
                ):
                    continue
                labels = rule["labels"]
                kept.setdefault((labels["service"], labels["slo"]), []).append(rule)
    files = {}
    for service in fleet.services:
        groups = []
        for slo in service.slos:
            own = conventions.slo_selector(service.name, slo.name)
            rules = kept[(service.name, slo.name)]
            for rule in rules:
                if (
                    rule.get("alert") == conventions.MISSING_DATA_ALERT
                ):  # no 5m event rates: watch 5m ratio
                    rule["expr"] = f"absent({conventions.error_ratio_name(NAIVE_WINDOWS[0])}{own})"
            records = [r for r in rules if "record" in r]
            alerts = [r for r in rules if "alert" in r]
            ratios = [
                {
                    "record": conventions.error_ratio_name(window),
                    "expr": naive_ratio(service, slo, window),
                    "labels": series_labels(service, slo),
                }
                for window in sorted({*NAIVE_WINDOWS, slo.window})
            ]
            groups.append(
                {
                    "name": conventions.group_name(service.name, slo.name),
                    "rules": [*ratios, *records, *alerts],
                }
            )
        if groups:
            header = "Generated by benchmarks.rule_eval_cost: naive rules"
            files[f"{service.name}.yaml"] = dump({"groups": groups}, header=header)
    return files


def naive_ratio(service: Service, slo: SLO, window: Duration) -> str:
    total = promql.total_rate(service, slo, window)
    if isinstance(slo.sli, LatencySLI):
        good = promql.good_latency_rate(service, slo, window)
        return f"1 - (\n  {good}\n/\n  {total}\n)"
    return f"{promql.bad_rate(service, slo, window)}\n/\n{total}"


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
    """Raw counters of one service of ``testing.fleet``, over the whole grid."""
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
        for name, cumulative in ((conventions.TOTAL_RATE, total), (conventions.BAD_RATE, bad)):
            prefix = name + labels + " "
            chunk = [
                f"{prefix}{v:.6g} {t}\n" for v, t in rates(cumulative, first, last, grid, offset)
            ]
            handle.write("".join(chunk))
            lines += len(chunk)
            series_count += 1
    return lines, series_count


# ---------------------------------------------------------------- tools & servers


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

    at: float
    durations: dict[str, float]  # rule group name -> last duration (s)
    iterations: dict[str, float]  # rule group name -> evaluations so far
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
            group = sample.labels.get("rule_group", "").rpartition(";")[2]  # "file;name"
            if name == "prometheus_rule_group_last_duration_seconds":
                durations[group] = value
            elif name == "prometheus_rule_group_iterations_total":
                iterations[group] = value
            elif name == "prometheus_rule_group_iterations_missed_total":
                missed += value
            elif name == "prometheus_rule_evaluation_failures_total":
                failures += value
            elif name == "process_cpu_seconds_total":
                cpu = value
            elif name == "prometheus_tsdb_compactions_total":
                compactions = value
    return Scrape(time.time(), durations, iterations, missed, failures, cpu, compactions)


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
class Expression:
    key: str  # rule_key
    expr: str
    per_minute: float  # evaluations per minute (60 / its group's interval)


@dataclass(frozen=True)
class RuleSet:
    variant: str
    folder: Path
    groups: dict[str, tuple[str, float]]  # group name -> (slo name, evaluations per minute)
    expressions: tuple[Expression, ...]

    @property
    def slowest_interval(self) -> float:
        return 60 / min(per_minute for _, per_minute in self.groups.values())


def rule_set(
    variant: str, files: dict[str, str], work: Path, promtool: str, eval_interval: int
) -> RuleSet:
    folder = work / f"rules-{variant}"
    paths = write_rules(files, folder)
    run_tool([promtool, "check", "rules", *map(str, paths)])
    groups: dict[str, tuple[str, float]] = {}
    expressions = []
    for text in files.values():
        for group in yaml.safe_load(text)["groups"]:
            interval = Duration.parse(group.get("interval", f"{eval_interval}s")).seconds
            per_minute = 60 / interval
            groups[group["name"]] = (group["rules"][0]["labels"]["slo"], per_minute)
            for rule in group["rules"]:
                key = rule_key(rule.get("record") or rule["alert"], rule.get("labels") or {})
                expressions.append(Expression(key, rule["expr"], per_minute))
    return RuleSet(variant, folder, groups, tuple(expressions))


def recorded_rate_interval(files: dict[str, str], eval_interval: int) -> int:
    """Seconds between two evaluations of the rule recording perfdash's 5m event rates."""
    for text in files.values():
        for group in yaml.safe_load(text)["groups"]:
            if any(rule.get("record") == conventions.TOTAL_RATE for rule in group["rules"]):
                return Duration.parse(group.get("interval", f"{eval_interval}s")).seconds
    return eval_interval


@dataclass(frozen=True)
class Cost:
    """Every expression of a rule set run once, one after the other, at the same time,
    weighted by how often its group runs: per minute of rule evaluation."""

    samples: float  # totalQueryableSamples: samples read from storage
    seconds: float  # evalTotalTime: engine time, without concurrency
    by_rule: dict[str, tuple[float, float]]  # rule key -> (samples, seconds) per minute


def expression_cost(base: str, expressions: Sequence[Expression], at: float) -> Cost:
    by_rule: dict[str, tuple[float, float]] = {}
    for item in expressions:
        stats = instant_query(base, item.expr, at)["stats"]
        samples, seconds = by_rule.get(item.key, (0.0, 0.0))
        by_rule[item.key] = (
            samples + int(stats["samples"]["totalQueryableSamples"]) * item.per_minute,
            seconds + float(stats["timings"]["evalTotalTime"]) * item.per_minute,
        )
    return Cost(sum(v[0] for v in by_rule.values()), sum(v[1] for v in by_rule.values()), by_rule)


def rule_times(base: str, rules: RuleSet) -> dict[str, float]:
    """Last evaluation time of every rule (``/api/v1/rules``) per minute, per rule key."""
    body = json.loads(get(f"{base}/api/v1/rules", timeout=60))
    out: dict[str, float] = {}
    for group in body["data"]["groups"]:
        per_minute = rules.groups[group["name"]][1]
        for rule in group["rules"]:
            key = rule_key(rule["name"], rule.get("labels") or {})
            out[key] = out.get(key, 0.0) + float(rule["evaluationTime"]) * per_minute
    return out


@dataclass
class Result:
    variant: str
    groups: int
    rules: int
    sums: list[float] = field(default_factory=list)  # per sample: Σ last group durations
    loads: list[float] = field(default_factory=list)  # per sample: Σ duration x runs/minute
    by_slo: dict[str, list[float]] = field(default_factory=dict)  # slo -> loads
    by_rule: dict[str, list[float]] = field(default_factory=dict)  # rule key -> s per minute
    cpu_per_minute: float = math.nan
    missed: float = 0.0
    failures: float = 0.0
    compactions: float = 0.0
    log_problems: list[str] = field(default_factory=list)
    cost: Cost | None = None
    consistency: list[tuple[str, float]] = field(default_factory=list)  # (window, rel. diff)


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
    result = Result(rules.variant, len(rules.groups), len(rules.expressions))
    name = rules.variant
    with log_path.open("w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(base, process)
            progress(f"  {name}: ready on {base}, waiting for {args.warmup} evaluations a group")
            deadline = time.time() + (args.warmup + 2) * rules.slowest_interval + 60
            while True:
                scrape = read_metrics(base)
                done = [g for g in rules.groups if scrape.iterations.get(g, 0) >= args.warmup]
                if len(done) == len(rules.groups):
                    break
                if time.time() > deadline:
                    raise RuntimeError(f"{name}: rule groups did not evaluate in time ({log_path})")
                time.sleep(1)
            scrapes = [scrape]
            for number in range(args.samples):
                time.sleep(args.eval_interval)
                scrapes.append(read_metrics(base))
                for key, seconds in rule_times(base, rules).items():
                    result.by_rule.setdefault(key, []).append(seconds)
                total = sum(scrapes[-1].durations.values())
                progress(f"  {name}: sample {number + 1}/{args.samples}: Σ {total:.3f} s")
            progress(f"  {name}: running each of the {len(rules.expressions)} expressions once")
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
    for scrape in scrapes[1:]:
        result.sums.append(sum(scrape.durations[g] for g in rules.groups))
        per_slo: dict[str, float] = {}
        for group, (slo, per_minute) in rules.groups.items():
            per_slo[slo] = per_slo.get(slo, 0.0) + scrape.durations[group] * per_minute
        result.loads.append(sum(per_slo.values()))
        for slo, seconds in per_slo.items():
            result.by_slo.setdefault(slo, []).append(seconds)
    first, last = scrapes[0], scrapes[-1]
    result.cpu_per_minute = (last.cpu - first.cpu) / (last.at - first.at) * 60
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
            own = conventions.slo_selector(service.name, slo.name)
            for window in sorted({Duration.parse("1d"), Duration.parse("3d"), slo.window}):
                derived = (
                    f"sum_over_time({conventions.BAD_RATE}{own}[{window}])\n/\n"
                    f"sum_over_time({conventions.TOTAL_RATE}{own}[{window}])"
                )
                got = by_grouping(instant_query(base, derived, at), slo.grouping)
                raw = naive_ratio(service, slo, window)
                want = by_grouping(instant_query(base, raw, at), slo.grouping)
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


def median(values: Iterable[float]) -> float:
    listed = list(values)
    return statistics.median(listed) if listed else math.nan


def report(
    results: Sequence[Result],
    args: argparse.Namespace,
    phases: dict[str, float],
    data: dict[str, Any],
) -> None:
    print(
        f"Fleet: {args.services} services x 4 SLOs. History: {args.days:g} days, "
        f"{data['raw_series']} raw series every {args.step}s and {data['recorded_series']} "
        f"recorded 5m-rate series every {data['record_step']}s, "
        f"{data['samples'] / 1e6:.1f}M samples backfilled. Global evaluation interval "
        f"{args.eval_interval}s; {args.samples} samples per run after {args.warmup} "
        f"evaluations of every group; {args.rounds} run(s) per rule set."
    )
    print(
        f"perfdash {data['revision']}; Prometheus: {data['version']}. Machine: {machine()}; "
        f"load average {data['load']} before, {load()} after.\n"
    )
    print(
        "| rule set | groups | rules | Σ last group durations: median s (min-max) "
        "| evaluation time per minute: median s | CPU s per minute | samples read per minute "
        "| engine time per minute, sequential s | failures | missed | compactions |"
    )
    print("|" + " --- |" * 11)
    for r in results:
        cost = r.cost or Cost(math.nan, math.nan, {})
        print(
            f"| {r.variant} | {r.groups} | {r.rules} | {median(r.sums):.3f} "
            f"({min(r.sums):.3f}-{max(r.sums):.3f}) | {median(r.loads):.2f} "
            f"| {r.cpu_per_minute:.2f} | {cost.samples:,.0f} | {cost.seconds:.2f} "
            f"| {r.failures:g} | {r.missed:g} | {r.compactions:g} |"
        )
    variants = {v: [r for r in results if r.variant == v] for v in ("perfdash", "naive")}

    def ratio(value: Any) -> float:
        mine = median(s for r in variants["perfdash"] for s in value(r))
        theirs = median(s for r in variants["naive"] for s in value(r))
        return mine / theirs

    figures = {
        "Σ last group durations (the headline; one evaluation of every group)": ratio(
            lambda r: r.sums
        ),
        "rule evaluation time per minute (Σ duration x evaluations a minute)": ratio(
            lambda r: r.loads
        ),
        "Prometheus CPU seconds per minute": ratio(lambda r: [r.cpu_per_minute]),
        "samples read per minute": ratio(lambda r: [r.cost.samples] if r.cost else []),
        "engine time per minute, expressions run one at a time": ratio(
            lambda r: [r.cost.seconds] if r.cost else []
        ),
    }
    print("\nperfdash / naive (medians over samples and runs):\n")
    for label, value in figures.items():
        print(f"- {label}: {value:.3f}")
    headline = next(iter(figures.values()))
    per_minute = list(figures.values())[1]
    print(
        f"\nGoal perfdash/naive <= {GOAL_RATIO}: Σ last group durations {headline:.3f}: "
        f"{'met' if headline <= GOAL_RATIO else 'NOT met'}; evaluation time per minute "
        f"{per_minute:.3f}: {'met' if per_minute <= GOAL_RATIO else 'NOT met'}"
    )
    print("\nEvaluation time per minute by SLO kind (its groups summed), median s:\n")
    kinds = sorted({k for r in results for k in r.by_slo})
    print("| rule set | " + " | ".join(kinds) + " |")
    print("|" + " --- |" * (len(kinds) + 1))
    for variant, group in variants.items():
        cells = [f"{median(s for r in group for s in r.by_slo.get(k, [])):.3f}" for k in kinds]
        print(f"| {variant} | " + " | ".join(cells) + " |")
    print_by_rule(variants)
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
        "\nWhere the time goes, per rule summed over SLOs, per minute: live evaluation time "
        "(/api/v1/rules, median over samples) and samples read (each expression run alone)\n"
    )
    print("| rule | perfdash s | naive s | perfdash samples | naive samples |")
    print("| --- | --- | --- | --- | --- |")
    for key in keys:
        cells = []
        for group in variants.values():
            times = [t for r in group for t in r.by_rule.get(key, [])]
            cells.append(f"{median(times):.3f}" if times else "")
        for group in variants.values():
            counts = [r.cost.by_rule[key][0] for r in group if r.cost and key in r.cost.by_rule]
            cells.append(f"{median(counts):,.0f}" if counts else "")
        print(f"| {key} | " + " | ".join(cells) + " |")


def machine() -> str:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}"
    )


def perfdash_revision() -> str:
    """The perfdash source the rules come from: commit, and whether perfdash/ differs."""
    repo = Path(__file__).resolve().parent.parent
    try:
        commit = run_tool(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"]).strip()
        dirty = run_tool(["git", "-C", str(repo), "status", "--porcelain", "--", "perfdash"])
    except (OSError, RuntimeError):
        return "unknown"
    return f"{commit}{' + uncommitted changes in perfdash/' if dirty.strip() else ''}"


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


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
        help="interval of the backfilled slo:*:rate5m history, i.e. how often the rules "
        "recorded them in the past; must divide --step (default: the interval of the "
        "generated group that records them, else --eval-interval)",
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
    load_before = load()
    revision = perfdash_revision()
    phases: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="perfdash-rule-cost-"))
    try:
        version = run_tool([args.prometheus, "--version"]).splitlines()[0]
        # 1. fleet and both rule sets, checked by promtool
        write_fleet(args.services, work / "fleet")
        fleet = load_fleet([work / "fleet"], root=work)
        perfdash_files = build_rule_files(fleet)
        rule_sets = [
            rule_set("perfdash", perfdash_files, work, args.promtool, args.eval_interval),
            rule_set(
                "naive",
                naive_rule_files(fleet, perfdash_files),
                work,
                args.promtool,
                args.eval_interval,
            ),
        ]
        record_step = args.record_step or recorded_rate_interval(perfdash_files, args.eval_interval)
        if args.step % record_step:
            raise SystemExit(f"the recorded rates' interval ({record_step}s) must divide --step")
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
            record_step=record_step,
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
            "load": load_before,
            "record_step": record_step,
            "revision": revision,
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
