"""The alerting stack on VictoriaMetrics: single-node VictoriaMetrics scraping a synthetic
service every second (its history imported first), vmalert evaluating the rules folder
``perfdash apply`` writes (recording results written back to VictoriaMetrics), a real
Alertmanager with the routes ``perfdash build`` merged, and the webhook.

Shared by tests/integration/test_vmalert_e2e.py; the same services, declarations and
bounds as the Prometheus stack (testing/alert_fleet.py), plus the terms vmalert adds:
a rule reads what earlier rules recorded only once vmalert has flushed it to
VictoriaMetrics (``-remoteWrite.flushInterval``) and VictoriaMetrics shows it
(``-search.latencyOffset``), which also delays freshly scraped samples.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from testing.alert_fleet import (
    FAST_RESET_WINDOWS,
    HEALTHY,
    HISTORY_SECONDS,
    REQUESTS_PER_TICK,
    TEAMS,
    service_yaml,
)
from testing.processes import free_port
from testing.service import SyntheticService, serving
from testing.stack import (
    PollingStack,
    Process,
    StackError,
    base_alertmanager_config,
    build_with_perfdash,
    running,
)
from testing.webhook import Webhook

SCRAPE_INTERVAL = 1.0
EVALUATION_INTERVAL = 1.0
FLUSH_INTERVAL = 0.5  # vmalert -remoteWrite.flushInterval
LATENCY_OFFSET = 1.0  # victoria-metrics -search.latencyOffset
STARTUP_SECONDS = 60.0
POLL_SECONDS = 0.1
_OPENMETRICS_SAMPLE = re.compile(r"^(?P<series>\S+) (?P<value>\S+) (?P<at>[0-9.]+)$")

DECLARATIONS = {
    "teams.yaml": TEAMS,
    "pay.yaml": service_yaml(
        "pay", team="payments", tier=1, availability_alerting=FAST_RESET_WINDOWS
    ),
}


@dataclass(frozen=True)
class VMBinaries:
    victoria_metrics: str
    vmalert: str
    alertmanager: str


def environment_binaries() -> VMBinaries | None:
    found = {
        "victoria_metrics": shutil.which("victoria-metrics"),
        "vmalert": shutil.which("vmalert"),
        "alertmanager": shutil.which("alertmanager") or shutil.which("prometheus-alertmanager"),
    }
    if not all(found.values()):
        return None
    return VMBinaries(**{k: str(v) for k, v in found.items()})


@dataclass
class VMStack(PollingStack):
    root: Path
    services: dict[str, SyntheticService]
    webhook: Webhook
    victoria: Process
    vmalert: Process
    alertmanager: Process
    rules_dir: Path

    def diagnostics(self) -> str:
        received = [n.summary() for n in self.webhook.notifications] or ["(none)"]
        return "\n".join(
            [
                "--- webhook notifications ---",
                *received,
                self.vmalert.log_tail(),
                self.victoria.log_tail(20),
                self.alertmanager.log_tail(20),
            ]
        )

    def fail(self, message: str) -> StackError:
        return StackError(f"{message}\n{self.diagnostics()}")

    def check_alive(self) -> None:
        for process in (self.victoria, self.vmalert, self.alertmanager):
            try:
                process.check_alive()
            except StackError as exc:
                raise self.fail(str(exc)) from None

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query on VictoriaMetrics (its Prometheus-compatible API)."""
        response = httpx.get(
            f"{self.victoria.url}/api/v1/query", params={"query": promql}, timeout=5.0
        )
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()["data"]["result"]
        return result

    def rule_groups(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.vmalert.url}/api/v1/rules", timeout=5.0)
        response.raise_for_status()
        groups: list[dict[str, Any]] = response.json()["data"]["groups"]
        return groups


def import_history(victoria: str, services: list[SyntheticService]) -> None:
    """Each service's history (``openmetrics_history``) into VictoriaMetrics through its
    Prometheus text import, timestamps in milliseconds, then flushed for searching."""
    for service in services:
        labels = {"instance": f"127.0.0.1:{service.metrics_port}", "job": service.name}
        lines = []
        for line in service.openmetrics_history(
            labels=labels, until=service.started_at
        ).splitlines():
            match = _OPENMETRICS_SAMPLE.match(line)
            if match:
                at = round(float(match["at"]) * 1000)
                lines.append(f"{match['series']} {match['value']} {at}")
        response = httpx.post(
            f"{victoria}/api/v1/import/prometheus",
            content="\n".join(lines) + "\n",
            timeout=60.0,
        )
        response.raise_for_status()
    httpx.get(f"{victoria}/internal/force_flush", timeout=30.0).raise_for_status()


