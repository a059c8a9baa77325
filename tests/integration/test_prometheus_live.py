"""A real Prometheus loads the example fleet's generated rules and evaluates them on
live traffic; and a real Prometheus whose scrape target disappears and comes back
counts, in every long window, the errors served while it could not scrape.

An in-process exporter (prometheus_client) exposes the metrics the example SLOs read,
with the labels their selectors match, and a background thread adds a fixed batch of
events to them every tick, at error ratios under every alert threshold of the fleet.
Prometheus scrapes it and evaluates the rules every second; the tests start once every
generated rule group has been evaluated EVALUATIONS times.
"""

from __future__ import annotations

import contextlib
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.parser import text_string_to_metric_families

from perfdash import conventions
from perfdash.build import build_artifacts
from perfdash.durations import Duration
from perfdash.model.fleet import Fleet
from perfdash.model.windows import INGESTION_DELAY
from perfdash.prometheus.rules import build_groups
from perfdash.spec import load_fleet
from testing.service import Settings, SyntheticService, metrics_unreachable, serving
from testing.stack import Process, running
from tests.helpers import background, free_port, write_generated

pytestmark = pytest.mark.integration

EVALUATIONS = 5
DEADLINE_SECONDS = 90.0
POLL_SECONDS = 0.2
TICK_SECONDS = 0.1
LOG_LINES_SHOWN = 80
HTTP_BUCKETS = (0.1, 0.3, 0.5, 1.0, 2.5)  # 0.3 (checkout), 0.5 (search), 1.0 (frontend)
T = TypeVar("T")


@dataclass(frozen=True)
class Batch:
    """What one series receives each tick: a counter increment, or observations by value."""

    metric: str
    labels: tuple[str, ...]
    events: int | dict[float, int]


TRAFFIC = (
    # checkout: 1 request in 2000 fails; 1 in 500 is slower than its 0.3s threshold.
    Batch("http_requests", ("checkout", "/pay", "200"), 1999),
    Batch("http_requests", ("checkout", "/pay", "503"), 1),
    Batch("http_request_duration_seconds", ("checkout", "/pay", "/pay"), {0.1: 499, 0.4: 1}),
    # search, one SLO per route: /search answers 1 in 1000 with 429 and 1 in 200 slower
    # than 0.5s; /suggest never fails, so it has no error series at all; /healthz is
    # excluded by the selector, though half of it fails and all of it is slow.
    Batch("http_requests", ("search", "/search", "200"), 999),
    Batch("http_requests", ("search", "/search", "429"), 1),
    Batch("http_requests", ("search", "/suggest", "200"), 500),
    Batch("http_requests", ("search", "/healthz", "200"), 50),
    Batch("http_requests", ("search", "/healthz", "503"), 50),
    Batch("http_request_duration_seconds", ("search", "/search", "/search"), {0.1: 199, 0.7: 1}),
    Batch("http_request_duration_seconds", ("search", "/suggest", "/suggest"), {0.1: 100}),
    Batch("http_request_duration_seconds", ("search", "/healthz", "/healthz"), {2.0: 10}),
    # frontend: no server error yet, so no 5xx series; pages render within 1s, while
    # static files (not matched by handler=~"/p/.+") are slow.
    Batch("http_requests", ("frontend", "/p/x", "200"), 1000),
    Batch("http_request_duration_seconds", ("frontend", "/p/x", "/p/x"), {0.5: 100}),
    Batch("http_request_duration_seconds", ("frontend", "/static", "/static"), {5.0: 10}),
    # ledger: 1 write in 10000 fails and 1 in 500 takes over 1s; reads (not matched by
    # operation="write") are all slow.
    Batch("ledger_write_attempts", ("ledger",), 10000),
    Batch("ledger_write_failures", ("ledger",), 1),
    Batch("ledger_request_duration_seconds", ("ledger", "write"), {0.2: 499, 2.0: 1}),
    Batch("ledger_request_duration_seconds", ("ledger", "read"), {3.0: 10}),
    # notifications: 1 in 1000 failed, none bounced. email-worker: 1 job in 100 errs.
    Batch("notifications_sent", ("notifications", "delivered"), 999),
    Batch("notifications_sent", ("notifications", "failed"), 1),
    Batch("email_jobs", ("email-worker", "ok"), 99),
    Batch("email_jobs", ("email-worker", "error"), 1),
)

