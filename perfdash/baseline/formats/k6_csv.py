"""k6 ``--out csv``: one row per metric sample, columns read by the header's names; gzipped
too (``--out csv=run.csv.gz``).

``timestamp`` is in whichever ``timeFormat`` k6 was given: ``unix`` (seconds, the default),
``unix_milli``, ``unix_micro``, ``unix_nano`` (told apart by size: only one reading falls
between 2000 and 2100), ``rfc3339`` or ``rfc3339_nano``. Every row must be complete (all
columns), including rows of metrics perfdash does not keep; a file whose last line has no
newline was cut short and is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import (
    EARLIEST,
    LATEST,
    csv_rows,
    duration,
    fail,
    iso_time,
)
from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, Sample

NAME = "k6-csv"
_SERIES = {"http_req_duration": LATENCY, "http_req_failed": FAILED}
_UNITS = (1, 1e3, 1e6, 1e9)  # unix, unix_milli, unix_micro, unix_nano


def detect(head: str, name: str) -> bool:
    return head.lstrip("\ufeff").startswith("metric_name,timestamp,metric_value")


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "k6")
    points = 0
    required = ("metric_name", "timestamp", "metric_value")
    for line, row in csv_rows(path, required=required):
        series = _SERIES.get(row["metric_name"])
        if series is None:
            continue
        value = duration(path, line, row["metric_value"], "metric_value")
        points += 1
        yield Sample(series, value, epoch(path, line, row["timestamp"]))
    if not points:
        fail(path, 1, "no http_req_duration rows: is this the output of `k6 run --out csv`?")


def epoch(path: Path, line: int, text: str) -> float:
    """A k6 CSV timestamp in any of its time formats as epoch seconds (2000..2100)."""
    if text.isdigit() and text.isascii() and len(text) <= 20:
        raw = int(text)
        for unit in _UNITS:
            if EARLIEST <= raw / unit < LATEST:
                return raw / unit
        fail(path, line, f"timestamp: {text} is not a time between 2000 and 2100 "
                         "in seconds, milliseconds, microseconds or nanoseconds")  # fmt: skip
    if text[:4].isdigit() and "T" in text:
        return iso_time(path, line, text, "timestamp")
    fail(path, line, f"timestamp: expected Unix time or RFC 3339, got {text[:40]!r}")