def write_declarations(root: Path) -> None:
    for name, text in DECLARATIONS.items():
        (root / "slos").mkdir(parents=True, exist_ok=True)
        (root / "slos" / name).write_text(text, encoding="utf-8")


@contextmanager
def vm_stack(root: Path, binaries: VMBinaries, *, receivers: list[str]) -> Iterator[VMStack]:
    """Everything up, history imported, rules folder empty: the test applies the rules."""
    with ExitStack() as stack:
        webhook = stack.enter_context(Webhook())
        base = root / "alertmanager-base.yml"
        base.write_text(yaml.safe_dump(base_alertmanager_config(webhook.url, receivers)))
        merged = root / "alertmanager.yml"
        write_declarations(root)
        build_with_perfdash(root, base, merged)
        service = SyntheticService(
            "pay",
            requests_per_tick=REQUESTS_PER_TICK,
            settings=HEALTHY,
            history_seconds=HISTORY_SECONDS,
        )
        started = stack.enter_context(serving(service))
        scrape = root / "scrape.yml"
        scrape.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": f"{SCRAPE_INTERVAL:g}s"},
                    "scrape_configs": [
                        {
                            "job_name": "pay",
                            "static_configs": [{"targets": [f"127.0.0.1:{started.metrics_port}"]}],
                        }
                    ],
                }
            )
        )
        vm_port, am_port, vmalert_port = free_port(), free_port(), free_port()
        victoria = stack.enter_context(
            running(
                "victoria-metrics",
                [
                    binaries.victoria_metrics,
                    f"-storageDataPath={root / 'vm-data'}",
                    f"-httpListenAddr=127.0.0.1:{vm_port}",
                    f"-promscrape.config={scrape}",
                    f"-search.latencyOffset={LATENCY_OFFSET:g}s",
                    "-search.disableCache",
                    "-retentionPeriod=1",
                ],
                url=f"http://127.0.0.1:{vm_port}",
                log_path=root / "victoria-metrics.log",
            )
        )
        wait_http(victoria, "/health")
        import_history(victoria.url, [started])
        alertmanager = stack.enter_context(
            running(
                "alertmanager",
                [
                    binaries.alertmanager,
                    f"--config.file={merged}",
                    f"--storage.path={root / 'alertmanager-data'}",
                    f"--web.listen-address=127.0.0.1:{am_port}",
                    "--cluster.listen-address=",
                ],
                url=f"http://127.0.0.1:{am_port}",
                log_path=root / "alertmanager.log",
            )
        )
        rules_dir = root / "vmalert-rules"
        rules_dir.mkdir()
        vmalert = stack.enter_context(
            running(
                "vmalert",
                [
                    binaries.vmalert,
                    f"-rule={rules_dir}/*.yaml",
                    f"-datasource.url={victoria.url}",
                    f"-remoteWrite.url={victoria.url}",
                    f"-remoteWrite.flushInterval={int(FLUSH_INTERVAL * 1000)}ms",
                    f"-notifier.url={alertmanager.url}",
                    f"-evaluationInterval={EVALUATION_INTERVAL:g}s",
                    f"-httpListenAddr=127.0.0.1:{vmalert_port}",
                    "-loggerLevel=INFO",
                ],
                url=f"http://127.0.0.1:{vmalert_port}",
                log_path=root / "vmalert.log",
            )
        )
        live = VMStack(root, {"pay": started}, webhook, victoria, vmalert, alertmanager, rules_dir)
        deadline = time.time() + STARTUP_SECONDS
        for process, path in ((alertmanager, "/-/ready"), (vmalert, "/health")):
            live.wait(
                f"{process.name} to be ready",
                lambda p=process, q=path: _ok(p, q),
                deadline=deadline,
            )
        live.wait(
            "VictoriaMetrics to scrape pay",
            lambda: True if live.query('up{job="pay"} == 1') else None,
            deadline=deadline,
        )
        yield live


def _ok(process: Process, path: str) -> bool | None:
    return True if httpx.get(process.url + path, timeout=5.0).status_code == 200 else None


def wait_http(process: Process, path: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        process.check_alive()
        try:
            if _ok(process, path):
                return
        except httpx.TransportError:
            pass
        time.sleep(POLL_SECONDS)
    raise StackError(f"{process.name} not ready\n{process.log_tail()}")
