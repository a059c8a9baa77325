"""k6 ``--out json``: newline-delimited JSON, one Metric declaration or data Point a line.

Every HTTP request gives an ``http_req_duration`` point (milliseconds) and an
``http_req_failed`` point (1 = failed); they become the ``latency`` and ``failed`` series.
Lines of other metrics are skipped unparsed (most of the file, so this is fast).
Streams: memory does not grow with the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson

from perfdash.baseline.formats._common import fail, iso_time, number
from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, Sample

NAME = "k6"
_SERIES = {"http_req_duration": LATENCY, "http_req_failed": FAILED}
_ENDINGS = {
    b'"metric":"http_req_duration"}': LATENCY,
    b'"metric":"http_req_failed"}': FAILED,
}
_SHORT, _LONG = min(map(len, _ENDINGS)), max(map(len, _ENDINGS))
_KEEP = (b'"http_req_duration"', b'"http_req_failed"')
# k6 writes {"type":"Point","data":{"time":T,"value":V,"tags":...},"metric":M}: read T and V
# without parsing the whole line; any other shape goes through the JSON parser.
_FAST = re.compile(rb'\{"type":"Point","data":\{"time":"([^"\\]+)","value":(-?[0-9][0-9.eE+-]*),')


def detect(head: str, name: str) -> bool:
    first = head.lstrip().split("\n", 1)[0].replace(" ", "")
    return first.startswith("{") and ('"type":"Metric"' in first or '"type":"Point"' in first)


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "k6")
    points = 0
    last_time, last_ts = b"", 0.0
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            line = raw.rstrip()
            series = _ENDINGS.get(line[-_LONG:]) or _ENDINGS.get(line[-_SHORT:])
            if series is not None and (fast := _FAST.match(line)) is not None:
                stamp = fast.group(1)
                if stamp != last_time:
                    last_time = stamp
                    last_ts = iso_time(path, line_number, stamp.decode(), "data.time")
                points += 1
                yield Sample(series, float(fast.group(2)), last_ts)
                continue
            if not line:
                continue
            if not line.startswith(b"{"):
                fail(path, line_number, "expected a JSON object (k6 --out json line)")
            if series is None and not any(key in line for key in _KEEP):
                continue  # another metric's point or declaration: skipped unparsed
            sample = _slow(path, line_number, line)
            if sample is not None:
                points += 1
                yield sample
    if not points:
        fail(path, 1, "no http_req_duration points: is this the output of `k6 run --out json`?")


def _slow(path: Path, line_number: int, line: bytes) -> Sample | None:
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        fail(path, line_number, f"invalid JSON: {exc}")
    if not isinstance(doc, dict) or doc.get("type") not in ("Metric", "Point"):
        fail(path, line_number, 'expected a k6 "Metric" or "Point" object')
    if doc["type"] == "Metric":
        return None
    data = doc.get("data")
    if not isinstance(data, dict):
        fail(path, line_number, 'a k6 "Point" needs a "data" object')
    series = _SERIES.get(str(doc.get("metric", "")))
    if series is None:
        return None
    value = number(path, line_number, data.get("value"), "data.value")
    return Sample(series, value, iso_time(path, line_number, data.get("time"), "data.time"))
