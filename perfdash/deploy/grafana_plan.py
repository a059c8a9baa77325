"""What apply would change in Grafana: ``plan(desired, live) -> Plan``. Pure.

Desired state comes from the generated artifacts (``desired_state``); live state is
read by ``perfdash.deploy.grafana_live``. Comparison is on normalised JSON
(``perfdash.deploy.fingerprint``), so Grafana's own bookkeeping never shows as a
change. Per dashboard the plan says:

- create: no dashboard has its uid;
- update: the content differs, and Grafana still holds what perfdash last wrote;
- move: same content, another folder (an update may move too);
- drift: the content differs and was edited in Grafana since perfdash last wrote it
  (its hash is not the one perfdash recorded): apply refuses it unless ``--force``;
- conflict: the uid is taken by a dashboard perfdash does not own (no ``perfdash``
  tag) or one provisioned from files: never touched;
- delete: a dashboard perfdash owns (tag ``perfdash``, in one of its folders) that is
  no longer generated. Listed first; deleted only with ``--prune`` (otherwise it is a
  prune candidate and not a change).

Folders are one per team (title = team name, uid ``perfdash-<team>``); an existing
folder with the team's title is adopted rather than duplicated.
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
    version's message: the JSON was not read). ``written_hash`` (from the version
    history) is read only when the content differs from what perfdash would write."""

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
        return OWNER_TAG in self.tags


@dataclass(frozen=True)
class Live:
    folders: tuple[LiveFolder, ...] = ()
    dashboards: Mapping[str, LiveDashboard] = field(default_factory=dict)


@dataclass(frozen=True)
class FolderChange:
    uid: str
    title: str


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


@dataclass(frozen=True)
class Plan:
    folders: tuple[FolderChange, ...] = ()
    dashboards: tuple[DashboardChange, ...] = ()
    unchanged: int = 0
    prune: bool = False

    def of(self, action: Action) -> tuple[DashboardChange, ...]:
        return tuple(c for c in self.dashboards if c.action is action)

    @property
    def has_changes(self) -> bool:
        """Anything differs (prune candidates count only with ``--prune``)."""
        return bool(self.folders) or any(
            c.action is not Action.DELETE or self.prune for c in self.dashboards
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
    folders, new_folders = resolve_folders(desired, live.folders)
    titles = {f.uid: f.title for f in live.folders} | {f.uid: f.title for f in new_folders}
    owned_folders = set(folders.values()) | {
        f.uid for f in live.folders if is_perfdash_folder(f.uid)
    }
    changes: list[DashboardChange] = []
    unchanged = 0
    for wanted in desired:
        change = _dashboard_change(wanted, live.dashboards.get(wanted.uid), folders, titles)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    generated = {d.uid for d in desired}
    for current in live.dashboards.values():
        if (
            current.uid not in generated
            and current.owned
            and current.folder_uid in owned_folders
            and not current.provisioned
        ):
            changes.append(
                DashboardChange(
                    Action.DELETE,
                    current.uid,
                    current.title,
                    current.folder_uid,
                    titles.get(current.folder_uid, current.folder_uid),
                    version=current.version,
                    reason="no longer generated",
                )
            )
    changes.sort(key=lambda c: (ORDER.index(c.action), c.folder, c.title, c.uid))
    return Plan(tuple(new_folders), tuple(changes), unchanged, prune)


def resolve_folders(
    desired: Sequence[DesiredDashboard], folders: Sequence[LiveFolder]
) -> tuple[dict[str, str], list[FolderChange]]:
    """Folder title -> uid for every desired folder, and the folders to create."""
    by_uid = {f.uid: f for f in folders}
    by_title: dict[str, str] = {}
    for f in sorted(folders, key=lambda f: f.uid):
        by_title.setdefault(f.title, f.uid)
    resolved: dict[str, str] = {}
    created: list[FolderChange] = []
    for title in sorted({d.folder for d in desired}):
        uid = folder_uid(title)
        if uid not in by_uid and title in by_title:
            uid = by_title[title]  # adopt the team's existing folder
        elif uid not in by_uid:
            created.append(FolderChange(uid, title))
        resolved[title] = uid
    return resolved, created


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
    if not current.owned:
        return change(
            Action.CONFLICT,
            reason=f"uid {wanted.uid} is taken by a dashboard perfdash does not own (no "
            f"{OWNER_TAG!r} tag, {current.title!r} in {here}): perfdash never touches it; "
            "delete or re-uid it in Grafana",
        )
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
    from_folder = here if moved else None
    if same:
        return change(Action.MOVE, from_folder=from_folder)
    live = current.content or {}
    diff = structural_diff(normalize(live), normalize(wanted.dashboard))
    if current.written_hash != content_hash(live):
        who = f" by {current.updated_by}" if current.updated_by else ""
        history = (
            "no version in its history was written by perfdash"
            if current.written_hash is None
            else f"its content is not what perfdash last wrote (sha256:{current.written_hash})"
        )
        return change(
            Action.DRIFT,
            from_folder=from_folder,
            diff=diff,
            reason=f"edited in Grafana (version {current.version}{who}): {history}; apply "
            "keeps it unless --force: port the edit into the declaration, or overwrite it",
        )
    return change(Action.UPDATE, from_folder=from_folder, diff=diff)
