"""A synthetic instrumented service for the live alerting stack (testing/stack.py).

prometheus_client exposes, from its own registry on 127.0.0.1, ``http_requests_total{code}``
and the histogram ``http_request_duration_seconds``. Every ``TICK_SECONDS`` the service
serves ``requests_per_tick`` requests at the error ratio and latency currently set, which
a small HTTP server beside it changes (``PUT /settings``). Requests are counted, not
simulated one by one or at random: every tick has exactly the set ratio, so Prometheus
sees steady, known rates. ``openmetrics_history`` writes the same traffic backwards in
time, for backfilling a full window of history before Prometheus starts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric

TICK_SECONDS = 0.1  # traffic is served in batches this often
BACKFILL_STEP = 15  # seconds between backfilled samples
REQUESTS = "http_requests"  # exposed as http_requests_total{code}
DURATION = "http_request_duration_seconds"
BUCKETS = (0.05, 0.1, 0.3, 0.5, 1.0)  # 0.3: the latency SLOs' threshold, a bucket boundary


@dataclass(frozen=True)
class Settings:
    """What every request of a tick does: fail with this probability, take this long."""

    error_ratio: Fraction = Fraction(0)
    latency_seconds: float = 0.05


SeriesKey = tuple[str, tuple[tuple[str, str], ...]]  # (sample name, sorted labels)


class SyntheticService:
    """An instrumented service with settable error ratio and latency (see module docstring).

    Each tick serves ``requests_per_tick`` requests: ``error_ratio`` of them answer 500 (the
    ratio must give a whole number of errors per tick, so every tick has exactly that
    ratio), and every request takes ``latency_seconds``. Counts live in one dict under a
    lock that ``collect`` also takes: a scrape never sees half a tick.
    """

    def __init__(
        self, name: str, *, requests_per_tick: int, settings: Settings, history_seconds: int
    ) -> None:
        self.name = name
        self.requests_per_tick = requests_per_tick
        self.history_seconds = history_seconds
        self._check(settings)
        self._settings = settings
        self._initial = settings
        self._lock = threading.Lock()
        ticks = round(history_seconds / TICK_SECONDS)
        self._counts = {key: value * ticks for key, value in self._per_tick(settings).items()}
        self.started_at = 0.0
        self.metrics_port = 0
        self.control_url = ""
        self._registry: CollectorRegistry | None = None
        self._metrics: tuple[Any, threading.Thread] | None = None  # server, its thread

    # The Collector protocol of prometheus_client.
    def collect(self) -> Iterator[Metric]:
        with self._lock:
            counts = dict(self._counts)
        yield _requests_family(counts)
        yield _duration_family(counts)

    def _check(self, settings: Settings) -> None:
        errors = settings.error_ratio * self.requests_per_tick
        if not 0 <= settings.error_ratio <= 1 or errors.denominator != 1:
            raise ValueError(
                f"error ratio {settings.error_ratio} x {self.requests_per_tick} requests per tick "
                "is not a whole number of errors"
            )

    def _per_tick(self, settings: Settings) -> dict[SeriesKey, float]:
        total = self.requests_per_tick
        errors = int(settings.error_ratio * total)
        counts: dict[SeriesKey, float] = {
            (f"{REQUESTS}_total", (("code", "200"),)): total - errors,
            (f"{REQUESTS}_total", (("code", "500"),)): errors,
        }
        for le in (*BUCKETS, float("inf")):  # in exposition order: buckets, count, sum
            inside = total if settings.latency_seconds <= le else 0
            counts[(f"{DURATION}_bucket", (("le", _le(le)),))] = inside
        counts[(f"{DURATION}_count", ())] = total
        counts[(f"{DURATION}_sum", ())] = total * settings.latency_seconds
        return counts

    def apply(self, settings: Settings) -> float:
        """Serve the following ticks with ``settings``; returns when (wall clock) it applied."""
        self._check(settings)
        with self._lock:
            self._settings = settings
            return time.time()

    @property
    def settings(self) -> Settings:
        return self._settings

    def requests_served(self, code: str) -> float:
        """``http_requests_total{code}`` as the service counts it now."""
        with self._lock:
            return self._counts.get((f"{REQUESTS}_total", (("code", code),)), 0.0)

    def tick(self) -> None:
        with self._lock:
            for key, value in self._per_tick(self._settings).items():
                self._counts[key] += value

    def run(self, stop: threading.Event) -> None:
        """Tick on a fixed schedule (no drift), so the request rate stays what history says."""
        next_tick = time.monotonic()
        while True:
            next_tick += TICK_SECONDS
            if stop.wait(max(0.0, next_tick - time.monotonic())):
                return
            self.tick()

    def openmetrics_history(self, *, labels: Mapping[str, str], until: float) -> str:
        """``history_seconds`` of samples ending at ``until`` (when the live counters start):
        the counters grow linearly at the initial settings, from zero to where they start."""
        per_tick = self._per_tick(self._initial)
        start = until - self.history_seconds
        times = [
            start + step * BACKFILL_STEP
            for step in range(self.history_seconds // BACKFILL_STEP + 1)
        ]
        lines = []
        for family, kind in ((REQUESTS, "counter"), (DURATION, "histogram")):
            lines.append(f"# TYPE {family} {kind}")
            own = [
                (key, value) for key, value in per_tick.items() if key[0].startswith(family + "_")
            ]
            for at in times:
                ticks = (at - start) / TICK_SECONDS
                for (sample, sample_labels), value in own:
                    text = ",".join(
                        f'{k}="{v}"' for k, v in (*sorted(labels.items()), *sample_labels)
                    )
                    lines.append(f"{sample}{{{text}}} {value * ticks:.6f} {at:.3f}")
        lines.append("# EOF")
        return "\n".join(lines) + "\n"


def _le(bound: float) -> str:
    """A bucket boundary as prometheus_client's Python clients write it: 0.3, 1.0, +Inf."""
    return "+Inf" if bound == float("inf") else repr(bound)


