"""``perfdash test``: targets, freshness (promtool runs are in tests/integration and tests/verify)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with one valid declaration under slos/."""
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    return tmp_path


def test_test_refuses_stale_output(project: Path) -> None:
    result = run_cli(["test"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the generated files of the services under test are not up to date in . "
        "(alerts/rules/checkout.yaml, alerts/tests/checkout/availability.yaml, "
        "alerts/tests/checkout/availability.slow-burn.yaml): run `perfdash build` first\n"
    )


def test_targets_are_service_names_or_declaration_paths(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from perfdash.spec import load_fleet

    monkeypatch.chdir(project)  # declarations' sources are relative to the working folder
    from perfdash.verify.targets import select_services

    write_declaration(
        project / "slos" / "search", "search.yaml", MINIMAL_SERVICE.replace("checkout", "search")
    )
    fleet = load_fleet([project / "slos"], root=project)
    assert select_services(fleet, []) == {"checkout", "search"}
    assert select_services(fleet, ["search"]) == {"search"}
    assert select_services(fleet, [str(project / "slos/search")]) == {"search"}
    assert select_services(fleet, ["checkout", str(project / "slos/search/search.yaml")]) == {
        "checkout",
        "search",
    }


def test_an_unknown_service_is_named_with_the_known_ones(project: Path) -> None:
    result = run_cli(["test", "nosuch"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no service or declaration file 'nosuch' (services: checkout)\n"
    )
