"""k6 ``--out json``: NDJSON, one Metric declaration or data Point a line; gzipped too
(``--out json=run.json.gz``: k6 compresses it itself).

Each HTTP request gives an ``http_req_duration`` point (milliseconds) and an
``http_req_failed`` point (1 = failed): they become the ``latency`` and ``failed`` series.
Every line is checked, those of other metrics too (about 11 of k6's 13 lines a request):
it must be one complete JSON object, else ``FILE:LINE`` says what is wrong. A file whose
last line has no newline was cut short and is refused.

The file is read in blocks of 256 KiB (small enough to stay in the CPU's cache while each
check passes over it), in pieces of whole lines. A piece is first read in one go: byte
counts prove one JSON object a line, msgspec checks every line and reads its type and
metric (its ``data`` is checked and left as bytes), then the data of the kept lines only
is read (time and value) and goes into arrays, a UTC minute each (``MinuteBatch``: the
store's blocks, so the process writing them does no work a sample). Anything unusual in
a piece (a bad line, a point perfdash would refuse) sends it through the line-by-line
reader, which names the first bad line and what is wrong with it.
"""

from __future__ import annotations

import math
import multiprocessing
from array import array
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple

import msgspec

from perfdash.baseline.formats._common import (
    EARLIEST,
    GZIP_MAGIC,
    LATEST,
    MAX_LINE,
    duration,
    fail,
    iso_time,
    open_binary,
    read_head,
)
from perfdash.baseline.records import (
    FAILED,
    LATENCY,
    MINUTE_US,
    Meta,
    MinuteBatch,
    Record,
    SampleBatch,
)
from perfdash.errors import ResultFileError
from perfdash.parallel import default_jobs, fork_pool

NAME = "k6"
KEPT = {"http_req_duration": LATENCY, "http_req_failed": FAILED}
BLOCK = 256 << 10
PARALLEL_FROM = 64 << 20  # plain files this big are read by worker processes...
PART = 16 << 20  # ...each reading the lines that start in 16 MiB of the file at a time
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_EARLIEST_US, _LATEST_US = round(EARLIEST * 1e6), round(LATEST * 1e6)
_NO_DATA = msgspec.Raw(b"null")


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


class _Line(msgspec.Struct, gc=False, kw_only=True):
    """What the fast reader takes from every line (the rest of it is checked, not kept).
    Fields in the order k6 writes a Point's keys: msgspec finds each a little faster."""

    metric: str = ""
    type: Literal["Point", "Metric"]
    data: msgspec.Raw = _NO_DATA  # checked JSON, read only for the kept metrics' points


class _KeptData(msgspec.Struct, gc=False):
    time: datetime  # msgspec reads RFC 3339 in C (to the microsecond)
    value: float


_CHECK = msgspec.json.Decoder(_Any)
_HEAD = msgspec.json.Decoder(_Head)
_POINT = msgspec.json.Decoder(_Point)
_LINES = msgspec.json.Decoder(_Line)
_KEPT_DATA = msgspec.json.Decoder(_KeptData)


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
    points = 0
    for batch in _batches(path):
        points += len(batch)
        yield batch
    if not points:
        fail(path, 1, "no http_req_duration points: is this the output of `k6 run --out json`?")


def _batches(path: Path) -> Iterator[SampleBatch | MinuteBatch]:
    """The kept points, in file order: read here, or by worker processes a part each when
    the file is big and plain (a gzip stream can only be read from its start)."""
    size = path.stat().st_size
    jobs = default_jobs()
    if size < PARALLEL_FROM or jobs < 2 or not _forks() or read_head(path, 2) == GZIP_MAGIC:
        for _, batches in _read(path, 0, None):
            yield from batches
        return
    line = 1
    for part in _parts(path, size, jobs):
        if part.error is not None:
            fail(path, line + part.error[0] - 1, part.error[1])
        yield from part.batches
        line += part.lines


def _forks() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


@dataclass(frozen=True)
class _Part:
    """What a worker read of the lines that start in its bytes of the file."""

    lines: int
    batches: list[SampleBatch | MinuteBatch]
    error: tuple[int, str] | None = None  # the first bad line (counted within the part)


def _parts(path: Path, size: int, jobs: int) -> Iterator[_Part]:
    """The file's parts read by ``jobs`` workers, in file order; at most two parts a
    worker wait to be taken, so memory stays bounded whatever the file's size."""
    with fork_pool(jobs) as pool:
        waiting: deque[AsyncResult[_Part]] = deque()
        for start in range(0, size, PART):
            waiting.append(pool.apply_async(_read_part, (path, start, min(start + PART, size))))
            if len(waiting) > 2 * jobs:
                yield waiting.popleft().get()
        while waiting:
            yield waiting.popleft().get()


def _read_part(path: Path, start: int, stop: int) -> _Part:
    """In a worker: the lines that start in bytes ``[start, stop)``."""
    lines, batches = 0, list[SampleBatch | MinuteBatch]()
    try:
        for count, found in _read(path, start, stop):
            lines += count
            batches += found
    except ResultFileError as exc:
        return _Part(lines, batches, (exc.line, exc.message))
    return _Part(lines, batches)


