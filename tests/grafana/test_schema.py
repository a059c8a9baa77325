"""Generated dashboards pass Grafana's published JSON schemas (../shared/grafana-schema)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from benchmarks.fleet import write_fleet
from perfdash.build import build_artifacts
from perfdash.spec import load_fleet
from tests.conftest import REPO
from tests.grafana.conftest import SchemaChecker


def write_dashboards(artifacts: dict[str, str], root: Path) -> Path:
    """Write the dashboards of ``artifacts`` under ``root``; returns ``root/dashboards``."""
    for path, text in artifacts.items():
        if path.startswith("dashboards/"):
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
    return root / "dashboards"


def assert_valid(result: subprocess.CompletedProcess[str], *, files: int) -> None:
    report = f"grafana_schema_check said:\n{result.stdout}{result.stderr}"
    assert result.returncode == 0, report
    assert result.stdout.splitlines()[-1] == (
        f"grafana_schema_check: {files} files, 0 with problems"
    ), report


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
