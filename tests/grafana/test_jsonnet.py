"""Jsonnet overrides and extra dashboards: applied, validated, errors located."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfdash.build import build_artifacts
from perfdash.spec import load_fleet
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration

OVERRIDE = """\
function(dashboard) dashboard {
  title: 'Checkout (patched)',
  panels+: [{id: 999, type: 'text', title: 'Note', gridPos: {h: 2, w: 24, x: 0, y: 99},
             options: {mode: 'markdown', content: 'hello'}}],
}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    return tmp_path


def _dashboard(artifacts: dict[str, str], path: str = "dashboards/payments/checkout.json") -> dict:
    return json.loads(artifacts[path])


def test_a_conventional_override_patches_the_generated_dashboard(project: Path) -> None:
    write_declaration(project / "dashboards/overrides", "checkout.libsonnet", OVERRIDE)
    fleet = load_fleet([project / "slos"], root=project)
    plain = _dashboard(build_artifacts(fleet, jobs=1))
    patched = _dashboard(build_artifacts(fleet, jobs=1, jsonnet_dir=project / "dashboards"))
    assert patched["title"] == "Checkout (patched)"
    assert patched["panels"][:-1] == plain["panels"]
    assert patched["panels"][-1]["title"] == "Note"
    assert patched["uid"] == plain["uid"] == "pd-checkout"


def test_an_override_declared_in_the_service_is_resolved_next_to_the_declaration(
    project: Path,
) -> None:
    write_declaration(project / "slos/jsonnet", "mine.libsonnet", OVERRIDE)
    declaration = project / "slos/checkout.yaml"
    declaration.write_text(
        declaration.read_text().replace(
            "  selector: {job: checkout}\n",
            "  selector: {job: checkout}\n  dashboard: {jsonnet: jsonnet/mine.libsonnet}\n",
        )
    )
    fleet = load_fleet([project / "slos"], root=project)
    patched = _dashboard(build_artifacts(fleet, jobs=1, jsonnet_dir=project / "nowhere"))
    assert patched["title"] == "Checkout (patched)"


