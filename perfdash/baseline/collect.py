"""A run's records on their way into the store: samples into blocks, the rest into context.

``Collected.blocks`` streams the records once: samples (one by one, or in batches)
become ``Block``s for COPY; tool values, metadata and series units are kept for the run's
row and summary. The span of the request series (first and last time) is tracked here,
since the store's aggregate query does not read times.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from perfdash.baseline.blocks import Block, BlockBuilder
from perfdash.baseline.records import (
    FAILED,
    LATENCY,
    Meta,
    MinuteBatch,
    Record,
    Sample,
    SampleBatch,
    SeriesInfo,
    Value,
)

_TIMED = (LATENCY, FAILED)  # the series whose span gives a run's start, rps and duration


class Collected:
    """What streaming a run's records gathered besides the samples themselves."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.samples = 0
        self.values: list[Value] = []
        self.series_info: dict[str, SeriesInfo] = {}
        self.meta: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.notes: list[str] = []
        self.resolution: float | None = None
        self.span: dict[str, tuple[float, float]] = {}
        self._started: float | None = None

    def blocks(self, records: Iterable[Record]) -> Iterator[Block]:
        """The samples of ``records`` in blocks; everything else is kept on ``self``."""
        builder = BlockBuilder(self.now.timestamp())
        for record in records:
            if type(record) is MinuteBatch:
                self.samples += len(record.values)
                if record.series in _TIMED and record.offsets:
                    first = (record.minute + min(record.offsets)) / 1e6
                    self._widen(record.series, first, (record.minute + max(record.offsets)) / 1e6)
                yield from builder.add_minute(
                    record.series, record.minute, record.values, record.offsets
                )
            elif type(record) is SampleBatch:
                self.samples += len(record.values)
                if record.times is not None and record.series in _TIMED and record.times:
                    self._widen(record.series, min(record.times), max(record.times))
                yield from builder.add_batch(record.series, record.values, record.times)
            elif type(record) is Sample:
                self.samples += 1
                if record.ts is not None and record.series in _TIMED:
                    self._widen(record.series, record.ts, record.ts)
                yield from builder.add(record.series, record.value, record.ts)
            elif isinstance(record, Value):
                self.values.append(record)
            elif isinstance(record, Meta):
                self._meta(record)
            elif isinstance(record, SeriesInfo):
                self.series_info[record.series] = record
        yield from builder.flush()

    def _widen(self, series: str, first: float, last: float) -> None:
        known = self.span.get(series)
        if known is None:
            self.span[series] = (first, last)
        elif first < known[0] or last > known[1]:
            self.span[series] = (min(known[0], first), max(known[1], last))

    def _meta(self, record: Meta) -> None:
        key, value = record.key, record.value
        if key == "note":
            if value not in self.notes:
                self.notes.append(str(value))
        elif key == "started_at":
            moment = float(value)
            self._started = moment if self._started is None else min(self._started, moment)
        elif key == "resolution_ms":
            self.resolution = float(value)
        elif key.startswith("env."):
            self.env[key[4:]] = str(value)
        else:
            self.meta[key] = str(value)

    def started_at(self) -> datetime:
        """The earliest time the file gives (a sample's, or the tool's start), else now."""
        candidates = [s[0] for s in self.span.values()]
        if self._started is not None:
            candidates.append(self._started)
        return datetime.fromtimestamp(min(candidates), UTC) if candidates else self.now

    def branch(self, given: str | None) -> str | None:
        return given or self.meta.get("branch")
