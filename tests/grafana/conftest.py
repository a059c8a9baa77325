"""Fixtures for the generated dashboards: the example fleet's output and Grafana's schema check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from perfdash import conventions
from perfdash.build import build_artifacts
from perfdash.model.fleet import Fleet
from testing.grafana_schema import folder_problems
from tests.conftest import REPO
from tests.grafana.dashboard_walk import Dashboard, dashboards_of

SHARED_SCHEMA_CHECK = REPO.parent / "shared" / "tools" / "grafana_schema_check.py"


@dataclass(frozen=True)
class SchemaCheck:
    """What a check of a file or folder of dashboards found."""

    files: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return self.files > 0 and not self.problems

    def __str__(self) -> str:
        return f"{self.files} dashboards checked, problems:\n" + "\n".join(self.problems)


SchemaChecker = Callable[[Path], SchemaCheck]


@pytest.fixture(scope="session")
def grafana_schema_checker() -> SchemaChecker:
    """Checks a dashboard file or folder against Grafana's schemas (tests/grafana/schema)."""

    def check(path: Path) -> SchemaCheck:
        return SchemaCheck(*folder_problems(path))

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
