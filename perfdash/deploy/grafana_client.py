"""Grafana's HTTP API: the calls plan and apply make, and its one error mapping.

Auth is a service-account token (``Authorization: Bearer``) or basic auth; an org is
chosen with ``X-Grafana-Org-Id``. Requests go through ``perfdash.deploy.http``
(retries, bounded concurrency). ``grafana_error`` is the single place where a failed
request becomes a ``GrafanaError``: 401/403 give one message naming the URL and the
missing permission, 412 a ``GrafanaConflict``, a missing folder (400 or 404,
depending on Grafana's version) a ``GrafanaFolderNotFound``.

Pass ``transport=`` to replace the network (``httpx.MockTransport`` in tests); the
in-process Grafana double needs nothing but its URL.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from perfdash import __version__
from perfdash.deploy.http import HttpClient, RetryPolicy, tls_verify
from perfdash.deploy.settings import GrafanaSettings, Secret
from perfdash.errors import (
    GrafanaAuthError,
    GrafanaConflict,
    GrafanaError,
    GrafanaFolderNotFound,
    PerfdashError,
)

T = TypeVar("T")
R = TypeVar("R")
SEARCH_LIMIT = 5000  # Grafana's maximum page size for /api/search
FOLDERS_LIMIT = 1000  # /api/folders default and our page size
UIDS_PER_SEARCH = 100  # dashboardUIDs per search request (keeps URLs short)
VERSIONS_LIMIT = 50

# What a 403 on each endpoint lacks, when Grafana's answer does not say (older versions).
_PERMISSIONS = (
    ("POST", "/api/dashboards/db", "dashboards:create and dashboards:write"),
    ("DELETE", "/api/dashboards/uid/", "dashboards:delete"),
    ("GET", "/api/dashboards/uid/*/versions", "dashboards:write (to read version history)"),
    ("GET", "/api/dashboards/uid/", "dashboards:read"),
    ("GET", "/api/search", "dashboards:read and folders:read"),
    ("POST", "/api/folders", "folders:create"),
    ("GET", "/api/folders", "folders:read"),
)
_NEEDED = re.compile(r"Permissions needed:\s*(?P<needed>.+?)\s*$", re.S)
_CONFLICTS = {
    "version-mismatch": "changed in Grafana since perfdash read it (version-mismatch); "
    "not overwritten: run plan again to see the change",
    "name-exists": "another dashboard already has this uid or title in the folder (name-exists)",
    "plugin-dashboard": "the dashboard belongs to a plugin (plugin-dashboard)",
}


def grafana_error(method: str, url: str, status: int | None, body: str, cause: str) -> GrafanaError:
    """The error for a failed Grafana request (``status`` None: no response at all)."""
    if status is None:
        return GrafanaError(method, url, status=None, detail=f"cannot reach Grafana: {cause}")
    document = _json_object(body)
    message = str(document.get("message") or "").strip()
    if status == 401:
        return GrafanaAuthError(
            method,
            url,
            status=status,
            body=body,
            detail=f"Grafana at {_origin(url)} rejected the credentials"
            + (f" ({message})" if message else "")
            + ": set GRAFANA_TOKEN to a valid service-account token (or GRAFANA_USER and "
            "GRAFANA_PASSWORD), and GRAFANA_ORG_ID to an org it belongs to",
        )
    if status == 403:
        needed = _needed_permission(message) or _permission_for(method, url)
        return GrafanaAuthError(
            method,
            url,
            status=status,
            body=body,
            detail=f"Grafana at {_origin(url)} denied {method} {urlsplit(url).path}: the "
            f"service account lacks the permission {needed} (give it the Editor role, or "
            "a custom role with it on the perfdash folders)",
        )
    if status == 412:
        reason = str(document.get("status") or "")
        return GrafanaConflict(
            method,
            url,
            status=status,
            body=body,
            detail=_CONFLICTS.get(reason, message or "precondition failed"),
            reason=reason,
        )
    if status in (400, 404) and "folder not found" in message.lower():
        return GrafanaFolderNotFound(method, url, status=status, body=body, detail=message)
    return GrafanaError(method, url, status=status, body=body, detail=message)


def _json_object(body: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _needed_permission(message: str) -> str | None:
    found = _NEEDED.search(message)
    return found.group("needed") if found else None


def _permission_for(method: str, url: str) -> str:
    path = urlsplit(url).path
    api = path[path.find("/api/") :] if "/api/" in path else path
    for verb, pattern, permission in _PERMISSIONS:
        if method == verb and fnmatch.fnmatchcase(api, pattern + ("" if "*" in pattern else "*")):
            return permission
    return "for this request"


class GrafanaClient:
    """The Grafana calls perfdash makes. ``map`` runs calls concurrently (bounded)."""

    def __init__(
        self,
        url: str,
        *,
        token: Secret | None = None,
        user: str | None = None,
        password: Secret | None = None,
        org_id: int | None = None,
        verify: Any = True,
        timeout: float = 30.0,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": f"perfdash/{__version__}"}
        secrets: list[str] = []
        if token is not None:
            headers["Authorization"] = f"Bearer {token.reveal()}"
            secrets.append(token.reveal())
        auth = None
        if user is not None and password is not None:
            auth = (user, password.reveal())
        if org_id is not None:
            headers["X-Grafana-Org-Id"] = str(org_id)
        self.http = HttpClient(
            url,
            error=grafana_error,
            headers=headers,
            auth=auth,
            verify=verify,
            timeout=timeout,
            concurrency=concurrency,
            retry=retry,
            transport=transport,
            secrets=secrets,
        )

    @classmethod
    def from_settings(
        cls,
        settings: GrafanaSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
    ) -> GrafanaClient:
        return cls(
            settings.url,
            token=settings.token,
            user=settings.user,
            password=settings.password,
            org_id=settings.org_id,
            verify=tls_verify(ca_cert=settings.ca_cert, insecure=settings.insecure),
            timeout=settings.timeout,
            concurrency=settings.concurrency,
            retry=retry or RetryPolicy(attempts=settings.retries),
            transport=transport,
        )

    @property
    def url(self) -> str:
        return self.http.base_url

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> GrafanaClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R | PerfdashError]:
        return self.http.map(function, items)

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.json(self.http.request("GET", path, params=params))

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/api/health")
        return result

    def folders(self) -> list[dict[str, Any]]:
        """Every folder this account can see (``GET /api/folders``, page by page)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self._get("/api/folders", {"limit": FOLDERS_LIMIT, "page": page})
            found += batch
            if len(batch) < FOLDERS_LIMIT:
                return found
            page += 1

    def create_folder(self, uid: str, title: str) -> dict[str, Any]:
        response = self.http.request("POST", "/api/folders", json={"uid": uid, "title": title})
        result: dict[str, Any] = self.http.json(response)
        return result

    def search(
        self,
        *,
        tags: Sequence[str] = (),
        folder_uids: Sequence[str] = (),
        dashboard_uids: Sequence[str] = (),
        kind: str = "dash-db",
    ) -> list[dict[str, Any]]:
        """``GET /api/search`` hits, every page (limit 5000, Grafana's maximum)."""
        params: dict[str, Any] = {"type": kind, "limit": SEARCH_LIMIT}
        if tags:
            params["tag"] = list(tags)
        if folder_uids:
            params["folderUIDs"] = list(folder_uids)
        if dashboard_uids:
            params["dashboardUIDs"] = list(dashboard_uids)
        hits: list[dict[str, Any]] = []
        page = 1
        while True:
            batch = self._get("/api/search", {**params, "page": page})
            hits += batch
            if len(batch) < SEARCH_LIMIT:
                return hits
            page += 1

    def search_uids(self, uids: Sequence[str]) -> list[dict[str, Any]]:
        """Search hits for these dashboard uids, whatever their tags or folder."""
        chunks = [list(uids[i : i + UIDS_PER_SEARCH]) for i in range(0, len(uids), UIDS_PER_SEARCH)]
        hits: list[dict[str, Any]] = []
        for result in self.map(lambda chunk: self.search(dashboard_uids=chunk), chunks):
            if isinstance(result, PerfdashError):
                raise result
            hits += result
        return hits

    def dashboard(self, uid: str) -> dict[str, Any] | None:
        """``{"dashboard": ..., "meta": ...}``, or None when there is no such dashboard."""
        response = self.http.request("GET", f"/api/dashboards/uid/{uid}", ok=(404,))
        if response.status_code == 404:
            return None
        result: dict[str, Any] = self.http.json(response)
        return result

    def versions(self, uid: str, *, limit: int = VERSIONS_LIMIT) -> list[dict[str, Any]]:
        """Newest first. Grafana 11 wraps the list as ``{"versions": [...]}``; older ones
        answer the bare list."""
        answer = self._get(f"/api/dashboards/uid/{uid}/versions", {"limit": limit})
        versions = answer.get("versions", []) if isinstance(answer, dict) else answer
        return sorted(versions, key=lambda v: int(v.get("version", 0)), reverse=True)

    def save_dashboard(
        self,
        dashboard: dict[str, Any],
        *,
        folder_uid: str,
        message: str,
        overwrite: bool = False,
    ) -> dict[str, Any]:
        """``POST /api/dashboards/db``. ``folderUid`` is always sent: leaving it out moves
        an existing dashboard to the root folder."""
        body = {
            "dashboard": dashboard,
            "folderUid": folder_uid,
            "message": message,
            "overwrite": overwrite,
        }
        result: dict[str, Any] = self.http.json(
            self.http.request("POST", "/api/dashboards/db", json=body)
        )
        return result

    def delete_dashboard(self, uid: str) -> None:
        self.http.request("DELETE", f"/api/dashboards/uid/{uid}")
