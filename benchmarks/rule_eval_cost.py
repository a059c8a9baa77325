"""Rule evaluation cost on one real Prometheus: perfdash's rules against Sloth's and
Pyrra's rule shapes for the same SLOs, over days of backfilled history, and how exact
each set's long windows are.

1. ``--services`` services x 4 SLOs of ``testing.fleet`` (availability, latency from a
   histogram, availability by route, a raw-PromQL jobs ratio); perfdash's generated rule
   files and, from the same model, Sloth's and Pyrra's shapes (``testing.peer_rules``),
   all checked by promtool.
2. ``--days`` of traffic (``testing.slo_history``: 48 counters a service, one sample a
   minute) backfilled with ``promtool tsdb create-blocks-from openmetrics``, and the
   history the rules would have recorded and read over long ranges (perfdash's tiles,
   Sloth's 5m ratios), up to the moment Prometheus starts; an in-process exporter then
   continues the same counters, scraped every minute.
3. One Prometheus on 127.0.0.1 evaluates the three sets side by side (global evaluation
   interval ``--eval-interval``; Pyrra's groups keep their own 30s and 2m30s, perfdash's
   long-window groups their 1m). After ``--warmup`` seconds, ``/metrics`` is read every
   ``--every`` seconds for ``--minutes``: each set's evaluation time a minute is the sum
   over its groups of ``prometheus_rule_group_last_duration_seconds`` x evaluations a
   minute (median over the reads). Then each rule's expression runs once through the
   query API with statistics: samples read a minute (deterministic).
4. Accuracy at the end: every long window each set records (1d, 3d, the SLO window;
   Pyrra's scaled ones), per SLO and route, against Prometheus' own ``rate()`` ratio over
   the same window and data (perfdash's tiles end 15s back; so does its truth).

Wall-clock figures move with the machine's load, which hits the three sets alike since
they share one Prometheus; samples read do not move.

    python -m benchmarks.rule_eval_cost                      # 5 services, 14 days
    python -m benchmarks.rule_eval_cost --services 4 --days 4 --minutes 3 --warmup 60
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from perfdash import conventions
from perfdash.durations import Duration
from perfdash.model.fleet import SLO, EventsSLI, Fleet, LatencySLI, Service
from perfdash.model.windows import INGESTION_DELAY, is_derived, recorded_windows
from perfdash.prometheus import promql
from perfdash.prometheus.rules import build_rule_files
from perfdash.spec import load_fleet
from testing.fleet import write_fleet
from testing.peer_rules import pyrra_metric, pyrra_rule_files, pyrra_windows, sloth_rule_files
from testing.processes import free_port
from testing.slo_history import (
    TILE_DELAY,
    Exporter,
    Grid,
    recorded_history,
    service_counters,
    write_counters,
)
from testing.stack import Process, running

SETS = ("perfdash", "sloth", "pyrra")
STEP = 60  # seconds between backfilled samples (a 1m scrape interval)


def run(command: Sequence[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- rule sets ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    set: str
    slo: str  # SLO name: the kind in testing.fleet
    expr: str
    per_minute: float


def rule_sets(
    fleet: Fleet, folder: Path, promtool: str, interval: int
) -> tuple[dict[str, str], list[Rule]]:
    """Write the three sets under ``folder/<set>/``: (rule file -> set, every rule)."""
    files = {
        "perfdash": {Path(p).name: text for p, text in build_rule_files(fleet).items()},
        "sloth": sloth_rule_files(fleet),
        "pyrra": pyrra_rule_files(fleet),
    }
    owner: dict[str, str] = {}
    rules: list[Rule] = []
    for name, texts in files.items():
        (folder / name).mkdir(parents=True)
        for file_name, text in texts.items():
            path = folder / name / file_name
            path.write_text(text, encoding="utf-8")
            owner[str(path)] = name
            for group in yaml.safe_load(text)["groups"]:
                every = Duration.parse(group.get("interval", f"{interval}s")).seconds
                slo = _slo_of(group["name"])
                rules += [Rule(name, slo, r["expr"], 60 / every) for r in group["rules"]]
        run([promtool, "check", "rules", *map(str, (folder / name).glob("*.yaml"))])
    return owner, rules


def _slo_of(group: str) -> str:
    # perfdash-<service>:<slo>[:long|:budget], sloth-slo-...-<service>-<slo>, pyrra-<service>-<slo>
    for slo in ("availability", "latency", "routes", "jobs"):
        if f"-{slo}" in group or f":{slo}" in group:
            return slo
    raise ValueError(f"no SLO in group name {group}")


# -- history and Prometheus -------------------------------------------------------------


def backfill(promtool: str, source: Path, tsdb: Path) -> None:
    # One large block: promtool reads its input once per block range.
    run([promtool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=2000h",
         "-q", str(source), str(tsdb)])  # fmt: skip
    source.unlink()


@contextlib.contextmanager
def prometheus(
    args: argparse.Namespace, work: Path, rule_files: list[str], target: str
) -> Iterator[Process]:
    port = free_port()
    config = work / "prometheus.yml"
    scrape = {
        "job_name": "history",
        "honor_labels": True,
        "static_configs": [{"targets": [target]}],
    }
    config.write_text(
        yaml.safe_dump(
            {
                "global": {
                    "evaluation_interval": f"{args.eval_interval}s",
                    "scrape_interval": f"{STEP}s",
                },
                "rule_files": rule_files,
                "scrape_configs": [scrape],
            }
        ),
        encoding="utf-8",
    )
    argv = [
        args.prometheus,
        f"--config.file={config}",
        f"--storage.tsdb.path={work / 'tsdb'}",
        "--storage.tsdb.retention.time=1000d",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    with running("prometheus", argv, url=url, log_path=work / "prometheus.log") as process:
        deadline = time.time() + 300
        while time.time() < deadline:
            process.check_alive()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/-/ready", timeout=5).status_code == 200:
                    yield process
                    return
            time.sleep(1)
        raise SystemExit(f"Prometheus not ready in 300 s\n{process.log_tail()}")


def query(base: str, expr: str, at: float, *, stats: bool = False) -> dict[str, Any]:
    params = {"query": expr, "time": f"{at:.3f}", **({"stats": "all"} if stats else {})}
    body = httpx.get(f"{base}/api/v1/query", params=params, timeout=300).json()
    if body.get("status") != "success":
        raise SystemExit(f"query failed: {expr}: {body}")
    data: dict[str, Any] = body["data"]
    return data


@dataclass
class Read:
    """One read of /metrics and /api/v1/rules: evaluation time a minute, per set, per
    (set, SLO kind) and per (set, rule name)."""

    by_set: dict[str, float]
    by_kind: dict[tuple[str, str], float]
    by_rule: dict[tuple[str, str], float]


def read_metrics(base: str, owner: dict[str, str]) -> Read:
    text = httpx.get(f"{base}/metrics", timeout=30).text
    durations: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "prometheus_rule_group_last_duration_seconds":
                durations[sample.labels["rule_group"]] = sample.value
    by_set: dict[str, float] = defaultdict(float)
    by_kind: dict[tuple[str, str], float] = defaultdict(float)
    by_rule: dict[tuple[str, str], float] = defaultdict(float)
    groups = httpx.get(f"{base}/api/v1/rules", timeout=30).json()["data"]["groups"]
    for group in groups:
        name, per_minute = owner[group["file"]], 60 / group["interval"]
        by_set[name] += durations[f"{group['file']};{group['name']}"] * per_minute
        by_kind[(name, _slo_of(group["name"]))] += (
            durations[f"{group['file']};{group['name']}"] * per_minute
        )
        for rule in group["rules"]:
            by_rule[(name, rule["name"])] += rule["evaluationTime"] * per_minute
    return Read(dict(by_set), dict(by_kind), dict(by_rule))


# -- accuracy -------------------------------------------------------------------------


def _raw(service: Service, slo: SLO, window: Duration, shift: Duration | None) -> str:
    total = promql.total_increase(service, slo, window, shift)
    if isinstance(slo.sli, LatencySLI):
        good = promql.good_latency_increase(service, slo, window, shift)
        return f"({total} - {good}) / {total}"
    return f"({promql.bad_increase(service, slo, window, shift)}) / ({total})"


def _values(data: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """route ("" ungrouped) -> (value, sample time) of an instant query's result."""
    return {
        r["metric"].get("route", ""): (float(r["value"][1]), float(r["value"][0]))
        for r in data["result"]
    }


