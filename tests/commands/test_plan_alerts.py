"""``perfdash plan --since REF``: which alerts will behave differently, per SLO."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from perfdash.alert_changes import AlertChange, alert_changes
from perfdash.spec import load_fleet
from tests.conftest import require_binary
from tests.helpers import run_cli, write_declaration

TEAM = """\
apiVersion: perfdash/v1
kind: Team
metadata: {name: payments}
spec:
  receivers: {page: payments-pager, ticket: payments-tickets}
"""
SERVICE = """\
apiVersion: perfdash/v1
kind: Service
metadata: {name: checkout, team: payments, tier: 1, runbook: https://runbooks.example.com/c}
spec:
  selector: {job: checkout}
  slos:
    - name: availability
      objective: 99.9
      sli:
        events: {total: http_requests_total, bad: {code: "5.."}}
"""
CHANGED = (
    SERVICE.replace("objective: 99.9", "objective: 99.95").replace(
        "  selector: {job: checkout}\n",
        "  selector: {job: checkout}\n  routing: {page: checkout-oncall, ticket: payments-tickets}\n",
    )
    + """\
      alerting: {for: 2m}
    - name: latency
      objective: 99
      sli:
        latency: {histogram: http_request_duration_seconds, threshold: 0.3}
"""
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose HEAD has TEAM and SERVICE; the work tree has CHANGED."""
    git = require_binary("git", package="git")
    write_declaration(tmp_path / "slos", "teams.yaml", TEAM)
    write_declaration(tmp_path / "slos", "checkout.yaml", SERVICE)
    for args in (
        ["init", "-q"],
        ["-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A"],
        ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base"],
    ):
        subprocess.run([git, *args], cwd=tmp_path, check=True)
    write_declaration(tmp_path / "slos", "checkout.yaml", CHANGED)
    return tmp_path


def test_the_text_plan_lists_every_alert_that_changes(repo: Path) -> None:
    result = run_cli(["plan", "--since", "HEAD", "--detailed-exitcode"], cwd=repo)
    assert result.exit_code == 2, result.output
    assert result.stdout == (
        "Alerts that will behave differently (since HEAD):\n"
        "  checkout/availability:\n"
        "    ~ objective: 99.9% over 30d -> 99.95% over 30d\n"
        "    ~ for: none (fires at once) -> 2m\n"
        "    ~ page 1h/5m: 14.4x burn: fires above 1.44% errors -> 14.4x burn: fires above 0.72% errors\n"
        "    ~ page 6h/30m: 6x burn: fires above 0.6% errors -> 6x burn: fires above 0.3% errors\n"
        "    ~ ticket 1d/2h: 3x burn: fires above 0.3% errors -> 3x burn: fires above 0.15% errors\n"
        "    ~ ticket 3d/6h: 1x burn: fires above 0.1% errors -> 1x burn: fires above 0.05% errors\n"
        "    ~ pages go to: payments-pager -> checkout-oncall\n"
        "  checkout/latency:\n"
        "    + SLO: 99% over 30d; alerts page 1h/5m, page 6h/30m, ticket 1d/2h, ticket 3d/6h\n"
    )


def test_markdown_and_json_say_the_same(repo: Path) -> None:
    markdown = run_cli(["plan", "--since", "HEAD", "--format", "markdown"], cwd=repo).stdout
    assert markdown.startswith(
        "<!-- perfdash-plan -->\n### Alerts that will behave differently (since `HEAD`)\n"
    )
    assert "| ~ | `checkout/availability` | for | none (fires at once) | 2m |\n" in markdown
    document = json.loads(run_cli(["plan", "--since", "HEAD", "--format", "json"], cwd=repo).stdout)
    assert document["alerts"]["since"] == "HEAD"
    assert {
        "service": "checkout",
        "slo": "availability",
        "what": "pages go to",
        "before": "payments-pager",
        "after": "checkout-oncall",
    } in document["alerts"]["changes"]


def test_nothing_changed_exits_0(repo: Path) -> None:
    write_declaration(repo / "slos", "checkout.yaml", SERVICE)
    result = run_cli(["plan", "--since", "HEAD", "--detailed-exitcode"], cwd=repo)
    assert (result.exit_code, result.stdout) == (
        0,
        "Alerts: no change in behaviour since HEAD.\n",
    )


def test_next_to_the_grafana_plan(
    repo: Path, grafana_double: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_URL", grafana_double.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("GRAFANA_TOKEN", grafana_double.token or "")  # type: ignore[attr-defined]
    result = run_cli(["plan", "--since", "HEAD", "--format", "markdown"], cwd=repo)
    assert result.exit_code == 0, result.output
    alerts, _, grafana = result.stdout.partition("\n\n<!-- perfdash-plan -->\n### perfdash plan")
    assert alerts.startswith("### Alerts that will behave differently")
    assert "dashboard" in grafana


def test_an_unknown_revision_is_a_clear_error(repo: Path) -> None:
    result = run_cli(["plan", "--since", "no-such-branch"], cwd=repo)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: --since no-such-branch: no such git revision here (in CI, fetch it: "
        "actions/checkout with fetch-depth: 0)\n"
    )


def test_a_removed_slo_and_new_severities(tmp_path: Path) -> None:
    write_declaration(tmp_path / "old", "teams.yaml", TEAM)
    write_declaration(tmp_path / "old", "checkout.yaml", CHANGED)
    write_declaration(tmp_path / "new", "teams.yaml", TEAM)
    write_declaration(
        tmp_path / "new",
        "checkout.yaml",
        SERVICE.replace(
            "  selector: {job: checkout}\n",
            "  selector: {job: checkout}\n  alerting: {severity: {page: critical, ticket: warning}}\n",
        ),
    )
    before = load_fleet([tmp_path / "old"], root=tmp_path)
    after = load_fleet([tmp_path / "new"], root=tmp_path)
    changes = alert_changes(before, after)
    assert (
        AlertChange(
            "checkout",
            "latency",
            "SLO",
            "99% over 30d; alerts page 1h/5m, page 6h/30m, ticket 1d/2h, ticket 3d/6h",
            "",
        )
        in changes
    )
    assert (
        AlertChange(
            "checkout",
            "availability",
            "severity",
            "page=page, ticket=ticket",
            "page=critical, ticket=warning",
        )
        in changes
    )


def test_files_the_old_declarations_name_come_from_the_revision_too(repo: Path) -> None:
    """A declaration naming a Jsonnet override loads at the old revision as well."""
    git = require_binary("git", package="git")
    (repo / "dashboards" / "overrides").mkdir(parents=True)
    (repo / "dashboards/overrides/checkout.libsonnet").write_text("function(d) d\n")
    with_override = SERVICE + "  dashboard: {jsonnet: ../dashboards/overrides/checkout.libsonnet}\n"
    write_declaration(repo / "slos", "checkout.yaml", with_override)
    for args in (["add", "-A"], ["commit", "-qm", "override"]):
        subprocess.run(
            [git, "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=repo,
            check=True,
        )
    write_declaration(
        repo / "slos", "checkout.yaml", with_override.replace("objective: 99.9", "objective: 99")
    )
    result = run_cli(["plan", "--since", "HEAD"], cwd=repo)
    assert result.exit_code == 0, result.output
    assert "    ~ objective: 99.9% over 30d -> 99% over 30d\n" in result.stdout
