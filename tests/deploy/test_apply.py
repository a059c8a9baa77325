"""plan and apply end to end against the Grafana double: the real CLI (or the library
where a test needs to act between plan and apply) on a real temporary project."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from perfdash.deploy.fingerprint import ChangeContext
from perfdash.deploy.grafana_apply import apply_plan
from perfdash.deploy.grafana_client import GrafanaClient
from perfdash.deploy.grafana_live import read_live
from perfdash.deploy.grafana_plan import Plan, desired_state, plan
from perfdash.deploy.http import RetryPolicy
from perfdash.deploy.outcome import ApplyReport
from perfdash.deploy.settings import Secret
from testing.doubles.grafana import GrafanaDouble
from testing.doubles.server import Fault
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration

SEARCH_SERVICE = """\
apiVersion: perfdash/v1
kind: Service
metadata:
  name: search
  team: discovery
  tier: 2
  runbook: https://runbooks.example.com/search
spec:
  selector: {job: search}
  slos:
    - name: availability
      objective: 99.5
      sli:
        events: {total: http_requests_total, bad: {code: "5.."}}
"""
UIDS = ("pd-checkout", "pd-overview", "pd-search")


@pytest.fixture(autouse=True)
def no_ci_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """Version messages here never depend on the CI running the tests."""
    for name in ("GITHUB_SHA", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def project(tmp_path: Path, grafana_double: GrafanaDouble, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two services in two teams, and GRAFANA_URL/GRAFANA_TOKEN pointing at the double."""
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    write_declaration(tmp_path / "slos", "search.yaml", SEARCH_SERVICE)
    monkeypatch.setenv("GRAFANA_URL", grafana_double.url)
    monkeypatch.setenv("GRAFANA_TOKEN", grafana_double.token or "")
    return tmp_path


def edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / "slos" / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def written(double: GrafanaDouble) -> list[str]:
    """What the writes since the last ``reset_log`` touched, as ``METHOD uid``."""
    found = []
    for request in double.writes():
        body = request.json() or {}
        uid = (body.get("dashboard") or body).get("uid") or request.path.rsplit("/", 1)[-1]
        found.append(f"{request.method} {uid}")
    return sorted(found)


def applied(project: Path, double: GrafanaDouble, *args: str) -> None:
    result = run_cli(["apply", *args], cwd=project)
    assert result.exit_code == 0, result.stderr
    double.server.reset_log()