def test_a_declared_override_that_does_not_exist_is_a_validation_error(project: Path) -> None:
    declaration = project / "slos/checkout.yaml"
    declaration.write_text(
        declaration.read_text().replace(
            "  selector: {job: checkout}\n",
            "  selector: {job: checkout}\n  dashboard: {jsonnet: missing.libsonnet}\n",
        )
    )
    result = run_cli(["validate"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: slos/checkout.yaml:10:24: spec.dashboard.jsonnet: no such file: "
    )


def test_a_jsonnet_syntax_error_names_file_line_and_column_and_writes_nothing(
    project: Path,
) -> None:
    write_declaration(
        project / "dashboards/overrides",
        "checkout.libsonnet",
        "function(dashboard)\n  dashboard +\n",
    )
    result = run_cli(["build"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: dashboards/overrides/checkout.libsonnet:3:1: jsonnet: STATIC ERROR: "
    )
    assert not (project / "alerts").exists() and not (project / "dashboards/payments").exists()


def test_a_jsonnet_runtime_error_points_at_the_failing_expression(project: Path) -> None:
    write_declaration(
        project / "dashboards/overrides",
        "checkout.libsonnet",
        "function(dashboard)\n  dashboard { title: error 'no title for you' }\n",
    )
    result = run_cli(["build"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: dashboards/overrides/checkout.libsonnet:2:22: jsonnet: RUNTIME ERROR: no title for you"
    )


def test_an_override_may_not_change_the_uid(project: Path) -> None:
    write_declaration(
        project / "dashboards/overrides", "checkout.libsonnet", "function(d) d { uid: 'mine' }\n"
    )
    result = run_cli(["build"], cwd=project)
    assert result.exit_code == 1
    assert "must keep the dashboard uid 'pd-checkout'" in result.stderr


def test_extra_jsonnet_dashboards_are_built_tagged_and_owned(project: Path) -> None:
    write_declaration(
        project / "dashboards/src",
        "team.jsonnet",
        "{uid: 'team-board', title: 'Team board', tags: ['team:payments'], panels: [],"
        " schemaVersion: 39, annotations: {list: []}, templating: {list: []}}\n",
    )
    assert run_cli(["build"], cwd=project).exit_code == 0
    extra = json.loads((project / "dashboards/extra/team.json").read_text())
    assert extra["uid"] == "team-board"
    assert extra["tags"] == ["perfdash", "team:payments"]
    (project / "dashboards/src/team.jsonnet").unlink()
    result = run_cli(["build"], cwd=project)
    assert "removed 1" in result.stdout
    assert not (project / "dashboards/extra/team.json").exists()


def test_an_extra_dashboard_may_not_take_a_generated_uid(project: Path) -> None:
    write_declaration(
        project / "dashboards/src",
        "clash.jsonnet",
        "{uid: 'pd-checkout', title: 'Clash', panels: []}\n",
    )
    result = run_cli(["build"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: dashboards/extra/clash.json:1:1: uid: dashboard uid 'pd-checkout' is already used "
        "by dashboards/payments/checkout.json\n"
    )


def test_provisioning_writes_a_provider_and_a_folder_per_team(
    project: Path, tmp_path: Path
) -> None:
    target = tmp_path / "provisioning"
    result = run_cli(
        ["build", "--provisioning", str(target), "--provisioning-path", "/var/lib/grafana/pd"],
        cwd=project,
    )
    assert result.exit_code == 0, result.stderr
    files = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert files == [
        ".perfdash/manifest.json",
        "dashboards/payments/checkout.json",
        "dashboards/perfdash/overview.json",
        "perfdash-dashboards.yaml",
    ]
    import yaml

    provider = yaml.safe_load((target / "perfdash-dashboards.yaml").read_text())
    assert provider["providers"][0]["options"] == {
        "path": "/var/lib/grafana/pd",
        "foldersFromFilesStructure": True,
    }
    assert (target / "dashboards/payments/checkout.json").read_bytes() == (
        project / "dashboards/payments/checkout.json"
    ).read_bytes()


def test_a_declared_jsonnet_file_is_accepted_as_the_message_says(project: Path) -> None:
    write_declaration(project / "slos", "mine.jsonnet", OVERRIDE)
    declaration = project / "slos/checkout.yaml"
    declaration.write_text(
        declaration.read_text().replace(
            "  selector: {job: checkout}\n",
            "  selector: {job: checkout}\n  dashboard: {jsonnet: mine.jsonnet}\n",
        )
    )
    fleet = load_fleet([project / "slos"], root=project)
    assert fleet.service("checkout").dashboard_jsonnet == str(project / "slos/mine.jsonnet")


def test_imports_inside_the_project_and_the_vendor_folder_work(project: Path) -> None:
    write_declaration(
        project / "dashboards/vendor/lib", "panels.libsonnet", "{ note: 'vendored' }\n"
    )
    write_declaration(project / "dashboards/notes", "oncall.md", "Pager: #payments-oncall\n")
    write_declaration(
        project / "dashboards/overrides",
        "checkout.libsonnet",
        "local lib = import 'lib/panels.libsonnet';\n"
        "function(d) d { description: lib.note + ': ' + importstr '../notes/oncall.md' }\n",
    )
    result = run_cli(["build"], cwd=project)
    assert result.exit_code == 0, result.stderr
    dashboard = json.loads((project / "dashboards/payments/checkout.json").read_text())
    assert dashboard["description"] == "vendored: Pager: #payments-oncall\n"


def test_an_import_outside_the_project_is_refused_unread(project: Path, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("token=abc\n")
    write_declaration(
        project / "dashboards/overrides",
        "checkout.libsonnet",
        f"function(d) d {{ description: importstr '{outside}' }}\n",
    )
    result = run_cli(["build"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: dashboards/overrides/checkout.libsonnet:1:30: jsonnet: RUNTIME ERROR: couldn't "
        f'open import "{outside}": outside the project and the Jsonnet folder; not read\n'
    )
    assert "token=abc" not in result.stderr