# What TRAFFIC makes of each SLO (and route): (service, slo, route or "") -> error ratio.
# Each is below the lowest alert threshold of its SLO, so nothing may fire or pend.
EXPECTED_ERROR_RATIOS = {
    ("checkout", "availability", ""): 1 / 2000,
    ("checkout", "latency", ""): 1 / 500,
    ("email-worker", "jobs", ""): 1 / 100,
    ("frontend", "availability", ""): 0.0,
    ("frontend", "page-load", ""): 0.0,
    ("ledger", "latency", ""): 1 / 500,
    ("ledger", "write-success", ""): 1 / 10000,
    ("notifications", "delivery", ""): 1 / 1000,
    ("search", "availability", "/search"): 1 / 1000,
    ("search", "availability", "/suggest"): 0.0,
    ("search", "latency", "/search"): 1 / 200,
    ("search", "latency", "/suggest"): 0.0,
}


# Metric name -> (label names, histogram buckets or None for a counter).
METRICS: dict[str, tuple[tuple[str, ...], tuple[float, ...] | None]] = {
    "http_requests": (("job", "route", "code"), None),
    # Latency carries route (search groups by it) and handler (frontend matches on it).
    "http_request_duration_seconds": (("job", "route", "handler"), HTTP_BUCKETS),
    "ledger_write_attempts": (("job",), None),
    "ledger_write_failures": (("job",), None),
    # prometheus_client's default buckets include 1.0, ledger's threshold: le="1.0".
    "ledger_request_duration_seconds": (("job", "operation"), Histogram.DEFAULT_BUCKETS),
    "notifications_sent": (("job", "result"), None),
    "email_jobs": (("job", "outcome"), None),
}


def _metric(name: str, registry: CollectorRegistry) -> Counter | Histogram:
    labels, buckets = METRICS[name]
    if buckets is None:
        return Counter(name, f"{name} (test traffic)", labels, registry=registry)
    return Histogram(name, f"{name} (test traffic)", labels, buckets=buckets, registry=registry)


class _SnapshotRegistry(CollectorRegistry):
    """Collects while holding the traffic lock: a scrape never sees half a tick, so every
    ratio between series of one SLO is exact at every scrape."""

    def __init__(self, traffic_lock: threading.Lock) -> None:
        super().__init__()
        self._traffic_lock = traffic_lock

    def collect(self) -> Iterator[Any]:
        with self._traffic_lock:
            metrics = list(super().collect())
        yield from metrics


