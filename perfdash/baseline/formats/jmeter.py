"""JMeter JTL results (``-l results.jtl``): CSV with or without a header line, or XML.

CSV with a header: columns read by name. Without one (JMeter 2.13's default:
``jmeter.save.saveservice.print_field_names=false``), the columns are those of
jmeter.properties' defaults, told apart by their number: JMeter 2.13's 12
(``timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,
bytes,grpThreads,allThreads,Latency``) or JMeter 3.1+'s 17 (adds failureMessage,
sentBytes, URL, IdleTime and Connect; from its documentation, not run here).
XML (``output_format=xml``): each top-level ``<httpSample>``/``<sample>`` is one request
(``t`` elapsed, ``ts`` time, ``s`` success); nested ones are its sub-results.

``elapsed``/``t`` (whole milliseconds: JMeter's resolution) becomes ``latency``, success
becomes ``failed``. ``timeStamp`` is epoch milliseconds (or a date JMeter was told to write).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.parsers import expat

from perfdash.baseline.formats._common import (
    csv_rows,
    duration,
    fail,
    open_binary,
    plausible_time,
    read_head,
)
from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, Sample

NAME = "jmeter"
COLUMNS_2_13 = [
    "timeStamp",
    "elapsed",
    "label",
    "responseCode",
    "responseMessage",
    "threadName",
    "dataType",
    "success",
    "bytes",
    "grpThreads",
    "allThreads",
    "Latency",
]
COLUMNS_3_1 = [
    "timeStamp",
    "elapsed",
    "label",
    "responseCode",
    "responseMessage",
    "threadName",
    "dataType",
    "success",
    "failureMessage",
    "bytes",
    "sentBytes",
    "grpThreads",
    "allThreads",
    "URL",
    "Latency",
    "IdleTime",
    "Connect",
]
_DATE_FORMATS = ("%Y/%m/%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S")
_SAMPLES = ("httpSample", "sample")
_XML_CHUNK = 1 << 16


def detect(head: str, name: str) -> bool:
    text = head.lstrip("\ufeff")
    if text.lstrip().startswith("<?xml") or text.lstrip().startswith("<testResults"):
        return "<testResults" in text
    first = text.split("\n", 1)[0]
    columns = first.split(",")
    return ("timeStamp" in columns and "elapsed" in columns) or _headerless(first) is not None


def _headerless(first: str) -> list[str] | None:
    """The default column order a header-less first row fits, if any."""
    try:
        row = next(csv.reader(io.StringIO(first)))
    except (csv.Error, StopIteration):
        return None
    for columns in (COLUMNS_2_13, COLUMNS_3_1):
        if (len(row) == len(columns) and row[0].isdigit() and row[1].isdigit()
                and row[columns.index("success")] in ("true", "false")):  # fmt: skip
            return list(columns)
    return None


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "jmeter")
    yield Meta("resolution_ms", 1.0)
    head = read_head(path, 4096).decode("utf-8", errors="replace").lstrip("\ufeff")
    samples = _xml(path) if head.lstrip().startswith("<") else _csv(path, head)
    found = 0
    for sample in samples:
        found += 1
        yield sample
    if not found:
        fail(path, 1, "the JTL file holds no samples")


def _csv(path: Path, head: str) -> Iterator[Sample]:
    first = head.split("\n", 1)[0].rstrip("\r")
    header = None if "timeStamp" in first.split(",") else _headerless(first)
    if header is None and "timeStamp" not in first.split(","):
        fail(path, 1, "not a JTL file: no header line, and the columns are not JMeter's defaults")
    for line, row in csv_rows(path, required=("timeStamp", "elapsed", "success"), header=header):
        elapsed = duration(path, line, row["elapsed"], "elapsed")
        ts = _time(path, line, row["timeStamp"])
        yield Sample(LATENCY, elapsed, ts)
        yield Sample(FAILED, _failed(path, line, row["success"], "success"), ts)


def _failed(path: Path, line: int, text: str, what: str) -> float:
    success = text.strip().lower()
    if success not in ("true", "false"):
        fail(path, line, f"{what}: expected true or false, got {text[:40]!r}")
    return 0.0 if success == "true" else 1.0


def _time(path: Path, line: int, text: str) -> float:
    if text.isdigit() and text.isascii() and len(text) <= 16:
        return plausible_time(path, line, int(text) / 1000, "timeStamp")
    for pattern in _DATE_FORMATS:
        try:
            moment = datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
        return plausible_time(path, line, moment.timestamp(), "timeStamp")
    fail(path, line, f"timeStamp: expected epoch milliseconds or a date, got {text[:40]!r}")


def _xml(path: Path) -> Iterator[Sample]:
    """Stream the XML (bounded memory), refusing DTDs and entities (no expansion attacks)."""
    parser = expat.ParserCreate()
    ready: list[Sample] = []
    depth = [0]

    def start(name: str, attributes: dict[str, str]) -> None:
        depth[0] += 1
        line = parser.CurrentLineNumber
        if depth[0] == 1 and name != "testResults":
            fail(path, line, f"expected <testResults>, found <{name}>")
        if depth[0] == 2 and name in _SAMPLES:
            for key in ("t", "ts", "s"):
                if key not in attributes:
                    fail(path, line, f'<{name}> has no "{key}" attribute')
            ts = _time(path, line, attributes["ts"])
            ready.append(Sample(LATENCY, duration(path, line, attributes["t"], f"{name} t"), ts))
            ready.append(Sample(FAILED, _failed(path, line, attributes["s"], f"{name} s"), ts))

    def end(name: str) -> None:
        depth[0] -= 1

    def refuse(*_: object) -> None:
        fail(path, parser.CurrentLineNumber, "DTDs and entities are not allowed in a JTL file")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    with open_binary(path) as handle:
        while True:
            block = handle.read(_XML_CHUNK)
            try:
                parser.Parse(block, not block)
            except expat.ExpatError as exc:
                fail(path, exc.lineno, f"not well-formed XML: {expat.ErrorString(exc.code)}")
            yield from ready
            ready.clear()
            if not block:
                return
