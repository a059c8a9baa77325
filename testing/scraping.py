"""A real Prometheus scraping synthetic services on 127.0.0.1, no rules, no Alertmanager:
what ``perfdash check`` and ``perfdash init --prometheus-url`` read."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import yaml

from testing.processes import free_port
from testing.service import SyntheticService, serving
from testing.stack import Process, StackError, prometheus_config, running

STARTUP_SECONDS = 60.0


@contextmanager
def scraped(root: Path, prometheus: str, services: list[SyntheticService]) -> Iterator[Process]:
    """Prometheus (every second) scraping ``services``, each under a job named after it;
    ready once every target has been scraped twice."""
    with ExitStack() as stack:
        started = [stack.enter_context(serving(s)) for s in services]
        root.mkdir(parents=True, exist_ok=True)
        config = root / "prometheus.yml"
        document = prometheus_config(started, [], "127.0.0.1:1")
        del document["alerting"]
        config.write_text(yaml.safe_dump(document), encoding="utf-8")
        port = free_port()
        process = stack.enter_context(
            running(
                "prometheus",
                [
                    prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={root / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                url=f"http://127.0.0.1:{port}",
                log_path=root / "prometheus.log",
            )
        )
        _wait_scraped(process, len(started))
        yield process


def _wait_scraped(process: Process, targets: int) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        process.check_alive()
        try:
            answer = httpx.get(
                f"{process.url}/api/v1/query",
                params={"query": "count(up == 1) and count(scrape_samples_scraped offset 1s)"},
                timeout=2,
            ).json()
            result = answer.get("data", {}).get("result") or []
            if result and int(float(result[0]["value"][1])) >= targets:
                return
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.2)
    raise StackError(f"Prometheus did not scrape {targets} targets in time\n{process.log_tail()}")
