"""``go test -bench`` text output, usually with ``-count N`` (one line per repetition).

``BenchmarkEncode/small-8  1000000  1043 ns/op  256 B/op  4 allocs/op`` gives one sample
of each unit on the line (``ns/op``, ``B/op``, ``allocs/op``, ``MB/s`` or custom ones from
``b.ReportMetric``) in the series ``BenchmarkEncode/small.<unit>``, plus ``.ops/s`` from
ns/op. The ``-8`` (GOMAXPROCS) suffix is dropped so machines compare. ``goos:``, ``goarch:``,
``pkg:`` and ``cpu:`` lines become the run's environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import fail, number
from perfdash.baseline.records import Meta, Record, Sample

NAME = "gobench"
_LINE = re.compile(r"^Benchmark\S*\s+\d+\s")
_PROCS = re.compile(r"-\d+$")
_CONFIG = re.compile(r"^(goos|goarch|pkg|cpu):\s*(.+)$")


def detect(head: str, name: str) -> bool:
    lines = head.splitlines()
    return (
        any(_LINE.match(line) for line in lines)
        or sum(bool(_CONFIG.match(line)) for line in lines[:10]) >= 2
    )


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "go")
    found = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line_number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n")
            config = _CONFIG.match(line)
            if config:
                yield Meta(f"env.{config.group(1)}", config.group(2).strip())
                continue
            if not line.startswith("Benchmark"):
                continue
            fields = line.split()
            if len(fields) < 2 or not fields[1].isdigit():
                continue  # a benchmark's log output, not a result line
            if len(fields) < 4 or len(fields) % 2:
                fail(path, line_number, "expected NAME ITERATIONS followed by VALUE UNIT pairs")
            name = _PROCS.sub("", fields[0])
            for value_text, unit in zip(fields[2::2], fields[3::2], strict=True):
                value = number(path, line_number, value_text, f"{name} {unit}")
                yield Sample(f"{name}.{unit}", value)
                if unit == "ns/op" and value > 0:
                    yield Sample(f"{name}.ops/s", 1e9 / value)
            found += 1
    if not found:
        fail(path, 1, "no Benchmark result lines: is this `go test -bench` output?")
