"""``perfdash import``: what it writes and refuses, as a user runs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, require_binary
from tests.helpers import run_cli

FIXTURES = REPO / "tests/spec/importers/fixtures"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A repository with the JSON schema where `perfdash init` puts it, and Sloth files."""
    (tmp_path / "docs").mkdir()
    shutil.copy(REPO / "docs/perfdash-v1.schema.json", tmp_path / "docs")
    shutil.copytree(FIXTURES / "sloth", tmp_path / "sloth")
    return tmp_path


def test_import_writes_one_file_per_service_that_validates(project: Path) -> None:
    result = run_cli(
        ["import", "sloth", "sloth/getting-started.yml", "--runbook", "https://rb.example.com/s"],
        cwd=project,
    )
    assert result.exit_code == 0, result.output
    written = project / "slos/myteam/myservice.yaml"
    assert result.stderr == f"wrote {Path('slos/myteam/myservice.yaml')}\n"
    text = written.read_text(encoding="utf-8")
    assert text.startswith(
        "# yaml-language-server: $schema=../../docs/perfdash-v1.schema.json\n"
        "# Imported from sloth/getting-started.yml (Sloth prometheus/v1) by `perfdash import`.\n"
        "apiVersion: perfdash/v1\n"
    )
    assert (
        '        events: {total: http_request_duration_seconds_count, bad: {code: "(5..|429)"}}\n'
        in text
    )
    validated = run_cli(["validate"], cwd=project)
    assert (validated.exit_code, validated.output) == (0, "ok: 1 services, 1 SLOs\n")


def test_an_existing_file_is_kept_unless_forced(project: Path) -> None:
    args = ["import", "sloth", "sloth/no-alerts.yml"]
    assert run_cli(args, cwd=project).exit_code == 0
    target = project / "slos/myteam/myapp.yaml"
    target.write_text("# edited by hand\n", encoding="utf-8")
    again = run_cli(args, cwd=project)
    assert again.exit_code == 1
    assert (
        again.stderr
        == f"Error: {Path('slos/myteam/myapp.yaml')}: exists: pass --force to replace it\n"
    )
    assert target.read_text(encoding="utf-8") == "# edited by hand\n"
    forced = run_cli([*args, "--force"], cwd=project)
    assert forced.exit_code == 0
    assert forced.stderr == f"replaced {Path('slos/myteam/myapp.yaml')}\n"


def test_errors_name_the_imported_file_and_nothing_is_written(project: Path) -> None:
    # Sloth's examples declare the home-wifi service three times (one per example).
    result = run_cli(["import", "sloth", "sloth/", "--team", "home"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "Error: sloth/k8s-home-wifi.yml:17:13: spec.slos[0].name: SLO "
        "'good-wifi-client-satisfaction' of service 'home-wifi' is declared twice (first at "
        "sloth/home-wifi.yml:8)",
        "sloth/k8s-home-wifi.yml:33:13: spec.slos[1].name: SLO 'risk-wifi-client-satisfaction' "
        "of service 'home-wifi' is declared twice (first at sloth/home-wifi.yml:23)",
    ]
    assert not (project / "slos").exists()


def test_a_file_of_another_format_says_which_command_reads_it(project: Path) -> None:
    shutil.copy(FIXTURES / "pyrra/coredns-request-latency.yaml", project / "coredns.yaml")
    result = run_cli(["import", "sloth", "coredns.yaml"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: coredns.yaml:1:1: not a Sloth document: expected `version: prometheus/v1` or "
        "`apiVersion: sloth.slok.dev/v1` with `kind: PrometheusServiceLevel`; this is Pyrra: "
        "`perfdash import pyrra`\n"
    )


def test_stdout_and_explain_print_and_write_nothing(project: Path) -> None:
    result = run_cli(
        ["import", "sloth", "sloth/no-alerts.yml", "--stdout", "--explain"], cwd=project
    )
    assert result.exit_code == 0
    assert result.stdout.startswith(f"--- # {Path('slos/myteam/myapp.yaml')}\n")
    assert "\nmyapp:\n  - Sloth's two alerts per SLO" in result.stdout
    assert not (project / "slos").exists()


@pytest.mark.integration
def test_every_upstream_example_that_imports_passes_perfdash_test(tmp_path: Path) -> None:
    """The imported declarations compile into rules promtool accepts, and their generated
    unit tests pass: the SLIs compute ratios on real series, windows substituted."""
    require_binary("promtool")
    runbook = ["--runbook", "https://runbooks.example.com/imported"]
    for source, names in {
        # One SLO of each kind the importers make (promtool runs ~10 s per SLO).
        "sloth": ["kubernetes-apiserver.yml", "raw-home-wifi.yml"],  # events, latency, ratio
        "pyrra": ["variant-bool-gauge.yaml"],  # samples of a gauge
        "openslo": ["ratio-prometheus.yaml"],  # total - good
    }.items():
        paths = [str(FIXTURES / source / name) for name in names]
        result = run_cli(
            [
                "import",
                source,
                *paths,
                "--team",
                "imported",
                *runbook,
                "--out",
                str(tmp_path / source),
            ]
        )
        assert result.exit_code == 0, result.output
    folders = [str(tmp_path / source) for source in ("sloth", "pyrra", "openslo")]
    built = run_cli(["build", *folders, "--out", str(tmp_path / "out")])
    assert built.exit_code == 0, built.output
    tested = run_cli(["test", *folders, "--out", str(tmp_path / "out")])
    assert tested.exit_code == 0, tested.output