class FleetTraffic:
    """The example fleet's metrics, as its services would expose them, fed by TRAFFIC."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.registry = _SnapshotRegistry(self.lock)
        metrics = {name: _metric(name, self.registry) for name in METRICS}
        # Every series exists (at 0) before the first scrape.
        self._increments: list[tuple[Counter, int]] = []
        self._observations: list[tuple[Histogram, dict[float, int]]] = []
        for batch in TRAFFIC:
            series = metrics[batch.metric].labels(*batch.labels)
            if isinstance(series, Counter):
                assert isinstance(batch.events, int), batch
                self._increments.append((series, batch.events))
            else:
                assert isinstance(batch.events, dict), batch
                self._observations.append((series, batch.events))

    def tick(self) -> None:
        with self.lock:
            for counter, amount in self._increments:
                counter.inc(amount)
            for histogram, observations in self._observations:
                for value, count in observations.items():
                    for _ in range(count):
                        histogram.observe(value)

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(TICK_SECONDS):
            self.tick()


@dataclass(frozen=True)
class RunningPrometheus:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    rule_files: dict[str, Path]  # group name -> the rule file holding it

    def log(self) -> str:
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(["Prometheus log (last lines):", *lines[-LOG_LINES_SHOWN:]])


def prometheus_config(exporter: str, rule_files: list[Path]) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {
                # The exporter labels every series with its service's job; keep those.
                "job_name": "fleet-exporter",
                "honor_labels": True,
                "static_configs": [{"targets": [exporter]}],
            }
        ],
    }


def group_files(fleet: Fleet, out_dir: Path) -> dict[str, Path]:
    return {
        group["name"]: out_dir / conventions.rule_file_path(service.name)
        for service in fleet.services
        for slo in service.slos
        for group in build_groups(service, slo)
    }


def every_second(fleet: Fleet) -> Fleet:
    """The fleet with its long-window groups evaluated every second too, like the rest here."""
    services = tuple(replace(s, long_window_interval=Duration(1)) for s in fleet.services)
    return replace(fleet, services=services)


@pytest.fixture(scope="module")
def exporter() -> Iterator[str]:
    """host:port of the in-process exporter, its traffic advancing every TICK_SECONDS."""
    traffic = FleetTraffic()
    server, server_thread = start_http_server(0, addr="127.0.0.1", registry=traffic.registry)
    stop = threading.Event()
    ticker = threading.Thread(target=traffic.run, args=(stop,), name="fleet-traffic")
    ticker.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        ticker.join()
        server.shutdown()
        server.server_close()
        server_thread.join()


@pytest.fixture(scope="module")
def prometheus(
    prometheus_bin: str,
    example_fleet: Fleet,
    exporter: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningPrometheus]:
    """A Prometheus on 127.0.0.1 evaluating the example fleet's generated rules."""
    root = tmp_path_factory.mktemp("prometheus")
    fleet = every_second(example_fleet)
    write_generated(root, build_artifacts(fleet))
    rule_files = group_files(fleet, root)
    config = root / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(prometheus_config(exporter, sorted(set(rule_files.values())))),
        encoding="utf-8",
    )
    port = free_port()
    log_path = root / "prometheus.log"
    argv = [
        prometheus_bin,
        f"--config.file={config}",
        f"--storage.tsdb.path={root / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
    ]
    with background(argv, log_path) as process:
        yield RunningPrometheus(f"http://127.0.0.1:{port}", process, log_path, rule_files)


def wait_for(
    prometheus: RunningPrometheus, what: str, probe: Callable[[], T | None], *, deadline: float
) -> T:
    """Poll ``probe`` until it returns a value; fail with the log once past ``deadline``
    (a ``time.monotonic()``) or as soon as Prometheus exits."""
    while time.monotonic() < deadline:
        if prometheus.process.poll() is not None:
            pytest.fail(
                f"Prometheus exited with {prometheus.process.returncode} while waiting for "
                f"{what}\n{prometheus.log()}"
            )
        try:
            found = probe()
        except httpx.TransportError:
            found = None
        if found is not None:
            return found
        time.sleep(POLL_SECONDS)
    pytest.fail(f"no {what} within {DEADLINE_SECONDS:g}s of starting\n{prometheus.log()}")


def group_iterations(client: httpx.Client) -> dict[str, int]:
    """Evaluations so far of each rule group, from Prometheus's own /metrics."""
    response = client.get("/metrics")
    response.raise_for_status()
    counts = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "prometheus_rule_group_iterations_total":
                # rule_group is "<rule file>;<group name>"
                counts[sample.labels["rule_group"].rpartition(";")[2]] = int(sample.value)
    return counts


def ready(client: httpx.Client) -> bool | None:
    """True once Prometheus serves its API (it answers 503 while starting)."""
    return True if client.get("/-/ready").status_code == 200 else None


def scraped_targets(client: httpx.Client) -> list[dict[str, Any]] | None:
    """The active targets, once every one of them has been scraped successfully."""
    targets: list[dict[str, Any]] = api(client, "/api/v1/targets", state="active")["activeTargets"]
    return targets if targets and all(t["health"] == "up" for t in targets) else None


