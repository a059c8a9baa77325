"""What apply would change in Grafana: ``plan(desired, live) -> Plan``. Pure.

Desired state comes from the generated artifacts (``desired_state``); live state is
read by ``perfdash.deploy.grafana_live``. Comparison is on normalised JSON
(``perfdash.deploy.fingerprint``), so Grafana's own bookkeeping never shows as a
change.

Ownership. perfdash acts only on what it created, known by marks a person does not set
by accident, never by a title or a tag:

- a folder is perfdash's when its uid is perfdash's (``perfdash-<team>``, ``perfdash``),
  which Grafana's UI never gives a folder. A folder of the team's title with another
  uid is someone else's: a conflict, neither adopted nor duplicated;
- a dashboard is perfdash's when its version history holds a version perfdash wrote
  (a message in the exact form ``change_message`` writes, with the hash of the content
  sent); only those are updated or moved, and only those *in perfdash's folders* are
  ever deleted.

Per dashboard the plan says:

- create: no dashboard has its uid;
- update: the content differs, and Grafana still holds what perfdash last wrote;
- move: same content, another folder (an update may move too);
- drift: edited in Grafana since perfdash last wrote it (its content does not hash to
  what perfdash recorded), whether it is to be updated or deleted: kept unless
  ``--force``;
- conflict: the uid is held by a dashboard perfdash did not write, or one provisioned
  from files, or the team's folder is someone else's: never touched;
- delete: a dashboard perfdash wrote, unedited since, in one of its folders, that is no
  longer generated. Listed first; deleted only with ``--prune`` (otherwise it is a
  prune candidate and not a change).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

import orjson

from perfdash import conventions
from perfdash.deploy.dashboard_diff import structural_diff
from perfdash.deploy.fingerprint import content_hash, normalize, same_content
from perfdash.grafana.dashboards import dashboard_folder

OWNER_TAG = "perfdash"
FOLDER_UID_PREFIX = "perfdash"
UID_MAX = 40


class Action(StrEnum):
    DELETE = "delete"
    CREATE = "create"
    UPDATE = "update"
    MOVE = "move"
    DRIFT = "drift"
    CONFLICT = "conflict"


ORDER = tuple(Action)


@dataclass(frozen=True)
class DesiredDashboard:
    uid: str
    title: str
    folder: str  # folder title (the team)
    path: str  # where the build writes it
    dashboard: Mapping[str, Any] = field(repr=False)

    @cached_property
    def digest(self) -> str:
        """``content_hash`` of the dashboard, computed once."""
        return content_hash(self.dashboard)


@dataclass(frozen=True)
class LiveFolder:
    uid: str
    title: str


@dataclass(frozen=True)
class LiveDashboard:
    """A dashboard as Grafana holds it. ``content`` is its JSON, or None when its
    newest version is one perfdash wrote (``content_digest`` is then the hash in that
    version's message: the JSON was not read) or when it is not perfdash's and was not
    read. ``written_hash``, from the version history, is the hash of what perfdash last
    wrote (None: no version perfdash wrote); it is read only when perfdash may act on
    the dashboard (its content or folder differs, or it is a prune candidate)."""

    uid: str
    title: str
    folder_uid: str
    tags: tuple[str, ...] = ()
    version: int | None = None
    provisioned: bool = False
    content: Mapping[str, Any] | None = field(default=None, repr=False)
    written_hash: str | None = None
    updated_by: str = ""
    content_digest: str | None = None

    @property
    def owned(self) -> bool:
        """perfdash wrote it (its history says so)."""
        return self.written_hash is not None

    @property
    def as_written(self) -> bool:
        """perfdash wrote it and nobody changed its content since."""
        if self.written_hash is None:
            return False
        if self.content is None:
            return self.content_digest == self.written_hash
        return content_hash(self.content) == self.written_hash


@dataclass(frozen=True)
class Live:
    folders: tuple[LiveFolder, ...] = ()
    dashboards: Mapping[str, LiveDashboard] = field(default_factory=dict)


@dataclass(frozen=True)
class FolderChange:
    uid: str
    title: str


@dataclass(frozen=True)
class FolderConflict:
    """The team's folder title is taken by a folder perfdash did not create."""

    title: str
    uid: str  # the other folder's
    reason: str


@dataclass(frozen=True)
class DashboardChange:
    action: Action
    uid: str
    title: str
    folder_uid: str
    folder: str  # folder title
    dashboard: Mapping[str, Any] | None = field(default=None, repr=False)  # what to send
    version: int | None = None  # the live version, sent back with overwrite=false
    from_folder: str | None = None  # the folder it leaves (move, or an update that moves)
    diff: tuple[str, ...] = ()
    reason: str = ""
    digest: str = ""  # content hash of ``dashboard``
    prune: bool = False  # no longer generated: the change deletes it (delete, or drift)


@dataclass(frozen=True)
class Plan:
    folders: tuple[FolderChange, ...] = ()
    dashboards: tuple[DashboardChange, ...] = ()
    unchanged: int = 0
    prune: bool = False
    folder_conflicts: tuple[FolderConflict, ...] = ()

    def of(self, action: Action) -> tuple[DashboardChange, ...]:
        return tuple(c for c in self.dashboards if c.action is action)

    @property
    def has_changes(self) -> bool:
        """Anything differs (prune candidates count only with ``--prune``)."""
        return (
            bool(self.folders)
            or bool(self.folder_conflicts)
            or any(not c.prune or self.prune for c in self.dashboards)
        )


def folder_uid(title: str) -> str:
    """``perfdash-<team>`` (``perfdash`` for the overview's folder), at most 40 chars."""
    uid = (
        FOLDER_UID_PREFIX
        if title == conventions.OVERVIEW_FOLDER
        else f"{FOLDER_UID_PREFIX}-{title}"
    )
    if len(uid) <= UID_MAX:
        return uid
    digest = hashlib.sha256(title.encode()).hexdigest()[:8]
    return f"{uid[: UID_MAX - 9]}-{digest}"


def is_perfdash_folder(uid: str) -> bool:
    return uid == FOLDER_UID_PREFIX or uid.startswith(FOLDER_UID_PREFIX + "-")


def desired_state(artifacts: Mapping[str, str]) -> tuple[DesiredDashboard, ...]:
    """Every generated dashboard of ``artifacts`` with its uid, title and folder."""
    found = []
    for path, text in sorted(artifacts.items()):
        if not (path.startswith(conventions.DASHBOARDS_DIR + "/") and path.endswith(".json")):
            continue
        dashboard = orjson.loads(text)
        found.append(
            DesiredDashboard(
                uid=dashboard["uid"],
                title=dashboard.get("title", ""),
                folder=dashboard_folder(path, dashboard),
                path=path,
                dashboard=dashboard,
            )
        )
    return tuple(found)


def plan(desired: tuple[DesiredDashboard, ...], live: Live, *, prune: bool = False) -> Plan:
    """Compare; see the module docstring for what each action means."""
    folders, new_folders, conflicts = resolve_folders(desired, live.folders)
    titles = {f.uid: f.title for f in live.folders} | {f.uid: f.title for f in new_folders}
    refused = {c.title for c in conflicts}
    changes: list[DashboardChange] = []
    unchanged = 0
    for wanted in desired:
        if wanted.folder in refused:
            changes.append(_refused_folder(wanted))
            continue
        change = _dashboard_change(wanted, live.dashboards.get(wanted.uid), folders, titles)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    generated = {d.uid for d in desired}
    for current in live.dashboards.values():
        if current.uid not in generated and prunable(current):
            changes.append(_prune_change(current, titles))
    changes.sort(key=lambda c: (ORDER.index(c.action), c.folder, c.title, c.uid))
    return Plan(tuple(new_folders), tuple(changes), unchanged, prune, tuple(conflicts))


def prunable(current: LiveDashboard) -> bool:
    """A dashboard no longer generated that perfdash may delete: in one of its folders,
    not provisioned, and written by perfdash."""
    return is_perfdash_folder(current.folder_uid) and not current.provisioned and current.owned


def _prune_change(current: LiveDashboard, titles: Mapping[str, str]) -> DashboardChange:
    folder = titles.get(current.folder_uid, current.folder_uid)
    if current.as_written:
        return DashboardChange(
            Action.DELETE,
            current.uid,
            current.title,
            current.folder_uid,
            folder,
            version=current.version,
            reason="no longer generated",
            prune=True,
        )
    return DashboardChange(
        Action.DRIFT,
        current.uid,
        current.title,
        current.folder_uid,
        folder,
        version=current.version,
        reason=f"no longer generated, but {_edited(current)}; apply --prune keeps it unless "
        "--force: delete it in Grafana, or apply --prune --force",
        prune=True,
    )


def _refused_folder(wanted: DesiredDashboard) -> DashboardChange:
    return DashboardChange(
        Action.CONFLICT,
        wanted.uid,
        wanted.title,
        "",
        wanted.folder,
        reason=f"its folder {wanted.folder!r} is someone else's (see the folder conflict): "
        "not created or changed",
    )


def _edited(current: LiveDashboard) -> str:
    who = f" by {current.updated_by}" if current.updated_by else ""
    return (
        f"edited in Grafana since perfdash wrote it (version {current.version}{who}; "
        f"perfdash last wrote sha256:{current.written_hash})"
    )


def resolve_folders(
    desired: Sequence[DesiredDashboard], folders: Sequence[LiveFolder]
) -> tuple[dict[str, str], list[FolderChange], list[FolderConflict]]:
    """Folder title -> uid for every desired folder, the folders to create, and the
    titles held by a folder perfdash did not create (Grafana compares titles without
    case)."""
    by_uid = {f.uid: f for f in folders}
    by_title: dict[str, str] = {}
    for f in sorted(folders, key=lambda f: f.uid):
        by_title.setdefault(f.title.lower(), f.uid)
    resolved: dict[str, str] = {}
    created: list[FolderChange] = []
    conflicts: list[FolderConflict] = []
    for title in sorted({d.folder for d in desired}):
        uid = folder_uid(title)
        resolved[title] = uid
        if uid in by_uid:
            continue
        other = by_title.get(title.lower())
        if other is None:
            created.append(FolderChange(uid, title))
            continue
        conflicts.append(
            FolderConflict(
                title,
                other,
                reason=f"a folder titled {title!r} exists (uid {other}) that perfdash did not "
                f"create (perfdash's has uid {uid}): it is neither adopted nor duplicated; "
                "rename that folder in Grafana (or move its dashboards out and delete it)",
            )
        )
    return resolved, created, conflicts


def _dashboard_change(
    wanted: DesiredDashboard,
    current: LiveDashboard | None,
    folders: Mapping[str, str],
    titles: Mapping[str, str],
) -> DashboardChange | None:
    target = folders[wanted.folder]

    def change(action: Action, **extra: Any) -> DashboardChange:
        return DashboardChange(
            action,
            wanted.uid,
            wanted.title,
            target,
            wanted.folder,
            dashboard=wanted.dashboard,
            version=current.version if current is not None else None,
            digest=wanted.digest,
            **extra,
        )

    if current is None:
        return change(Action.CREATE)
    here = titles.get(current.folder_uid, current.folder_uid or "General")
    if current.content is None:  # read from the history alone: what perfdash wrote
        same = current.content_digest == wanted.digest
    else:
        same = same_content(current.content, wanted.dashboard)
    moved = current.folder_uid != target
    if same and not moved:
        return None
    if current.provisioned:
        return change(
            Action.CONFLICT,
            reason="provisioned from files: Grafana refuses API changes to it; remove it "
            "from the file provisioning (or deploy with perfdash build --provisioning)",
        )
    if not current.owned:
        return change(
            Action.CONFLICT,
            reason=f"uid {wanted.uid} is held by a dashboard perfdash did not write "
            f"({current.title!r} in {here}: no version in its history carries perfdash's "
            "mark): perfdash never takes it over; delete or re-uid it in Grafana",
        )
    from_folder = here if moved else None
    if same:
        return change(Action.MOVE, from_folder=from_folder)
    live = current.content or {}
    diff = structural_diff(normalize(live), normalize(wanted.dashboard))
    if not current.as_written:
        return change(
            Action.DRIFT,
            from_folder=from_folder,
            diff=diff,
            reason=f"{_edited(current)}; apply keeps it unless --force: port the edit into "
            "the declaration, or overwrite it",
        )
    return change(Action.UPDATE, from_folder=from_folder, diff=diff)
