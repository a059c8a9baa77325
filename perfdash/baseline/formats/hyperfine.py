"""hyperfine ``--export-json``: per command, every run's wall time (seconds) and exit code.

Each command ``C`` gives the series ``C`` in seconds (its ``times``), so ``C`` (median),
``C.mean``, ``C.stddev``, ``C.min`` and ``C.max`` are computed exactly from the runs;
non-zero exit codes (kept with ``--ignore-failure``) count as failures (``error_rate``).
``C.user``/``C.system`` are hyperfine's mean CPU seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import duration, expect, fail, line_of, load_json, number
from perfdash.baseline.records import FAILED, Meta, Record, Sample, SeriesInfo, Value, metric_name

NAME = "hyperfine"


def detect(head: str, name: str) -> bool:
    text = head.lstrip()
    return text.startswith("{") and '"results"' in text and '"command"' in text


def parse(path: Path) -> Iterator[Record]:
    doc = expect(load_json(path, what="hyperfine file"), dict, path, 1, "the document")
    results = doc.get("results")
    if not isinstance(results, list) or not results:
        fail(path, 1, 'no "results" list: is this hyperfine --export-json output?')
    yield Meta("tool", "hyperfine")
    for index, result in enumerate(results):
        line = line_of(path, '"command"', occurrence=index)
        where = f"results[{index}]"
        expect(result, dict, path, line, where)
        command = result.get("command")
        if not isinstance(command, str) or not command:
            fail(path, line, f"{where}.command: expected the benchmarked command")
        name = metric_name(command)
        times = expect(result.get("times"), list, path, line, f"{where}.times")
        if not times:
            fail(path, line, f"{where}.times is empty")
        yield SeriesInfo(name, "s", "lower")
        for run_time in times:
            yield Sample(name, duration(path, line, run_time, f"{where}.times"))
        for code in result.get("exit_codes") or ():
            exit_code = number(path, line, code, f"{where}.exit_codes")
            yield Sample(FAILED, 0.0 if exit_code == 0 else 1.0)
        for key in ("user", "system"):
            if key in result:
                value = duration(path, line, result[key], f"{where}.{key}")
                yield Value(f"{name}.{key}", value, len(times), "s", "lower")
