"""Read what plan needs from Grafana, and no more.

1. every folder (``GET /api/folders``, paged);
2. every dashboard tagged ``perfdash`` (``/api/search?tag=perfdash``, paged at 5000)
   and every dashboard holding a uid perfdash generates, whatever its tags;
3. for each generated dashboard found in its folder, its newest version
   (``/api/dashboards/uid/:uid/versions?limit=1``, a few hundred bytes): when that
   version is one perfdash wrote and its message carries the hash of exactly what
   perfdash would write now, the dashboard is unchanged and its JSON is not read;
4. the full JSON of every other dashboard found;
5. for a dashboard whose content differs from what perfdash would write, its version
   history: the newest message perfdash wrote holds the hash of what it wrote, which
   tells an update (Grafana still holds that) from drift (edited since).

Requests of a step run concurrently (bounded by the client). A no-op plan of N
dashboards costs N small reads and a few searches; it never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from perfdash.deploy.fingerprint import same_content, written_hash
from perfdash.deploy.grafana_client import GrafanaClient
from perfdash.deploy.grafana_plan import (
    OWNER_TAG,
    DesiredDashboard,
    Live,
    LiveDashboard,
    LiveFolder,
    resolve_folders,
)
from perfdash.errors import GrafanaError, PerfdashError

T = TypeVar("T")
R = TypeVar("R")


def read_live(client: GrafanaClient, desired: Sequence[DesiredDashboard]) -> Live:
    folders = tuple(LiveFolder(str(f["uid"]), str(f.get("title", ""))) for f in client.folders())
    targets, _ = resolve_folders(desired, folders)
    wanted = {d.uid: d for d in desired}
    hits = {h["uid"]: h for h in client.search(tags=[OWNER_TAG])}
    for hit in client.search_uids(sorted(wanted)):
        hits.setdefault(hit["uid"], hit)

    live: dict[str, LiveDashboard] = {}
    candidates = [
        uid
        for uid, hit in sorted(hits.items())
        if uid in wanted
        and OWNER_TAG in (hit.get("tags") or [])
        and str(hit.get("folderUid") or "") == targets[wanted[uid].folder]
    ]

    def as_written(uid: str) -> LiveDashboard | None:
        """The dashboard, when its newest version is perfdash's writing of exactly what it
        would write now (hashing runs here, in the worker, while others wait on the
        network)."""
        versions = client.versions(uid, limit=1)
        if not versions:
            return None
        digest = written_hash([str(versions[0].get("message") or "")])
        if digest is None or digest != wanted[uid].digest:
            return None
        hit = hits[uid]
        return LiveDashboard(
            uid=uid,
            title=str(hit.get("title", "")),
            folder_uid=str(hit.get("folderUid") or ""),
            tags=tuple(hit.get("tags") or ()),
            version=int(versions[0]["version"]),
            content_digest=digest,
        )

    for uid, known in zip(candidates, _map(client, as_written, candidates), strict=True):
        if known is not None:
            live[uid] = known

    unread = [uid for uid in sorted(hits) if uid not in live]
    for uid, document in zip(unread, _map(client, client.dashboard, unread), strict=True):
        if document is not None:  # None: deleted between search and read
            live[uid] = _live_dashboard(document)

    differing = [
        uid
        for uid in unread
        if uid in live
        and uid in wanted
        and live[uid].owned
        and not same_content(live[uid].content or {}, wanted[uid].dashboard)
    ]
    for uid, history in zip(differing, _map(client, _history(client), differing), strict=True):
        current = live[uid]
        live[uid] = LiveDashboard(
            uid=current.uid,
            title=current.title,
            folder_uid=current.folder_uid,
            tags=current.tags,
            version=current.version,
            provisioned=current.provisioned,
            content=current.content,
            written_hash=history,
            updated_by=current.updated_by,
        )
    return Live(folders, live)


def _map(client: GrafanaClient, function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``client.map``, raising the first failure: a plan needs every read."""
    results = client.map(function, items)
    found: list[R] = []
    for result in results:
        if isinstance(result, PerfdashError):
            raise result
        found.append(result)
    return found


def _history(client: GrafanaClient) -> Callable[[str], str | None]:
    def newest_written(uid: str) -> str | None:
        try:
            versions = client.versions(uid)
        except GrafanaError as exc:
            if exc.status == 404:  # no history to trust
                return None
            raise
        return written_hash(str(v.get("message") or "") for v in versions)

    return newest_written


def _live_dashboard(document: Mapping[str, Any]) -> LiveDashboard:
    dashboard = document.get("dashboard") or {}
    meta = document.get("meta") or {}
    version = dashboard.get("version", meta.get("version"))
    return LiveDashboard(
        uid=str(dashboard.get("uid", "")),
        title=str(dashboard.get("title", "")),
        folder_uid=str(meta.get("folderUid") or ""),
        tags=tuple(t for t in dashboard.get("tags") or [] if isinstance(t, str)),
        version=int(version) if version is not None else None,
        provisioned=bool(meta.get("provisioned")),
        content=dashboard,
        updated_by=str(meta.get("updatedBy") or ""),
    )
