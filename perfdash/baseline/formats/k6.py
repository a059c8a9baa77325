"""k6 ``--out json``: NDJSON, one Metric declaration or data Point a line; gzipped too
(``--out json=run.json.gz``: k6 compresses it itself).

Each HTTP request gives an ``http_req_duration`` point (milliseconds) and an
``http_req_failed`` point (1 = failed): they become the ``latency`` and ``failed`` series.
Every line is checked, those of other metrics too (about 11 of k6's 13 lines a request):
it must be one complete JSON object, else ``FILE:LINE`` says what is wrong. A file whose
last line has no newline was cut short and is refused.

The file is read in blocks of 256 KiB (small enough to stay in the CPU's cache while each
check passes over it), in pieces of whole lines. A piece written the way k6 1.x writes
(``{"metric":...,"type":"Point","data":{"time":"...","value":...`` a line) is checked in
one go (msgspec validates every line, byte counts prove one object a line) and its kept
points are read by position into arrays (``SampleBatch``); anything else, or any doubt,
sends the piece through the line-by-line reader, which accepts any key order and names
the first bad line.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from perfdash.baseline.formats._common import (
    MAX_LINE,
    duration,
    fail,
    iso_time,
    open_binary,
)
from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, SampleBatch
from perfdash.errors import ResultFileError

NAME = "k6"
KEPT = {"http_req_duration": LATENCY, "http_req_failed": FAILED}
BLOCK = 256 << 10


class _Any(msgspec.Struct, gc=False):
    """Decoding into a struct with no fields checks the JSON and keeps nothing."""


class _Head(msgspec.Struct):
    type: str = ""
    metric: str = ""


class _PointData(msgspec.Struct):
    time: Any = None
    value: Any = None


class _Point(msgspec.Struct):
    data: _PointData | None = None


_CHECK = msgspec.json.Decoder(_Any)
_HEAD = msgspec.json.Decoder(_Head)
_POINT = msgspec.json.Decoder(_Point)
# name -> (series, the start of its points' lines in k6's layout)
_PREFIXES = {
    name.encode(): (series, f'\n{{"metric":"{name}","type":"Point","data":{{"time":"'.encode())
    for name, series in KEPT.items()
}
# The rest of a kept point in k6's layout: its time (second, fraction, zone) and a number
# without a sign (a negative one takes the line reader, which says what is wrong).
_TIME_AND_VALUE = re.compile(
    rb'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{1,9})(Z|[+-]\d\d:\d\d)","value":'
    rb"(\d{1,40}(?:\.\d{1,40})?(?:[eE][+-]?\d{1,4})?)[,}]"
)
_POINT_START = b'\n{"metric":"'
_LETTER_ESCAPE = re.compile(rb"\\u00[4-7]")  # \u0068 for "h": a metric name could hide in it
_SCALE: list[int] = [10**n for n in range(10)]


class _Piece(NamedTuple):
    """``data[start:end]``: a newline, then whole lines, each ending with a newline."""

    data: bytes
    start: int
    end: int


def detect(head: str, name: str) -> bool:
    first = head.lstrip().split("\n", 1)[0].replace(" ", "")
    return first.startswith("{") and ('"type":"Metric"' in first or '"type":"Point"' in first)


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "k6")
    times = _Times(path)
    line, points = 1, 0
    try:
        for piece in _pieces(path):
            lines = piece.data.count(b"\n", piece.start + 1, piece.end)
            batches = _fast(piece, lines, times)
            if batches is None:
                batches = _slow(path, line, piece)
            for batch in batches:
                points += len(batch)
                yield batch
            line += lines
    except _Unfinished as exc:
        fail(path, line, str(exc))
    if not points:
        fail(path, 1, "no http_req_duration points: is this the output of `k6 run --out json`?")


class _Unfinished(Exception):
    """A line without its end: the file's last one, or one too long (at the line being read)."""


def _pieces(path: Path) -> Iterator[_Piece]:
    """The file as pieces of whole lines, without copying blocks: each block's lines from
    its first newline to its last, and before them the line the block boundary cut (its
    start carried over from the previous blocks). Memory: a block and one line."""
    carry = b""
    with open_binary(path) as handle:
        while block := handle.read(BLOCK):
            first = block.find(b"\n")
            if first < 0:
                carry += block
                if len(carry) > MAX_LINE:
                    raise _Unfinished(f"line longer than {MAX_LINE >> 20} MiB: not k6 output")
                continue
            cut = b"\n" + carry + block[: first + 1]
            yield _Piece(cut, 0, len(cut))
            last = block.rfind(b"\n")
            if last > first:
                yield _Piece(block, first, last + 1)
            carry = block[last + 1 :]
    if carry:
        raise _Unfinished("the file ends in the middle of a line: it was cut short (truncated?)")


