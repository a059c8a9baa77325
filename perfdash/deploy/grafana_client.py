"""Grafana's HTTP API: the calls plan and apply make, and its one error mapping.

Auth is a service-account token (``Authorization: Bearer``) or basic auth; an org is
chosen with ``X-Grafana-Org-Id``. Requests go through ``perfdash.deploy.http``
(retries, bounded concurrency). ``grafana_error`` is the single place where a failed
request becomes a ``GrafanaError``: 401/403 give one message naming the URL and the
missing permission, 412 a ``GrafanaConflict``, a missing folder (400 or 404,
depending on Grafana's version) a ``GrafanaFolderNotFound``.

Answers are decoded into the types below (msgspec), so an answer of the wrong shape
is a ``GrafanaError`` naming what was expected; uids and other values from Grafana are
quoted (``path_segment``) before they go into a URL; lists are read page by page up to
``max_pages`` (a server that repeats a page, or never ends, is an error).

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
import msgspec

from perfdash import __version__
from perfdash.deploy.http import Answer, HttpClient, Limits, RetryPolicy, path_segment, tls_verify
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
MESSAGE_CHARS = 300  # of a message Grafana sends back, in an error


class Folder(msgspec.Struct, frozen=True):
    """An entry of ``GET /api/folders``."""

    uid: str
    title: str


class SearchHit(msgspec.Struct, frozen=True, rename="camel"):
    """A hit of ``GET /api/search`` (Grafana leaves ``folderUid`` out at the root)."""

    uid: str
    title: str = ""
    folder_uid: str = ""
    tags: list[str] | None = None


class Version(msgspec.Struct, frozen=True):
    """An entry of ``GET /api/dashboards/uid/:uid/versions``."""

    version: int
    message: str | None = None


class _VersionPage(msgspec.Struct):
    versions: list[Version]  # Grafana 11 wraps the list


class DashboardMeta(msgspec.Struct, frozen=True, rename="camel"):
    folder_uid: str = ""
    provisioned: bool = False
    updated_by: str = ""
    version: int | None = None


class DashboardDocument(msgspec.Struct, frozen=True):
    """``GET /api/dashboards/uid/:uid``: the dashboard's JSON and Grafana's meta."""

    dashboard: dict[str, Any]
    meta: DashboardMeta = DashboardMeta()

    @property
    def version(self) -> int | None:
        version = self.dashboard.get("version", self.meta.version)
        return version if isinstance(version, int) and not isinstance(version, bool) else None


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
    if cause:
        return GrafanaError(method, url, status=status, body=body, detail=cause)
    document = _json_object(body)
    message = _one_line(document.get("message"))
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
        reason = _one_line(document.get("status"))
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


def _one_line(value: Any) -> str:
    """A message from Grafana as one line of at most ``MESSAGE_CHARS``."""
    text = " ".join(str(value or "").split())
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 3] + "..."


def _json_object(body: str) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
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
        limits: Limits | None = None,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.limits = limits or Limits()
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
            limits=self.limits,
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
            limits=settings.limits,
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

    def _get(self, path: str, kind: Any, what: str, params: dict[str, Any] | None = None) -> Any:
        return self.http.decode(self.http.request("GET", path, params=params), kind, what)

    def _pages(
        self, path: str, params: dict[str, Any], size: int, kind: Any, what: str
    ) -> list[Any]:
        """Every page of a list, ``size`` items a page, at most ``limits.max_pages``."""
        found: list[Any] = []
        previous: list[Any] | None = None
        for page in range(1, self.limits.max_pages + 1):
            answer = self.http.request("GET", path, params={**params, "limit": size, "page": page})
            batch: list[Any] = self.http.decode(answer, list[kind], what)
            if len(batch) > size:
                raise self._odd(answer, f"{len(batch)} {what} on a page of at most {size}")
            if batch and batch == previous:
                raise self._odd(
                    answer, f"page {page} repeats page {page - 1}: Grafana ignores 'page'"
                )
            found += batch
            if len(batch) < size:
                return found
            previous = batch
        raise GrafanaError(
            "GET",
            self.http.url(path, params),
            status=None,
            detail=f"more than {self.limits.max_pages} pages of {size} {what}: stopped "
            "(raise --max-pages if this Grafana really holds that many)",
        )

    def _odd(self, answer: Answer, detail: str) -> GrafanaError:
        return GrafanaError(
            answer.method,
            answer.url,
            status=answer.status_code,
            detail=f"unexpected answer: {detail}",
        )

    def health(self) -> dict[str, Any]:
        result: dict[str, Any] = self._get("/api/health", dict[str, Any], "a JSON object")
        return result

    def folders(self) -> list[Folder]:
        """Every folder this account can see (``GET /api/folders``, page by page)."""
        return self._pages("/api/folders", {}, FOLDERS_LIMIT, Folder, "folders")

    def folder(self, uid: str) -> bool:
        """Whether a folder with this uid exists."""
        answer = self.http.request("GET", f"/api/folders/{path_segment(uid)}", ok=(404,))
        return answer.status_code != 404

    def create_folder(self, uid: str, title: str) -> None:
        self.http.request("POST", "/api/folders", json={"uid": uid, "title": title})

    def search(
        self,
        *,
        tags: Sequence[str] = (),
        folder_uids: Sequence[str] = (),
        dashboard_uids: Sequence[str] = (),
        kind: str = "dash-db",
    ) -> list[SearchHit]:
        """``GET /api/search`` hits, every page (limit 5000, Grafana's maximum)."""
        params: dict[str, Any] = {"type": kind}
        if tags:
            params["tag"] = list(tags)
        if folder_uids:
            params["folderUIDs"] = list(folder_uids)
        if dashboard_uids:
            params["dashboardUIDs"] = list(dashboard_uids)
        return self._pages("/api/search", params, SEARCH_LIMIT, SearchHit, "search hits")

    def search_uids(self, uids: Sequence[str]) -> list[SearchHit]:
        """Search hits for these dashboard uids, whatever their tags or folder."""
        return self._search_chunks(uids, lambda chunk: self.search(dashboard_uids=chunk))

    def search_folders(self, uids: Sequence[str]) -> list[SearchHit]:
        """Search hits of every dashboard in these folders."""
        return self._search_chunks(uids, lambda chunk: self.search(folder_uids=chunk))

    def _search_chunks(
        self, values: Sequence[str], search: Callable[[list[str]], list[SearchHit]]
    ) -> list[SearchHit]:
        chunks = [
            list(values[i : i + UIDS_PER_SEARCH]) for i in range(0, len(values), UIDS_PER_SEARCH)
        ]
        hits: list[SearchHit] = []
        for result in self.map(search, chunks):
            if isinstance(result, PerfdashError):
                raise result
            hits += result
        return hits

    def dashboard(self, uid: str) -> DashboardDocument | None:
        """The dashboard and its meta, or None when there is no such dashboard."""
        answer = self.http.request("GET", f"/api/dashboards/uid/{path_segment(uid)}", ok=(404,))
        if answer.status_code == 404:
            return None
        document: DashboardDocument = self.http.decode(
            answer, DashboardDocument, "a dashboard with its meta"
        )
        if document.dashboard.get("uid") != uid:
            raise self._odd(answer, f"asked for dashboard {uid!r}, got another one")
        return document

    def versions(self, uid: str, *, limit: int = VERSIONS_LIMIT) -> list[Version]:
        """Newest first. Grafana 11 wraps the list as ``{"versions": [...]}``; older ones
        answer the bare list."""
        answer: list[Version] | _VersionPage = self._get(
            f"/api/dashboards/uid/{path_segment(uid)}/versions",
            list[Version] | _VersionPage,
            "a list of versions",
            {"limit": limit},
        )
        versions = answer.versions if isinstance(answer, _VersionPage) else answer
        return sorted(versions, key=lambda v: v.version, reverse=True)[:limit]

    def save_dashboard(
        self,
        dashboard: dict[str, Any],
        *,
        folder_uid: str,
        message: str,
        overwrite: bool = False,
    ) -> None:
        """``POST /api/dashboards/db``. ``folderUid`` is always sent: leaving it out moves
        an existing dashboard to the root folder."""
        body = {
            "dashboard": dashboard,
            "folderUid": folder_uid,
            "message": message,
            "overwrite": overwrite,
        }
        self.http.request("POST", "/api/dashboards/db", json=body)

    def delete_dashboard(self, uid: str) -> None:
        self.http.request("DELETE", f"/api/dashboards/uid/{path_segment(uid)}")
