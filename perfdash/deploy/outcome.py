"""What happened to each object apply touched, for every target alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """One object: ``kind`` is folder, dashboard, rule_file, rule_group or prometheus
    (a reload or load check); ``error`` empty means it was applied."""

    kind: str
    action: str
    name: str
    folder: str = ""  # where it lives: a Grafana folder, a rules folder, a namespace
    error: str = ""
    conflict: bool = False  # changed by someone else, or not perfdash's to change
    drift: bool = False  # refused: edited in Grafana since perfdash wrote it (no --force)

    @property
    def ok(self) -> bool:
        return not self.error

    def describe(self) -> str:
        where = f" ({self.folder})" if self.folder else ""
        text = f"{self.kind.replace('_', ' ')} {self.name}{where}"
        return f"{text}: {self.error}" if self.error else text


@dataclass(frozen=True)
class ApplyReport:
    outcomes: tuple[Outcome, ...] = ()

    @classmethod
    def of(cls, *parts: Iterable[Outcome]) -> ApplyReport:
        return cls(tuple(o for part in parts for o in part))

    @property
    def applied(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.ok)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    def counts(self) -> dict[tuple[str, str], int]:
        """Applied changes by (kind, action)."""
        found: dict[tuple[str, str], int] = {}
        for outcome in self.applied:
            key = (outcome.kind, outcome.action)
            found[key] = found.get(key, 0) + 1
        return found
