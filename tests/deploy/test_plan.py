"""Planning is pure: (desired, live) -> Plan. Normalised comparison, drift from the
hash perfdash records, ownership (perfdash's folder uids, its version messages) and
prune scope, folder conflicts, diffs and renderings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from perfdash.deploy.dashboard_diff import structural_diff
from perfdash.deploy.fingerprint import (
    ChangeContext,
    change_message,
    content_hash,
    normalize,
    same_content,
    written_hash,
)
from perfdash.deploy.grafana_plan import (
    Action,
    DesiredDashboard,
    FolderChange,
    Live,
    LiveDashboard,
    LiveFolder,
    desired_state,
    folder_uid,
    plan,
)
from perfdash.deploy.render import plan_json, plan_markdown, plan_text
from perfdash.deploy.rules_dir import ExistingFile, plan_rules_dir, read_rules_dir
from perfdash.deploy.run import DeployPlan

PAYMENTS = LiveFolder("perfdash-payments", "payments")


def dashboard(uid: str = "pd-checkout", **extra: Any) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": f"{uid} SLOs",
        "tags": ["perfdash", "team:payments"],
        "schemaVersion": 39,
        "panels": [
            {"id": 1, "title": "Availability", "targets": [{"refId": "A", "expr": "up"}]},
            {"id": 2, "title": "Budget", "fieldConfig": {"defaults": {"thresholds": {
                "steps": [{"color": "red", "value": None}]}}}},
        ],
        **extra,
    }  # fmt: skip


def wanted(uid: str = "pd-checkout", folder: str = "payments", **extra: Any) -> DesiredDashboard:
    board = dashboard(uid, **extra)
    return DesiredDashboard(uid, board["title"], folder, f"dashboards/{folder}/{uid}.json", board)


def live(
    content: dict[str, Any],
    *,
    folder: str = "perfdash-payments",
    version: int = 3,
    written: str | None = "same",
    **extra: Any,
) -> LiveDashboard:
    stored = {**content, "id": 17, "version": version}
    return LiveDashboard(
        uid=content["uid"],
        title=content["title"],
        folder_uid=folder,
        tags=tuple(content.get("tags", ())),
        version=version,
        content=stored,
        written_hash=content_hash(stored) if written == "same" else written,
        **extra,
    )


def state(*dashboards: LiveDashboard, folders: tuple[LiveFolder, ...] = (PAYMENTS,)) -> Live:
    return Live(folders, {d.uid: d for d in dashboards})


def test_desired_dashboards_come_with_their_folder(example_artifacts: dict[str, str]) -> None:
    found = {d.uid: (d.folder, d.path) for d in desired_state(example_artifacts)}
    assert found["pd-checkout"] == ("payments", "dashboards/payments/checkout.json")
    assert found["pd-overview"] == ("perfdash", "dashboards/overview.json")
    assert found["pd-search"] == ("discovery", "dashboards/discovery/search.json")


def test_folder_uids_are_stable_and_fit_grafanas_40_characters() -> None:
    assert folder_uid("payments") == "perfdash-payments"
    assert folder_uid("perfdash") == "perfdash"
    long = folder_uid("a-very-long-team-name-that-goes-on-and-on-forever")
    assert len(long) == 40
    assert long == folder_uid("a-very-long-team-name-that-goes-on-and-on-forever")


def test_an_empty_grafana_gets_folders_then_dashboards() -> None:
    result = plan((wanted(), wanted("pd-overview", "perfdash")), Live())
    assert [(f.uid, f.title) for f in result.folders] == [
        ("perfdash-payments", "payments"),
        ("perfdash", "perfdash"),
    ]
    assert [(c.action, c.uid, c.folder_uid) for c in result.dashboards] == [
        (Action.CREATE, "pd-checkout", "perfdash-payments"),
        (Action.CREATE, "pd-overview", "perfdash"),
    ]
    assert result.dashboards[0].version is None
    assert result.has_changes


def test_grafanas_bookkeeping_is_not_a_change() -> None:
    """id, version, a migrated schemaVersion and null values are not content."""
    stored = dashboard(schemaVersion=41, description=None)
    result = plan((wanted(),), state(live(stored, version=9)))
    assert result.dashboards == ()
    assert result.unchanged == 1
    assert not result.has_changes
    assert same_content({**stored, "id": 1}, dashboard())
    assert normalize(stored) == normalize(dashboard())


def test_a_changed_declaration_is_an_update_against_the_live_version() -> None:
    old = dashboard(
        panels=[{"id": 1, "title": "Availability", "targets": [{"refId": "A", "expr": "down"}]}]
    )
    result = plan((wanted(),), state(live(old, version=5)))
    [change] = result.dashboards
    assert (change.action, change.version, change.from_folder) == (Action.UPDATE, 5, None)
    assert change.diff == (
        '~ panels[id=1 "Availability"].targets[refId=A].expr: "down" -> "up"',
        '+ panels[id=2 "Budget"]',
    )
    assert change.digest == content_hash(wanted().dashboard)


def test_content_edited_in_grafana_since_perfdash_wrote_it_is_drift() -> None:
    edited = dashboard(title="mine now")
    result = plan(
        (wanted(),),
        state(live(edited, written="0123456789abcdef", updated_by="alice", version=4)),
    )
    [change] = result.dashboards
    assert change.action is Action.DRIFT
    assert change.diff == ('~ title: "mine now" -> "pd-checkout SLOs"',)
    assert change.reason == (
        "edited in Grafana since perfdash wrote it (version 4 by alice; perfdash last wrote "
        "sha256:0123456789abcdef); apply keeps it unless --force: port the edit into the "
        "declaration, or overwrite it"
    )


@pytest.mark.parametrize("tags", [["perfdash"], ["team"]], ids=["tagged", "untagged"])
def test_a_dashboard_perfdash_never_wrote_is_a_conflict_whatever_its_tags(
    tags: list[str],
) -> None:
    """A tag (or the uid) alone is not ownership: the history must hold perfdash's mark."""
    result = plan((wanted(),), state(live(dashboard(title="x", tags=tags), written=None)))
    [change] = result.dashboards
    assert change.action is Action.CONFLICT
    assert change.reason == (
        "uid pd-checkout is held by a dashboard perfdash did not write ('x' in payments: no "
        "version in its history carries perfdash's mark): perfdash never takes it over; "
        "delete or re-uid it in Grafana"
    )


