"""Shared fixtures. Guard rails first: no test sees the developer's environment."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from perfdash.model.fleet import Fleet

if TYPE_CHECKING:
    from testing.doubles.grafana import GrafanaDouble

REPO = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite tests/golden/*/out from the current generators (review the diff!).",
    )


@pytest.fixture(autouse=True)
def clean_environ(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No PERFDASH_*/GRAFANA_* settings leak in, and HOME is a fresh temporary folder."""
    for name in list(os.environ):
        if name.startswith(("PERFDASH_", "GRAFANA_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


def require_binary(name: str, *, package: str = "prometheus prometheus-alertmanager") -> str:
    """Path of ``name``; skips locally when missing, fails in CI (CI=true) where it must exist."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (Debian: apt-get install {package})"
    if IN_CI:
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def promtool_bin() -> str:
    return require_binary("promtool")


@pytest.fixture(scope="session")
def prometheus_bin() -> str:
    return require_binary("prometheus")


@pytest.fixture
def grafana_double() -> Iterator[GrafanaDouble]:
    """An empty in-process Grafana (HTTP on 127.0.0.1) with a service-account token."""
    from testing.doubles.grafana import GrafanaDouble

    with GrafanaDouble() as double:
        yield double


@pytest.fixture(scope="session")
def example_fleet() -> Fleet:
    """The committed example fleet under slos/."""
    from perfdash.spec import load_fleet

    return load_fleet([REPO / "slos"], root=REPO)
