"""Synthetic load-test results, written the way the tools write them (tests and benchmarks).

``write_k6_ndjson`` writes what ``k6 run --out json`` does for HTTP requests: the Metric
declarations, then per request the ``http_reqs``, ``http_req_duration`` and
``http_req_failed`` points (``detail=True`` adds k6's six timing sub-metrics too).
``run_latencies`` draws one run's request durations: log-normal around ``median_ms``, with
a per-run environmental factor, so runs differ from each other as real runs do.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

TAGS = (
    '{"expected_response":"true","group":"","method":"GET","name":"https://checkout.example.com/api/cart",'
    '"proto":"HTTP/1.1","scenario":"default","status":"200","tls_version":"tls1.3",'
    '"url":"https://checkout.example.com/api/cart"}'
)
FAILED_TAGS = TAGS.replace('"true"', '"false"').replace('"200"', '"503"')
_METRICS = (
    ("http_reqs", "counter", "default"),
    ("http_req_duration", "trend", "time"),
    ("http_req_failed", "rate", "default"),
)
_DETAIL = (
    "http_req_blocked", "http_req_connecting", "http_req_tls_handshaking",
    "http_req_sending", "http_req_waiting", "http_req_receiving",
)  # fmt: skip


def run_latencies(
    rng: random.Random, *, requests: int, median_ms: float, sigma: float = 0.5,
    run_noise: float = 0.02,
) -> list[float]:  # fmt: skip
    """One run's request durations (ms): log-normal, scaled by a per-run factor."""
    factor = math.exp(rng.gauss(0.0, run_noise))
    mu = math.log(median_ms * factor)
    return [rng.lognormvariate(mu, sigma) for _ in range(requests)]


def _time(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def write_k6_ndjson(
    path: Path,
    latencies_ms: Sequence[float],
    *,
    failed: Sequence[bool] = (),
    start: datetime = datetime(2024, 5, 6, 9, 30, tzinfo=UTC),
    rps: float = 200.0,
    detail: bool = False,
) -> Path:
    """Write a k6 NDJSON file with one HTTP request per latency."""
    step = timedelta(seconds=1 / rps)
    with path.open("w", encoding="utf-8") as out:
        for name, kind, contains in _METRICS + tuple(
            (d, "trend", "time") for d in _DETAIL if detail
        ):
            out.write(
                f'{{"type":"Metric","data":{{"name":"{name}","type":"{kind}","contains":"{contains}",'
                f'"thresholds":[],"submetrics":null}},"metric":"{name}"}}\n'
            )
        moment = start
        for index, latency in enumerate(latencies_ms):
            bad = bool(failed[index]) if index < len(failed) else False
            tags = FAILED_TAGS if bad else TAGS
            stamp = _time(moment)
            lines = [("http_reqs", "1"), ("http_req_duration", f"{latency:.6f}")]
            if detail:
                lines += [(d, f"{latency / 7:.6f}") for d in _DETAIL]
            lines.append(("http_req_failed", "1" if bad else "0"))
            for metric, value in lines:
                out.write(
                    f'{{"type":"Point","data":{{"time":"{stamp}","value":{value},"tags":{tags}}},'
                    f'"metric":"{metric}"}}\n'
                )
            moment += step
    return path


REAL_K6_RUN = (
    Path(__file__).resolve().parents[1] / "tests" / "baseline" / "fixtures" / "k6" / "run.json"
)


def real_k6_shapes(source: Path = REAL_K6_RUN) -> tuple[str, str]:
    """The Metric declarations and one request's lines of a real k6 run, as a template.

    The request block is the 13 lines k6 1.1.0 writes for an iteration of one GET (from
    ``http_reqs`` to ``iterations``); its times and the duration become ``{time}`` and
    ``{ms}`` placeholders, so copies keep k6's exact line shapes and sizes."""
    lines = source.read_text().splitlines()
    declarations = "".join(line + "\n" for line in lines if '"type":"Metric"' in line)
    points = [line for line in lines if '"type":"Point"' in line]
    start = next(i for i, line in enumerate(points) if line.startswith('{"metric":"http_reqs"'))
    block = []
    for line in points[start + 1 :]:
        if line.startswith('{"metric":"http_reqs"'):
            break
        block.append(line)
    block.insert(0, points[start])
    template = "\n".join(block).replace("{", "{{").replace("}", "}}") + "\n"
    template = re.sub(r'"time":"[^"]+"', '"time":"{time}"', template)
    template = re.sub(
        r'("metric":"http_req_duration","type":"Point","data":\{\{"time":"\{time\}","value":)'
        r"[0-9.]+",
        r"\1{ms}",
        template,
    )
    return declarations, template


def write_k6_real_shape(path: Path, requests: int, *, seed: int = 1) -> tuple[int, int]:
    """A k6 NDJSON file of ``requests`` requests in real k6 1.1.0 line shapes (about 14
    lines and 3.4 KB a request); returns (lines, bytes)."""
    declarations, template = real_k6_shapes()
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    per_block = template.count("\n")
    with path.open("w", encoding="utf-8") as out:
        out.write(declarations)
        batch = []
        for index in range(requests):
            moment = start + timedelta(microseconds=index * 1000)
            stamp = moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123+05:30"
            batch.append(template.format(time=stamp, ms=f"{rng.lognormvariate(3.0, 0.4):.6f}"))
            if len(batch) == 10_000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    return declarations.count("\n") + per_block * requests, path.stat().st_size
