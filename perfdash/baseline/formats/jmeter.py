"""JMeter JTL results in CSV (``-l results.jtl``), columns read by the header's names.

``elapsed`` (milliseconds, whole numbers: JMeter's resolution) becomes ``latency``,
``success`` (true/false) becomes ``failed``. ``timeStamp`` is epoch milliseconds or a
formatted date JMeter was told to write.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from perfdash.baseline.formats._common import csv_rows, fail, number
from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, Sample

NAME = "jmeter"
_DATE_FORMATS = ("%Y/%m/%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S")


def detect(head: str, name: str) -> bool:
    first = head.lstrip("\ufeff").split("\n", 1)[0]
    columns = first.split(",")
    return "timeStamp" in columns and "elapsed" in columns


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "jmeter")
    yield Meta("resolution_ms", 1.0)
    rows = 0
    for line, row in csv_rows(path, required=("timeStamp", "elapsed", "success")):
        elapsed = number(path, line, row["elapsed"], "elapsed")
        success = row["success"].strip().lower()
        if success not in ("true", "false"):
            fail(path, line, f"success: expected true or false, got {row['success']!r}")
        ts = _time(path, line, row["timeStamp"])
        rows += 1
        yield Sample(LATENCY, elapsed, ts)
        yield Sample(FAILED, 0.0 if success == "true" else 1.0, ts)
    if not rows:
        fail(path, 2, "the JTL file has a header but no samples")


def _time(path: Path, line: int, text: str) -> float:
    if text.isdigit():
        return int(text) / 1000
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    fail(path, line, f"timeStamp: expected epoch milliseconds or a date, got {text!r}")