def test_a_dashboard_perfdash_never_wrote_is_not_moved_either() -> None:
    other = LiveFolder("f-other", "Favourites")
    world = state(live(dashboard(), folder="f-other", written=None), folders=(PAYMENTS, other))
    assert plan((wanted(),), world).dashboards[0].action is Action.CONFLICT


def test_same_content_in_another_folder_is_a_move() -> None:
    other = LiveFolder("f-other", "Favourites")
    result = plan(
        (wanted(),), state(live(dashboard(), folder="f-other"), folders=(PAYMENTS, other))
    )
    [change] = result.dashboards
    assert (change.action, change.from_folder, change.folder_uid) == (
        Action.MOVE,
        "Favourites",
        "perfdash-payments",
    )


def test_known_from_its_history_alone_is_unchanged() -> None:
    known = LiveDashboard(
        "pd-checkout",
        "pd-checkout SLOs",
        "perfdash-payments",
        ("perfdash",),
        version=2,
        content_digest=content_hash(wanted().dashboard),
    )
    assert plan((wanted(),), state(known)).dashboards == ()


def test_a_uid_held_by_a_dashboard_perfdash_does_not_own_is_a_conflict() -> None:
    theirs = dashboard(tags=["team"])
    result = plan((wanted(),), state(live(theirs, folder="", written=None)))
    [change] = result.dashboards
    assert change.action is Action.CONFLICT
    assert "perfdash did not write" in change.reason
    assert "in General" in change.reason


def test_a_provisioned_dashboard_that_differs_is_a_conflict() -> None:
    result = plan((wanted(),), state(live(dashboard(title="old"), provisioned=True)))
    assert result.dashboards[0].action is Action.CONFLICT
    assert "provisioned from files" in result.dashboards[0].reason


def test_only_dashboards_perfdash_wrote_in_its_folders_are_prune_candidates() -> None:
    theirs = LiveFolder("team-folder", "Their folder")
    old = live(dashboard("pd-old"))
    elsewhere = live(dashboard("pd-elsewhere"), folder="team-folder")
    tagged_by_a_person = live(dashboard("pd-copy"), written=None)
    root = live(dashboard("pd-root"), folder="")
    orphan_folder = LiveFolder("perfdash-gone-team", "gone-team")
    orphan = live(dashboard("pd-orphan"), folder="perfdash-gone-team")
    provisioned = live(dashboard("pd-files"), provisioned=True)
    world = state(
        live(dashboard()), old, elsewhere, tagged_by_a_person, root, orphan, provisioned,
        folders=(PAYMENTS, theirs, orphan_folder),
    )  # fmt: skip
    kept = plan((wanted(),), world)
    assert [(c.action, c.uid, c.prune) for c in kept.dashboards] == [
        (Action.DELETE, "pd-orphan", True),
        (Action.DELETE, "pd-old", True),
    ]
    assert not kept.has_changes  # prune candidates only
    assert plan((wanted(),), world, prune=True).has_changes


