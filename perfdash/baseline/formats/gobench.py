"""``go test -bench`` results: the text output, or ``go test -json`` (test2json events,
whose ``Output`` fields carry the same text, a benchmark's line often split in two).

``BenchmarkSort/len-100-2  26005  8211 ns/op  97.43 MB/s  24 B/op  1 allocs/op`` gives one
sample of each unit on the line in the series ``BenchmarkSort/len-100.<unit>`` (``ns/op``,
``B/op``, ``allocs/op``, ``MB/s`` or a ``b.ReportMetric`` unit), plus ``.ops/s`` from
ns/op. Units per second (``MB/s``, ``ops/s``) are higher-is-better; the rest lower.

Go appends ``-N`` (GOMAXPROCS) to every name when N > 1. That suffix is removed, so
machines compare, only when every result line of the file ends in the same ``-N``: with
``-cpu 1`` (no suffix) ``BenchmarkSort/len-100`` and ``len-10000`` stay as written, and a
file mixing ``-cpu 1,2`` keeps each name as Go wrote it. ``goos:``, ``goarch:``, ``pkg:``
and ``cpu:`` lines become the run's environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import msgspec

from perfdash.baseline.formats._common import MAX_LINE, fail, lines, number, text_lines
from perfdash.baseline.records import Meta, Record, Sample, SeriesInfo

NAME = "gobench"
_LINE = re.compile(r"^Benchmark\S*\s+\d+\s")
_PROCS = re.compile(r"-(\d+)$")
_CONFIG = re.compile(r"^(goos|goarch|pkg|cpu):\s*(.+)$")


class _Event(msgspec.Struct):
    Action: str
    Output: str | None = None


_EVENT = msgspec.json.Decoder(_Event)


def detect(head: str, name: str) -> bool:
    if head.lstrip().startswith('{"Time":') and '"Action":' in head:
        return True
    found = head.splitlines()
    return (
        any(_LINE.match(line) for line in found)
        or sum(bool(_CONFIG.match(line)) for line in found[:10]) >= 2
    )


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "go")
    suffix = _common_suffix(path)
    if suffix:
        yield Meta("env.gomaxprocs", suffix[1:])
    found = 0
    declared: set[str] = set()
    for line_number, line in _text(path):
        config = _CONFIG.match(line)
        if config:
            yield Meta(f"env.{config.group(1)}", config.group(2).strip())
            continue
        fields = _result(path, line_number, line)
        if fields is None:
            continue
        name = fields[0].removesuffix(suffix) if suffix else fields[0]
        for value_text, unit in zip(fields[2::2], fields[3::2], strict=True):
            value = number(path, line_number, value_text, f"{fields[0]} {unit}")
            for series, series_unit, sample in _samples(name, unit, value):
                if series not in declared:
                    declared.add(series)
                    if series_unit.endswith("/s"):
                        yield SeriesInfo(series, series_unit, "higher")
                    else:
                        yield SeriesInfo(series, series_unit, "lower")
                yield Sample(series, sample)
        found += 1
    if not found:
        fail(path, 1, "no Benchmark result lines: is this `go test -bench` output?")


def _samples(name: str, unit: str, value: float) -> Iterator[tuple[str, str, float]]:
    yield f"{name}.{unit}", unit, value
    if unit == "ns/op" and value > 0:
        yield f"{name}.ops/s", "ops/s", 1e9 / value


def _result(path: Path, line_number: int, line: str) -> list[str] | None:
    """A result line's fields (NAME ITERATIONS VALUE UNIT...), or None for other lines."""
    if not line.startswith("Benchmark"):
        return None
    fields = line.split()
    if len(fields) < 2 or not fields[1].isdigit():
        return None  # the name Go prints before running, or a benchmark's own log line
    if len(fields) < 4 or len(fields) % 2:
        fail(path, line_number, "expected NAME ITERATIONS followed by VALUE UNIT pairs")
    return fields


def _common_suffix(path: Path) -> str:
    """``-N`` when every result line's name ends in that same ``-N`` (GOMAXPROCS), else ``""``."""
    common: str | None = None
    for line_number, line in _text(path):
        fields = _result(path, line_number, line)
        if fields is None:
            continue
        procs = _PROCS.search(fields[0])
        suffix = procs.group(0) if procs else ""
        if common is None:
            common = suffix
        elif suffix != common:
            return ""
    return common or ""


def _text(path: Path) -> Iterator[tuple[int, str]]:
    """The text lines, from either form; with -json, numbered by the JSON line ending them."""
    head = path.open("rb").read(64).lstrip()
    if not head.startswith(b"{"):
        yield from text_lines(path, require_final_newline=False)
        return
    pending = ""
    for line_number, raw in lines(path, require_final_newline=False):
        if not raw.strip():
            continue
        try:
            event = _EVENT.decode(raw)
        except msgspec.ValidationError as exc:
            fail(path, line_number, f"not a `go test -json` event: {exc}")
        except msgspec.DecodeError as exc:
            fail(path, line_number, f"not a complete JSON object: {exc}")
        if event.Action != "output" or not event.Output:
            continue
        pending += event.Output
        if len(pending) > MAX_LINE:
            fail(path, line_number, "an output line longer than 1 MiB: not benchmark output")
        *complete, pending = pending.split("\n")
        for text in complete:
            yield line_number, text.rstrip("\r")
    if pending:
        yield line_number, pending
