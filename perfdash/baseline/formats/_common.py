"""What every result-file parser shares: located errors, checked numbers and times, and
readers whose memory stays bounded whatever the file holds.

- Lines are read with a length limit (``MAX_LINE``): a 1 GiB file without a newline is an
  error at line 1, not 1 GiB of memory.
- Whole documents (summary JSON files) are refused above ``MAX_DOCUMENT``.
- A gzip file (k6 writes one for ``--out json=run.json.gz``) is read through, whatever its
  name; a damaged or cut-short one is an error, not a traceback.
- Times must lie between 2000 and 2100 (``plausible_time``); durations must be finite and
  not negative (``duration``).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NoReturn

import msgspec

from perfdash.errors import ResultFileError

MAX_LINE = 1 << 20  # 1 MiB: no tool writes a longer line
MAX_DOCUMENT = 64 << 20  # summary documents (JSON) are small
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
LATEST = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
GZIP_MAGIC = b"\x1f\x8b"


def fail(path: Path, line: int, message: str) -> NoReturn:
    raise ResultFileError(str(path), line, message)


def number(path: Path, line: int, text: Any, what: str) -> float:
    """``text`` as a finite float, or a ResultFileError naming file, line and field."""
    if isinstance(text, bool) or text is None:
        fail(path, line, f"{what}: expected a number, got {text!r}")
    try:
        value = float(text)
    except (TypeError, ValueError, OverflowError):
        fail(path, line, f"{what}: expected a number, got {_short(text)}")
    if not math.isfinite(value):
        fail(path, line, f"{what}: expected a finite number, got {_short(text)}")
    return value


def duration(path: Path, line: int, text: Any, what: str) -> float:
    """A finite, non-negative duration (or count)."""
    value = number(path, line, text, what)
    if value < 0:
        fail(path, line, f"{what}: expected a duration (0 or more), got {_short(text)}")
    return value


def count(path: Path, line: int, text: Any, what: str) -> int:
    """A whole number, 0 or more."""
    value = duration(path, line, text, what)
    if value != int(value):
        fail(path, line, f"{what}: expected a whole number, got {_short(text)}")
    return int(value)


def plausible_time(path: Path, line: int, seconds: float, what: str) -> float:
    """Epoch seconds between 2000 and 2100, else an error (a corrupt or misread time)."""
    if not EARLIEST <= seconds < LATEST:
        fail(path, line, f"{what}: {_short(seconds)} is not a time between 2000 and 2100")
    return seconds


def iso_time(path: Path, line: int, text: Any, what: str) -> float:
    """An RFC 3339 / ISO 8601 time (``Z`` or an offset; naive means UTC; any number of
    fractional digits, as k6 writes nanoseconds) as plausible epoch seconds."""
    if not isinstance(text, str) or len(text) > 64:
        fail(path, line, f"{what}: expected an ISO 8601 time, got {_short(text)}")
    main, fraction, zone = _split_time(text)
    try:
        moment = datetime.fromisoformat(main + zone)
    except ValueError:
        fail(path, line, f"{what}: expected an ISO 8601 time, got {_short(text)}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        seconds = moment.timestamp()
    except (OverflowError, ValueError):
        fail(path, line, f"{what}: {_short(text)} is not a time between 2000 and 2100")
    return plausible_time(path, line, seconds + fraction, what)


def _split_time(text: str) -> tuple[str, float, str]:
    """``2024-05-06T09:30:00.123456789+05:30`` -> (``2024-05-06T09:30:00``, 0.123456789,
    ``+05:30``): Python 3.11 reads at most 6 fractional digits, k6 writes 9."""
    zone = ""
    if text.endswith(("Z", "z")):
        zone, text = "+00:00", text[:-1]
    elif len(text) > 19 and text[-6] in "+-" and text[-3] == ":":
        zone, text = text[-6:], text[:-6]
    main, dot, digits = text.partition(".")
    if dot and digits.isdigit() and digits.isascii():
        return main, float("0." + digits), zone
    return text, 0.0, zone


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- reading --------------------------------------------------------------------------------


@contextmanager
def open_binary(path: Path) -> Iterator[IO[bytes]]:
    """The file's bytes, decompressed when it is gzip (by content, not by name)."""
    with path.open("rb") as raw:
        magic = raw.read(2)
        raw.seek(0)
        if magic != GZIP_MAGIC:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            try:
                yield unzipped  # type: ignore[misc]
            except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
                fail(path, 0, f"the gzip data is damaged or cut short ({exc})")


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes (decompressed), for format detection."""
    with open_binary(path) as handle:
        try:
            return handle.read(size)
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError):
            return b""


def lines(path: Path, *, require_final_newline: bool = True) -> Iterator[tuple[int, bytes]]:
    """``(line number, line without its newline)``, each at most ``MAX_LINE`` bytes.

    A last line without a newline means the writer stopped mid-line: refused when
    ``require_final_newline`` (files written a line at a time by a tool)."""
    with open_binary(path) as handle:
        number_ = 0
        while True:
            raw = handle.readline(MAX_LINE + 1)
            if not raw:
                return
            number_ += 1
            if not raw.endswith(b"\n"):
                if len(raw) > MAX_LINE:
                    fail(path, number_, f"line longer than {MAX_LINE >> 20} MiB: not a result file")
                if require_final_newline:
                    fail(path, number_, "the file ends in the middle of a line (cut short?)")
                yield number_, raw
                return
            yield number_, raw[:-1]


def text_lines(path: Path, *, require_final_newline: bool = True) -> Iterator[tuple[int, str]]:
    """Like ``lines``, decoded as UTF-8 (a BOM is dropped); ``\\r\\n`` endings are accepted."""
    for number_, raw in lines(path, require_final_newline=require_final_newline):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            fail(path, number_, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        if number_ == 1:
            text = text.removeprefix("\ufeff")
        yield number_, text.removesuffix("\r")


def csv_rows(
    path: Path,
    *,
    required: tuple[str, ...] = (),
    header: list[str] | None = None,
    require_final_newline: bool = True,
) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row by column name)`` of every row; each must have every column.

    The column names come from the first line, or from ``header`` for files without one."""
    numbered = text_lines(path, require_final_newline=require_final_newline)
    current = [0]

    def feed() -> Iterator[str]:
        for number_, text in numbered:
            current[0] = number_
            yield text

    reader = csv.reader(feed(), strict=True)
    columns = header
    while True:
        try:
            row = next(reader)
        except StopIteration:
            if columns is None:
                fail(path, 1, "the file is empty: expected a CSV header")
            return
        except csv.Error as exc:
            fail(path, current[0], f"not a complete CSV row ({exc})")
        if columns is None:
            columns = row
            missing = [name for name in required if name not in columns]
            if missing:
                fail(path, 1, f"the CSV header lacks {', '.join(missing)}")
            continue
        if not row:
            continue
        if len(row) != len(columns):
            fail(path, current[0], f"expected {len(columns)} columns, found {len(row)}")
        yield current[0], dict(zip(columns, row, strict=True))


