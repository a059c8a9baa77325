"""Read what plan needs from Grafana, and no more.

1. every folder (``GET /api/folders``, paged);
2. every dashboard holding a uid perfdash generates, wherever it is, and every
   dashboard in perfdash's folders (``/api/search``, paged at 5000);
3. for each generated dashboard found in its folder, its newest version
   (``/api/dashboards/uid/:uid/versions?limit=1``, a few hundred bytes): when that
   version is one perfdash wrote and its message carries the hash of exactly what
   perfdash would write now, the dashboard is unchanged and its JSON is not read;
4. the full JSON of every other generated dashboard, and, where it differs from what
   perfdash would write (or sits in another folder), its version history: the newest
   message perfdash wrote says that perfdash wrote it and holds the hash of what it
   wrote, which tells an update (Grafana still holds that) from drift (edited since);
5. for every other dashboard in perfdash's folders (a prune candidate), its version
   history first, and its JSON only when perfdash wrote it.

Requests of a step run concurrently (bounded by the client). A no-op plan of N
dashboards costs N small reads and a few searches; it never writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from perfdash.deploy.fingerprint import same_content, written_hash
from perfdash.deploy.grafana_client import DashboardDocument, GrafanaClient, SearchHit
from perfdash.deploy.grafana_plan import (
    DesiredDashboard,
    Live,
    LiveDashboard,
    LiveFolder,
    is_perfdash_folder,
    resolve_folders,
)
from perfdash.errors import GrafanaError, PerfdashError

T = TypeVar("T")
R = TypeVar("R")


def read_live(client: GrafanaClient, desired: Sequence[DesiredDashboard]) -> Live:
    folders = tuple(LiveFolder(f.uid, f.title) for f in client.folders())
    targets, _, _ = resolve_folders(desired, folders)
    wanted = {d.uid: d for d in desired}
    hits: dict[str, SearchHit] = {h.uid: h for h in client.search_uids(sorted(wanted))}
    owned_folders = sorted(f.uid for f in folders if is_perfdash_folder(f.uid))
    if owned_folders:
        for hit in client.search_folders(owned_folders):
            hits.setdefault(hit.uid, hit)

    live: dict[str, LiveDashboard] = {}
    in_place = [
        uid
        for uid, hit in sorted(hits.items())
        if uid in wanted and hit.folder_uid == targets[wanted[uid].folder]
    ]

    def as_written(uid: str) -> LiveDashboard | None:
        """The dashboard, when its newest version is perfdash's writing of exactly what it
        would write now (hashing runs here, in the worker, while others wait on the
        network)."""
        versions = client.versions(uid, limit=1)
        if not versions:
            return None
        digest = written_hash([versions[0].message or ""])
        if digest is None or digest != wanted[uid].digest:
            return None
        hit = hits[uid]
        return LiveDashboard(
            uid=uid,
            title=hit.title,
            folder_uid=hit.folder_uid,
            tags=tuple(hit.tags or ()),
            version=versions[0].version,
            written_hash=digest,
            content_digest=digest,
        )

    for uid, known in zip(in_place, _map(client, as_written, in_place), strict=True):
        if known is not None:
            live[uid] = known

    generated = [uid for uid in sorted(hits) if uid in wanted and uid not in live]
    for uid, document in zip(generated, _map(client, client.dashboard, generated), strict=True):
        if document is not None:  # None: deleted between search and read
            live[uid] = _live_dashboard(document)
    acting = [
        uid
        for uid in generated
        if uid in live
        and (
            live[uid].folder_uid != targets[wanted[uid].folder]
            or not same_content(live[uid].content or {}, wanted[uid].dashboard)
        )
    ]
    for uid, history in zip(acting, _map(client, _history(client), acting), strict=True):
        live[uid] = _with_history(live[uid], history)

    others = [uid for uid in sorted(hits) if uid not in wanted]
    written = dict(zip(others, _map(client, _history(client), others), strict=True))
    mine = [uid for uid in others if written[uid] is not None]
    for uid, document in zip(mine, _map(client, client.dashboard, mine), strict=True):
        if document is not None:
            live[uid] = _with_history(_live_dashboard(document), written[uid])
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
            if exc.status == 404:  # gone, or no history to trust
                return None
            raise
        return written_hash(v.message or "" for v in versions)

    return newest_written


def _with_history(current: LiveDashboard, history: str | None) -> LiveDashboard:
    return replace(current, written_hash=history)


def _live_dashboard(document: DashboardDocument) -> LiveDashboard:
    dashboard = document.dashboard
    tags = dashboard.get("tags")
    return LiveDashboard(
        uid=str(dashboard["uid"]),
        title=str(dashboard.get("title", "")),
        folder_uid=document.meta.folder_uid,
        tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
        version=document.version,
        provisioned=document.meta.provisioned,
        content=dashboard,
        updated_by=document.meta.updated_by,
    )
