"""Prometheus-style durations (``5m``, ``1h30m``, ``28d``) as whole seconds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
# Units are written largest first and each at most once, as Prometheus requires.
DURATION_PATTERN = r"^(?:[0-9]+w)?(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m)?(?:[0-9]+s)?$"
_DURATION_RE = re.compile(DURATION_PATTERN)
_PART_RE = re.compile(r"([0-9]+)([wdhms])")


@dataclass(frozen=True, order=True)
class Duration:
    """A positive whole number of seconds, printed the way Prometheus reads it."""

    seconds: int

    @classmethod
    def parse(cls, text: str) -> Duration:
        if not text or not _DURATION_RE.match(text):
            raise ValueError(
                f"{text!r} is not a duration: use a number and a unit, largest first, "
                "e.g. 5m, 1h30m, 28d (units w, d, h, m, s)"
            )
        seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART_RE.findall(text))
        if seconds <= 0:
            raise ValueError(f"{text!r} is not a positive duration")
        return cls(seconds)

    def __str__(self) -> str:
        return _format_seconds(self.seconds)

    @property
    def minutes(self) -> float:
        return self.seconds / 60


@lru_cache(maxsize=1024)
def _format_seconds(seconds: int) -> str:
    # Days, not weeks, so a 28d SLO window reads 28d in rule names.
    remaining = seconds
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, remaining = divmod(remaining, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


def humanize_seconds(seconds: float) -> str:
    """``52.0`` -> ``52s``, ``259.2`` -> ``4m19s``, ``43200`` -> ``12h``: for tables, rounded."""
    if seconds < 10:
        return f"{seconds:.2g}s"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, total = divmod(total, _UNIT_SECONDS[unit])
        if count:
            parts.append(f"{count}{unit}")
    # Two most significant parts are enough to read at a glance.
    return "".join(parts[:2])