def load_json(path: Path, *, what: str = "JSON document") -> Any:
    """A whole (small) JSON document; syntax errors name the line."""
    with open_binary(path) as handle:
        try:
            data = handle.read(MAX_DOCUMENT + 1)
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            fail(path, 0, f"the gzip data is damaged or cut short ({exc})")
    if len(data) > MAX_DOCUMENT:
        fail(path, 1, f"a {what} is small; this file is over {MAX_DOCUMENT >> 20} MiB")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(path, 1 + data.count(b"\n", 0, exc.start), f"not UTF-8 text ({exc.reason})")
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        fail(path, _line_of_error(data, str(exc)), f"invalid JSON: {exc}")


def _line_of_error(data: bytes, message: str) -> int:
    """msgspec says ``... (byte N)``: the line holding byte N."""
    if "(byte " in message:
        offset = message.rsplit("(byte ", 1)[1].rstrip(")")
        if offset.isdigit():
            return 1 + data.count(b"\n", 0, int(offset))
    return 1 + data.count(b"\n") if "truncated" in message else 1


def line_of(path: Path, needle: str, *, occurrence: int = 0) -> int:
    """Line of the ``occurrence``-th ``needle`` in the file, for errors in parsed JSON."""
    seen = 0
    with open_binary(path) as raw:
        handle = io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
        for number_, text in enumerate(handle, start=1):
            found = text.count(needle)
            if seen + found > occurrence:
                return number_
            seen += found
    return 1


def expect(value: Any, kind: type | tuple[type, ...], path: Path, line: int, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        fail(path, line, f"{what}: expected {_article(names)}, got {type(value).__name__}")
    return value


def _article(name: str) -> str:
    words = {"dict": "an object", "list": "a list", "str": "a string", "float": "a number"}
    return words.get(name, f"a {name}")