def _requests_family(counts: Mapping[SeriesKey, float]) -> CounterMetricFamily:
    family = CounterMetricFamily(REQUESTS, "Requests served, by status code.", labels=["code"])
    for (sample, labels), value in sorted(counts.items()):
        if sample == f"{REQUESTS}_total":
            family.add_metric([dict(labels)["code"]], value)
    return family


def _duration_family(counts: Mapping[SeriesKey, float]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(DURATION, "Request duration.", labels=[])
    buckets = [
        (_le(le), counts[(f"{DURATION}_bucket", (("le", _le(le)),))])
        for le in (*BUCKETS, float("inf"))
    ]
    family.add_metric([], buckets, counts[(f"{DURATION}_sum", ())])
    return family


def _control_handler(service: SyntheticService) -> type[BaseHTTPRequestHandler]:
    class Control(BaseHTTPRequestHandler):
        """``GET /settings``; ``PUT /settings`` with ``{"error_ratio": "1",
        "latency_seconds": 0.5}`` (either key) answers ``{"applied_at": <unix time>}``."""

        def do_GET(self) -> None:
            if self.path != "/settings":
                self.send_error(404)
                return
            current = service.settings
            self._reply(
                200,
                {
                    "error_ratio": str(current.error_ratio),
                    "latency_seconds": current.latency_seconds,
                },
            )

        def do_PUT(self) -> None:
            if self.path != "/settings":
                self.send_error(404)
                return
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            settings = service.settings
            if "error_ratio" in body:
                settings = replace(settings, error_ratio=Fraction(str(body["error_ratio"])))
            if "latency_seconds" in body:
                settings = replace(settings, latency_seconds=float(body["latency_seconds"]))
            try:
                applied_at = service.apply(settings)
            except ValueError as exc:
                self._reply(400, {"error": str(exc)})
                return
            self._reply(200, {"applied_at": applied_at})

        def _reply(self, status: int, body: Mapping[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Control


def set_traffic(
    service: SyntheticService,
    *,
    error_ratio: Fraction | str | None = None,
    latency_seconds: float | None = None,
) -> float:
    """Change a running service's traffic over HTTP; the wall-clock time it took effect."""
    body: dict[str, Any] = {}
    if error_ratio is not None:
        body["error_ratio"] = str(error_ratio)
    if latency_seconds is not None:
        body["latency_seconds"] = latency_seconds
    response = httpx.put(f"{service.control_url}/settings", json=body, timeout=5.0)
    response.raise_for_status()
    applied_at: float = response.json()["applied_at"]
    return applied_at


@contextmanager
def serving(service: SyntheticService) -> Iterator[SyntheticService]:
    """Metrics (prometheus_client, own registry) and control server up, traffic ticking."""
    service._registry = CollectorRegistry(auto_describe=True)
    service._registry.register(service)
    service._metrics = start_http_server(0, addr="127.0.0.1", registry=service._registry)
    control = ThreadingHTTPServer(("127.0.0.1", 0), _control_handler(service))
    control_thread = threading.Thread(target=control.serve_forever, name=f"{service.name}-ctl")
    stop = threading.Event()
    ticker = threading.Thread(target=service.run, args=(stop,), name=f"{service.name}-traffic")
    service.metrics_port = service._metrics[0].server_address[1]
    service.control_url = f"http://127.0.0.1:{control.server_address[1]}"
    service.started_at = time.time()
    control_thread.start()
    ticker.start()
    try:
        yield service
    finally:
        stop.set()
        ticker.join()
        _shut(control, control_thread)
        if service._metrics is not None:
            _shut(*service._metrics)


def _shut(server: Any, thread: threading.Thread) -> None:
    server.shutdown()
    server.server_close()
    thread.join()


@contextmanager
def metrics_unreachable(service: SyntheticService) -> Iterator[None]:
    """A scrape outage: ``/metrics`` refuses connections (every scrape fails, as when the
    service hangs or its host is gone) while traffic goes on being counted; it answers
    again, on the same port, when the block ends."""
    assert service._metrics is not None and service._registry is not None, "not serving"
    _shut(*service._metrics)
    service._metrics = None
    try:
        yield
    finally:
        service._metrics = start_http_server(
            service.metrics_port, addr="127.0.0.1", registry=service._registry
        )
