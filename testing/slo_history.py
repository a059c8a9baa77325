"""Days of synthetic traffic for the fleet of ``testing.fleet``, as OpenMetrics for
``promtool tsdb create-blocks-from openmetrics``.

Per service (its ``job``): ``http_requests_total`` by instance (3), route (2) and code
(200, 429, 500, 503); the latency histogram ``http_request_duration_seconds`` (``le``
0.25, the fleet's threshold, and +Inf, and ``_count``) by instance and route; and
``jobs_processed_total`` / ``jobs_failed_total`` by instance: 48 counters, with a daily
cycle, noise and incidents (error and slow-request bursts of 5 minutes to 2 hours).

Rules that read their own recorded series over long ranges need that history too, as if
they had been running: ``recorded_history`` writes, for the same traffic, perfdash's
tiles (``slo:*_events:increase_tile`` one a minute, exact increments: the design's
definition, which the live rules approximate through ``increase()``) and Sloth's 5m
error ratio (``slo:sli_error:ratio_rate5m``, one per evaluation interval).
"""

from __future__ import annotations

import http.server
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

import numpy as np
import numpy.typing as npt

from perfdash import conventions
from perfdash.model.fleet import Fleet, Service

INSTANCES = (("10.0.1.11:8080", 0.36), ("10.0.1.12:8080", 0.33), ("10.0.1.13:8080", 0.31))
ROUTES = (("/api/orders", 0.65), ("/api/search", 0.35))
CODES = ("200", "429", "500", "503")
LATENCY_BUCKET = "0.25"
TILE_SECONDS = 60  # the fleet's long_window_interval (default 1m)
TILE_DELAY = 15  # perfdash.model.windows.INGESTION_DELAY
Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Grid:
    """Sample times ``start + i * step``, i in [0, size)."""

    start: int
    step: int
    size: int

    @property
    def times(self) -> npt.NDArray[np.int64]:
        return self.start + self.step * np.arange(self.size, dtype=np.int64)


@dataclass(frozen=True)
class Counter:
    name: str
    labels: dict[str, str]
    values: Array  # cumulative, on the grid

    @property
    def text(self) -> str:
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels.items())
        return f"{self.name}{{{inner}}}"


