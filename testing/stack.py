"""A live alerting stack on 127.0.0.1: synthetic services, Prometheus, Alertmanager, webhook.

Shared by the end-to-end test (tests/integration/test_alerting_e2e.py) and the alert
latency benchmark (benchmarks/alert_latency.py), which run the same stack:

- one ``SyntheticService`` (testing/service.py) per declared service, with
  its error ratio and latency settable over HTTP;
- ``history_seconds`` of the same traffic at the starting settings, backfilled into the
  TSDB with ``promtool tsdb create-blocks-from openmetrics`` before Prometheus starts, so
  the burn-rate windows (up to 6h) hold a full window of history as in production, not a
  few seconds that an outage would dominate at once;
- a real Prometheus scraping every second and evaluating every second, with the rule files
  ``perfdash build`` generated, sending to a real Alertmanager configured with the
  configuration ``perfdash build --alertmanager-base`` merged;
- a webhook (testing/webhook.py) that records every notification with its
  arrival time.

Nothing here imports pytest: failures raise ``StackError`` with the logs attached.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from testing.processes import free_port, stop
from testing.service import SyntheticService, serving
from testing.webhook import Notification, Webhook

SCRAPE_INTERVAL = 1.0  # seconds, Prometheus global scrape_interval
EVALUATION_INTERVAL = 1.0  # seconds, Prometheus global evaluation_interval
RESEND_DELAY = "1s"  # --rules.alert.resend-delay: firing alerts re-sent every second
STARTUP_SECONDS = 60.0
POLL_SECONDS = 0.1
LOG_LINES = 60
T = TypeVar("T")


class StackError(RuntimeError):
    """The stack did not start or did not do something in time (message carries the logs)."""


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    alertmanager: str  # Debian names it prometheus-alertmanager
    promtool: str


@dataclass
class Process:
    name: str
    url: str
    log_path: Path
    popen: subprocess.Popen[bytes]

    def log_tail(self, lines: int = LOG_LINES) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join([f"--- {self.name} log (last {lines} lines) ---", *text[-lines:]])

    def check_alive(self) -> None:
        if self.popen.poll() is not None:
            raise StackError(f"{self.name} exited with {self.popen.returncode}\n{self.log_tail()}")


@contextmanager
def running(name: str, argv: list[str], *, url: str, log_path: Path) -> Iterator[Process]:
    """Start ``argv`` (output to ``log_path``); on exit terminate it, then kill if needed."""
    with log_path.open("wb") as log:
        popen = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield Process(name, url, log_path, popen)
    finally:
        stop(popen)


def prometheus_config(
    services: Iterable[SyntheticService], rule_files: Iterable[Path], alertmanager: str
) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": f"{SCRAPE_INTERVAL:g}s",
            "scrape_timeout": f"{SCRAPE_INTERVAL:g}s",
            "evaluation_interval": f"{EVALUATION_INTERVAL:g}s",
        },
        "rule_files": [str(path) for path in rule_files],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        # One job per service, named after it: the declarations select on job.
        "scrape_configs": [
            {
                "job_name": s.name,
                "static_configs": [{"targets": [f"127.0.0.1:{s.metrics_port}"]}],
            }
            for s in services
        ],
    }


def backfill(services: Iterable[SyntheticService], data_dir: Path, promtool: str) -> None:
    """Write each service's history as TSDB blocks into Prometheus' (empty) data folder."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for service in services:
        if not service.history_seconds:
            continue
        labels = {"instance": f"127.0.0.1:{service.metrics_port}", "job": service.name}
        source = data_dir.parent / f"history-{service.name}.om"
        source.write_text(
            service.openmetrics_history(labels=labels, until=service.started_at),
            encoding="utf-8",
        )
        done = subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(data_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise StackError(f"backfill of {service.name} failed:\n{done.stdout}{done.stderr}")


# -- the whole stack -------------------------------------------------------------------


class PollingStack:
    """Waiting on a running stack (Prometheus or vmalert, Alertmanager, a webhook), shared
    by the stacks: they say how to check their processes and how to report a failure."""

    webhook: Webhook

    def fail(self, message: str) -> StackError:
        raise NotImplementedError

    def check_alive(self) -> None:
        raise NotImplementedError

    def wait(self, what: str, probe: Callable[[], T | None], *, deadline: float) -> T:
        """Poll ``probe`` until it returns a value; StackError past ``deadline`` (unix time)
        or as soon as one of the stack's processes exits."""
        while True:
            self.check_alive()
            try:
                found = probe()
            except httpx.TransportError:
                found = None
            if found is not None:
                return found
            if time.time() >= deadline:
                raise self.fail(f"timed out waiting for {what}")
            time.sleep(POLL_SECONDS)

    def wait_for_notification(
        self, what: str, predicate: Callable[[Notification], bool], *, deadline: float
    ) -> Notification:
        found = self.webhook.wait_for(predicate, deadline=deadline)
        self.check_alive()
        if found is None:
            raise self.fail(f"no notification: {what}")
        return found


@dataclass
class AlertStack(PollingStack):
    root: Path
    services: dict[str, SyntheticService]
    webhook: Webhook
    prometheus: Process
    alertmanager: Process
    rule_files: list[Path]
    ready_at: float = 0.0

    def diagnostics(self) -> str:
        """What to read when something failed: notifications so far and both logs."""
        received = [n.summary() for n in self.webhook.notifications] or ["(none)"]
        return "\n".join(
            [
                "--- webhook notifications ---",
                *received,
                self.prometheus.log_tail(),
                self.alertmanager.log_tail(),
            ]
        )

    def fail(self, message: str) -> StackError:
        return StackError(f"{message}\n{self.diagnostics()}")

    def check_alive(self) -> None:
        for process in (self.prometheus, self.alertmanager):
            try:
                process.check_alive()
            except StackError as exc:
                raise self.fail(str(exc)) from None

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query on Prometheus: the result vector."""
        result: list[dict[str, Any]] = _api(self.prometheus.url, "/api/v1/query", query=promql)[
            "result"
        ]
        return result

    def rule_groups(self) -> list[dict[str, Any]]:
        """Prometheus' rule groups (``/api/v1/rules``), with their last evaluation."""
        groups: list[dict[str, Any]] = _api(self.prometheus.url, "/api/v1/rules")["groups"]
        return groups

    def alertmanager_alerts(self, **labels: str) -> list[dict[str, Any]]:
        """Alerts Alertmanager holds with these labels (``/api/v2/alerts``), with their state."""
        filters = [f'{key}="{value}"' for key, value in labels.items()]
        response = httpx.get(
            f"{self.alertmanager.url}/api/v2/alerts", params={"filter": filters}, timeout=5.0
        )
        response.raise_for_status()
        alerts: list[dict[str, Any]] = response.json()
        return alerts


def _api(base: str, path: str, **params: str) -> Any:
    response = httpx.get(base + path, params=params, timeout=5.0)
    response.raise_for_status()
    body = response.json()
    if body.get("status") != "success":
        raise StackError(f"{path} answered {body}")
    return body["data"]


def build_with_perfdash(root: Path, base_config: Path, merged_config: Path) -> list[Path]:
    """``perfdash build slos --out out --alertmanager-base ... --alertmanager-out ...``, run
    as a user would (a subprocess); the generated rule files."""
    command = [
        sys.executable,
        "-m",
        "perfdash",
        "build",
        "slos",
        "--out",
        "out",
        "--alertmanager-base",
        str(base_config),
        "--alertmanager-out",
        str(merged_config),
    ]
    done = subprocess.run(
        command, cwd=root, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise StackError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    return sorted((root / "out" / "alerts" / "rules").glob("*.yaml"))


def base_alertmanager_config(webhook: str, receivers: Iterable[str]) -> dict[str, Any]:
    """The user's own alertmanager.yml: every receiver a webhook named after it."""
    names = ["default", *receivers]
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {"receiver": "default", "group_by": ["alertname"]},
        "receivers": [
            {"name": name, "webhook_configs": [{"url": f"{webhook}/{name}", "send_resolved": True}]}
            for name in names
        ],
    }


@contextmanager
def alert_stack(
    root: Path,
    *,
    binaries: Binaries,
    receivers: Iterable[str],
    services: Iterable[SyntheticService],
) -> Iterator[AlertStack]:
    """The declarations in ``root/slos`` built, everything up in dependency order, and ready:
    every rule group evaluated on scraped data and Prometheus connected to Alertmanager.
    Torn down in reverse order."""
    with ExitStack() as stack:
        webhook = stack.enter_context(Webhook())
        base = root / "alertmanager-base.yml"
        base.write_text(yaml.safe_dump(base_alertmanager_config(webhook.url, receivers)))
        merged = root / "alertmanager.yml"
        rule_files = build_with_perfdash(root, base, merged)
        started = {s.name: stack.enter_context(serving(s)) for s in services}
        backfill(started.values(), root / "prometheus-data", binaries.promtool)
        am_port, prom_port = free_port(), free_port()
        alertmanager = stack.enter_context(
            running(
                "alertmanager",
                [
                    binaries.alertmanager,
                    f"--config.file={merged}",
                    f"--storage.path={root / 'alertmanager-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",  # no gossip: a single instance
                    "--log.level=debug",
                ],
                url=f"http://127.0.0.1:{am_port}",
                log_path=root / "alertmanager.log",
            )
        )
        config = root / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(prometheus_config(started.values(), rule_files, f"127.0.0.1:{am_port}"))
        )
        prometheus = stack.enter_context(
            running(
                "prometheus",
                [
                    binaries.prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={root / 'prometheus-data'}",
                    f"--web.listen-address=127.0.0.1:{prom_port}",
                    f"--rules.alert.resend-delay={RESEND_DELAY}",
                ],
                url=f"http://127.0.0.1:{prom_port}",
                log_path=root / "prometheus.log",
            )
        )
        live = AlertStack(root, started, webhook, prometheus, alertmanager, rule_files)
        _wait_until_ready(live)
        live.ready_at = time.time()
        yield live


