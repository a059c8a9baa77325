"""``perfdash explain``: the Workbook's table, computed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with one valid declaration under slos/."""
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    return tmp_path


def test_explain_prints_the_workbook_table(project: Path) -> None:
    result = run_cli(["explain", "checkout/availability"], cwd=project)
    assert result.exit_code == 0
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["30d", "43.2", "min", "(43m12s)"] in rows
    assert ["page", "1h/5m", "14.4", "1.44%", "2%", "52s", "52s", "2d2h"] in rows
    assert ["page", "6h/30m", "6", "0.6%", "5%", "2m10s", "2m10s", "5d"] in rows
    assert ["ticket", "3d/6h", "1", "0.1%", "10%", "4m34s", "4m19s", "30d"] in rows


def test_explain_of_an_unknown_slo_names_the_known_ones(project: Path) -> None:
    result = run_cli(["explain", "checkout/latency"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: service 'checkout' has no SLO 'latency' (SLOs: availability)\n"
    )
