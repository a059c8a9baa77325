"""What result-file parsers yield: raw samples, tool-computed values and run metadata.

A parser streams these in file order; nothing downstream knows which tool wrote the file.

- ``Sample``: one observation. Series ``latency`` is a request duration in milliseconds,
  ``failed`` is 1.0 for a failed request and 0.0 for a good one; any other series is a
  custom measurement (``BenchmarkEncode.ns/op``, a hyperfine command's seconds...).
- ``SampleBatch``: many observations of one series at once, as arrays (what a parser of
  big raw files yields, so that nothing downstream handles a Python object a sample).
- ``MinuteBatch``: a batch whose times all fall in one UTC minute, as the store's blocks
  keep them (the minute, and each sample's microseconds after it): what the k6 reader's
  worker processes yield, so that the process writing to the store only joins arrays.
- ``Value``: a per-run statistic the tool computed itself (k6's summary export, Locust's
  stats CSV), used where the file has no raw samples.
- ``Meta``: run context found in the file (tool version, start time, git sha, branch...).
- ``SeriesInfo``: the unit of a custom series and whether more is better (``ns/op`` is
  lower-is-better, ``MB/s`` higher); ``latency`` is always milliseconds, lower is better.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

LATENCY = "latency"
FAILED = "failed"
MINUTE_US = 60_000_000

# Metric names match the declaration schema's pattern for ``baselines[].metrics``.
_UNSAFE = re.compile(r"[^a-zA-Z0-9_./%-]+")


@dataclass(frozen=True, slots=True)
class Sample:
    series: str
    value: float
    ts: float | None = None  # seconds since the epoch, when the file says


@dataclass(frozen=True, slots=True)
class SampleBatch:
    series: str
    values: array[float]  # "d", each checked as a Sample's value is
    times: array[float] | None = None  # "d", seconds since the epoch, one a value

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True, slots=True)
class MinuteBatch:
    series: str
    minute: int  # microseconds since the epoch of a UTC minute
    values: array[float]  # "d", each checked as a Sample's value is
    offsets: array[int]  # "i": each value's microseconds after ``minute`` (0 to MINUTE_US - 1)

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True, slots=True)
class Value:
    metric: str
    value: float
    count: int | None = None  # samples behind it (requests, rounds), when known
    unit: str = ""
    better: Literal["lower", "higher"] | None = None  # None: by the metric's name


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    series: str
    unit: str  # "s", "ns/op", "MB/s", "items/op"...
    better: Literal["lower", "higher"] = "lower"


@dataclass(frozen=True, slots=True)
class Meta:
    key: str  # tool, tool_version, started_at (epoch seconds), git_sha, branch, resolution_ms, note
    value: str | float


Record = Sample | SampleBatch | MinuteBatch | Value | Meta | SeriesInfo


def each_sample(records: Iterable[Record]) -> Iterator[Sample]:
    """Every sample of ``records``, batches unrolled (for tests and small files)."""
    for record in records:
        if isinstance(record, Sample):
            yield record
        elif isinstance(record, SampleBatch):
            times = record.times if record.times is not None else [None] * len(record.values)
            for value, ts in zip(record.values, times, strict=True):
                yield Sample(record.series, value, ts)
        elif isinstance(record, MinuteBatch):
            for value, offset in zip(record.values, record.offsets, strict=True):
                yield Sample(record.series, value, (record.minute + offset) / 1e6)


def metric_name(text: str) -> str:
    """``sleep 0.1`` -> ``sleep_0.1``: a name usable in declarations and SQL-free labels."""
    return _UNSAFE.sub("_", text.strip()).strip("_") or "unnamed"
