"""pytest-benchmark JSON (``--benchmark-json``): one entry per benchmarked test.

Times are seconds. pytest-benchmark 5 writes every round's time (``stats.data``): each
test ``NAME`` becomes the series ``NAME`` in seconds, so ``NAME`` (median), ``NAME.mean``,
``NAME.stddev``, ``NAME.min`` and ``NAME.max`` are computed exactly from the rounds (and
equal pytest-benchmark's own). Without ``data`` (older versions), its computed stats are
stored instead. ``NAME.ops`` (1 / mean, higher is better) is pytest-benchmark's.
``commit_info`` gives the git sha and branch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import (
    count,
    duration,
    expect,
    fail,
    iso_time,
    line_of,
    load_json,
)
from perfdash.baseline.records import Meta, Record, Sample, SeriesInfo, Value, metric_name

NAME = "pytest-benchmark"
_STATS = {"median": "", "mean": ".mean", "stddev": ".stddev", "min": ".min", "max": ".max"}


def detect(head: str, name: str) -> bool:
    return head.lstrip().startswith("{") and '"machine_info"' in head and '"benchmarks"' in head


def parse(path: Path) -> Iterator[Record]:
    doc = expect(load_json(path, what="pytest-benchmark file"), dict, path, 1, "the document")
    benchmarks = doc.get("benchmarks")
    if not isinstance(benchmarks, list):
        fail(path, 1, 'no "benchmarks" list: is this pytest-benchmark --benchmark-json output?')
    yield Meta("tool", "pytest-benchmark")
    if isinstance(doc.get("version"), str):
        yield Meta("tool_version", doc["version"])
    if "datetime" in doc:
        where = line_of(path, '"datetime"')
        yield Meta("started_at", iso_time(path, where, doc["datetime"], "datetime"))
    commit = doc.get("commit_info") or {}
    if isinstance(commit, dict):
        # Outside a git checkout pytest-benchmark writes "unversioned" and "(unknown)".
        if commit.get("id") and commit["id"] != "unversioned":
            yield Meta("git_sha", str(commit["id"]))
        if commit.get("branch") and commit["branch"] != "(unknown)":
            yield Meta("branch", str(commit["branch"]))
    machine = doc.get("machine_info") or {}
    if isinstance(machine, dict):
        for key in ("python_version", "machine", "node"):
            if isinstance(machine.get(key), str):
                yield Meta(f"env.{key}", machine[key])
    for index, entry in enumerate(benchmarks):
        yield from _benchmark(path, index, entry)


def _benchmark(path: Path, index: int, entry: object) -> Iterator[Record]:
    line = line_of(path, '"stats"', occurrence=index)
    where = f"benchmarks[{index}]"
    expect(entry, dict, path, line, where)
    assert isinstance(entry, dict)
    name = metric_name(str(entry.get("name") or entry.get("fullname") or ""))
    stats = expect(entry.get("stats"), dict, path, line, f"{where}.stats")
    rounds = count(path, line, stats.get("rounds"), f"{where}.stats.rounds")
    yield SeriesInfo(name, "s", "lower")
    data = stats.get("data") or []
    expect(data, list, path, line, f"{where}.stats.data")
    for round_time in data:
        yield Sample(name, duration(path, line, round_time, f"{where}.stats.data"))
    for key, suffix in _STATS.items():
        value = duration(path, line, stats.get(key), f"{where}.stats.{key}")
        yield Value(name + suffix, value, rounds, "s", "lower")
    if "ops" in stats:
        ops = duration(path, line, stats["ops"], f"{where}.stats.ops")
        yield Value(name + ".ops", ops, rounds, "ops/s", "higher")
