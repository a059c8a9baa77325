"""Reading a foreign document safely: typed field access that records a located problem
instead of raising, and the options and findings of one import run."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfdash import conventions
from perfdash.errors import Problem
from perfdash.spec.document import Document, PathKey
from perfdash.spec.importers.draft import Change, Origin

_SLUG_INVALID = re.compile(r"[^a-z0-9-]+")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_NAME = 63


@dataclass(frozen=True)
class ImportOptions:
    """Values the source format has no field for (``perfdash import --team ...``)."""

    team: str | None = None
    tier: int | None = None
    runbook: str | None = None
    service: str | None = None  # put every SLO into this service (Pyrra has no services)
    window: str = "30d"  # Sloth's SLO period is a command-line flag, not in the spec
    series_prefix: str | None = None  # spec.rules.series_prefix: run beside the old tool


@dataclass
class Translation:
    """Problems and behaviour changes found while translating (every one, not the first)."""

    options: ImportOptions = field(default_factory=ImportOptions)
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def problem(self, document: Document, path: Iterable[str | int], message: str) -> None:
        self.problems.append(Origin.of(document, path).problem(message))

    def change(self, service: str, slo: str, text: str) -> None:
        self.changes.append(Change(service, slo, text))

    # -- typed access -------------------------------------------------------------

    def get(self, document: Document, path: PathKey) -> Any:
        value: Any = document.data
        for part in path:
            if isinstance(value, dict) and isinstance(part, str):
                value = value.get(part)
            elif isinstance(value, list) and isinstance(part, int) and part < len(value):
                value = value[part]
            else:
                return None
        return value

    def mapping(
        self, document: Document, path: PathKey, *, required: bool = False
    ) -> dict[str, Any]:
        value = self.get(document, path)
        if value is None:
            if required:
                self.problem(document, path, "missing required field")
            return {}
        if not isinstance(value, dict):
            self.problem(document, path, f"must be a mapping, got {_kind(value)}")
            return {}
        return value

    def sequence(self, document: Document, path: PathKey, *, required: bool = False) -> list[Any]:
        value = self.get(document, path)
        if value is None:
            if required:
                self.problem(document, path, "missing required field")
            return []
        if not isinstance(value, list):
            self.problem(document, path, f"must be a list, got {_kind(value)}")
            return []
        return value

    def string(self, document: Document, path: PathKey, *, required: bool = False) -> str | None:
        value = self.get(document, path)
        if value is None:
            if required:
                self.problem(document, path, "missing required field")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.problem(document, path, f"must be a string, got {_kind(value)}")
            return None
        text = str(value).strip()
        if required and not text:
            self.problem(document, path, "must not be empty")
            return None
        return text

    def boolean(self, document: Document, path: PathKey) -> bool | None:
        value = self.get(document, path)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.problem(document, path, f"must be true or false, got {_kind(value)}")
            return None
        return value

    def number(
        self, document: Document, path: PathKey, *, required: bool = False
    ) -> Decimal | None:
        """A number, exactly as written (also from a quoted string, as Pyrra's target)."""
        value = self.get(document, path)
        if value is None:
            if required:
                self.problem(document, path, "missing required field")
            return None
        if isinstance(value, bool):
            self.problem(document, path, f"must be a number, got {_kind(value)}")
            return None
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            self.problem(document, path, f"must be a number, got {value!r}")
            return None
        if not number.is_finite():
            self.problem(document, path, f"must be a finite number, got {value!r}")
            return None
        return number

    def string_map(self, document: Document, path: PathKey) -> dict[str, str]:
        """A mapping of strings (labels, annotations); numbers and booleans are taken as
        their text, as Go's YAML decoder reads them into a map of strings."""
        found = {}
        for key, value in self.mapping(document, path).items():
            if isinstance(value, bool):
                value = str(value).lower()
            if not isinstance(value, str | int | Decimal):
                self.problem(document, (*path, key), f"must be a string, got {_kind(value)}")
                continue
            found[str(key)] = str(value)
        return found

    def unknown_fields(
        self, document: Document, path: PathKey, known: Iterable[str], *, what: str
    ) -> None:
        allowed = sorted(set(known))
        for key in self.mapping(document, path):
            if key not in allowed:
                self.problem(
                    document,
                    (*path, key),
                    f"unknown field {key!r} in {what} (known: {', '.join(allowed)})",
                )


def slug(text: str) -> str:
    """A perfdash name (lowercase letters, digits, dashes) close to ``text``."""
    lowered = _SLUG_INVALID.sub("-", text.strip().lower().replace("_", "-")).strip("-")
    lowered = re.sub(r"-{2,}", "-", lowered)
    return lowered[:MAX_NAME].rstrip("-")


def split_labels(labels: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(labels perfdash may carry, labels it sets itself or that are not label names)."""
    kept, refused = {}, {}
    for name, value in labels.items():
        if (
            name in conventions.RESERVED_LABELS
            or name.startswith("__")
            or not _LABEL_NAME.match(name)
        ):
            refused[name] = value
        else:
            kept[name] = value
    return kept, refused


def tier_from(text: str | None) -> int | None:
    """``"2"``, ``"tier-2"``, ``"P2"`` -> 2, when within 1..4."""
    if not text:
        return None
    match = re.fullmatch(r"(?:tier|p)?[-_ ]?([1-4])", text.strip().lower())
    return int(match.group(1)) if match else None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    return repr(value)
