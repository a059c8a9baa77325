"""k6's own end-of-test aggregates, no raw samples: ``--summary-export`` JSON, or the
``data`` a ``handleSummary`` function gets, written with ``JSON.stringify(data)``.

``--summary-export``: ``metrics.http_req_duration`` holds ``avg``, ``min``, ``med``,
``max`` and the ``p(N)`` of ``summaryTrendStats`` (p90 and p95 by default); a threshold
marked ``true`` there FAILED (k6's own naming). handleSummary: each metric's numbers are
under ``values`` and a threshold has ``{"ok": false}`` when it failed. In both,
``http_req_failed`` counts failed requests as its "passes" (the rate's true values).
``rps`` is k6's ``http_reqs`` rate: requests over the whole test's duration.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from perfdash.baseline.formats._common import count, duration, expect, fail, line_of, load_json
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
    doc = expect(load_json(path, what="k6 summary"), dict, path, 1, "the document")
    metrics = doc.get("metrics")
    if not isinstance(metrics, dict):
        fail(path, 1, 'no "metrics" object: is this a k6 --summary-export or handleSummary file?')
    yield Meta("tool", "k6")
    for key in ("http_req_duration", "http_reqs"):
        if key not in metrics:
            fail(path, line_of(path, '"metrics"'), f'"metrics" has no "{key}"')
    reqs = _numbers(path, metrics, "http_reqs")
    where = line_of(path, '"http_reqs"')
    requests = count(path, where, reqs.get("count"), "http_reqs.count")
    yield Value("requests", float(requests), requests)
    if "rate" in reqs:
        yield Value("rps", duration(path, where, reqs["rate"], "http_reqs.rate"), requests)
    trend = _numbers(path, metrics, "http_req_duration")
    where = line_of(path, '"http_req_duration"')
    for key, raw in trend.items():
        found = _PERCENTILE.match(key)
        metric = "p" + found.group(1) if found else _TREND_KEYS.get(key)
        if metric is not None:
            value = duration(path, where, raw, f"http_req_duration.{key}")
            yield Value(metric, value, requests, "ms")
    if "http_req_failed" in metrics:
        failed = _numbers(path, metrics, "http_req_failed")
        where = line_of(path, '"http_req_failed"')
        rate = duration(path, where, failed.get("value", failed.get("rate")), "http_req_failed")
        if rate > 1:
            fail(path, where, f"http_req_failed: a rate is at most 1, got {rate}")
        yield Value("error_rate", rate, requests)
        if "passes" in failed:
            failures = count(path, where, failed["passes"], "http_req_failed.passes")
            yield Value("failures", float(failures), requests)
    state = doc.get("state")
    if isinstance(state, dict) and "testRunDurationMs" in state:
        ms = duration(path, line_of(path, '"testRunDurationMs"'), state["testRunDurationMs"],
                      "state.testRunDurationMs")  # fmt: skip
        yield Value("duration_s", ms / 1000, requests, "s")
    for name, metric in sorted(metrics.items()):
        thresholds = metric.get("thresholds") if isinstance(metric, dict) else None
        for threshold, outcome in sorted((thresholds or {}).items()):
            if _failed(outcome):
                yield Meta("note", f"k6 threshold failed: {name} {threshold}")


def _numbers(path: Path, metrics: dict[str, Any], name: str) -> dict[str, Any]:
    """A metric's numbers: at the top (--summary-export) or under "values" (handleSummary)."""
    metric = expect(metrics[name], dict, path, line_of(path, f'"{name}"'), f"metrics.{name}")
    values = metric.get("values")
    return values if isinstance(values, dict) else metric


def _failed(outcome: Any) -> bool:
    """``true`` in --summary-export, ``{"ok": false}`` in handleSummary: the threshold failed."""
    if isinstance(outcome, dict):
        return outcome.get("ok") is False
    return outcome is True
