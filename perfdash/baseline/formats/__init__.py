"""Result-file formats: one module per tool, each with ``detect(head, name)`` and ``parse(path)``.

``parse`` streams ``Sample``/``Value``/``Meta``/``SeriesInfo`` records (see
``perfdash.baseline.records``) and raises ``ResultFileError`` naming the file and line of
the first problem. Files may be gzipped (read by content, whatever the name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

from perfdash.baseline.formats import (
    gobench,
    hyperfine,
    jmeter,
    k6,
    k6_csv,
    k6_summary,
    locust,
    pytest_benchmark,
    wrk,
)
from perfdash.baseline.formats._common import read_head
from perfdash.baseline.records import Record
from perfdash.errors import ResultFileError

_MODULES: tuple[ModuleType, ...] = (
    k6,
    k6_csv,
    k6_summary,
    locust,
    jmeter,
    pytest_benchmark,
    hyperfine,
    gobench,
    wrk,
)
FORMATS: dict[str, ModuleType] = {module.NAME: module for module in _MODULES}
HEAD_BYTES = 64 * 1024

__all__ = ["FORMATS", "detect_format", "parse_file"]


def detect_format(path: Path) -> str:
    """The one format whose ``detect`` accepts the file's first 64 KiB; else an error."""
    try:
        head = read_head(path, HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError as exc:
        raise ResultFileError(str(path), 0, f"cannot read: {exc.strerror}") from exc
    matches = [name for name, module in FORMATS.items() if module.detect(head, path.name)]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(FORMATS)
    if not matches:
        raise ResultFileError(
            str(path), 0, f"cannot tell which tool wrote this file: pass --format ({known})"
        )
    raise ResultFileError(
        str(path), 0, f"could be {' or '.join(matches)}: pass --format to say which"
    )


def parse_file(path: Path, format_name: str) -> Iterator[Record]:
    """Records of ``path`` read as ``format_name`` (a key of ``FORMATS``)."""
    parse: Callable[[Path], Iterator[Record]] = FORMATS[format_name].parse
    try:
        yield from parse(path)
    except OSError as exc:
        raise ResultFileError(str(path), 0, f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ResultFileError(str(path), 0, f"not UTF-8 text: {exc.reason}") from exc