def accuracy(base: str, fleet: Fleet, at: float) -> dict[tuple[str, str], list[float]]:
    """|recorded - raw| / raw per (set, window kind), over every SLO and route."""
    out: dict[tuple[str, str], list[float]] = defaultdict(list)

    def compare(set_: str, kind: str, recorded: str, truth: str, shift: float) -> None:
        stamps = _values(query(base, f"timestamp({recorded})", at))
        got = _values(query(base, recorded, at))
        for route, (value, _) in got.items():
            when = stamps[route][0] - shift
            want = _values(query(base, truth, when)).get(route)
            if want and want[0] > 0:
                out[(set_, kind)].append(abs(value - want[0]) / want[0])

    for service in fleet.services:
        for slo in service.slos:
            own = conventions.slo_selector(service.name, slo.name)
            sloth = f'{{sloth_id="{service.name}-{slo.name}"}}'
            for window in recorded_windows(slo):
                if not is_derived(window):
                    continue
                kind = "SLO window" if window == slo.window else str(window)
                ratio = conventions.error_ratio_name(window)
                compare("perfdash", kind, service.series(ratio) + own,
                        _raw(service, slo, window, INGESTION_DELAY), 0)  # fmt: skip
                compare("sloth", kind, ratio + sloth, _raw(service, slo, window, None), 0)
            name = f"{service.name}-{slo.name}"
            metric = pyrra_metric(slo, name)
            for long, _, _ in pyrra_windows(slo.window)[2:]:
                kind = f"~{'1d' if long.seconds < 3 * 86400 else '3d'} ({long})"
                recorded = f'{metric}:burnrate{long}{{slo="{name}"}}'
                compare("pyrra", kind, recorded, _raw(service, slo, long, None), 0)
            truth = _raw(service, slo, slo.window, None)
            compare("pyrra", "SLO window", _pyrra_window_ratio(service, slo), truth, 0)
    return out


