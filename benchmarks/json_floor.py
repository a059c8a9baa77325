"""The floor of checking every line of a k6 file in Python: msgspec's decode of each line
into a struct with no fields (it checks the JSON and keeps nothing), in 16 MiB parts over
a fork pool of ``--jobs`` workers, as ``perfdash baseline ingest`` reads big files. No
fields read, no times, no database, no content hash: what is left of an ingest once all
of that is free. ``benchmarks.ingest`` runs it as a subprocess next to ``grep -c``.

``--lines`` adds the two byte counts the ingest needs to prove one object a line (the
newlines, and the ``}\n{"metric":"`` between lines: msgspec reads several objects on one
line, and an object across lines, without complaint), on the same 256 KiB pieces.

    python -m benchmarks.json_floor FILE [--jobs 2] [--lines]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from pathlib import Path

import msgspec

PART = 16 << 20
PIECE = 256 << 10


class _Nothing(msgspec.Struct, gc=False):
    """A JSON object, checked and not kept."""


_CHECK = msgspec.json.Decoder(_Nothing)


def _line_start(handle: object, offset: int) -> int:
    if offset == 0:
        return 0
    handle.seek(offset - 1)  # type: ignore[attr-defined]
    rest = handle.readline()  # type: ignore[attr-defined]
    return offset - 1 + len(rest)


def _check_part(job: tuple[str, int, int, bool]) -> int:
    path, start, stop, prove_lines = job
    with open(path, "rb") as handle:
        first, last = _line_start(handle, start), _line_start(handle, stop)
        handle.seek(first)
        data = handle.read(last - first)
    if not prove_lines:
        return len(_CHECK.decode_lines(data))
    objects, begin = 0, 0
    while begin < len(data):
        end = data.rfind(b"\n", begin, begin + PIECE) + 1 or len(data)
        lines = data.count(b"\n", begin, end)
        between = data.count(b'}\n{"metric":"', begin, end)
        if between != lines - 1:  # Metric declarations: as the ingest, the shorter pattern
            between = data.count(b"}\n{", begin, end)
        found = len(_CHECK.decode_lines(memoryview(data)[begin:end]))
        if found != lines or between != lines - 1:
            objects -= 1 << 40  # not k6 as the ingest's fast reader proves it: visible in the count
        objects += found
        begin = end
    return objects


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--lines", action="store_true", help="prove one object a line too")
    args = parser.parse_args(argv)
    size = args.file.stat().st_size
    jobs = [
        (str(args.file), start, min(start + PART, size), args.lines)
        for start in range(0, size, PART)
    ]
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        objects = sum(pool.imap(_check_part, jobs))
    print(objects)
    return 0


if __name__ == "__main__":
    sys.exit(main())
