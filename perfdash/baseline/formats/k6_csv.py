"""k6 ``--out csv``: one row per metric sample, columns read by header name.

``timestamp`` is Unix seconds (k6's default) or milliseconds/microseconds
(``timeFormat=unix_milli``/``unix_micro``), told apart by magnitude.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import csv_rows, fail, number
from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, Sample

NAME = "k6-csv"
_SERIES = {"http_req_duration": LATENCY, "http_req_failed": FAILED}


def detect(head: str, name: str) -> bool:
    return head.lstrip("\ufeff").startswith("metric_name,timestamp,metric_value")


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "k6")
    points = 0
    for line, row in csv_rows(path, required=("metric_name", "timestamp", "metric_value")):
        series = _SERIES.get(row["metric_name"])
        if series is None:
            continue
        value = number(path, line, row["metric_value"], "metric_value")
        points += 1
        yield Sample(series, value, _epoch(number(path, line, row["timestamp"], "timestamp")))
    if not points:
        fail(path, 1, "no http_req_duration rows: is this the output of `k6 run --out csv`?")


def _epoch(raw: float) -> float:
    if raw > 1e14:  # microseconds
        return raw / 1e6
    if raw > 1e11:  # milliseconds
        return raw / 1e3
    return raw