def _fast(piece: _Piece, lines: int, times: _Times) -> list[SampleBatch] | None:
    """The piece's samples when every line is a lone JSON object in k6 1.x's own layout;
    ``None`` when anything is unusual (the line-by-line reader decides then)."""
    data, start, end = piece
    # Every line is a point ({"metric":... to }): each newline inside is "}\n{".
    if not data.startswith(_POINT_START, start) or data[end - 2] != 0x7D:
        return None
    if lines > 1 and data.count(b"}" + _POINT_START, start, end) != lines - 1:
        return None
    text = memoryview(data)[start:end]
    if not data.isascii():
        try:
            str(text, "utf-8")
        except UnicodeDecodeError:
            return None
    try:
        # Each line starts with { and ends with }, and "}\n{" cannot occur inside a JSON
        # value: no object spans a newline, so as many objects as lines is one a line.
        if len(_CHECK.decode_lines(text)) != lines:
            return None
    except msgspec.DecodeError:
        return None
    if data.find(b"\\", start, end) >= 0 and _LETTER_ESCAPE.search(data, start, end):
        return None
    batches = []
    for name, (series, prefix) in _PREFIXES.items():
        found = _kept_points(data, start, end, series, prefix, times)
        # Every mention of the name must be one of those points (not a declaration, a
        # point written another way, or a tag value).
        if found is None or data.count(name, start, end) != len(found.values):
            return None
        if found.values:
            batches.append(found)
    return batches


def _kept_points(
    data: bytes, start: int, end: int, series: str, prefix: bytes, times: _Times
) -> SampleBatch | None:
    """The points of one kept metric in ``data[start:end]``, or None if one is unusual."""
    values, stamps = array("d"), array("d")
    find, match = data.find, _TIME_AND_VALUE.match
    second, zone, base = b"", b"", 0.0
    at = find(prefix, start, end)
    while at >= 0:
        found = match(data, at + len(prefix), end)
        if found is None:
            return None
        if found[1] != second or found[3] != zone:
            second, zone = found[1], found[3]
            whole = times.seconds(second, zone)
            if whole is None:
                return None
            base = whole
        value = float(found[4])
        if value == math.inf:
            return None  # 1e999: the line reader says what is wrong
        fraction = found[2]
        values.append(value)
        stamps.append(base + int(fraction) / _SCALE[len(fraction)])
        at = find(prefix, found.end(), end)
    return SampleBatch(series, values, stamps)


def _slow(path: Path, first_line: int, piece: _Piece) -> list[SampleBatch]:
    """The piece read line by line: any key order; the first bad line is an error."""
    kept: dict[str, tuple[array[float], array[float]]] = {}
    data, start, end = piece
    for offset, raw in enumerate(data[start + 1 : end - 1].split(b"\n")):
        line_number = first_line + offset
        line = raw.strip()
        if not line:
            continue
        if not line.startswith(b"{"):
            fail(path, line_number, "expected a JSON object (a line of `k6 run --out json`)")
        try:
            line.decode("utf-8")
            _CHECK.decode(line)
            head = _HEAD.decode(line)
        except UnicodeDecodeError as exc:
            fail(path, line_number, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        except msgspec.ValidationError as exc:
            fail(path, line_number, f"not a k6 line: {exc}")
        except msgspec.DecodeError as exc:
            fail(path, line_number, f"not a complete JSON object: {exc}")
        if head.type == "Metric":
            continue
        if head.type != "Point":
            fail(path, line_number, 'expected a k6 "Metric" or "Point" line (field "type")')
        series = KEPT.get(head.metric)
        if series is None:
            continue
        try:
            data_ = _POINT.decode(line).data
        except msgspec.ValidationError as exc:
            if "out of range" in str(exc):
                fail(path, line_number, f"{str(exc).rsplit('$.', 1)[-1].rstrip('`')}: expected "
                     "a finite number")  # fmt: skip
            fail(path, line_number, f"not a k6 point: {exc}")
        if data_ is None:
            fail(path, line_number, 'a k6 "Point" needs a "data" object')
        value = duration(path, line_number, data_.value, "data.value")
        ts = iso_time(path, line_number, data_.time, "data.time")
        values, stamps = kept.setdefault(series, (array("d"), array("d")))
        values.append(value)
        stamps.append(ts)
    return [SampleBatch(series, values, stamps) for series, (values, stamps) in kept.items()]


class _Times:
    """The whole seconds of k6 times (RFC 3339 with a local offset) as epoch seconds, each
    parsed once (and checked to lie between 2000 and 2100)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def seconds(self, second: bytes, zone: bytes) -> float | None:
        """``2024-05-06T09:30:00`` and ``+05:30`` (or ``Z``) as epoch seconds, else None."""
        try:
            return iso_time(self._path, 0, (second + zone).decode(), "data.time")
        except (ResultFileError, UnicodeDecodeError):
            return None
