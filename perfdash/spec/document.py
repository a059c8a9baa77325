"""One YAML document as loaded: its data, where each value is written, and what is
already known to be wrong with it.

Problems found while loading (a duplicate key, a number that is not finite) are kept
on the document rather than stopping it, so that the schema and the checks after it
still run on the rest and ``perfdash validate`` reports everything in one pass. The
paths of values already reported are *tainted*: later stages skip them, so one mistake
gets one message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from perfdash.errors import Problem

PathKey = tuple[str | int, ...]
# Past this many problems in one document, the rest are counted, not listed: a generated
# file with 25,000 unknown keys deserves one screen, not 25,000 lines (nor the time to
# suggest a spelling for each).
MAX_PROBLEMS_PER_DOCUMENT = 100


class Position(NamedTuple):
    """1-based. A tuple: a document has one per value, and tuples are cheap to make."""

    line: int
    column: int


@dataclass
class Document:
    """One YAML document: its data, and the position of every value and mapping key."""

    file: str
    index: int
    start: Position
    data: Any
    positions: dict[PathKey, Position] = field(default_factory=dict)
    key_positions: dict[PathKey, Position] = field(default_factory=dict)
    directory: Path | None = None  # folder of the file, for paths declared relative to it
    problems: list[Problem] = field(default_factory=list)  # found while loading
    tainted: set[PathKey] = field(default_factory=set)  # values already reported
    unlisted: int = 0  # problems found past MAX_PROBLEMS_PER_DOCUMENT, only counted

    def position(self, path: Iterable[str | int], *, key: bool = False) -> Position:
        """Where ``path`` is written; the nearest enclosing value when it is absent."""
        current: PathKey = tuple(path)
        if key and current in self.key_positions:
            return self.key_positions[current]
        while current:
            if current in self.positions:
                return self.positions[current]
            current = current[:-1]
        return self.positions.get((), self.start)

    def problem(self, path: Iterable[str | int], message: str, *, key: bool = False) -> Problem:
        path = tuple(path)
        where = self.position(path, key=key)
        return Problem(self.file, where.line, where.column, format_path(path), message)

    def problems_full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS_PER_DOCUMENT

    def taint(self, path: PathKey) -> None:
        self.tainted.add(path)

    def clean(self, path: PathKey) -> bool:
        """No reported problem lies at, inside or around ``path``: checks may read it."""
        if not self.tainted:
            return True
        size = len(path)
        return not any(t[:size] == path or path[: len(t)] == t for t in self.tainted)


def format_path(path: Iterable[str | int]) -> str:
    """``('spec', 'slos', 1, 'objective')`` -> ``spec.slos[1].objective``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text
