"""Helpers every result-file parser shares: located errors, numbers, times, CSV rows."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from perfdash.errors import ResultFileError


def fail(path: Path, line: int, message: str) -> NoReturn:
    raise ResultFileError(str(path), line, message)


def number(path: Path, line: int, text: Any, what: str) -> float:
    """``text`` as a finite float, or a ResultFileError naming file, line and field."""
    if isinstance(text, bool):
        fail(path, line, f"{what}: expected a number, got {text!r}")
    try:
        value = float(text)
    except (TypeError, ValueError):
        fail(path, line, f"{what}: expected a number, got {text!r}")
    if not math.isfinite(value):
        fail(path, line, f"{what}: expected a finite number, got {text!r}")
    return value


def iso_time(path: Path, line: int, text: Any, what: str) -> float:
    """An ISO 8601 time (``Z`` or an offset; naive means UTC) as epoch seconds."""
    if not isinstance(text, str):
        fail(path, line, f"{what}: expected an ISO 8601 time, got {text!r}")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(path, line, f"{what}: expected an ISO 8601 time, got {text!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def csv_rows(path: Path, *, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line number, row by header name)`` of a CSV file whose header has ``required``."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            fail(path, 1, "the file is empty: expected a CSV header")
        except (csv.Error, UnicodeDecodeError) as exc:
            fail(path, 1, f"not CSV: {exc}")
        missing = [name for name in required if name not in header]
        if missing:
            fail(path, 1, f"the CSV header lacks {', '.join(missing)}")
        width = len(header)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                fail(path, reader.line_num, f"not CSV: {exc}")
            if not row:
                continue
            if len(row) != width:
                fail(path, reader.line_num, f"expected {width} columns, found {len(row)}")
            yield reader.line_num, dict(zip(header, row, strict=True))


def load_json(path: Path) -> Any:
    """The whole document (for small summary files); syntax errors name the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        fail(path, 1, f"not UTF-8 text: {exc}")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        fail(path, exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})")


def line_of(path: Path, needle: str, *, occurrence: int = 0) -> int:
    """Line of the ``occurrence``-th ``needle`` in the file, for errors in parsed JSON."""
    seen = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number_, text in enumerate(handle, start=1):
            count = text.count(needle)
            if seen + count > occurrence:
                return number_
            seen += count
    return 1


def expect(value: Any, kind: type | tuple[type, ...], path: Path, line: int, what: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        fail(path, line, f"{what}: expected {_article(names)}, got {type(value).__name__}")
    return value


def _article(name: str) -> str:
    words = {"dict": "an object", "list": "a list", "str": "a string", "float": "a number"}
    return words.get(name, f"a {name}")
