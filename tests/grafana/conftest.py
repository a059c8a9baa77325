"""Fixtures for the generated dashboards: the example fleet's output and Grafana's schema check."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from perfdash import conventions
from perfdash.build import build_artifacts
from perfdash.model.fleet import Fleet
from tests.conftest import IN_CI, REPO
from tests.grafana.dashboard_walk import Dashboard, dashboards_of

SCHEMA_CHECK = REPO.parent / "shared" / "tools" / "grafana_schema_check.py"

SchemaChecker = Callable[[Path], subprocess.CompletedProcess[str]]


def require_file(path: Path, what: str) -> Path:
    """``path``; skips locally when it is missing, fails in CI (CI=true) where it must exist."""
    if path.is_file():
        return path
    message = f"{what} is missing: {path}"
    if IN_CI:
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def grafana_schema_checker() -> SchemaChecker:
    """Runs ../shared/tools/grafana_schema_check.py on a file or folder (never raises)."""
    script = require_file(SCHEMA_CHECK, "Grafana's schema checker")

    def check(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    return check


@pytest.fixture(scope="session")
def example_artifacts(example_fleet: Fleet) -> dict[str, str]:
    """Every file ``perfdash build`` generates for slos/ (no Jsonnet overrides)."""
    return build_artifacts(example_fleet, jobs=1)


@pytest.fixture(scope="session")
def example_dashboards(example_artifacts: dict[str, str]) -> dict[str, Dashboard]:
    """``{relative path: dashboard}`` of the example fleet."""
    return dashboards_of(example_artifacts)


@pytest.fixture(scope="session")
def service_dashboards(
    example_fleet: Fleet, example_dashboards: dict[str, Dashboard]
) -> dict[str, Dashboard]:
    """``{service name: its dashboard}`` of the example fleet."""
    return {
        s.name: example_dashboards[conventions.dashboard_path(s.team, s.name)]
        for s in example_fleet.services
    }


@pytest.fixture(scope="session")
def overview(example_dashboards: dict[str, Dashboard]) -> Dashboard:
    """The example fleet's overview dashboard."""
    return example_dashboards[conventions.OVERVIEW_PATH]
