"""Raw samples as the store keeps them: blocks of one series' samples within one minute.

One row per sample made the database the slowest part of an ingest (about 2.5 us of
server time a row, two rows a k6 request: 5 s of PostgreSQL for a million requests) and
the store 70 bytes a sample bigger. A block holds one series' samples whose times fall in
one UTC minute, at most ``MAX_BLOCK`` of them: their values (``float8[]``), each one's
microseconds after the minute (``int4[]``), and their count, sum, min and max, so that
TimescaleDB's continuous aggregates (which cannot unnest arrays) sum blocks exactly. The
view ``perfdash.samples`` gives the samples back one a row, as they were read.

``BlockBuilder`` groups samples into blocks with bounded memory (one open block a series);
``float8_array``/``int4_array`` encode arrays in PostgreSQL's binary format for COPY, which
psycopg's generic list adapter does at about 200 ns an element.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from perfdash.baseline.records import MINUTE_US

MAX_BLOCK = 65_536  # samples a block: ~800 KB of arrays, far below PostgreSQL's 1 GB field
FLOAT8_OID, INT4_OID = 701, 23
_ARRAY_HEADER = struct.Struct(">iiIii")  # dimensions, has nulls, element type, length, lower bound


@dataclass(frozen=True, slots=True)
class Block:
    series: str
    minute: int  # microseconds since the epoch of the block's UTC minute
    values: array[float]  # "d"
    offsets: array[int]  # "i": each value's microseconds after ``minute``

    @property
    def total(self) -> float:
        return sum(self.values)


class BlockBuilder:
    """Samples in (one at a time or a series' batch), full blocks out, in arrival order.

    Samples without a time are stamped ``default_time`` (the ingest's start), as a result
    file of benchmark rounds has none."""

    def __init__(self, default_time: float) -> None:
        self._default_us = round(default_time * 1_000_000)
        self._open: dict[str, tuple[int, array[float], array[int]]] = {}

    def add(self, series: str, value: float, ts: float | None) -> list[Block]:
        us = self._default_us if ts is None else round(ts * 1_000_000)
        minute = us - us % MINUTE_US
        full = self._room(series, minute, 1)
        _, values, offsets = self._open[series]
        values.append(value)
        offsets.append(us - minute)
        return full

    def add_batch(
        self, series: str, values: Sequence[float], times: Sequence[float] | None
    ) -> list[Block]:
        """A series' samples in file order (``times`` None: none has a time)."""
        if not values:
            return []
        if times is None:
            return [b for value in values for b in self.add(series, value, None)]
        first, last = round(min(times) * 1_000_000), round(max(times) * 1_000_000)
        minute = first - first % MINUTE_US
        if last - last % MINUTE_US != minute or len(values) > MAX_BLOCK:
            # Across a minute's end (once a minute) or huge: sample by sample.
            return [b for value, ts in zip(values, times, strict=True)
                    for b in self.add(series, value, ts)]  # fmt: skip
        full = self._room(series, minute, len(values))
        _, kept, offsets = self._open[series]
        kept.extend(values)
        offsets.extend([round(ts * 1_000_000) - minute for ts in times])
        return full

    def add_minute(
        self, series: str, minute: int, values: array[float], offsets: array[int]
    ) -> list[Block]:
        """A series' samples of one UTC minute (``offsets``: microseconds after ``minute``),
        joined to the open block of that minute (whole arrays: no work a sample)."""
        full: list[Block] = []
        for start in range(0, len(values), MAX_BLOCK):
            chunk = values[start : start + MAX_BLOCK]
            full += self._room(series, minute, len(chunk))
            _, kept, kept_offsets = self._open[series]
            kept.extend(chunk)
            kept_offsets.extend(offsets[start : start + MAX_BLOCK])
        return full

    def flush(self) -> list[Block]:
        """The blocks still open (the end of the run)."""
        full = [Block(series, *block) for series, block in self._open.items() if block[1]]
        self._open.clear()
        return full

    def _room(self, series: str, minute: int, count: int) -> list[Block]:
        """Make the open block of ``series`` the one for ``minute`` with room for ``count``
        more samples; the block it replaces, if any, is full."""
        current = self._open.get(series)
        if current is not None and current[0] == minute and len(current[1]) + count <= MAX_BLOCK:
            return []
        self._open[series] = (minute, array("d"), array("i"))
        if current is None or not current[1]:
            return []
        return [Block(series, *current)]


def float8_array(values: array[float]) -> bytes:
    """``values`` as a PostgreSQL ``float8[]`` in binary format."""
    return _binary_array(values, "d", FLOAT8_OID)


def int4_array(values: array[int]) -> bytes:
    """``values`` as a PostgreSQL ``int4[]`` in binary format."""
    return _binary_array(values, "i", INT4_OID)


# An element's length (4 or 8, big-endian) as the native 4-byte word that writes it.
_LENGTH_WORD = {width: array("I", struct.pack(">i", width)) for width in (4, 8)}


def _binary_array(values: array[float] | array[int], code: str, oid: int) -> bytes:
    """The header, then each element as its length (4 bytes) and its big-endian bytes.

    The elements are interleaved with their lengths by strided slice assignment of 4-byte
    words (one C loop a word of the element: 3 for a float8, 2 for an int4) instead of a
    Python loop over the elements."""
    items = array(code, values)
    if sys.byteorder == "little":
        items.byteswap()
    width, count = items.itemsize, len(items)
    per_item = 1 + width // 4  # 4-byte words: the length, then the element's
    out = bytearray(_ARRAY_HEADER.pack(1, 0, oid, count, 1)) + bytes(4 * per_item * count)
    words = memoryview(out)[_ARRAY_HEADER.size :].cast("I")
    data = memoryview(items.tobytes()).cast("I")
    words[0::per_item] = array("I", _LENGTH_WORD[width]) * count
    for word in range(per_item - 1):
        words[1 + word :: per_item] = data[word :: per_item - 1]
    return bytes(out)
