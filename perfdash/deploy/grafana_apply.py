"""Execute a ``Plan`` against Grafana; nothing is decided here that plan did not show.

Order: folders first (dashboards need them), then deletions (``--prune`` only; a
drifted one with ``force`` too), then creates, updates, moves and, with ``force``,
drifted dashboards, concurrently within each step (bounded by the client). Conflicts
(folders and dashboards perfdash did not create) are reported and never touched.
Every save sends ``folderUid`` (leaving it out would move the dashboard to the root
folder), the live ``version`` with
``overwrite: false`` (a 412 version-mismatch means it changed after the plan: a
conflict, never clobbered), and a message naming perfdash's version, the commit and CI
run, and the content hash that later runs use to detect drift.

A failure is recorded per object and the rest still applied; ``ApplyReport.failed``
lists them. A re-run plans again from what is live, so it retries only the failures.
"""

from __future__ import annotations

from typing import Any

from perfdash.deploy.fingerprint import ChangeContext, change_message, content_hash
from perfdash.deploy.grafana_client import GrafanaClient
from perfdash.deploy.grafana_plan import Action, DashboardChange, FolderChange, Plan
from perfdash.deploy.http import path_segment
from perfdash.deploy.outcome import ApplyReport, Outcome
from perfdash.errors import GrafanaConflict, GrafanaError, GrafanaFolderNotFound, PerfdashError


def apply_plan(
    client: GrafanaClient, plan: Plan, *, force: bool = False, context: ChangeContext
) -> ApplyReport:
    outcomes: list[Outcome] = []
    folder_results = client.map(lambda f: _create_folder(client, f), plan.folders)
    broken = set()
    for folder, result in zip(plan.folders, folder_results, strict=True):
        error = str(result) if isinstance(result, PerfdashError) else ""
        if error:
            broken.add(folder.uid)
        outcomes.append(Outcome("folder", "create", folder.title, error=error))
    for conflict in plan.folder_conflicts:
        outcomes.append(
            Outcome("folder", "conflict", conflict.title, error=conflict.reason, conflict=True)
        )

    if plan.prune:
        deletes = [
            c
            for c in plan.dashboards
            if c.prune and (c.action is Action.DELETE or (force and c.action is Action.DRIFT))
        ]
        results = client.map(lambda c: _delete(client, c), deletes)
        outcomes += [_outcome(c, r) for c, r in zip(deletes, results, strict=True)]

    writes: list[DashboardChange] = []
    for change in plan.dashboards:
        if change.prune and (force or not plan.prune):
            continue  # deleted above, or a prune candidate (no --prune)
        if change.action is Action.DELETE:
            continue
        if change.action is Action.CONFLICT:
            outcomes.append(_refused(change, change.reason, conflict=True))
        elif change.action is Action.DRIFT and not force:
            outcomes.append(_refused(change, f"drift: {change.reason}", drift=True))
        elif change.folder_uid in broken:
            outcomes.append(_refused(change, f"its folder {change.folder!r} was not created"))
        else:
            writes.append(change)
    results = client.map(lambda c: _save(client, c, context), writes)
    outcomes += [_outcome(c, r) for c, r in zip(writes, results, strict=True)]
    return ApplyReport(tuple(outcomes))


def _outcome(change: DashboardChange, result: object) -> Outcome:
    if isinstance(result, PerfdashError):
        return _refused(change, str(result), conflict=isinstance(result, GrafanaConflict))
    # a drifted dashboard applied with --force was overwritten (an update) or deleted
    action = change.action
    if action is Action.DRIFT:
        action = Action.DELETE if change.prune else Action.UPDATE
    return Outcome("dashboard", action.value, change.uid, change.folder)


def _refused(
    change: DashboardChange, error: str, *, conflict: bool = False, drift: bool = False
) -> Outcome:
    return Outcome(
        "dashboard", change.action.value, change.uid, change.folder, error, conflict, drift
    )


def _create_folder(client: GrafanaClient, folder: FolderChange) -> None:
    try:
        client.create_folder(folder.uid, folder.title)
    except GrafanaError as exc:
        if exc.status == 409 and client.folder(folder.uid):
            return  # created meanwhile (another run, or a retried request that succeeded)
        raise


def _save(client: GrafanaClient, change: DashboardChange, context: ChangeContext) -> None:
    assert change.dashboard is not None
    dashboard: dict[str, Any] = {**change.dashboard, "uid": change.uid}
    dashboard.pop("id", None)
    if change.version is not None:
        dashboard["version"] = change.version
    else:
        dashboard.pop("version", None)
    message = change_message(context, change.digest)
    try:
        try:
            client.save_dashboard(dashboard, folder_uid=change.folder_uid, message=message)
        except GrafanaFolderNotFound:  # removed after the plan: create it again, once
            _create_folder(client, FolderChange(change.folder_uid, change.folder))
            client.save_dashboard(dashboard, folder_uid=change.folder_uid, message=message)
    except GrafanaConflict as exc:
        # A retried save whose first attempt did land answers 412 version-mismatch:
        # if Grafana now holds exactly this content in this folder, it is applied.
        if exc.attempts > 1 and _holds(client, change):
            return
        raise


def _holds(client: GrafanaClient, change: DashboardChange) -> bool:
    document = client.dashboard(change.uid)
    if document is None:
        return False
    return (
        content_hash(document.dashboard) == change.digest
        and document.meta.folder_uid == change.folder_uid
    )


def _delete(client: GrafanaClient, change: DashboardChange) -> None:
    """Delete only if it is still what plan saw: the same version, in the same folder
    (plan found that version to be perfdash's)."""
    document = client.dashboard(change.uid)
    if document is None:
        return  # already gone
    url = client.http.url(f"/api/dashboards/uid/{path_segment(change.uid)}")
    version = document.version
    if document.meta.folder_uid != change.folder_uid:
        raise GrafanaConflict(
            "DELETE", url, status=None, detail="moved to another folder since the plan: not deleted"
        )
    if change.version is None or version != change.version:
        raise GrafanaConflict(
            "DELETE",
            url,
            status=None,
            detail=f"changed in Grafana since the plan (version {change.version} -> "
            f"{version}): not deleted; run plan again",
        )
    client.delete_dashboard(change.uid)