def test_a_dashboard_edited_since_perfdash_wrote_it_is_drift_not_a_deletion() -> None:
    """pd-ledger, edited in Grafana's UI, then dropped from the declarations: kept
    unless --force (the issue's case)."""
    edited = live(dashboard("pd-ledger", description="on-call notes"), written="0123456789abcdef")
    result = plan((wanted(),), state(live(dashboard()), edited), prune=True)
    [change] = result.dashboards
    assert (change.action, change.uid, change.prune) == (Action.DRIFT, "pd-ledger", True)
    assert change.reason.startswith(
        "no longer generated, but edited in Grafana since perfdash wrote it (version 3; "
        "perfdash last wrote sha256:0123456789abcdef); apply --prune keeps it unless --force"
    )
    assert result.has_changes
    assert not plan((wanted(),), state(live(dashboard()), edited)).has_changes


def test_deletions_are_listed_first() -> None:
    result = plan((wanted(), wanted("pd-new")), state(live(dashboard("pd-old"))), prune=True)
    assert [c.action for c in result.dashboards] == [Action.DELETE, Action.CREATE, Action.CREATE]


@pytest.mark.parametrize("title", ["payments", "Payments"])
def test_a_folder_of_the_teams_title_made_by_someone_else_is_a_conflict(title: str) -> None:
    """Not adopted (its title is no mark) nor duplicated (Grafana refuses two folders of
    one title): reported, and the team's dashboards are not created."""
    theirs = LiveFolder("abc123", title)
    result = plan((wanted(), wanted("pd-overview", "perfdash")), state(folders=(theirs,)))
    assert result.folders == (FolderChange("perfdash", "perfdash"),)
    [conflict] = result.folder_conflicts
    assert (conflict.title, conflict.uid) == ("payments", "abc123")
    assert conflict.reason == (
        "a folder titled 'payments' exists (uid abc123) that perfdash did not create "
        "(perfdash's has uid perfdash-payments): it is neither adopted nor duplicated; "
        "rename that folder in Grafana (or move its dashboards out and delete it)"
    )
    assert [(c.action, c.uid) for c in result.dashboards] == [
        (Action.CREATE, "pd-overview"),
        (Action.CONFLICT, "pd-checkout"),
    ]
    assert result.has_changes


def test_perfdashs_folder_is_known_by_its_uid_whatever_its_title() -> None:
    renamed = LiveFolder("perfdash-payments", "Payments (SLOs)")
    result = plan((wanted(),), state(folders=(renamed,)))
    assert (result.folders, result.folder_conflicts) == ((), ())
    assert result.dashboards[0].folder_uid == "perfdash-payments"


def test_structural_diff_matches_panels_by_id_and_reports_order_and_limits() -> None:
    old = {"panels": [{"id": 1, "title": "A"}, {"id": 2, "title": "B"}], "refresh": "1m"}
    new = {"panels": [{"id": 2, "title": "B"}, {"id": 3, "title": "C"}, {"id": 1, "title": "A"}]}
    assert structural_diff(old, new) == (
        '+ panels[id=3 "C"]',
        "~ panels: order changed",
        '- refresh: "1m"',
    )
    text = "Share of good events over the last 30d, traffic-weighted, against the objective 99.9%"
    assert structural_diff({"d": text}, {"d": text.replace("99.9", "99.95")}) == (
        '~ d: "...t the objective 99.9%" -> "...t the objective 99.95%"',
    )
    many = {"values": list(range(50))}
    assert structural_diff(many, {"values": list(range(1, 51))}, limit=3)[-1] == (
        "... and 47 more changes"
    )


def test_the_message_names_version_commit_run_and_content_hash() -> None:
    context = ChangeContext.from_environ(
        {
            "GITHUB_SHA": "1a2b3c4d5e6f7a8b9c0d",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": "acme/slos",
            "GITHUB_RUN_ID": "42",
        }
    )
    message = change_message(context, "0123456789abcdef")
    assert message == (
        f"perfdash {context.version}, commit 1a2b3c4d5e6f, run "
        "https://github.com/acme/slos/actions/runs/42 sha256:0123456789abcdef"
    )
    assert change_message(ChangeContext(), "0123456789abcdef").endswith("sha256:0123456789abcdef")
    long_run = ChangeContext(run_url="https://ci.example.com/" + "x" * 300)
    assert len(change_message(long_run, "0123456789abcdef")) <= 255
    assert written_hash(["", "Restored", message, "perfdash 0.0.9 sha256:ffffffffffffffff"]) == (
        "0123456789abcdef"
    )
    assert written_hash(["someone sha256:0123456789abcdef"]) is None


def small_plan() -> DeployPlan:
    old = dashboard("pd-ledger", title="old title")
    grafana = plan(
        (wanted(), wanted("pd-ledger")),
        state(live(old), live(dashboard("pd-gone"))),
        prune=False,
    )
    files = plan_rules_dir(
        {"checkout.yaml": "# Generated by perfdash\ngroups: []\n"},
        {"old.yaml": ExistingFile("# Generated by perfdash\n", generated=True)},
        directory=Path("/rules"),
    )
    return DeployPlan(grafana, "https://grafana.example.com", files)


