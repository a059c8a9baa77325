"""``apply --pushgateway`` pushes metrics of the run to a real Prometheus Pushgateway."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from testing.doubles.grafana import GrafanaDouble
from testing.doubles.server import Fault
from tests.conftest import require_binary
from tests.helpers import (
    MINIMAL_SERVICE,
    background,
    free_port,
    run_cli,
    wait_ready,
    write_declaration,
)

pytestmark = pytest.mark.integration
READY_SECONDS = 20.0


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    binary = require_binary("prometheus-pushgateway", package="prometheus-pushgateway")
    url = f"http://127.0.0.1:{free_port()}"
    log = tmp_path / "pushgateway.log"
    with background(
        [binary, f"--web.listen-address={url.removeprefix('http://')}"], log
    ) as process:
        wait_ready(url, process, log, seconds=READY_SECONDS)
        yield url


@pytest.fixture
def project(tmp_path: Path, grafana_double: GrafanaDouble, monkeypatch: pytest.MonkeyPatch) -> Path:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    monkeypatch.setenv("GRAFANA_URL", grafana_double.url)
    monkeypatch.setenv("GRAFANA_TOKEN", grafana_double.token or "")
    return tmp_path


def pushed(pushgateway: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(name, labels without job/instance): value}`` of the perfdash_apply job."""
    text = httpx.get(f"{pushgateway}/metrics", timeout=5).text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("job") != "perfdash_apply":
                continue
            labels = tuple(sorted((k, v) for k, v in sample.labels.items()
                                  if k not in ("job", "instance")))  # fmt: skip
            found[(sample.name, labels)] = sample.value
    return found


def test_a_successful_apply_pushes_its_duration_and_changes(
    project: Path, pushgateway: str
) -> None:
    result = run_cli(["apply", "--pushgateway", pushgateway], cwd=project)
    assert result.exit_code == 0, result.stderr
    metrics = pushed(pushgateway)
    assert metrics[("perfdash_apply_success", ())] == 1
    assert metrics[("perfdash_apply_duration_seconds", ())] > 0
    assert metrics[("perfdash_apply_last_run_timestamp_seconds", ())] > time.time() - 60
    created = (("action", "create"), ("kind", "dashboard"))
    assert metrics[("perfdash_apply_changes", created)] == 2
    assert metrics[("perfdash_apply_changes", (("action", "create"), ("kind", "folder")))] == 2
    assert metrics[("perfdash_apply_changes", (("action", "update"), ("kind", "dashboard")))] == 0
    assert metrics[("perfdash_apply_failures", (("kind", "dashboard"),))] == 0
    assert metrics[("perfdash_apply_conflicts", ())] == 0


def test_failures_conflicts_and_refused_drift_are_pushed(
    project: Path, pushgateway: str, grafana_double: GrafanaDouble
) -> None:
    assert run_cli(["apply"], cwd=project).exit_code == 0
    grafana_double.ui_edit("pd-checkout", lambda d: d.update(title="by hand"))
    write_declaration(
        project / "slos", "search.yaml", MINIMAL_SERVICE.replace("checkout", "search")
    )
    grafana_double.inject(
        Fault(method="POST", path="/api/dashboards/db", body_contains='"uid":"pd-search"',
              status=500, times=None)
    )  # fmt: skip
    result = run_cli(["apply", "--retries", "1", "--pushgateway", pushgateway], cwd=project)
    assert result.exit_code == 1
    metrics = pushed(pushgateway)
    assert metrics[("perfdash_apply_success", ())] == 0
    assert metrics[("perfdash_apply_failures", (("kind", "dashboard"),))] == 2
    assert metrics[("perfdash_apply_drift_refused", ())] == 1
    assert metrics[("perfdash_apply_conflicts", ())] == 0
    updated = (("action", "update"), ("kind", "dashboard"))
    assert metrics[("perfdash_apply_changes", updated)] == 1  # the overview


def test_a_run_that_fails_before_applying_still_pushes_its_failure(
    project: Path, pushgateway: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", "glsa_revoked_token_value")
    result = run_cli(["apply", "--pushgateway", pushgateway], cwd=project)
    assert result.exit_code == 1
    metrics = pushed(pushgateway)
    assert metrics[("perfdash_apply_success", ())] == 0
    assert ("perfdash_apply_changes", (("action", "create"), ("kind", "dashboard"))) not in metrics


def test_an_unreachable_pushgateway_warns_without_failing_the_apply(project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = run_cli(["apply", "--pushgateway", url], cwd=project)
    assert result.exit_code == 0
    assert result.stderr.startswith(f"warning: cannot push apply metrics to {url}: ")
