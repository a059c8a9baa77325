"""pytest-benchmark JSON (``--benchmark-json``): one entry per benchmarked test.

Each test ``NAME`` gives ``NAME`` (median seconds per round), ``NAME.mean``,
``NAME.stddev``, ``NAME.min``, ``NAME.max`` and ``NAME.ops`` (operations per second), as
pytest-benchmark computed them from its rounds; with ``--benchmark-save-data`` the rounds
themselves are stored too. ``commit_info`` gives the git sha and branch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import expect, fail, iso_time, line_of, load_json, number
from perfdash.baseline.records import Meta, Record, Sample, Value, metric_name

NAME = "pytest-benchmark"
_STATS = {"median": "", "mean": ".mean", "stddev": ".stddev", "min": ".min", "max": ".max"}


def detect(head: str, name: str) -> bool:
    return head.lstrip().startswith("{") and '"machine_info"' in head and '"benchmarks"' in head


def parse(path: Path) -> Iterator[Record]:
    doc = expect(load_json(path), dict, path, 1, "the document")
    benchmarks = doc.get("benchmarks")
    if not isinstance(benchmarks, list):
        fail(path, 1, 'no "benchmarks" list: is this pytest-benchmark --benchmark-json output?')
    yield Meta("tool", "pytest-benchmark")
    if isinstance(doc.get("version"), str):
        yield Meta("tool_version", doc["version"])
    if "datetime" in doc:
        yield Meta(
            "started_at", iso_time(path, line_of(path, '"datetime"'), doc["datetime"], "datetime")
        )
    commit = doc.get("commit_info") or {}
    if isinstance(commit, dict):
        if commit.get("id"):
            yield Meta("git_sha", str(commit["id"]))
        if commit.get("branch"):
            yield Meta("branch", str(commit["branch"]))
    machine = doc.get("machine_info") or {}
    if isinstance(machine, dict):
        for key in ("python_version", "machine", "node"):
            if isinstance(machine.get(key), str):
                yield Meta(f"env.{key}", machine[key])
    for index, entry in enumerate(benchmarks):
        line = line_of(path, '"stats"', occurrence=index)
        expect(entry, dict, path, line, f"benchmarks[{index}]")
        name = metric_name(str(entry.get("name") or entry.get("fullname") or ""))
        stats = expect(entry.get("stats"), dict, path, line, f"benchmarks[{index}].stats")
        rounds = int(number(path, line, stats.get("rounds"), f"benchmarks[{index}].stats.rounds"))
        for key, suffix in _STATS.items():
            value = number(path, line, stats.get(key), f"benchmarks[{index}].stats.{key}")
            yield Value(name + suffix, value, rounds, "s")
        if "ops" in stats:
            yield Value(name + ".ops", number(path, line, stats["ops"], "ops"), rounds, "ops/s")
        for round_time in stats.get("data") or ():
            yield Sample(name, number(path, line, round_time, f"benchmarks[{index}].stats.data"))
