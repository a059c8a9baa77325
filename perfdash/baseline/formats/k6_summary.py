"""k6 ``--summary-export``: per-metric aggregates k6 computed itself, no raw samples.

A threshold marked ``true`` there means it FAILED (k6's own naming). ``p(99)`` is only
present when ``--summary-trend-stats`` asked for it. In ``http_req_failed`` "passes" counts
the failed requests (the rate's true values).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from perfdash.baseline.formats._common import expect, fail, line_of, load_json, number
from perfdash.baseline.records import Meta, Record, Value

NAME = "k6-summary"
_PERCENTILE = re.compile(r"^p\((\d+(?:\.\d+)?)\)$")
_TREND_KEYS = {"avg": "mean", "med": "p50", "max": "max", "min": "min"}


def detect(head: str, name: str) -> bool:
    text = head.lstrip()
    return text.startswith("{") and (
        '"root_group"' in text or ('"metrics"' in text and '"http_reqs"' in text)
    )


def parse(path: Path) -> Iterator[Record]:
    doc = expect(load_json(path), dict, path, 1, "the document")
    metrics = doc.get("metrics")
    if not isinstance(metrics, dict):
        fail(path, 1, 'no "metrics" object: is this a k6 --summary-export file?')
    yield Meta("tool", "k6")
    for key in ("http_req_duration", "http_reqs"):
        if key not in metrics:
            fail(path, line_of(path, '"metrics"'), f'"metrics" has no "{key}"')
    reqs = _metric(path, metrics, "http_reqs")
    count = int(number(path, line_of(path, '"http_reqs"'), reqs.get("count"), "http_reqs.count"))
    yield Value("requests", float(count), count)
    if "rate" in reqs:
        rate = number(path, line_of(path, '"http_reqs"'), reqs["rate"], "http_reqs.rate")
        yield Value("rps", rate, count)
    duration = _metric(path, metrics, "http_req_duration")
    where = line_of(path, '"http_req_duration"')
    for key, raw in duration.items():
        metric = _TREND_KEYS.get(key)
        found = _PERCENTILE.match(key)
        if found:
            metric = "p" + found.group(1)
        if metric is not None:
            value = number(path, where, raw, f"http_req_duration.{key}")
            yield Value(metric, value, count, "ms")
    if "http_req_failed" in metrics:
        failed = _metric(path, metrics, "http_req_failed")
        at = line_of(path, '"http_req_failed"')
        yield Value(
            "error_rate", number(path, at, failed.get("value"), "http_req_failed.value"), count
        )
    for name, metric in sorted(metrics.items()):
        for threshold, failed_flag in sorted((metric or {}).get("thresholds", {}).items()):
            if failed_flag is True:
                yield Meta("note", f"k6 threshold failed: {name} {threshold}")


def _metric(path: Path, metrics: dict[str, object], name: str) -> dict[str, object]:
    line = line_of(path, f'"{name}"')
    return expect(metrics[name], dict, path, line, f"metrics.{name}")  # type: ignore[no-any-return]