def _pyrra_window_ratio(service: Service, slo: SLO) -> str:
    """Pyrra's error ratio over the SLO window, from its increase records."""
    name = f"{service.name}-{slo.name}"
    metric, window = pyrra_metric(slo, name), slo.window
    own = f'slo="{name}"'
    by = promql.by_clause(slo)
    if isinstance(slo.sli, EventsSLI):
        bad = ", ".join(m.promql() for m in slo.sli.bad)
        return (
            f"{by}({metric}:increase{window}{{{own}, {bad}}})\n/ {promql.on_clause(slo)}\n"
            f"{by}({metric}:increase{window}{{{own}}})"
        )
    if isinstance(slo.sli, LatencySLI):
        total = f"{by}({metric}:increase{window}{{{own}}})"
        good = f"{by}({metric}_bucket:increase{window}{{{own}}})"
        return f"({total} - {good}) / {total}"
    return f"{metric}_errors:increase{window}{{{own}}} / {metric}_total:increase{window}{{{own}}}"


# -- report ---------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model}), Python {sys.version.split()[0]}"


def revision() -> str:
    repo = Path(__file__).resolve().parent.parent
    commit = run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"]).strip()
    dirty = run(["git", "-C", str(repo), "status", "--porcelain", "--", "perfdash", "testing"])
    return commit + (" + uncommitted changes" if dirty.strip() else "")


def report(
    args: argparse.Namespace,
    facts: dict[str, Any],
    reads: list[Read],
    rules: list[Rule],
    samples: dict[str, float],
    errors: dict[tuple[str, str], list[float]],
) -> None:
    print(
        f"Fleet: {args.services} services x 4 SLOs; {args.days:g} days of history, "
        f"{facts['samples'] / 1e6:.1f}M samples backfilled, one a minute. Global evaluation "
        f"interval {args.eval_interval}s. {len(reads)} reads of /metrics, every {args.every}s "
        f"after {args.warmup}s of warm-up, the three sets in one Prometheus."
    )
    print(
        f"perfdash {facts['revision']}; {facts['version']}; {machine()}; "
        f"{time.strftime('%Y-%m-%d')}; load average {facts['load']} before, "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())} after.\n"
    )
    print(
        "| rule set | rules | evaluation time a minute, median (min-max) | samples read a minute |"
    )
    print("| --- | --- | --- | --- |")
    for name in SETS:
        times = [r.by_set.get(name, 0.0) for r in reads]
        count = sum(1 for r in rules if r.set == name)
        print(
            f"| {name} | {count} | {statistics.median(times):.3f} s "
            f"({min(times):.3f}-{max(times):.3f}) | {samples[name] / 1e6:,.1f}M |"
        )
    print(
        "\nEvaluation time a minute per SLO of each kind, median, ms (samples read, thousands):\n"
    )
    kinds = ("availability", "latency", "routes", "jobs")
    print("| rule set | " + " | ".join(kinds) + " |")
    print("|" + " --- |" * (len(kinds) + 1))
    slos = args.services
    for name in SETS:
        cells = []
        for kind in kinds:
            ms = statistics.median(r.by_kind.get((name, kind), 0.0) for r in reads) * 1000 / slos
            read = samples.get(f"{name}/{kind}", 0.0) / slos / 1000
            cells.append(f"{ms:.1f} ({read:,.0f}k)")
        print(f"| {name} | " + " | ".join(cells) + " |")
    mine = statistics.median(r.by_set["perfdash"] for r in reads)
    print()
    for peer in ("sloth", "pyrra"):
        theirs = statistics.median(r.by_set[peer] for r in reads)
        print(
            f"- perfdash / {peer}: evaluation time {mine / theirs:.2f}, "
            f"samples read {samples['perfdash'] / samples[peer]:.2f}"
        )
    print("\nWhere the time goes: the costliest rules of each set, summed over SLOs, s a minute:\n")
    for name in SETS:
        keys = {k for r in reads for k in r.by_rule if k[0] == name}
        costs = {k[1]: statistics.median(r.by_rule.get(k, 0.0) for r in reads) for k in keys}
        top = sorted(costs.items(), key=lambda item: -item[1])[:6]
        print(f"- {name}: " + ", ".join(f"`{rule}` {cost:.3f}" for rule, cost in top))
    print("\nAccuracy: |recorded - rate() over the same window and data| / rate(), every SLO:\n")
    print("| rule set | window | compared | median | max |")
    print("| --- | --- | --- | --- | --- |")
    for (name, kind), diffs in sorted(errors.items()):
        print(
            f"| {name} | {kind} | {len(diffs)} | {statistics.median(diffs) * 100:.4f}% "
            f"| {max(diffs) * 100:.4f}% |"
        )