def _wait_until_ready(stack: AlertStack) -> None:
    deadline = time.time() + STARTUP_SECONDS
    for process in (stack.alertmanager, stack.prometheus):
        stack.wait(f"{process.name} to be ready", partial(_ready, process), deadline=deadline)

    def targets_up() -> bool | None:
        targets = _api(stack.prometheus.url, "/api/v1/targets", state="active")["activeTargets"]
        healthy = [t for t in targets if t["health"] == "up"]
        return True if len(healthy) == len(stack.services) else None

    def alertmanager_known() -> bool | None:
        found = _api(stack.prometheus.url, "/api/v1/alertmanagers")["activeAlertmanagers"]
        return True if found else None

    stack.wait("every service scraped", targets_up, deadline=deadline)
    stack.wait("Prometheus to discover Alertmanager", alertmanager_known, deadline=deadline)
    start = _group_iterations(stack.prometheus.url)

    def evaluated_twice() -> bool | None:
        counts = _group_iterations(stack.prometheus.url)
        groups = _api(stack.prometheus.url, "/api/v1/rules")["groups"]
        names = [g["name"] for g in groups]
        done = names and all(counts.get(n, 0) >= start.get(n, 0) + 2 for n in names)
        return True if done else None

    stack.wait(
        "two evaluations of every rule group after the first scrape",
        evaluated_twice,
        deadline=deadline,
    )
    broken = [
        (g["name"], r["name"], r.get("lastError"))
        for g in _api(stack.prometheus.url, "/api/v1/rules")["groups"]
        for r in g["rules"]
        if r["health"] != "ok"
    ]
    if broken:
        raise stack.fail(f"rules failing to evaluate: {broken}")


def _ready(process: Process) -> bool | None:
    """True once the process serves its API (Prometheus answers 503 while starting)."""
    return True if httpx.get(f"{process.url}/-/ready", timeout=5.0).status_code == 200 else None


def _group_iterations(base: str) -> dict[str, int]:
    response = httpx.get(f"{base}/metrics", timeout=5.0)
    response.raise_for_status()
    counts = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "prometheus_rule_group_iterations_total":
                counts[sample.labels["rule_group"].rpartition(";")[2]] = int(sample.value)
    return counts


def environment_binaries() -> Binaries:
    """The three binaries from PATH (Alertmanager under either of its names)."""
    found = {
        "prometheus": shutil.which("prometheus"),
        "alertmanager": shutil.which("alertmanager") or shutil.which("prometheus-alertmanager"),
        "promtool": shutil.which("promtool"),
    }
    missing = [name for name, path in found.items() if not path]
    if missing:
        raise StackError(
            f"not on PATH: {', '.join(missing)} (Debian: apt-get install prometheus "
            "prometheus-alertmanager)"
        )
    return Binaries(**{name: str(path) for name, path in found.items()})
