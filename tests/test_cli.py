"""The command line: output, exit codes, atomic writes, --check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from perfdash.cli import COMMANDS
from perfdash.spec.schema import schema_text
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
    assert result.stderr == "Error: nowhere:0:0: no such file or directory\n"


def test_usage_errors_exit_2(project: Path) -> None:
    result = run_cli(["build", "--no-such-option"], cwd=project)
    assert result.exit_code == 2
    assert "Error: No such option '--no-such-option'." in result.stderr


def test_schema_prints_the_packaged_json_schema(project: Path) -> None:
    result = run_cli(["schema"], cwd=project)
    assert result.exit_code == 0
    assert result.stdout == schema_text()
    assert json.loads(result.stdout)["properties"]["apiVersion"]["const"] == "perfdash/v1"


def test_the_schema_copy_in_docs_is_current() -> None:
    committed = Path(__file__).parents[1] / "docs" / "perfdash-v1.schema.json"
    assert committed.read_text(encoding="utf-8") == schema_text(), (
        "docs/perfdash-v1.schema.json is stale: perfdash schema > docs/perfdash-v1.schema.json"
    )


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


def test_test_refuses_stale_output(project: Path) -> None:
    result = run_cli(["test"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: the generated files of the services under test are not up to date in . "
        "(alerts/rules/checkout.yaml, alerts/tests/checkout/availability.slow-burn.yaml, "
        "alerts/tests/checkout/availability.yaml): run `perfdash build` first\n"
    )


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_an_example_and_the_exit_codes(command: str) -> None:
    result = run_cli([command, "-h"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert "Exit status:" in result.stdout


def _run_main_with(body: str) -> subprocess.CompletedProcess[str]:
    """Run perfdash's real entry point in a child Python with one extra command."""
    program = textwrap.dedent(
        f"""
        import sys
        from perfdash.cli import cli, main

        @cli.command()
        def boom():
            {body}

        main(["boom"])
        """
    )
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False, env=os.environ
    )


def test_an_unexpected_exception_is_reported_as_a_bug_with_exit_70() -> None:
    done = _run_main_with("raise RuntimeError('kaboom')")
    assert done.returncode == 70
    assert "RuntimeError: kaboom" in done.stderr
    assert "this is a bug" in done.stderr


def test_ctrl_c_exits_130() -> None:
    done = _run_main_with("raise KeyboardInterrupt")
    assert done.returncode == 130


def test_the_entry_point_exits_1_on_bad_input_and_2_on_usage(tmp_path: Path) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "perfdash", "validate", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: ")
    usage = subprocess.run(
        [sys.executable, "-m", "perfdash", "frobnicate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert usage.returncode == 2


def test_building_loads_no_network_database_or_deploy_code_until_needed() -> None:
    # Start-up time: what `perfdash build` imports but never uses is time in every run.
    program = (
        "import sys, perfdash.spec, perfdash.build, perfdash.cli; "
        "print(sorted(m for m in ('httpx', 'psycopg', 'grafana_client', 'jsonschema', "
        "'perfdash.commands.baseline', 'perfdash.commands.apply') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
