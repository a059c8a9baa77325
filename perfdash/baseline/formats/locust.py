"""Locust results: ``--csv`` files (``*_stats.csv``, ``*_stats_history.csv``) or ``--json``.

The stats CSV's "Aggregated" row holds Locust's own percentiles, counts and rate. The
JSON output has each endpoint's response-time histogram (milliseconds, rounded by Locust
to two significant digits above 100 ms), from which exact per-run statistics of those
rounded values follow. The history CSV dates the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import (
    csv_rows,
    expect,
    fail,
    line_of,
    load_json,
    number,
)
from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, Sample, Value

NAME = "locust"
ROUNDING_NOTE = "Locust rounds response times above 100 ms to two significant digits"
_STATS_HEADER = ("Type", "Name", "Request Count", "Failure Count")
_PERCENTILE_COLUMNS = {"50%": "p50", "90%": "p90", "95%": "p95", "99%": "p99", "99.9%": "p99.9"}
_JSON_KEYS = ("num_requests", "num_failures", "response_times")


def detect(head: str, name: str) -> bool:
    text = head.lstrip("\ufeff").lstrip()
    first = text.split("\n", 1)[0]
    if all(column in first for column in _STATS_HEADER):
        return True
    if first.startswith("Timestamp,User Count"):
        return True
    return text.startswith("[") and '"num_requests"' in text and '"response_times"' in text


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "locust")
    head = path.open(encoding="utf-8", errors="replace").read(256).lstrip("\ufeff").lstrip()
    if head.startswith("Timestamp,"):
        yield from _history(path)
    elif head.startswith("["):
        yield from _json(path)
    else:
        yield from _stats(path)


def _stats(path: Path) -> Iterator[Record]:
    required = (*_STATS_HEADER, "Average Response Time", "Max Response Time", "Requests/s")
    for line, row in csv_rows(path, required=required):
        if row["Name"] != "Aggregated":
            continue
        count = int(number(path, line, row["Request Count"], "Request Count"))
        failures = int(number(path, line, row["Failure Count"], "Failure Count"))
        yield Value("requests", float(count), count)
        yield Value("error_rate", failures / count if count else 0.0, count)
        yield Value("rps", number(path, line, row["Requests/s"], "Requests/s"), count)
        yield Value(
            "mean", number(path, line, row["Average Response Time"], "Average"), count, "ms"
        )
        yield Value("max", number(path, line, row["Max Response Time"], "Max"), count, "ms")
        for column, metric in _PERCENTILE_COLUMNS.items():
            if column in row and row[column] not in ("", "N/A"):
                yield Value(metric, number(path, line, row[column], column), count, "ms")
        yield Meta("resolution_ms", 1.0)
        yield Meta("note", ROUNDING_NOTE)
        return
    fail(path, 1, 'no "Aggregated" row: is this a Locust *_stats.csv file?')


def _history(path: Path) -> Iterator[Record]:
    first: float | None = None
    for line, row in csv_rows(path, required=("Timestamp", "User Count", "Requests/s")):
        stamp = number(path, line, row["Timestamp"], "Timestamp")
        number(path, line, row["Requests/s"], "Requests/s")
        first = stamp if first is None else min(first, stamp)
    if first is None:
        fail(path, 2, "the stats history has no rows")
    yield Meta("started_at", first)


def _json(path: Path) -> Iterator[Record]:
    entries = expect(load_json(path), list, path, 1, "the document")
    if not entries:
        fail(path, 1, "no endpoints in the Locust JSON output")
    requests = failures = 0
    start: float | None = None
    end: float | None = None
    for index, entry in enumerate(entries):
        line = line_of(path, '"num_requests"', occurrence=index)
        expect(entry, dict, path, line, f"[{index}]")
        for key in _JSON_KEYS:
            if key not in entry:
                fail(path, line, f'[{index}] has no "{key}"')
        count = int(number(path, line, entry["num_requests"], f"[{index}].num_requests"))
        failed = int(number(path, line, entry["num_failures"], f"[{index}].num_failures"))
        requests += count
        failures += failed
        histogram = expect(entry["response_times"], dict, path, line, f"[{index}].response_times")
        for rounded, times in sorted(histogram.items(), key=lambda kv: float(kv[0])):
            value = number(path, line, rounded, f"[{index}].response_times key")
            for _ in range(int(number(path, line, times, f"[{index}].response_times[{rounded}]"))):
                yield Sample(LATENCY, value)
        for position in range(count):
            yield Sample(FAILED, 1.0 if position < failed else 0.0)
        if "start_time" in entry:
            begun = number(path, line, entry["start_time"], f"[{index}].start_time")
            start = begun if start is None else min(start, begun)
        if "last_request_timestamp" in entry and entry["last_request_timestamp"] is not None:
            last = number(
                path, line, entry["last_request_timestamp"], f"[{index}].last_request_timestamp"
            )
            end = last if end is None else max(end, last)
    if start is not None:
        yield Meta("started_at", start)
        if end is not None and end > start:
            yield Value("rps", requests / (end - start), requests)
    yield Meta("resolution_ms", 1.0)
    yield Meta("note", ROUNDING_NOTE)