def _read(
    path: Path, start: int, stop: int | None
) -> Iterator[tuple[int, list[SampleBatch | MinuteBatch]]]:
    """(lines, kept points) of each piece of the lines that start in bytes ``[start,
    stop)`` (``stop`` None: to the end). Errors count lines from the first of these."""
    line = 1
    try:
        for piece in _pieces(path, start, stop):
            lines = piece.data.count(b"\n", piece.start + 1, piece.end)
            fast = _fast(piece, lines)
            batches: list[SampleBatch | MinuteBatch] = (
                [*_slow(path, line, piece)] if fast is None else [*fast]
            )
            yield lines, batches
            line += lines
    except _Unfinished as exc:
        fail(path, line, str(exc))


class _Unfinished(Exception):
    """A line without its end: the file's last one, or one too long (at the line being read)."""


def _pieces(path: Path, start: int, stop: int | None) -> Iterator[_Piece]:
    """The lines that start in bytes ``[start, stop)`` as pieces of whole lines, without
    copying blocks: each block's lines from its first newline to its last, and before them
    the line the block boundary cut (its start carried over). Memory: a block and a line."""
    carry = b""
    with open_binary(path) as handle:
        first_line = _line_start(handle, start)
        last_line = None if stop is None else _line_start(handle, stop)
        if first_line is None:
            return  # inside a line too long or unfinished: the part before reports it
        left = None if last_line is None else last_line - first_line
        handle.seek(first_line)
        while block := handle.read(BLOCK if left is None else min(BLOCK, left)):
            if left is not None:
                left -= len(block)
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


def _line_start(handle: IO[bytes], offset: int) -> int | None:
    """Where the first line starting at or after ``offset`` starts; None when no line ends
    within a line's length of it (a part reads up to there and reports that line)."""
    if offset == 0:
        return 0
    handle.seek(offset - 1)
    seen = 0
    while seen <= MAX_LINE and (block := handle.read(BLOCK)):
        newline: int = block.find(b"\n")
        if newline >= 0:
            return offset + seen + newline
        seen += len(block)
    return None


def _fast(piece: _Piece, lines: int) -> list[MinuteBatch] | None:
    """The piece's samples when every line is one JSON object and every kept point is
    plainly valid; ``None`` when anything is unusual (the line-by-line reader decides)."""
    data, start, end = piece
    # Every line starts with { and ends with }: each newline inside is "}\n{".
    if data[start + 1] != 0x7B or data[end - 2] != 0x7D:
        return None
    # k6 starts every Point line with its metric: the longer pattern is counted twice as fast.
    if (
        lines > 1
        and data.count(b'}\n{"metric":"', start, end) != lines - 1
        and data.count(b"}\n{", start, end) != lines - 1
    ):
        return None
    text = memoryview(data)[start:end]
    if not data.isascii():
        try:
            str(text, "utf-8")
        except UnicodeDecodeError:
            return None
    try:
        read = _LINES.decode_lines(text)
    except msgspec.DecodeError:  # not JSON, or a line msgspec cannot read as _Line
        return None
    # "}\n{" cannot occur inside a JSON value, so no object spans a newline: as many
    # objects as lines is one a line.
    if len(read) != lines:
        return None
    kept = [line for line in read if line.metric in KEPT]  # 2 of k6's 13 lines a request
    batches = []
    for metric, series in KEPT.items():
        raw = [line.data for line in kept if line.metric == metric and line.type == "Point"]
        if not raw:
            continue
        try:  # the kept points' data, one JSON value a line: read in one call
            points = _KEPT_DATA.decode_lines(b"\n".join(raw))
        except msgspec.DecodeError:  # no data, time or value; a value out of range
            return None
        values = array("d", [point.value for point in points])
        # sum() is NaN or infinite when any value is, and then min() is not to be trusted.
        if len(points) != len(raw) or not (sum(values) < math.inf and min(values) >= 0):
            return None  # the line reader names the line and what is wrong
        found = _by_minute(series, values, [point.time for point in points])
        if found is None:
            return None
        batches += found
    return batches


def _by_minute(
    series: str, values: array[float], moments: list[datetime]
) -> list[MinuteBatch] | None:
    """The points by UTC minute, each time as microseconds after its minute (the same
    whole microseconds wherever the file is cut into pieces). None for times without an
    offset (the line reader takes them as UTC) or outside 2000-2100."""
    try:
        low, high = _micros(min(moments)), _micros(max(moments))
    except TypeError:  # naive and aware times, or naive ones (no subtraction from the epoch)
        return None
    if not (low >= _EARLIEST_US and high < _LATEST_US):
        return None
    minute = low - low % MINUTE_US
    if high < minute + MINUTE_US:
        # RFC 3339 offsets are whole minutes: a time's second and microsecond are UTC's.
        offsets = array("i", [m.second * 1_000_000 + m.microsecond for m in moments])
        return [MinuteBatch(series, minute, values, offsets)]
    # Across a minute's end (once a minute): each time in full.
    grouped: dict[int, tuple[array[float], array[int]]] = {}
    for value, moment in zip(values, moments, strict=True):
        us = _micros(moment)
        minute = us - us % MINUTE_US
        kept, offsets = grouped.setdefault(minute, (array("d"), array("i")))
        kept.append(value)
        offsets.append(us - minute)
    return [MinuteBatch(series, m, kept, offsets) for m, (kept, offsets) in grouped.items()]


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


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
