"""Where a preview's data comes from: a Prometheus you name, or a scenario perfdash runs.

Both are context managers yielding a ``PrometheusSource`` and the instant that is
"now" for the picture; the scenario's Prometheus and its folder go away on exit.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from perfdash.errors import ConfigError
from perfdash.preview.backfill import backfill_scenario
from perfdash.preview.panel_data import PrometheusSource
from perfdash.preview.prometheus_api import PrometheusApi
from perfdash.preview.prometheus_server import running_prometheus
from perfdash.preview.scenario import STEP_SECONDS


@contextmanager
def prometheus_url_source(
    url: str, *, scrape_seconds: float
) -> Iterator[tuple[PrometheusSource, float]]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--prometheus-url must be an http(s) URL, got {url!r}")
    with PrometheusApi(url) as api:
        now = time.time()
        api.query("1", at=now)  # unreachable or refusing: say so now, not in every panel
        yield PrometheusSource(api, f"Prometheus at {parts.hostname}", scrape_seconds), now


@contextmanager
def scenario_source(
    artifacts: Mapping[str, str], scenario: str, *, screen_seconds: int, now: float | None = None
) -> Iterator[tuple[PrometheusSource, float]]:
    """A Prometheus on 127.0.0.1 holding the scenario, its "now" a whole minute."""
    end = int(now if now is not None else time.time()) // STEP_SECONDS * STEP_SECONDS
    workdir = Path(tempfile.mkdtemp(prefix="perfdash-preview-"))
    try:
        filled = backfill_scenario(
            artifacts, scenario, end=end, screen_seconds=screen_seconds, workdir=workdir
        )
        with (
            running_prometheus(filled.data_dir, rule_files=filled.rule_files) as url,
            PrometheusApi(url) as api,
        ):
            # The synthetic series have a sample a minute: Grafana's data source would
            # be configured with that scrape interval.
            yield PrometheusSource(api, f"scenario {scenario}", float(STEP_SECONDS)), float(end)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
