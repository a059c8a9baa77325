"""Generated dashboards pass Grafana's published JSON schemas (tests/grafana/schema; in CI
also ../shared's own checker)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from perfdash.build import build_artifacts
from perfdash.spec import load_fleet
from testing.fleet import write_fleet
from tests.conftest import IN_CI, REPO
from tests.grafana.conftest import SHARED_SCHEMA_CHECK, SchemaCheck, SchemaChecker


def write_dashboards(artifacts: dict[str, str], root: Path) -> Path:
    """Write the dashboards of ``artifacts`` under ``root``; returns ``root/dashboards``."""
    for path, text in artifacts.items():
        if path.startswith("dashboards/"):
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
    return root / "dashboards"


def assert_valid(result: SchemaCheck, *, files: int) -> None:
    assert result.problems == [], str(result)
    assert result.files == files


def test_every_dashboard_of_the_example_fleet_passes_grafanas_schema(
    example_artifacts: dict[str, str], grafana_schema_checker: SchemaChecker, tmp_path: Path
) -> None:
    folder = write_dashboards(example_artifacts, tmp_path)
    count = sum(path.startswith("dashboards/") for path in example_artifacts)
    assert count == 7  # six services and the overview
    assert_valid(grafana_schema_checker(folder), files=count)


@pytest.mark.integration
def test_every_dashboard_of_a_200_service_fleet_passes_grafanas_schema(
    grafana_schema_checker: SchemaChecker, tmp_path: Path
) -> None:
    write_fleet(200, tmp_path / "slos")
    fleet = load_fleet([tmp_path / "slos"], root=tmp_path)
    folder = write_dashboards(build_artifacts(fleet), tmp_path / "out")
    assert_valid(grafana_schema_checker(folder), files=201)


def test_the_committed_dashboards_pass_grafanas_schema(
    grafana_schema_checker: SchemaChecker,
) -> None:
    folder = REPO / "dashboards"
    count = len(list(folder.rglob("*.json")))
    assert count, f"no dashboards committed under {folder}"
    assert_valid(grafana_schema_checker(folder), files=count)


def test_a_dashboard_grafana_would_refuse_is_caught(
    example_artifacts: dict[str, str], grafana_schema_checker: SchemaChecker, tmp_path: Path
) -> None:
    """The checker is not a rubber stamp: a wrong type and a bad panel option fail it."""
    folder = write_dashboards(example_artifacts, tmp_path)
    path = next(folder.rglob("checkout.json"))
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    dashboard["refresh"] = 30
    panel = next(p for p in dashboard["panels"] if p.get("type") == "timeseries")
    panel["options"]["legend"]["displayMode"] = "sideways"
    path.write_text(json.dumps(dashboard), encoding="utf-8")
    result = grafana_schema_checker(path)
    assert any(p.endswith("dashboard/refresh: 30 is not of type 'string'") for p in result.problems)
    assert any(
        "/options/legend/displayMode: 'sideways' is not one of" in p for p in result.problems
    )


def test_the_committed_dashboards_pass_the_shared_schema_checker() -> None:
    """The team's own copy of the checker agrees (only where ../shared is: CI has it)."""
    if not SHARED_SCHEMA_CHECK.is_file():
        if IN_CI:
            pytest.fail(f"CI must provide {SHARED_SCHEMA_CHECK}", pytrace=False)
        pytest.skip(f"{SHARED_SCHEMA_CHECK} is only beside CI's clone")
    done = subprocess.run(
        [sys.executable, str(SHARED_SCHEMA_CHECK), str(REPO / "dashboards")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
