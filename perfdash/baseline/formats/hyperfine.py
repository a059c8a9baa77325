"""hyperfine ``--export-json``: per command, every run's wall time (seconds) and exit code.

Each command ``C`` gives the series ``C`` (its ``times``), so ``C`` (median), ``C.mean``,
``C.stddev``, ``C.min`` and ``C.max`` are computed exactly from the runs; non-zero exit
codes count as failures (``error_rate``). ``user``/``system`` are hyperfine's means.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import expect, fail, line_of, load_json, number
from perfdash.baseline.records import FAILED, Meta, Record, Sample, Value, metric_name

NAME = "hyperfine"


def detect(head: str, name: str) -> bool:
    text = head.lstrip()
    return text.startswith("{") and '"results"' in text and '"command"' in text


def parse(path: Path) -> Iterator[Record]:
    doc = expect(load_json(path), dict, path, 1, "the document")
    results = doc.get("results")
    if not isinstance(results, list) or not results:
        fail(path, 1, 'no "results" list: is this hyperfine --export-json output?')
    yield Meta("tool", "hyperfine")
    for index, result in enumerate(results):
        line = line_of(path, '"command"', occurrence=index)
        expect(result, dict, path, line, f"results[{index}]")
        command = result.get("command")
        if not isinstance(command, str) or not command:
            fail(path, line, f"results[{index}].command: expected the benchmarked command")
        name = metric_name(command)
        times = expect(result.get("times"), list, path, line, f"results[{index}].times")
        if not times:
            fail(path, line, f"results[{index}].times is empty")
        for run_time in times:
            yield Sample(name, number(path, line, run_time, f"results[{index}].times"))
        for code in result.get("exit_codes") or ():
            exit_code = number(path, line, code, f"results[{index}].exit_codes")
            yield Sample(FAILED, 0.0 if exit_code == 0 else 1.0)
        for key in ("user", "system"):
            if key in result:
                value = number(path, line, result[key], f"results[{index}].{key}")
                yield Value(f"{name}.{key}", value, len(times), "s")
