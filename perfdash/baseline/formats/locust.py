"""Locust results: the ``--json`` (or ``--json-file``) output, or the ``--csv`` files.

JSON: per endpoint, the request and failure counts, the sum, minimum and maximum of the
response times (exact, milliseconds) and a histogram of response times that Locust ROUNDS
(to 1 ms below 100 ms, 10 ms below 1 s, 100 ms below 10 s, then 1 s). perfdash gives mean,
min and max exactly, and the percentiles the way Locust computes them over that histogram
(so they equal Locust's printed "Response time percentiles (approximated)": bucket values,
not exact). ``rps`` is Locust's: requests over the time from the test's start to the last
request.

``*_stats.csv``: the "Aggregated" row (the same numbers, percentiles bucketed likewise).
Locust 2.47 writes this file once a second and its last write can miss the final second
of requests; the JSON output is complete. ``*_stats_history.csv`` only dates a run, and
``*_failures.csv``/``*_exceptions.csv`` hold no measurements: each is checked and may come
with the stats file, but alone stores nothing (an error says so).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import (
    count,
    csv_rows,
    duration,
    expect,
    fail,
    line_of,
    load_json,
    plausible_time,
    read_head,
)
from perfdash.baseline.records import Meta, Record, Value

NAME = "locust"
HINT_WHEN_EMPTY = (
    "a Locust *_stats_history.csv, *_failures.csv or *_exceptions.csv holds no per-run "
    "statistics: ingest the run's *_stats.csv or --json output (the others may come with it)"
)
BUCKET_NOTE = (
    "Locust rounds response times into buckets (1 ms below 100 ms, 10 ms below 1 s, "
    "100 ms above): its percentiles are bucket values"
)
_STATS_HEADER = ("Type", "Name", "Request Count", "Failure Count")
_PERCENTILE_COLUMNS = {"50%": "p50", "90%": "p90", "95%": "p95", "99%": "p99", "99.9%": "p99.9"}
_JSON_KEYS = ("num_requests", "num_failures", "total_response_time", "response_times")
_HEADERS = {
    "history": "Timestamp,User Count",
    "failures": "Method,Name,Error,Occurrences",
    "exceptions": "Count,Message,Traceback,Nodes",
}


def detect(head: str, name: str) -> bool:
    text = head.lstrip("\ufeff").lstrip()
    first = text.split("\n", 1)[0]
    if all(column in first for column in _STATS_HEADER):
        return True
    if any(first.startswith(header) for header in _HEADERS.values()):
        return True
    return text.startswith("[") and '"num_requests"' in text and '"response_times"' in text


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "locust")
    head = read_head(path, 256).decode("utf-8", errors="replace").lstrip("\ufeff").lstrip()
    if head.startswith("["):
        yield from _json(path)
    elif head.startswith(_HEADERS["history"]):
        yield from _history(path)
    elif head.startswith((_HEADERS["failures"], _HEADERS["exceptions"])):
        for _ in csv_rows(path):
            pass  # checked, nothing to keep
    else:
        yield from _stats(path)


def _stats(path: Path) -> Iterator[Record]:
    required = (*_STATS_HEADER, "Average Response Time", "Min Response Time",
                "Max Response Time", "Requests/s")  # fmt: skip
    aggregated: Iterator[Record] | None = None
    for line, row in csv_rows(path, required=required):
        if row["Name"] == "Aggregated":
            aggregated = iter(list(_aggregated_row(path, line, row)))
    if aggregated is None:
        fail(path, 1, 'no "Aggregated" row: is this a Locust *_stats.csv file?')
    yield from aggregated


def _aggregated_row(path: Path, line: int, row: dict[str, str]) -> Iterator[Record]:
    requests = count(path, line, row["Request Count"], "Request Count")
    failures = count(path, line, row["Failure Count"], "Failure Count")
    if failures > requests:
        fail(path, line, f"Failure Count: {failures} failures of {requests} requests")
    yield Value("requests", float(requests), requests)
    yield Value("failures", float(failures), requests)
    yield Value("error_rate", failures / requests if requests else 0.0, requests)
    yield Value("rps", duration(path, line, row["Requests/s"], "Requests/s"), requests)
    for column, metric in (("Average", "mean"), ("Min", "min"), ("Max", "max")):
        value = duration(path, line, row[f"{column} Response Time"], f"{column} Response Time")
        yield Value(metric, value, requests, "ms")
    for column, metric in _PERCENTILE_COLUMNS.items():
        if row.get(column, "N/A") not in ("", "N/A"):
            yield Value(metric, duration(path, line, row[column], column), requests, "ms")
    yield Meta("resolution_ms", 1.0)
    yield Meta("note", BUCKET_NOTE)


def _history(path: Path) -> Iterator[Record]:
    first: float | None = None
    for line, row in csv_rows(path, required=("Timestamp", "User Count", "Requests/s")):
        stamp = plausible_time(path, line, duration(path, line, row["Timestamp"], "Timestamp"),
                               "Timestamp")  # fmt: skip
        duration(path, line, row["Requests/s"], "Requests/s")
        first = stamp if first is None else min(first, stamp)
    if first is not None:
        yield Meta("started_at", first)


def _json(path: Path) -> Iterator[Record]:
    entries = expect(load_json(path, what="Locust JSON output"), list, path, 1, "the document")
    if not entries:
        fail(path, 1, "no endpoints in the Locust JSON output")
    requests = failures = 0
    total_ms = 0.0
    low, high = math.inf, 0.0
    histogram: Counter[float] = Counter()
    start, end = math.inf, 0.0
    for index, entry in enumerate(entries):
        line = line_of(path, '"num_requests"', occurrence=index)
        expect(entry, dict, path, line, f"[{index}]")
        for key in _JSON_KEYS:
            if key not in entry:
                fail(path, line, f'[{index}] has no "{key}"')
        counted = count(path, line, entry["num_requests"], f"[{index}].num_requests")
        failed = count(path, line, entry["num_failures"], f"[{index}].num_failures")
        requests, failures = requests + counted, failures + failed
        total_ms += duration(
            path, line, entry["total_response_time"], f"[{index}].total_response_time"
        )
        if counted:
            low = min(
                low,
                duration(
                    path, line, entry.get("min_response_time"), f"[{index}].min_response_time"
                ),
            )
            high = max(
                high,
                duration(
                    path, line, entry.get("max_response_time"), f"[{index}].max_response_time"
                ),
            )
        buckets = expect(entry["response_times"], dict, path, line, f"[{index}].response_times")
        for text, times in buckets.items():
            rounded = duration(path, line, text, f"[{index}].response_times key")
            histogram[rounded] += count(path, line, times, f"[{index}].response_times[{text}]")
        if entry.get("start_time") is not None:
            begun = duration(path, line, entry["start_time"], f"[{index}].start_time")
            start = min(start, plausible_time(path, line, begun, f"[{index}].start_time"))
        if entry.get("last_request_timestamp") is not None:
            last = duration(
                path, line, entry["last_request_timestamp"], f"[{index}].last_request_timestamp"
            )
            end = max(end, plausible_time(path, line, last, f"[{index}].last_request_timestamp"))
    if failures > requests:
        fail(path, 1, f"{failures} failures of {requests} requests")
    yield Value("requests", float(requests), requests)
    yield Value("failures", float(failures), requests)
    yield Value("error_rate", failures / requests if requests else 0.0, requests)
    if requests:
        yield Value("mean", total_ms / requests, requests, "ms")
        yield Value("min", low, requests, "ms")
        yield Value("max", high, requests, "ms")
        for metric, share in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99),
                              ("p99.9", 0.999)):  # fmt: skip
            yield Value(metric, bucket_percentile(histogram, requests, share), requests, "ms")
    if start < end:
        yield Meta("started_at", start)
        yield Value("rps", requests / (end - start), requests)
        yield Value("duration_s", end - start, requests, "s")
    yield Meta("resolution_ms", 1.0)
    yield Meta("note", BUCKET_NOTE)


def bucket_percentile(histogram: Counter[float], requests: int, share: float) -> float:
    """Locust's percentile: the largest bucket with more than ``1 - share`` of the
    requests at or above it (``calculate_response_time_percentile`` in locust/stats.py)."""
    wanted = int(requests * share)
    seen = 0
    for rounded in sorted(histogram, reverse=True):
        seen += histogram[rounded]
        if requests - seen <= wanted:
            return rounded
    return 0.0