def test_the_text_plan_reads_top_down() -> None:
    assert plan_text(small_plan()) == "\n".join(
        [
            "Grafana https://grafana.example.com: 1 to create, 1 to update, 1 prune candidate; "
            "0 unchanged",
            "  - delete   dashboard pd-gone (payments)  no longer generated: 'pd-gone SLOs' "
            "(prune candidate: apply --prune deletes it)",
            "  + create   dashboard pd-checkout (payments)  pd-checkout SLOs",
            "  ~ update   dashboard pd-ledger (payments)  pd-ledger SLOs",
            '      ~ title: "old title" -> "pd-ledger SLOs"',
            "",
            "Rules folder /rules: 1 to create, 1 prune candidate; 0 unchanged",
            "  - delete   rule file old.yaml (/rules)  no longer generated (prune candidate: "
            "apply --prune deletes it)",
            "  + create   rule file checkout.yaml (/rules)",
            "",
            "Plan: 2 to create, 1 to update, 2 prune candidates.",
        ]
    )


def test_the_markdown_plan_is_a_pr_comment_with_folded_diffs() -> None:
    text = plan_markdown(small_plan())
    assert text.startswith("<!-- perfdash-plan -->\n### perfdash plan\n\n**2 to create, 1 to")
    assert "| ~ | update | dashboard | `pd-ledger` | payments | pd-ledger SLOs |" in text
    assert "<details><summary>update <code>pd-ledger</code>: 1 line of diff</summary>" in text
    assert '```diff\n~ title: "old title" -> "pd-ledger SLOs"\n```' in text


def test_the_json_plan_is_for_machines() -> None:
    document = json.loads(plan_json(small_plan()))
    assert document["changes"] is True
    assert document["targets"]["grafana"] == {
        "name": "Grafana https://grafana.example.com",
        "unchanged": 0,
    }
    first = document["items"][0]
    assert (first["action"], first["name"], first["runs"]) == ("delete", "pd-gone", False)


def test_no_changes_says_so() -> None:
    nothing = DeployPlan(plan((wanted(),), state(live(dashboard()))), "https://g")
    assert plan_text(nothing).endswith("No changes: the targets match the declarations.")
    assert json.loads(plan_json(nothing))["changes"] is False


@pytest.mark.parametrize("prune", [False, True])
def test_rule_files_perfdash_did_not_write_are_conflicts(prune: bool) -> None:
    files = plan_rules_dir(
        {"checkout.yaml": "new\n"},
        {
            "checkout.yaml": ExistingFile("hand-written\n", generated=False),
            "mine.yaml": ExistingFile("hand-written\n", generated=False),
        },
        directory=Path("/rules"),
        prune=prune,
    )
    assert [(c.action, c.name) for c in files.changes] == [("conflict", "checkout.yaml")]


def test_values_from_grafana_cannot_add_lines_cells_html_or_end_a_code_block() -> None:
    """A folder title, a person's name and dashboard content quote a server: one line
    each in the text plan, inert in the Markdown of a PR comment."""
    hostile = LiveFolder("f-x", "Team | <img src=x onerror=alert(1)>\n  + create   folder evil")
    content = dashboard(title="```\n</details><script>x</script>")
    current = live(content, folder="f-x", written="0123456789abcdef", updated_by="eve\r\x1b[2K")
    edited = plan((wanted(),), state(current, folders=(PAYMENTS, hostile)))
    deploy = DeployPlan(edited, "https://grafana.example.com")

    text = plan_text(deploy)
    assert "\n  + create   folder evil" not in text
    assert "Team | <img src=x onerror=alert(1)>\\n  + create   folder evil -> payments" in text
    assert "(version 3 by eve\\r\\x1b[2K;" in text
    markdown = plan_markdown(deploy)
    [row] = [line for line in markdown.splitlines() if line.startswith("| ! | drift |")]
    assert "<" not in row and row.count(" | ") == 5
    assert "Team \\| &lt;img src=x onerror=alert(1)&gt;\\n  + create   folder evil" in row
    assert "\n````diff\n" in markdown  # a fence longer than the content's backticks


def test_a_rule_file_that_is_not_utf8_is_someone_elses(tmp_path: Path) -> None:
    (tmp_path / "checkout.yaml").write_bytes(b"groups: []\n# \xff\xfe\n")
    (tmp_path / "other.yaml").write_bytes(b"\x00\x9b\xff")
    existing = read_rules_dir(tmp_path)
    assert not existing["checkout.yaml"].generated
    files = plan_rules_dir({"checkout.yaml": "new\n"}, existing, directory=tmp_path, prune=True)
    assert [(c.action, c.name) for c in files.changes] == [("conflict", "checkout.yaml")]
