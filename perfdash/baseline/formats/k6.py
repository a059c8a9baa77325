"""k6 ``--out json``: NDJSON, one Metric declaration or data Point a line; gzipped too
(``--out json=run.json.gz``: k6 compresses it itself).

Each HTTP request gives an ``http_req_duration`` point (milliseconds) and an
``http_req_failed`` point (1 = failed): they become the ``latency`` and ``failed`` series.
Every line is checked, those of other metrics too (about 12 of k6's 14 lines a request):
it must be one complete JSON object, else ``FILE:LINE`` says what is wrong. A file whose
last line has no newline was cut short and is refused.

The file is read in chunks of whole lines. A chunk written the way k6 1.x writes
(``{"metric":...,"type":"Point","data":{"time":...,"value":...`` a line) is checked in
one go (msgspec validates every line, byte counts prove one object a line) and its kept
points are read by position; anything else, or any doubt, sends the chunk through the
line-by-line reader, which accepts any key order and names the first bad line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from perfdash.baseline.formats._common import (
    MAX_LINE,
    duration,
    fail,
    iso_time,
    open_binary,
)
from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, Sample
from perfdash.errors import ResultFileError

NAME = "k6"
KEPT = {"http_req_duration": LATENCY, "http_req_failed": FAILED}
CHUNK = 1 << 20


class _Any(msgspec.Struct):
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
_PREFIXES = {
    name: f'\n{{"metric":"{name}","type":"Point","data":{{"time":"'.encode() for name in KEPT
}
_TIME_AND_VALUE = re.compile(rb'([^"\\\n]{1,64})","value":([^,}\n]{1,64})[,}]')
_LETTER_ESCAPE = re.compile(rb"\\u00[4-7]")  # \u0068 for "h": a metric name could hide in it


def detect(head: str, name: str) -> bool:
    first = head.lstrip().split("\n", 1)[0].replace(" ", "")
    return first.startswith("{") and ('"type":"Metric"' in first or '"type":"Point"' in first)


def parse(path: Path) -> Iterator[Record]:
    yield Meta("tool", "k6")
    times = _Times(path)
    points = 0
    for first_line, chunk in _chunks(path):
        found = _fast(chunk, times)
        if found is None:
            found = list(_slow(path, first_line, chunk))
        points += len(found)
        yield from found
    if not points:
        fail(path, 1, "no http_req_duration points: is this the output of `k6 run --out json`?")


def _chunks(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(number of its first line, chunk)``: whole lines, each chunk starting and ending with
    a newline (so every line is ``\\n...\\n`` inside it). Memory: a chunk and one line."""
    line = 1
    carry = b"\n"
    with open_binary(path) as handle:
        while True:
            block = handle.read(CHUNK)
            if not block:
                break
            buffer = carry + block
            cut = buffer.rfind(b"\n")
            if cut <= 0:
                if len(buffer) > MAX_LINE:
                    fail(path, line, f"line longer than {MAX_LINE >> 20} MiB: not k6 output")
                carry = buffer
                continue
            chunk, carry = buffer[: cut + 1], buffer[cut:]
            yield line, chunk
            line += chunk.count(b"\n") - 1
    if len(carry) > 1:
        fail(path, line, "the file ends in the middle of a line: it was cut short (truncated?)")


def _fast(chunk: bytes, times: _Times) -> list[Sample] | None:
    """The chunk's samples when every line is a lone JSON object in k6 1.x's own layout;
    ``None`` when anything is unusual (the line-by-line reader decides then)."""
    lines = chunk.count(b"\n") - 1
    # Every line starts with { and ends with }: each newline inside is "}\n{".
    if chunk[1:2] != b"{" or chunk[-2:-1] != b"}" or chunk.count(b"}\n{") != lines - 1:
        return None
    if not chunk.isascii():
        try:
            chunk.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        # Each line starts with { and ends with }: no object can span a newline, so as many
        # objects as lines means one object a line.
        if len(_CHECK.decode_lines(chunk)) != lines:
            return None
    except msgspec.DecodeError:
        return None
    if b"\\u00" in chunk and _LETTER_ESCAPE.search(chunk):
        return None
    samples: list[Sample] = []
    for name, prefix in _PREFIXES.items():
        series, start, found = KEPT[name], 0, 0
        while (at := chunk.find(prefix, start)) >= 0:
            start = at + len(prefix)
            match = _TIME_AND_VALUE.match(chunk, start)
            if match is None:
                return None
            value, ts = _fast_value(match.group(2)), times.fast(match.group(1))
            if value is None or ts is None:
                return None  # the line-by-line reader names the line and the problem
            samples.append(Sample(series, value, ts))
            found += 1
        # Every mention of the name must be one of those points (not a declaration, a
        # point written another way, or a tag value).
        if chunk.count(name.encode()) != found:
            return None
    return samples


def _fast_value(text: bytes) -> float | None:
    """A finite duration >= 0, else None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 <= value < math.inf else None


def _slow(path: Path, first_line: int, chunk: bytes) -> Iterator[Sample]:
    for offset, raw in enumerate(chunk[1:-1].split(b"\n")):
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
            data = _POINT.decode(line).data
        except msgspec.ValidationError as exc:
            if "out of range" in str(exc):
                fail(path, line_number, f"{str(exc).rsplit('$.', 1)[-1].rstrip('`')}: expected "
                     "a finite number")  # fmt: skip
            fail(path, line_number, f"not a k6 point: {exc}")
        if data is None:
            fail(path, line_number, 'a k6 "Point" needs a "data" object')
        value = duration(path, line_number, data.value, "data.value")
        yield Sample(series, value, iso_time(path, line_number, data.time, "data.time"))


class _Times:
    """k6 times (RFC 3339, nanoseconds, local offset) as epoch seconds. Consecutive points
    share their second, so each distinct second is parsed once."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._second = b""
        self._base = 0.0

    def fast(self, text: bytes) -> float | None:
        """``2024-05-06T09:30:00.123456789+05:30`` as plausible epoch seconds, else None."""
        if text[19:20] != b"." or len(text) > 40:
            return self._whole(text)
        zone_at = len(text) - (1 if text[-1:] in (b"Z", b"z") else 6)
        digits = text[20:zone_at]
        if not digits.isdigit():
            return None
        second = text[:19] + text[zone_at:]
        if second != self._second:
            base = self._whole(second)
            if base is None:
                return None
            self._second, self._base = second, base
        return self._base + int(digits) / _SCALE[len(digits)]

    def _whole(self, text: bytes) -> float | None:
        try:
            return iso_time(self._path, 0, text.decode(), "data.time")
        except (ResultFileError, UnicodeDecodeError):
            return None


_SCALE: list[int] = [10**n for n in range(21)]
