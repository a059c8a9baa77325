"""Fixtures for deploy tests: the example fleet's generated files."""

from __future__ import annotations

import pytest

from perfdash.build import build_artifacts
from perfdash.model.fleet import Fleet


@pytest.fixture(scope="session")
def example_artifacts(example_fleet: Fleet) -> dict[str, str]:
    """Every file ``perfdash build`` generates for slos/ (no Jsonnet overrides)."""
    return build_artifacts(example_fleet, jobs=1)
