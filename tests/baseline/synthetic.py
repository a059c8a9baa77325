"""Synthetic k6 runs for the store tests: baselines, slowed and erroring candidates."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from testing.results import run_latencies, write_k6_ndjson


def k6_runs(
    folder: Path,
    name: str,
    *,
    count: int,
    seed: int,
    requests: int = 3000,
    median_ms: float = 80.0,
    slowdown: float = 1.0,
    error_rate: float = 0.0,
    hours_ago: float = 48.0,
) -> list[Path]:
    """``count`` k6 NDJSON files, one run an hour, the first ``hours_ago`` hours ago."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(hours=hours_ago)
    paths = []
    for index in range(count):
        latencies = [
            v * slowdown for v in run_latencies(rng, requests=requests, median_ms=median_ms)
        ]
        failed: Sequence[bool] = [rng.random() < error_rate for _ in latencies]
        path = folder / f"{name}-{index}.json"
        write_k6_ndjson(path, latencies, failed=failed, start=start + timedelta(hours=index))
        paths.append(path)
    return paths
