"""``perfdash validate``: what it reads, every problem with its position."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with one valid declaration under slos/."""
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    return tmp_path


def test_validate_reports_what_it_read(project: Path) -> None:
    result = run_cli(["validate"], cwd=project)
    assert result.exit_code == 0
    assert result.stdout == "ok: 1 services, 1 SLOs\n"


def test_validate_lists_every_problem_with_its_position_and_exits_1(project: Path) -> None:
    write_declaration(
        project / "slos",
        "bad.yaml",
        """
        apiVersion: perfdash/v1
        kind: Service
        metadata:
          name: search
          team: discovery
          tier: 7
          runbook: https://runbooks.example.com/search
        spec:
          selector: {job: search}
          slos:
            - name: availability
              objective: 100
              sli:
                events: {total: http_requests_total, bad: {code: "5.."}}
        """,
    )
    result = run_cli(["validate"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: slos/bad.yaml:6:9: metadata.tier: must be at most 4, got 7\n"
        "slos/bad.yaml:12:18: spec.slos[0].objective: must be a percentage strictly between "
        "0 and 100, got 100\n"
    )


def test_a_missing_path_is_an_error_not_an_empty_fleet(tmp_path: Path) -> None:
    result = run_cli(["validate", "nowhere"], cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == "Error: nowhere: no such file or directory\n"
