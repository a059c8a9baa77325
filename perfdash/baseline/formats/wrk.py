"""wrk's printed report (``wrk --latency ... > wrk.txt``): wrk has no other output.

Kept: ``Latency`` Avg, Stdev and Max (mean, latency.stddev, max), the ``--latency``
distribution (p50, p75, p90, p99), ``N requests in T`` (requests, duration_s),
``Requests/sec`` (rps: requests over the test's duration) and the error rate: non-2xx/3xx
responses plus socket errors, over requests. wrk prints latencies rounded to two decimals
of its unit (``20.41ms``, ``1.02s``), so that is their resolution.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import count, duration, fail, text_lines
from perfdash.baseline.records import Meta, Record, Value

NAME = "wrk"
_TO_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_TIME = r"([0-9.]+)(us|ms|s|m|h)"
_LATENCY = re.compile(rf"^\s*Latency\s+{_TIME}\s+{_TIME}\s+{_TIME}\s+")
_PERCENTILE = re.compile(rf"^\s*(50|75|90|99)%\s+{_TIME}\s*$")
_TOTAL = re.compile(rf"^\s*(\d+) requests in {_TIME},")
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s*(\d+)\s*$")
_SOCKET = re.compile(r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_RATE = re.compile(r"^Requests/sec:\s*([0-9.]+)\s*$")


def detect(head: str, name: str) -> bool:
    return head.lstrip().startswith("Running ") and "Thread Stats" in head and " @ " in head


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "wrk")
    values: dict[str, tuple[float, str]] = {}
    errors = 0
    requests: int | None = None
    for line, text in text_lines(path, require_final_newline=False):
        if match := _LATENCY.match(text):
            mean, stdev, high = (_ms(path, line, match, i) for i in (1, 3, 5))
            values |= {"mean": (mean, "ms"), "latency.stddev": (stdev, "ms"), "max": (high, "ms")}
        elif match := _PERCENTILE.match(text):
            values[f"p{match.group(1)}"] = (_ms(path, line, match, 2), "ms")
        elif match := _TOTAL.match(text):
            requests = count(path, line, match.group(1), "requests")
            values["duration_s"] = (_ms(path, line, match, 2) / 1000, "s")
        elif match := _NON_2XX.match(text):
            errors += count(path, line, match.group(1), "Non-2xx or 3xx responses")
        elif match := _SOCKET.match(text):
            errors += sum(count(path, line, match.group(i), "Socket errors") for i in range(1, 5))
        elif match := _RATE.match(text):
            values["rps"] = (duration(path, line, match.group(1), "Requests/sec"), "")
    if requests is None or "mean" not in values:
        fail(path, 1, 'no "Latency" and "N requests in T" lines: is this wrk\'s report?')
    yield Value("requests", float(requests), requests)
    yield Value("failures", float(errors), requests)
    yield Value("error_rate", min(errors / requests, 1.0) if requests else 0.0, requests)
    for metric, (value, unit) in values.items():
        yield Value(metric, value, requests, unit)
    yield Meta("resolution_ms", 0.01)


def _ms(path: Path, line: int, match: re.Match[str], group: int) -> float:
    value = duration(path, line, match.group(group), "latency")
    return value * _TO_MS[match.group(group + 1)]