def test_a_first_apply_creates_folders_then_dashboards(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    result = run_cli(["apply"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.endswith("Applied: 6 created.\n")
    assert {u: grafana_double.folder_of(u) for u in UIDS} == {
        "pd-checkout": "perfdash-payments",
        "pd-overview": "perfdash",
        "pd-search": "perfdash-discovery",
    }
    assert grafana_double.folders["perfdash-payments"]["title"] == "payments"
    methods = [(r.method, r.path) for r in grafana_double.writes()]
    assert methods[:3] == [("POST", "/api/folders")] * 3
    assert methods[3:] == [("POST", "/api/dashboards/db")] * 3
    for request in grafana_double.requests("POST", "/api/dashboards/db"):
        body = request.json()
        assert body["overwrite"] is False
        assert body["folderUid"].startswith("perfdash")
        assert "version" not in body["dashboard"]
    [version] = grafana_double.versions("pd-checkout")
    assert version["message"].startswith("perfdash 0.1.0 sha256:")


def test_a_second_apply_makes_no_write(project: Path, grafana_double: GrafanaDouble) -> None:
    applied(project, grafana_double)
    result = run_cli(["apply"], cwd=project)
    assert result.exit_code == 0
    assert grafana_double.writes() == []
    assert "No changes: the targets match the declarations." in result.stdout
    assert result.stdout.endswith("Applied: nothing.\n")
    assert run_cli(["plan", "--detailed-exitcode"], cwd=project).exit_code == 0


def test_plan_changes_nothing_and_its_detailed_exit_code_says_changes_are_present(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    result = run_cli(["plan", "--detailed-exitcode"], cwd=project)
    assert result.exit_code == 2
    assert "Plan: 6 to create." in result.stdout
    assert grafana_double.writes() == []
    assert run_cli(["plan"], cwd=project).exit_code == 0


def test_an_update_sends_the_live_version_and_never_overwrites(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    applied(project, grafana_double)
    edit(project, "checkout.yaml", "objective: 99.9", "objective: 99.95")
    shown = run_cli(["plan", "--format", "markdown"], cwd=project)
    assert "| ~ | update | dashboard | `pd-checkout` | payments |" in shown.stdout
    assert "99.9" in shown.stdout and "```diff" in shown.stdout
    result = run_cli(["apply"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert written(grafana_double) == ["POST pd-checkout"]
    body = grafana_double.requests("POST", "/api/dashboards/db")[0].json()
    assert (body["dashboard"]["version"], body["overwrite"]) == (1, False)
    assert grafana_double.dashboard("pd-checkout")["version"] == 2


def test_a_dashboard_follows_its_team_to_another_folder(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    applied(project, grafana_double)
    edit(project, "search.yaml", "team: discovery", "team: payments")
    result = run_cli(["apply"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert "pd-search (discovery -> payments)" in result.stdout
    assert grafana_double.folder_of("pd-search") == "perfdash-payments"


def test_a_dashboard_moved_in_grafana_is_moved_back(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    applied(project, grafana_double)
    grafana_double.add_folder("favourites", "Favourites")
    grafana_double.ui_move("pd-checkout", "favourites")
    shown = run_cli(["plan"], cwd=project).stdout
    assert "  > move     dashboard pd-checkout (Favourites -> payments)" in shown
    assert run_cli(["apply"], cwd=project).exit_code == 0
    assert grafana_double.folder_of("pd-checkout") == "perfdash-payments"


def test_drift_is_shown_refused_and_overwritten_only_with_force(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    applied(project, grafana_double)
    grafana_double.ui_edit("pd-checkout", lambda d: d.update(title="edited by hand"))
    edit(project, "search.yaml", "objective: 99.5", "objective: 99.7")
    shown = run_cli(["plan"], cwd=project).stdout
    assert (
        "  ! drift    dashboard pd-checkout (payments)  edited in Grafana since perfdash wrote "
        "it (version 2 by alice; perfdash last wrote sha256:"
    ) in shown
    assert '      ~ title: "edited by hand" -> "checkout SLOs"' in shown

    result = run_cli(["apply"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: 1 change(s) failed (1 applied); a re-run retries only what is still different:\n"
        "  dashboard pd-checkout (payments): drift: edited in Grafana since perfdash wrote it "
        "(version 2 by alice;"
    )
    assert grafana_double.dashboard("pd-checkout")["title"] == "edited by hand"
    assert "99.7" in str(grafana_double.dashboard("pd-search"))  # the rest applied

    forced = run_cli(["apply", "--force"], cwd=project)
    assert forced.exit_code == 0, forced.stderr
    assert grafana_double.dashboard("pd-checkout")["title"] == "checkout SLOs"
    assert run_cli(["plan", "--detailed-exitcode"], cwd=project).exit_code == 0


def test_prune_deletes_only_perfdash_dashboards_in_its_folders(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    applied(project, grafana_double)
    grafana_double.add_folder("team-own", "Their folder")
    grafana_double.put(
        {"uid": "theirs", "title": "theirs", "tags": ["perfdash"]}, folder_uid="team-own"
    )
    grafana_double.put({"uid": "manual", "title": "manual", "tags": []}, folder_uid="perfdash")
    (project / "slos" / "search.yaml").unlink()

    shown = run_cli(["plan", "--detailed-exitcode"], cwd=project)
    assert shown.exit_code == 2  # the overview changes; the prune candidate alone would not
    lines = shown.stdout.splitlines()
    assert lines[1] == (
        "  - delete   dashboard pd-search (discovery)  no longer generated: 'search SLOs' "
        "(prune candidate: apply --prune deletes it)"
    )
    assert run_cli(["apply"], cwd=project).exit_code == 0
    assert "pd-search" in grafana_double.dashboards

    result = run_cli(["apply", "--prune"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert set(grafana_double.dashboards) == {"pd-checkout", "pd-overview", "theirs", "manual"}
    assert run_cli(["plan", "--prune", "--detailed-exitcode"], cwd=project).exit_code == 0


def test_a_team_folder_of_the_same_title_is_a_conflict_and_nothing_in_it_is_touched(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    """The issue's case: a team folder adopted because its title matched, and a person's
    dashboard in it carrying the perfdash tag deleted by apply --prune."""
    grafana_double.add_folder("team-payments", "payments")
    own = {"uid": "pd-team-board", "title": "Team board", "tags": ["perfdash"]}
    grafana_double.put(own, folder_uid="team-payments", user="carol")
    shown = run_cli(["plan", "--prune"], cwd=project)
    assert shown.exit_code == 0
    assert (
        "  x conflict folder    payments (uid team-payments)  a folder titled 'payments' "
        "exists (uid team-payments) that perfdash did not create (perfdash's has uid "
        "perfdash-payments): it is neither adopted nor duplicated; rename that folder in "
        "Grafana (or move its dashboards out and delete it)"
    ) in shown.stdout
    assert (
        "  x conflict dashboard pd-checkout (payments)  its folder 'payments' is someone "
        "else's (see the folder conflict): not created or changed"
    ) in shown.stdout

    result = run_cli(["apply", "--prune", "--force"], cwd=project)
    assert result.exit_code == 1
    assert "folder payments: a folder titled 'payments' exists" in result.stderr
    assert "pd-team-board" not in result.stdout + result.stderr
    assert grafana_double.dashboard("pd-team-board")["title"] == "Team board"
    assert "pd-checkout" not in grafana_double.dashboards
    assert set(grafana_double.folders) == {"team-payments", "perfdash", "perfdash-discovery"}
    assert not grafana_double.requests("DELETE")


def test_a_dashboard_edited_in_grafana_then_dropped_is_kept_unless_force(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    """The issue's pd-ledger: edited in the UI, then dropped from the declarations."""
    applied(project, grafana_double)
    grafana_double.ui_edit("pd-search", lambda d: d.update(description="runbook: #search"))
    (project / "slos" / "search.yaml").unlink()

    shown = run_cli(["plan", "--prune"], cwd=project).stdout
    assert (
        "  ! drift    dashboard pd-search (discovery)  no longer generated, but edited in "
        "Grafana since perfdash wrote it (version 2 by alice; perfdash last wrote sha256:"
    ) in shown
    result = run_cli(["apply", "--prune"], cwd=project)
    assert result.exit_code == 1
    assert "dashboard pd-search (discovery): drift: no longer generated, but edited" in (
        result.stderr
    )
    assert "pd-search" in grafana_double.dashboards
    assert not grafana_double.requests("DELETE")

    forced = run_cli(["apply", "--prune", "--force"], cwd=project)
    assert forced.exit_code == 0, forced.stderr
    assert "  delete   dashboard pd-search (discovery)" in forced.stdout
    assert "pd-search" not in grafana_double.dashboards


def test_a_tagged_dashboard_perfdash_never_wrote_is_never_pruned(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    """In perfdash's folder, with perfdash's tag and uid scheme (a copy imported by a
    person): no version of it is perfdash's, so not even --prune --force deletes it."""
    applied(project, grafana_double)
    copy = {**grafana_double.dashboard("pd-checkout"), "uid": "pd-checkout-copy"}
    copy["title"] = "checkout SLOs (my copy)"
    grafana_double.put(copy, folder_uid="perfdash-payments", user="dave", message="Imported")
    result = run_cli(["apply", "--prune", "--force"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert "pd-checkout-copy" not in result.stdout
    assert "pd-checkout-copy" in grafana_double.dashboards
    assert grafana_double.writes() == []


def test_a_partial_failure_reports_each_failure_applies_the_rest_and_a_rerun_converges(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    for uid in ("pd-checkout", "pd-search"):
        grafana_double.inject(
            Fault(
                method="POST",
                path="/api/dashboards/db",
                body_contains=f'"uid":"{uid}"',
                status=500,
                body={"message": "database is locked"},
                times=None,
            )
        )
    result = run_cli(["apply", "--retries", "2"], cwd=project)
    assert result.exit_code == 1
    url = f"{grafana_double.url}/api/dashboards/db"
    assert result.stderr == (
        "Error: 2 change(s) failed (4 applied); a re-run retries only what is still different:\n"
        f"  dashboard pd-search (discovery): POST {url}: database is locked (HTTP 500)\n"
        f"  dashboard pd-checkout (payments): POST {url}: database is locked (HTTP 500)\n"
    )
    assert set(grafana_double.dashboards) == {"pd-overview"}

    grafana_double.server.clear_faults()
    grafana_double.server.reset_log()
    assert run_cli(["apply"], cwd=project).exit_code == 0
    assert written(grafana_double) == ["POST pd-checkout", "POST pd-search"]
    grafana_double.server.reset_log()
    assert run_cli(["apply"], cwd=project).exit_code == 0
    assert grafana_double.writes() == []


def client(double: GrafanaDouble) -> GrafanaClient:
    return GrafanaClient(
        double.url,
        token=Secret(double.token or ""),
        retry=RetryPolicy(attempts=3, base_delay=0.01),
    )


def planned(double: GrafanaDouble, artifacts: dict[str, str], *, prune: bool = False) -> Plan:
    desired = desired_state(artifacts)
    return plan(desired, read_live(client(double), desired), prune=prune)


def run_plan(double: GrafanaDouble, result: Plan, *, force: bool = False) -> ApplyReport:
    return apply_plan(client(double), result, force=force, context=ChangeContext())


@pytest.fixture
def artifacts(project: Path) -> dict[str, str]:
    from perfdash.build import build_artifacts
    from perfdash.spec import load_fleet

    return build_artifacts(load_fleet([project / "slos"], root=project), jobs=1)


def test_a_change_made_between_plan_and_apply_is_a_conflict_and_kept(
    grafana_double: GrafanaDouble, artifacts: dict[str, str]
) -> None:
    run_plan(grafana_double, planned(grafana_double, artifacts))
    changed = {**artifacts}
    for path in ("dashboards/payments/checkout.json", "dashboards/discovery/search.json"):
        changed[path] = (
            changed[path]
            .replace('"checkout SLOs"', '"Checkout"')
            .replace('"search SLOs"', '"Search"')
        )
    before = planned(grafana_double, changed)
    grafana_double.ui_edit("pd-checkout", lambda d: d.update(description="meanwhile"))
    report = run_plan(grafana_double, before)
    [failure] = report.failed
    assert (failure.name, failure.conflict) == ("pd-checkout", True)
    assert "changed in Grafana since perfdash read it (version-mismatch)" in failure.error
    assert grafana_double.dashboard("pd-checkout")["description"] == "meanwhile"
    assert grafana_double.dashboard("pd-search")["title"] == "Search"


def test_a_deletion_is_refused_when_the_dashboard_changed_after_the_plan(
    grafana_double: GrafanaDouble, artifacts: dict[str, str]
) -> None:
    run_plan(grafana_double, planned(grafana_double, artifacts))
    fewer = {k: v for k, v in artifacts.items() if "search" not in k}
    before = planned(grafana_double, fewer, prune=True)
    grafana_double.ui_edit("pd-search", lambda d: d.update(description="still needed"))
    report = run_plan(grafana_double, before)
    [failure] = report.failed
    assert failure.name == "pd-search" and failure.conflict
    assert "changed in Grafana since the plan (version 1 -> 2): not deleted" in failure.error
    assert "pd-search" in grafana_double.dashboards


def test_a_retried_save_that_had_landed_is_not_a_conflict(
    grafana_double: GrafanaDouble, artifacts: dict[str, str]
) -> None:
    grafana_double.inject(
        Fault(method="POST", path="/api/dashboards/db", body_contains='"uid":"pd-checkout"',
              drop=True, after=True)
    )  # fmt: skip
    report = run_plan(grafana_double, planned(grafana_double, artifacts))
    assert report.failed == ()
    assert grafana_double.dashboard("pd-checkout")["version"] == 1


@pytest.mark.parametrize("status", [400, 404])
def test_a_folder_deleted_after_the_plan_is_created_again(
    status: int, artifacts: dict[str, str]
) -> None:
    with GrafanaDouble(missing_folder_status=status) as double:
        run_plan(double, planned(double, artifacts))
        changed = {k: v.replace('"checkout SLOs"', '"Checkout"') for k, v in artifacts.items()}
        before = planned(double, changed)
        double.folders.pop("perfdash-payments")
        report = run_plan(double, before)
        assert report.failed == ()
        assert double.folder_of("pd-checkout") == "perfdash-payments"
        assert "perfdash-payments" in double.folders


def test_a_uid_held_by_a_dashboard_perfdash_does_not_own_is_never_touched(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    grafana_double.put({"uid": "pd-checkout", "title": "Hand made", "tags": ["ops"]})
    result = run_cli(["apply"], cwd=project)
    assert result.exit_code == 1
    assert (
        "dashboard pd-checkout (payments): uid pd-checkout is held by a dashboard perfdash "
        "did not write ('Hand made' in General: no version in its history carries perfdash's "
        "mark): perfdash never takes it over; delete or re-uid it in Grafana"
    ) in result.stderr
    assert grafana_double.dashboard("pd-checkout")["title"] == "Hand made"
    assert grafana_double.dashboard("pd-checkout")["version"] == 1


def test_429_and_5xx_during_apply_are_retried(project: Path, grafana_double: GrafanaDouble) -> None:
    grafana_double.inject(Fault(method="POST", path="/api/dashboards/db", status=429,
                                retry_after="0", times=2))  # fmt: skip
    grafana_double.inject(Fault(method="GET", path="/api/folders", status=503))
    result = run_cli(["apply"], cwd=project)
    assert result.exit_code == 0, result.stderr
    assert set(grafana_double.dashboards) == set(UIDS)


def test_a_rejected_token_is_one_clear_message(
    project: Path, grafana_double: GrafanaDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", "glsa_revoked_token_value")
    result = run_cli(["plan"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: GET {grafana_double.url}/api/folders?limit=1000&page=1: Grafana at "
        f"{grafana_double.url} rejected the credentials (invalid API key): set GRAFANA_TOKEN to "
        "a valid service-account token (or GRAFANA_USER and GRAFANA_PASSWORD), and "
        "GRAFANA_ORG_ID to an org it belongs to (HTTP 401)\n"
    )


def test_a_token_that_may_only_read_names_the_permission_apply_needs(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GrafanaDouble(permissions={"dashboards:read", "folders:read"}) as double:
        monkeypatch.setenv("GRAFANA_URL", double.url)
        monkeypatch.setenv("GRAFANA_TOKEN", double.token or "")
        result = run_cli(["apply"], cwd=project)
        url = double.url
    assert result.exit_code == 1
    assert (
        f"folder payments: POST {url}/api/folders: Grafana at {url} denied POST "
        "/api/folders: the service account lacks the permission folders:create"
    ) in result.stderr
    assert (
        "dashboard pd-checkout (payments): its folder 'payments' was not created" in result.stderr
    )


def test_the_token_and_password_never_show_in_output_logs_or_errors(
    project: Path,
    grafana_double: GrafanaDouble,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = grafana_double.token or ""
    grafana_double.inject(Fault(method="GET", path="/api/folders", status=503))
    grafana_double.inject(
        Fault(method="POST", path="/api/dashboards/db", status=500, times=None,
              body={"message": f"echo Authorization: Bearer {token}", "token": token})
    )  # fmt: skip
    result = run_cli(["apply", "-vv", "--retries", "2"], cwd=project)
    assert result.exit_code == 1
    assert "GET " in result.stderr and "-> 503" in result.stderr  # -v traces are there
    for text in (result.stdout, result.stderr, caplog.text):
        assert token not in text

    monkeypatch.delenv("GRAFANA_TOKEN")
    monkeypatch.setenv("GRAFANA_USER", "admin")
    monkeypatch.setenv("GRAFANA_PASSWORD", "wrong-password-123")
    denied = run_cli(["plan", "-vv"], cwd=project)
    assert denied.exit_code == 1
    for text in (denied.stdout, denied.stderr, caplog.text):
        assert "wrong-password-123" not in text


def test_the_org_goes_in_x_grafana_org_id(project: Path, grafana_double: GrafanaDouble) -> None:
    assert run_cli(["plan", "--org-id", "2"], cwd=project).exit_code == 0
    assert {r.headers["x-grafana-org-id"] for r in grafana_double.requests()} == {"2"}


def test_insecure_warns(project: Path) -> None:
    result = run_cli(["plan", "--insecure"], cwd=project)
    assert result.exit_code == 0
    assert result.stderr.startswith("warning: TLS verification is off for http://127.0.0.1:")


def test_settings_come_from_perfdash_yaml_but_secrets_do_not(
    project: Path, grafana_double: GrafanaDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRAFANA_URL")
    monkeypatch.delenv("GRAFANA_TOKEN")
    (project / "token").write_text((grafana_double.token or "") + "\n")
    config = project / "perfdash.yaml"
    config.write_text(
        textwrap.dedent(
            f"""\
            grafana:
              url: {grafana_double.url}
              token_file: token
              concurrency: 2
            """
        )
    )
    assert run_cli(["apply"], cwd=project).exit_code == 0
    config.write_text(f"grafana:\n  url: {grafana_double.url}\n  token: glsa_in_git\n")
    result = run_cli(["plan"], cwd=project)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: perfdash.yaml: grafana.token is a secret and does not belong in a committed "
        "file: use the environment (GRAFANA_TOKEN, GRAFANA_PASSWORD) or token_file\n"
    )


def test_nothing_to_deploy_to_is_an_error(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    result = run_cli(["plan"], cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: nothing to deploy to: set GRAFANA_URL")


def test_dry_run_shows_the_plan_and_writes_nothing(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    result = run_cli(["apply", "--dry-run"], cwd=project)
    assert result.exit_code == 0
    assert result.stdout.endswith("Plan: 6 to create.\n")
    assert grafana_double.writes() == []


def test_the_perfdash_yaml_of_the_guide_loads(tmp_path: Path) -> None:
    from perfdash.deploy.settings import Endpoint, load_settings
    from tests.conftest import REPO

    guide = (REPO / "docs" / "grafana.md").read_text(encoding="utf-8")
    example = guide.split("```yaml\n# perfdash.yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "perfdash.yaml").write_text(example)
    settings = load_settings(options={}, environ={}, config_path=tmp_path / "perfdash.yaml")
    assert settings.grafana is not None
    assert (settings.grafana.url, settings.grafana.org_id) == ("https://grafana.example.com", 1)
    assert settings.rules_dir == Path("/etc/prometheus/rules/perfdash")
    assert settings.pushgateway == Endpoint("http://pushgateway:9091")


def test_the_workflows_plan_on_pull_requests_and_apply_on_main() -> None:
    import yaml

    from tests.conftest import REPO

    workflows = REPO / ".github" / "workflows"
    pr = (workflows / "perfdash-pr.yml").read_text(encoding="utf-8")
    main = (workflows / "perfdash-apply.yml").read_text(encoding="utf-8")
    for command in ("perfdash validate", "perfdash build --check", "perfdash test"):
        assert f"run: {command}" in pr and f"run: {command}" in main
    assert "perfdash plan --format markdown --detailed-exitcode" in pr
    assert "perfdash apply --prune" in main
    assert yaml.safe_load(main)[True]["push"]["branches"] == ["main"]  # "on" reads as True
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["entry"] for h in hooks] == ["perfdash validate", "perfdash build --check"]


def test_the_version_message_names_the_commit_and_ci_run(
    project: Path, grafana_double: GrafanaDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_SHA", "1a2b3c4d5e6f7a8b9c0d1e2f")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/slos")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    assert run_cli(["apply"], cwd=project).exit_code == 0
    [version] = grafana_double.versions("pd-search")
    assert version["message"].startswith(
        "perfdash 0.1.0, commit 1a2b3c4d5e6f, run https://github.com/acme/slos/actions/runs/42 "
        "sha256:"
    )


def test_requests_stay_within_the_concurrency_bound(
    project: Path, grafana_double: GrafanaDouble
) -> None:
    grafana_double.server.latency = 0.05
    assert run_cli(["apply", "--concurrency", "2"], cwd=project).exit_code == 0
    assert grafana_double.server.max_in_flight == 2