# -- main -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.rule_eval_cost", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--services", type=int, default=5, help="services x 4 SLOs (5: more saturate 2 CPUs)"
    )
    parser.add_argument("--days", type=float, default=14, help="days of history (14)")
    parser.add_argument(
        "--eval-interval", type=int, default=60, help="global evaluation interval, s (60)"
    )
    parser.add_argument(
        "--warmup", type=int, default=330, help="seconds before the first read (330)"
    )
    parser.add_argument("--minutes", type=float, default=10, help="minutes of reads (10)")
    parser.add_argument("--every", type=int, default=30, help="seconds between reads (30)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--prometheus", default=shutil.which("prometheus") or "prometheus")
    parser.add_argument("--promtool", default=shutil.which("promtool") or "promtool")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    if args.days < 4 or args.services < 1:
        parser.error("need --days >= 4 (the 3d window and Pyrra's 4d) and --services >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    facts: dict[str, Any] = {"load": ", ".join(f"{x:.2f}" for x in os.getloadavg())}
    facts["revision"] = revision()
    facts["version"] = run([args.prometheus, "--version"]).splitlines()[0]
    work = Path(tempfile.mkdtemp(prefix="perfdash-rule-cost-"))
    try:
        write_fleet(args.services, work / "fleet")
        fleet = load_fleet([work / "fleet"], root=work)
        owner, rules = rule_sets(fleet, work / "rules", args.promtool, args.eval_interval)
        run_seconds = int(args.warmup + args.minutes * 60) + 7200  # and time to measure after
        now = int(time.time()) // STEP * STEP
        history = int(args.days * 86400) // STEP
        grid = Grid(now - history * STEP, STEP, history + 1 + run_seconds // STEP)
        progress(f"history: {args.days:g} days of {args.services} services")
        counters = [service_counters(i, s, grid, args.seed) for i, s in enumerate(fleet.services)]
        source = work / "history.om"
        with source.open("w", encoding="utf-8") as handle:
            facts["samples"] = sum(write_counters(handle, c, grid, 0, history) for c in counters)
            facts["samples"] += recorded_history(
                handle, fleet, counters, grid, grid.start, now, args.eval_interval
            )
            handle.write("# EOF\n")
        progress(f"backfilling {facts['samples'] / 1e6:.1f}M samples")
        backfill(args.promtool, source, work / "tsdb")
        # The minutes that took, then start at once: Prometheus appends nothing older than
        # its newest block, so the history must end where the live run begins.
        late = int(time.time())
        with source.open("w", encoding="utf-8") as handle:
            # Only samples whose tile is in the history too: a later one's increase goes to
            # the first live tile.
            last = (late - TILE_DELAY - 2 - grid.start) // STEP
            for c in counters:
                write_counters(handle, c, grid, history + 1, last)
            recorded_history(handle, fleet, counters, grid, now, late, args.eval_interval)
            handle.write("# EOF\n")
        backfill(args.promtool, source, work / "tsdb")
        progress("Prometheus with the three rule sets")
        files = sorted({str(Path(p).parent / "*.yaml") for p in owner})
        with (
            Exporter([c for cs in counters for c in cs], grid) as exporter,
            prometheus(args, work, files, exporter.address) as prom,
        ):
            base = prom.url
            time.sleep(args.warmup)
            reads = []
            end = time.time() + args.minutes * 60
            while time.time() < end:
                prom.check_alive()
                reads.append(read_metrics(base, owner))
                time.sleep(args.every)
            progress("samples read by every rule, then accuracy")
            at = time.time()
            samples: dict[str, float] = defaultdict(float)
            for rule in rules:
                stats = query(base, rule.expr, at, stats=True)["stats"]["samples"]
                read = stats["totalQueryableSamples"] * rule.per_minute
                samples[rule.set] += read
                samples[f"{rule.set}/{rule.slo}"] += read
            errors = accuracy(base, fleet, at)
        report(args, facts, reads, rules, samples, errors)
    finally:
        if args.keep:
            progress(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