def _profile(rng: np.random.Generator, grid: Grid, background: float, peak: float) -> Array:
    """An error (or slow) ratio over time: ``background`` plus incidents."""
    ratio = np.full(grid.size, background)
    days = grid.size * grid.step / 86400
    for _ in range(max(1, round(days / 2))):
        length = max(1, int(rng.uniform(300, 7200) // grid.step))
        start = int(rng.integers(0, max(1, grid.size - length)))
        ratio[start : start + length] = min(0.9, background + rng.uniform(peak / 20, peak))
    return ratio


def service_counters(index: int, service: Service, grid: Grid, seed: int) -> list[Counter]:
    """The 48 raw counters of service ``index`` of ``testing.fleet``, over the grid."""
    rng = np.random.default_rng(seed * 1_000_003 + index)
    rps = 20.0 + 10.0 * (index % 7)
    phase = rng.random()
    cycle = 1 + 0.35 * np.sin(2 * math.pi * (grid.times / 86400 + phase))
    traffic = rps * grid.step * cycle * (0.92 + 0.16 * rng.random(grid.size))
    errors = _profile(rng, grid, 0.0004 * (1 + index % 3), 0.2)
    slow = _profile(rng, grid, 0.004, 0.1)
    failed = _profile(rng, grid, 0.0005, 0.05)
    job = {"job": service.name}
    out: list[Counter] = []

    def add(name: str, labels: dict[str, str], per_step: Array) -> Array:
        values = np.cumsum(per_step)
        out.append(Counter(name, {**job, **labels}, values))
        return values

    fractions = {"200": 1 - 0.001 - errors, "429": np.full(grid.size, 0.001)}
    fractions.update({"500": 0.8 * errors, "503": 0.2 * errors})
    for instance, instance_share in INSTANCES:
        for route, route_share in ROUTES:
            share = traffic * instance_share * route_share
            where = {"instance": instance, "route": route}
            for code in CODES:
                add("http_requests_total", {**where, "code": code}, share * fractions[code])
            count = add("http_request_duration_seconds_count", where, share)
            le = {**where, "le": LATENCY_BUCKET}
            add("http_request_duration_seconds_bucket", le, share * (1 - slow))
            out.append(
                Counter(
                    "http_request_duration_seconds_bucket", {**job, **where, "le": "+Inf"}, count
                )
            )
    for instance, instance_share in INSTANCES:
        share = traffic * 0.1 * instance_share  # background jobs per request
        add("jobs_processed_total", {"instance": instance}, share)
        add("jobs_failed_total", {"instance": instance}, share * failed)
    return out


def write_counters(
    handle: TextIO, counters: list[Counter], grid: Grid, first: int, last: int
) -> int:
    """OpenMetrics samples of grid indexes [first, last]; lines written."""
    stamps = [f" {t}\n" for t in grid.times[first : last + 1].tolist()]
    for counter in counters:
        prefix = counter.text + " "
        values = np.round(counter.values[first : last + 1], 3).tolist()
        handle.write("".join([f"{prefix}{v}{s}" for v, s in zip(values, stamps, strict=True)]))
    return len(stamps) * len(counters)


@dataclass(frozen=True)
class SLOCounters:
    """One SLO (and group) of a service: its recorded series' labels, its counters."""

    slo: str
    labels: dict[str, str]  # as perfdash's rules record them
    total: Array
    bad: Array


def slo_counters(service: Service, counters: list[Counter]) -> Iterator[SLOCounters]:
    """The fleet's four SLOs (availability, latency, routes by route, jobs), each as the
    sum of the counters its SLI selects."""

    def total(name: str, **match: str) -> Array:
        chosen = [
            c.values
            for c in counters
            if c.name == name and all(c.labels.get(k) == v for k, v in match.items())
        ]
        return np.sum(chosen, axis=0)

    base = {"service": service.name, **dict(service.labels)}
    requests = total("http_requests_total")
    five = total("http_requests_total", code="500") + total("http_requests_total", code="503")
    yield SLOCounters("availability", {**base, "slo": "availability"}, requests, five)
    count = total("http_request_duration_seconds_count")
    fast = total("http_request_duration_seconds_bucket", le=LATENCY_BUCKET)
    yield SLOCounters("latency", {**base, "slo": "latency"}, count, count - fast)
    for route, _ in ROUTES:
        mine = total("http_requests_total", route=route)
        bad = mine - total("http_requests_total", route=route, code="200")
        yield SLOCounters("routes", {**base, "slo": "routes", "route": route}, mine, bad)
    processed, failed = total("jobs_processed_total"), total("jobs_failed_total")
    yield SLOCounters("jobs", {**base, "slo": "jobs"}, processed, failed)


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def recorded_history(
    handle: TextIO,
    fleet: Fleet,
    counters: list[list[Counter]],
    grid: Grid,
    since: int,
    until: int,
    sloth_interval: int,
) -> int:
    """perfdash's tiles and Sloth's 5m ratios for evaluations in [since, until) (unix
    seconds); lines written.

    A tile evaluated at ``t`` holds the samples in ``(t - 75s, t - 15s]``: evaluated 16s
    after a sample, the increase from the sample a minute before to that one.
    """
    lines = 0
    lag = TILE_DELAY + 1
    first = max(1, math.ceil((since - lag - grid.start) / grid.step))
    last = min(grid.size - 1, (until - lag - 1 - grid.start) // grid.step)
    per_tile = TILE_SECONDS // grid.step
    for service, raw in zip(fleet.services, counters, strict=True):
        for slo in slo_counters(service, raw):
            for name, values in (
                (conventions.TOTAL_TILE, slo.total),
                (conventions.BAD_TILE, slo.bad),
            ):
                prefix = name + _labels(slo.labels) + " "
                chunk = []
                for i in range(first + (-first) % per_tile, last + 1, per_tile):
                    tile = values[i] - values[i - per_tile]
                    chunk.append(f"{prefix}{tile:.6g} {grid.start + i * grid.step + lag}\n")
                handle.write("".join(chunk))
                lines += len(chunk)
            sloth = {
                "sloth_id": f"{service.name}-{slo.slo}",
                "sloth_service": service.name,
                "sloth_slo": slo.slo,
                "sloth_window": "5m",
                **({"route": slo.labels["route"]} if "route" in slo.labels else {}),
            }
            prefix = "slo:sli_error:ratio_rate5m" + _labels(sloth) + " "
            chunk = []
            back = 300 // grid.step
            for at in range(since - since % sloth_interval + sloth_interval, until, sloth_interval):
                i = min(grid.size - 1, (at - grid.start) // grid.step)
                total = slo.total[i] - slo.total[i - back]
                if i >= back and total > 0:
                    chunk.append(f"{prefix}{(slo.bad[i] - slo.bad[i - back]) / total:.6g} {at}\n")
            handle.write("".join(chunk))
            lines += len(chunk)
    return lines


class Exporter:
    """Serves every counter at the current time (interpolated on the grid): the history
    continues live, for Prometheus to scrape with ``honor_labels``."""

    def __init__(self, counters: list[Counter], grid: Grid) -> None:
        self.counters = counters
        self.grid = grid
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = exporter.render(time.time()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def render(self, now: float) -> str:
        position = (now - self.grid.start) / self.grid.step
        index = int(position)
        if index + 1 >= self.grid.size:
            raise RuntimeError("the history ended: make the grid longer")
        fraction = position - index
        return "".join(
            f"{c.text} {c.values[index] + (c.values[index + 1] - c.values[index]) * fraction:.3f}\n"
            for c in self.counters
        )

    def __enter__(self) -> Exporter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
