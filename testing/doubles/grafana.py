"""A double of Grafana's HTTP API, as its documentation describes it (dashboards,
folders, search, dashboard versions; auth and RBAC envelopes), served on 127.0.0.1.

What it reproduces, because perfdash depends on it:

- ``POST /api/dashboards/db`` bumps the version on every save, identical content or
  not; with ``overwrite: false`` the sent ``version`` must equal the stored one, else
  412 ``version-mismatch`` (so does a save without version onto an existing uid);
  a different dashboard with the same title in the folder is 412 ``name-exists``;
  a missing ``folderUid`` saves into (or moves to) the root folder; an unknown folder
  is 400 or 404 (``missing_folder_status``: it changed across Grafana versions);
  provisioned dashboards refuse saves and deletes (400); uids are at most 40 chars.
- every save is a version with its message (``/api/dashboards/uid/:uid/versions``,
  newest first; ``versions_wrapped`` answers Grafana 11's ``{"versions": [...]}``).
- ``/api/search``: ``type``, ``tag`` (all must match), ``folderUIDs``,
  ``dashboardUIDs``, ``query``, ``limit`` (default 1000, at most 5000) and ``page``;
  ``/api/folders`` pages with ``limit``/``page``.
- 401 for a missing or wrong token/password; with ``permissions`` set, 403 naming the
  missing RBAC action, in Grafana's envelopes.

``ui_edit`` and ``put`` change state as a person (or file provisioning) would,
without going through the API log.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from testing.doubles.server import DoubleServer, Fault, Request, Response, ServedDouble

SEARCH_MAX = 5000
SEARCH_DEFAULT = 1000
FOLDERS_DEFAULT = 1000
UID_MAX = 40
ALL_PERMISSIONS = frozenset(
    {
        "folders:read",
        "folders:create",
        "folders:delete",
        "dashboards:read",
        "dashboards:create",
        "dashboards:write",
        "dashboards:delete",
    }
)
SERVICE_ACCOUNT = "sa-perfdash"


@dataclass
class Stored:
    id: int
    dashboard: dict[str, Any]
    folder_uid: str
    created: str
    updated: str
    created_by: str
    updated_by: str
    provisioned: bool = False
    versions: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    encoded: bytes = b""  # the dashboard as JSON, encoded once per save

    def encode(self) -> None:
        self.encoded = json.dumps(self.dashboard).encode()

    @property
    def version(self) -> int:
        return int(self.dashboard["version"])


class GrafanaDouble(ServedDouble):
    def __init__(
        self,
        *,
        token: str | None = "glsa_double_token_0123456789",
        users: dict[str, str] | None = None,
        permissions: Iterable[str] | None = None,
        missing_folder_status: int = 400,
        versions_wrapped: bool = False,
        unique_titles: bool = True,
        latency: float = 0.0,
    ) -> None:
        self.token = token
        self.users = dict(users or {"admin": "admin-password"})
        self.permissions = frozenset(permissions) if permissions is not None else ALL_PERMISSIONS
        self.missing_folder_status = missing_folder_status
        self.versions_wrapped = versions_wrapped
        self.unique_titles = unique_titles
        self.folders: dict[str, dict[str, Any]] = {}
        self.dashboards: dict[str, Stored] = {}
        self._ids = 0
        self._lock = threading.RLock()
        self.server = DoubleServer(self.handle, latency=latency)

    # --- inspection ---------------------------------------------------------------

    def dashboard(self, uid: str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self.dashboards[uid].dashboard)

    def folder_of(self, uid: str) -> str:
        with self._lock:
            return self.dashboards[uid].folder_uid

    def versions(self, uid: str) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self.dashboards[uid].versions)

    # --- changes made outside the API (a person in the UI, file provisioning) -----

    def add_folder(self, uid: str, title: str) -> None:
        with self._lock:
            self.folders[uid] = self._folder(uid, title)

    def put(
        self,
        dashboard: dict[str, Any],
        *,
        folder_uid: str = "",
        provisioned: bool = False,
        user: str = "admin",
        message: str = "",
    ) -> None:
        with self._lock:
            self._store(copy.deepcopy(dashboard), folder_uid, user, message, provisioned)

    def ui_edit(
        self, uid: str, edit: Callable[[dict[str, Any]], None], *, user: str = "alice"
    ) -> None:
        """Edit and save a dashboard as someone in Grafana's UI would (no message)."""
        with self._lock:
            stored = self.dashboards[uid]
            dashboard = copy.deepcopy(stored.dashboard)
            edit(dashboard)
            self._store(dashboard, stored.folder_uid, user, "", stored.provisioned)

    def ui_move(self, uid: str, folder_uid: str, *, user: str = "alice") -> None:
        with self._lock:
            stored = self.dashboards[uid]
            self._store(copy.deepcopy(stored.dashboard), folder_uid, user, "", stored.provisioned)

    # --- the API ------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path == "/api/health":
            return Response.json(200, {"database": "ok", "version": "11.3.0"})
        login = self._authenticate(request)
        if isinstance(login, Response):
            return login
        for method, pattern, permission, handler in self._routes():
            found = re.fullmatch(pattern, request.path)
            if request.method == method and found:
                missing = set(permission.split()) - self.permissions
                if missing:
                    return _denied(", ".join(sorted(missing)))
                with self._lock:  # path parameters arrive percent-encoded, as in Grafana
                    return handler(request, login, *(unquote(g) for g in found.groups()))
        return Response.json(404, {"message": "Not found"})

    def _routes(self) -> list[tuple[str, str, str, Callable[..., Response]]]:
        return [
            ("GET", r"/api/folders", "folders:read", self._list_folders),
            ("POST", r"/api/folders", "folders:create", self._create_folder),
            ("GET", r"/api/folders/([^/]+)", "folders:read", self._get_folder),
            ("DELETE", r"/api/folders/([^/]+)", "folders:delete", self._delete_folder),
            ("GET", r"/api/search/?", "dashboards:read", self._search),
            ("POST", r"/api/dashboards/db/?", "dashboards:create dashboards:write", self._save),
            ("GET", r"/api/dashboards/uid/([^/]+)", "dashboards:read", self._get),
            ("DELETE", r"/api/dashboards/uid/([^/]+)", "dashboards:delete", self._delete),
            # Grafana asks for write access to read the version history
            ("GET", r"/api/dashboards/uid/([^/]+)/versions", "dashboards:write", self._versions),
        ]

    def _authenticate(self, request: Request) -> str | Response:
        header = request.headers.get("authorization", "")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "bearer" and self.token is not None:
            if credential == self.token:
                return SERVICE_ACCOUNT
            return _unauthorized("invalid API key", "api-key.invalid")
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(credential).decode().partition(":")
            except ValueError:
                user = password = ""
            if user in self.users and self.users[user] == password:
                return user
            return _unauthorized("invalid username or password", "password-auth.failed")
        return _unauthorized("Unauthorized", "auth.unauthorized")

    def _list_folders(self, request: Request, login: str) -> Response:
        limit = int(request.arg("limit") or FOLDERS_DEFAULT)
        page = int(request.arg("page") or 1)
        folders = sorted(self.folders.values(), key=lambda f: (f["title"].lower(), f["uid"]))
        chosen = folders[(page - 1) * limit : page * limit]
        return Response.json(200, [{k: f[k] for k in ("id", "uid", "title")} for f in chosen])

    def _get_folder(self, request: Request, login: str, uid: str) -> Response:
        if uid not in self.folders:
            return Response.json(404, {"message": "folder not found"})
        return Response.json(200, self.folders[uid])

    def _create_folder(self, request: Request, login: str) -> Response:
        body = request.json() or {}
        title = str(body.get("title") or "").strip()
        uid = str(body.get("uid") or f"f{self._next_id():08d}")
        if not title:
            return Response.json(400, {"message": "folder title cannot be empty"})
        if len(uid) > UID_MAX:
            return Response.json(400, {"message": "uid too long, max 40 characters"})
        if uid in self.folders:
            return Response.json(409, {"message": "a folder with the same uid already exists"})
        if any(f["title"].lower() == title.lower() for f in self.folders.values()):
            return Response.json(
                409,
                {
                    "message": "a folder or dashboard in the general folder with the same name "
                    "already exists"
                },
            )
        self.folders[uid] = self._folder(uid, title, login)
        return Response.json(200, self.folders[uid])

    def _delete_folder(self, request: Request, login: str, uid: str) -> Response:
        folder = self.folders.pop(uid, None)
        if folder is None:
            return Response.json(404, {"message": "folder not found"})
        for dashboard_uid in [u for u, s in self.dashboards.items() if s.folder_uid == uid]:
            del self.dashboards[dashboard_uid]
        return Response.json(200, {"message": "Folder deleted", "id": folder["id"]})

    def _search(self, request: Request, login: str) -> Response:
        limit = min(int(request.arg("limit") or SEARCH_DEFAULT), SEARCH_MAX)
        page = max(int(request.arg("page") or 1), 1)
        kind = request.arg("type")
        tags = request.args("tag")
        folder_uids = request.args("folderUIDs")
        uids = set(request.args("dashboardUIDs"))
        query = (request.arg("query") or "").lower()
        hits: list[dict[str, Any]] = []
        if kind in (None, "dash-folder") and not tags and not uids:
            for folder in self.folders.values():
                if query in folder["title"].lower():
                    hits.append(self._folder_hit(folder))
        if kind in (None, "dash-db"):
            for uid, stored in self.dashboards.items():
                dashboard = stored.dashboard
                if uids and uid not in uids:
                    continue
                if not set(tags) <= set(dashboard.get("tags") or []):
                    continue
                if folder_uids and (stored.folder_uid or "general") not in folder_uids:
                    continue
                if query not in str(dashboard.get("title", "")).lower():
                    continue
                hits.append(self._dashboard_hit(stored))
        hits.sort(key=lambda h: (h["title"].lower(), h["uid"]))
        return Response.json(200, hits[(page - 1) * limit : page * limit])

    def _save(self, request: Request, login: str) -> Response:
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("dashboard"), dict):
            return Response.json(400, {"message": "bad request data"})
        dashboard = body["dashboard"]  # freshly decoded: the double's own copy
        title = str(dashboard.get("title") or "").strip()
        if not title:
            return Response.json(400, {"message": "Dashboard title cannot be empty"})
        uid = dashboard.get("uid") or f"d{self._next_id():08d}"
        if len(uid) > UID_MAX:
            return Response.json(400, {"message": "uid too long, max 40 characters"})
        folder_uid = str(body.get("folderUid") or "")
        if folder_uid and folder_uid not in self.folders:
            return Response.json(self.missing_folder_status, {"message": "folder not found"})
        overwrite = bool(body.get("overwrite"))
        existing = self.dashboards.get(uid)
        if existing is not None:
            if existing.provisioned:
                return Response.json(400, {"message": "Cannot save provisioned dashboard"})
            if dashboard.get("version") != existing.version and not overwrite:
                return _precondition(
                    "The dashboard has been changed by someone else", "version-mismatch"
                )
        if self.unique_titles and not overwrite:
            for other_uid, other in self.dashboards.items():
                if (
                    other_uid != uid
                    and other.folder_uid == folder_uid
                    and str(other.dashboard.get("title", "")).lower() == title.lower()
                ):
                    return _precondition(
                        "A dashboard with the same name in the folder already exists",
                        "name-exists",
                    )
        dashboard["uid"] = uid
        stored = self._store(dashboard, folder_uid, login, str(body.get("message") or ""), False)
        return Response.json(
            200,
            {
                "id": stored.id,
                "uid": uid,
                "url": f"/d/{uid}/{_slug(title)}",
                "status": "success",
                "version": stored.version,
                "slug": _slug(title),
                "folderUid": folder_uid,
            },
        )

    def _get(self, request: Request, login: str, uid: str) -> Response:
        stored = self.dashboards.get(uid)
        if stored is None:
            return Response.json(404, {"message": "Dashboard not found"})
        folder = self.folders.get(stored.folder_uid)
        title = str(stored.dashboard.get("title", ""))
        meta = {
            "type": "db",
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "canStar": True,
            "canDelete": True,
            "slug": _slug(title),
            "url": f"/d/{uid}/{_slug(title)}",
            "expires": "0001-01-01T00:00:00Z",
            "created": stored.created,
            "updated": stored.updated,
            "updatedBy": stored.updated_by,
            "createdBy": stored.created_by,
            "version": stored.version,
            "hasAcl": False,
            "isFolder": False,
            "folderId": folder["id"] if folder else 0,
            "folderUid": stored.folder_uid,
            "folderTitle": folder["title"] if folder else "General",
            "folderUrl": folder["url"] if folder else "",
            "provisioned": stored.provisioned,
            "provisionedExternalId": f"{uid}.json" if stored.provisioned else "",
        }
        body = b'{"dashboard":' + stored.encoded + b',"meta":' + json.dumps(meta).encode() + b"}"
        return Response(200, body, {"Content-Type": "application/json"})

    def _delete(self, request: Request, login: str, uid: str) -> Response:
        stored = self.dashboards.get(uid)
        if stored is None:
            return Response.json(404, {"message": "Dashboard not found"})
        if stored.provisioned:
            return Response.json(
                400, {"message": "Dashboard cannot be deleted because it was provisioned"}
            )
        del self.dashboards[uid]
        title = stored.dashboard.get("title", "")
        return Response.json(
            200,
            {"title": title, "message": f"Dashboard {title} deleted", "id": stored.id, "uid": uid},
        )

    def _versions(self, request: Request, login: str, uid: str) -> Response:
        stored = self.dashboards.get(uid)
        if stored is None:
            return Response.json(404, {"message": "Dashboard not found"})
        limit = int(request.arg("limit") or 0) or len(stored.versions)
        start = int(request.arg("start") or 0)
        newest = [{k: v for k, v in e.items() if k != "data"} for e in reversed(stored.versions)]
        chosen = newest[start : start + limit]
        if self.versions_wrapped:
            return Response.json(200, {"continueToken": "", "versions": chosen})
        return Response.json(200, chosen)

    # --- state ----------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _folder(self, uid: str, title: str, login: str = "admin") -> dict[str, Any]:
        now = _now()
        return {
            "id": self._next_id(),
            "uid": uid,
            "title": title,
            "url": f"/dashboards/f/{uid}/{_slug(title)}",
            "hasAcl": False,
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "canDelete": True,
            "createdBy": login,
            "created": now,
            "updatedBy": login,
            "updated": now,
            "version": 1,
        }

    def _store(
        self, dashboard: dict[str, Any], folder_uid: str, user: str, message: str, provisioned: bool
    ) -> Stored:
        uid = dashboard["uid"]
        existing = self.dashboards.get(uid)
        now = _now()
        version = existing.version + 1 if existing else 1
        dashboard["id"] = existing.id if existing else self._next_id()
        dashboard["version"] = version
        if existing is None:
            stored = Stored(dashboard["id"], dashboard, folder_uid, now, now, user, user)
            self.dashboards[uid] = stored
        else:
            stored = existing
            stored.dashboard, stored.folder_uid = dashboard, folder_uid
            stored.updated, stored.updated_by = now, user
        stored.provisioned = provisioned
        stored.encode()
        stored.versions.append(
            {
                "id": len(stored.versions) + 1,
                "dashboardId": stored.id,
                "uid": uid,
                "parentVersion": version - 1,
                "restoredFrom": 0,
                "version": version,
                "created": now,
                "createdBy": user,
                "message": message,
                "data": dashboard,  # never mutated: every save stores a new object
            }
        )
        return stored

    def _folder_hit(self, folder: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": folder["id"],
            "uid": folder["uid"],
            "title": folder["title"],
            "uri": f"db/{_slug(folder['title'])}",
            "url": folder["url"],
            "slug": "",
            "type": "dash-folder",
            "tags": [],
            "isStarred": False,
            "sortMeta": 0,
        }

    def _dashboard_hit(self, stored: Stored) -> dict[str, Any]:
        title = str(stored.dashboard.get("title", ""))
        uid = stored.dashboard["uid"]
        hit: dict[str, Any] = {
            "id": stored.id,
            "uid": uid,
            "title": title,
            "uri": f"db/{_slug(title)}",
            "url": f"/d/{uid}/{_slug(title)}",
            "slug": "",
            "type": "dash-db",
            "tags": sorted(stored.dashboard.get("tags") or []),
            "isStarred": False,
            "sortMeta": 0,
        }
        folder = self.folders.get(stored.folder_uid)
        if folder is not None:  # Grafana leaves these out for the root folder
            hit |= {
                "folderId": folder["id"],
                "folderUid": folder["uid"],
                "folderTitle": folder["title"],
                "folderUrl": folder["url"],
            }
        return hit


def _unauthorized(message: str, message_id: str) -> Response:
    return Response.json(
        401, {"message": message, "messageId": message_id, "statusCode": 401, "traceID": ""}
    )


def _denied(needed: str) -> Response:
    return Response.json(
        403,
        {
            "accessErrorId": "ACE0123456789",
            "message": "You'll need additional permissions to perform this action. "
            f"Permissions needed: {needed}",
            "title": "Access denied",
        },
    )


def _precondition(message: str, status: str) -> Response:
    return Response.json(412, {"message": message, "status": status})


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["Fault", "GrafanaDouble"]