@pytest.fixture(scope="module")
def evaluated(prometheus: RunningPrometheus) -> Iterator[httpx.Client]:
    """A client of the Prometheus, once every rule group ran EVALUATIONS times on scraped
    data (the first scrape waits for service discovery, which rule groups do not), counted
    from INGESTION_DELAY after that scrape: tiles end that far back, so the long windows
    and the SLI read nothing before."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    with httpx.Client(base_url=prometheus.url, timeout=5.0) as client:
        wait_for(prometheus, "readiness", lambda: ready(client), deadline=deadline)
        wait_for(
            prometheus,
            "successful scrape of the exporter",
            lambda: scraped_targets(client),
            deadline=deadline,
        )
        time.sleep(INGESTION_DELAY.seconds + 1)
        start = group_iterations(client)

        def every_group_evaluated() -> dict[str, int] | None:
            counts = group_iterations(client)
            done = all(
                counts.get(group, 0) >= start.get(group, 0) + EVALUATIONS
                for group in prometheus.rule_files
            )
            return counts if done else None

        wait_for(
            prometheus,
            f"{EVALUATIONS} evaluations of every group after the first scrape",
            every_group_evaluated,
            deadline=deadline,
        )
        yield client


def api(client: httpx.Client, path: str, **params: str) -> Any:
    response = client.get(path, params=params)
    response.raise_for_status()
    body = response.json()
    assert body["status"] == "success", body
    return body["data"]


def by_slo(result: list[dict[str, Any]]) -> dict[tuple[str, str, str], float]:
    """Instant-vector result -> {(service, slo, route or ""): value}, one entry per series."""
    values = {
        (s["metric"]["service"], s["metric"]["slo"], s["metric"].get("route", "")): float(
            s["value"][1]
        )
        for s in result
    }
    assert len(values) == len(result), f"several series per SLO: {result}"
    return values


def test_every_generated_rule_group_loads_and_evaluates_without_error(
    evaluated: httpx.Client, prometheus: RunningPrometheus, example_fleet: Fleet
) -> None:
    groups = api(evaluated, "/api/v1/rules")["groups"]

    assert {g["name"]: Path(g["file"]) for g in groups} == prometheus.rule_files, prometheus.log()
    expected_rules = {
        group["name"]: [rule.get("record") or rule["alert"] for rule in group["rules"]]
        for service in example_fleet.services
        for slo in service.slos
        for group in build_groups(service, slo)
    }
    assert {g["name"]: [r["name"] for r in g["rules"]] for g in groups} == expected_rules
    # Every group each second (budget groups every 4 long-window intervals: 4s).
    assert {g["interval"] for g in groups} == {1, 4}
    # The API gives a group no health of its own: it is healthy when all its rules are.
    unhealthy = [
        (g["name"], r["name"], r["health"], r.get("lastError", ""), r["lastEvaluation"])
        for g in groups
        for r in g["rules"]
        if r["health"] != "ok" or r.get("lastError") or r["lastEvaluation"].startswith("0001-")
    ]
    assert unhealthy == [], prometheus.log()


def assert_one_value_per_slo(
    result: list[dict[str, Any]], expected: dict[tuple[str, str, str], float], log: str
) -> None:
    values = by_slo(result)
    assert sorted(values) == sorted(expected), log
    assert values == pytest.approx(expected, rel=1e-9, abs=1e-12), log


def test_every_slo_records_its_error_ratio_from_live_traffic(
    evaluated: httpx.Client, prometheus: RunningPrometheus
) -> None:
    result = api(evaluated, "/api/v1/query", query="slo:sli_error:ratio_rate5m")["result"]

    assert_one_value_per_slo(result, EXPECTED_ERROR_RATIOS, prometheus.log())


def test_the_slo_window_sli_is_the_traffic_weighted_ratio(
    evaluated: httpx.Client, prometheus: RunningPrometheus
) -> None:
    result = api(evaluated, "/api/v1/query", query="slo:sli:ratio")["result"]

    expected = {key: 1 - ratio for key, ratio in EXPECTED_ERROR_RATIOS.items()}
    assert_one_value_per_slo(result, expected, prometheus.log())


def test_objective_series_carries_the_declared_objective(
    evaluated: httpx.Client, prometheus: RunningPrometheus
) -> None:
    result = api(
        evaluated,
        "/api/v1/query",
        query='slo:objective:ratio{service="checkout", slo="availability"}',
    )["result"]

    assert [(s["metric"], float(s["value"][1])) for s in result] == [
        (
            {
                "__name__": "slo:objective:ratio",
                "env": "prod",
                "service": "checkout",
                "slo": "availability",
            },
            0.999,
        )
    ], prometheus.log()


def test_no_alert_fires_or_pends_while_every_slo_burns_under_its_thresholds(
    evaluated: httpx.Client, prometheus: RunningPrometheus
) -> None:
    groups = api(evaluated, "/api/v1/rules", type="alert")["groups"]

    # SLIDataMissing inactive on every SLO also proves each SLI found its series: the
    # le="0.3"/"1.0" buckets, the route and handler matchers, and the zero fallback where
    # no error series exists yet (frontend, search's /suggest).
    active = [
        (g["name"], r["name"], r["labels"].get("long", ""), r["state"])
        for g in groups
        for r in g["rules"]
        if r["state"] != "inactive"
    ]
    assert active == [], prometheus.log()
    assert sum(len(g["rules"]) for g in groups) > 0
    assert api(evaluated, "/api/v1/query", query="ALERTS")["result"] == [], prometheus.log()


# --- a scrape outage: the target disappears and comes back ----------------------------------

OUTAGE_DECLARATION = """\
apiVersion: perfdash/v1
kind: Service
metadata: {name: shop, team: web, tier: 2, runbook: https://runbooks.example.com/shop}
spec:
  selector: {job: shop}
  rules: {long_window_interval: 1s}
  slos:
    - name: availability
      objective: 99.9
      sli:
        events: {total: http_requests_total, bad: {code: "5.."}}
"""
BEFORE_OUTAGE_SECONDS = 10.0
OUTAGE_SECONDS = 20.0  # longer than the tiles' ingestion delay
# The tiles end INGESTION_DELAY (15s) before their evaluation: wait that, and a margin.
AFTER_OUTAGE_SECONDS = INGESTION_DELAY.seconds + 10.0


@dataclass(frozen=True)
class Outage:
    client: httpx.Client
    prometheus: Process
    errors_served: float  # every one of them during the outage
    failed_scrapes: int


def _until(prometheus: Process, what: str, probe: Callable[[], T | None]) -> T:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        prometheus.check_alive()
        with contextlib.suppress(httpx.TransportError):
            found = probe()
            if found is not None:
                return found
        time.sleep(POLL_SECONDS)
    pytest.fail(f"no {what} within {DEADLINE_SECONDS:g}s\n{prometheus.log_tail()}")


@pytest.fixture
def scrape_outage(prometheus_bin: str, tmp_path: Path) -> Iterator[Outage]:
    """A real Prometheus (scrape and evaluation every second) with the rules generated for
    ``shop``, whose /metrics refuses connections for OUTAGE_SECONDS while every request it
    serves fails, then answers again; yielded once the tiles cover the return."""
    (tmp_path / "slos").mkdir()
    (tmp_path / "slos" / "shop.yaml").write_text(OUTAGE_DECLARATION, encoding="utf-8")
    fleet = load_fleet([tmp_path / "slos"], root=tmp_path)
    write_generated(tmp_path, build_artifacts(fleet))
    service = SyntheticService(
        "shop", requests_per_tick=100, settings=Settings(), history_seconds=0
    )
    with serving(service):
        config = tmp_path / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {
                        "scrape_interval": "1s",
                        "scrape_timeout": "1s",
                        "evaluation_interval": "1s",
                    },
                    "rule_files": [str(tmp_path / conventions.rule_file_path("shop"))],
                    "scrape_configs": [
                        {
                            "job_name": "shop",
                            "static_configs": [{"targets": [f"127.0.0.1:{service.metrics_port}"]}],
                        }
                    ],
                }
            ),
            encoding="utf-8",
        )
        port = free_port()
        argv = [
            prometheus_bin,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]
        url = f"http://127.0.0.1:{port}"
        with (
            running("prometheus", argv, url=url, log_path=tmp_path / "prometheus.log") as prom,
            httpx.Client(base_url=url, timeout=5.0) as client,
        ):
            _until(prom, "readiness", lambda: ready(client))
            _until(prom, "a successful scrape", lambda: scraped_targets(client))
            time.sleep(BEFORE_OUTAGE_SECONDS)
            with metrics_unreachable(service):
                service.apply(Settings(error_ratio=Fraction(1)))
                time.sleep(OUTAGE_SECONDS)
                service.apply(Settings())
            _until(prom, "the target back up", lambda: scraped_targets(client))
            time.sleep(AFTER_OUTAGE_SECONDS)
            failed = api(
                client,
                "/api/v1/query",
                query='count_over_time(up{job="shop"}[10m]) - sum_over_time(up{job="shop"}[10m])',
            )["result"]
            yield Outage(
                client,
                prom,
                errors_served=service.requests_served("500"),
                failed_scrapes=int(float(failed[0]["value"][1])),
            )


def raw_ratio(client: httpx.Client, window: str, at: float) -> float:
    """bad/total as rate() over ``window`` at ``at``."""
    query = (
        f'sum(rate(http_requests_total{{job="shop", code=~"5.."}}[{window}]))'
        f' / sum(rate(http_requests_total{{job="shop"}}[{window}]))'
    )
    [raw] = api(client, "/api/v1/query", query=query, time=f"{at:.3f}")["result"]
    return float(raw["value"][1])


def test_errors_served_while_the_target_could_not_be_scraped_reach_the_long_windows(
    scrape_outage: Outage,
) -> None:
    client, log = scrape_outage.client, scrape_outage.prometheus.log_tail()
    own = conventions.slo_selector("shop", "availability")
    # The outage was real: Prometheus' own scrapes failed throughout it.
    assert scrape_outage.failed_scrapes >= OUTAGE_SECONDS - 2, log
    assert scrape_outage.errors_served > 0

    # Every failed request, all served while nothing was scraped, is in the tiles, once:
    # increase() extrapolates the last tile's range to its end, which a series a minute
    # old (Prometheus started with the test) inflates by up to a second in 60 (1.7%).
    query = f"sum_over_time({conventions.BAD_TILE}{own}[1h])"
    [bad] = api(client, "/api/v1/query", query=query)["result"]
    counted = float(bad["value"][1])
    assert scrape_outage.errors_served <= counted <= scrape_outage.errors_served * 1.02, log

    # Each long window is the raw ratio over the same data: rate() over the window,
    # INGESTION_DELAY before the evaluation that recorded it.
    for window in ("1d", "3d", "30d"):
        [recorded] = api(
            client, "/api/v1/query", query=f"timestamp(slo:sli_error:ratio_rate{window}{own})"
        )["result"]
        at = float(recorded["value"][1])
        [ratio] = api(
            client,
            "/api/v1/query",
            query=f"slo:sli_error:ratio_rate{window}{own}",
            time=f"{at:.3f}",
        )["result"]
        value = float(ratio["value"][1])
        # The 30d ratio is summed by the budget group, which may run before the long-window
        # group records the tile of the same instant: its data ends then a tile earlier.
        ends = (at, at - 1) if window == "30d" else (at,)
        raws = [raw_ratio(client, window, end - INGESTION_DELAY.seconds) for end in ends]
        assert value > 0.1, log
        assert min(raws) * (1 - 1e-3) <= value <= max(raws) * (1 + 1e-3), (window, raws, log)
