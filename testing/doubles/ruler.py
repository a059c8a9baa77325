"""A double of the Mimir ruler's configuration API, as Mimir's HTTP API reference
describes it ("Ruler"), served on 127.0.0.1 under the ``/prometheus`` prefix:

    GET    /prometheus/config/v1/rules                      {namespace: [group, ...]}
    GET    /prometheus/config/v1/rules/{namespace}          {namespace: [group, ...]}, 404
    GET    /prometheus/config/v1/rules/{namespace}/{group}  the group, 404
    POST   /prometheus/config/v1/rules/{namespace}          one group as YAML -> 202
    DELETE /prometheus/config/v1/rules/{namespace}/{group}  202, 404
    DELETE /prometheus/config/v1/rules/{namespace}          202, 404

Answers are YAML; every request needs ``X-Scope-OrgID`` (401 ``no org id``), and rule
groups are kept per tenant. A posted group is validated as Mimir does at the surface:
it needs a name and rules, each rule a ``record`` or an ``alert`` and an ``expr``.
"""

from __future__ import annotations

import re
import threading
from typing import Any
from urllib.parse import unquote

import yaml

from testing.doubles.server import DoubleServer, Fault, Request, Response, ServedDouble

PREFIX = "/prometheus/config/v1/rules"


class RulerDouble(ServedDouble):
    def __init__(self, *, latency: float = 0.0) -> None:
        self.tenants: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self.server = DoubleServer(self.handle, latency=latency)

    def groups(self, tenant: str, namespace: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self.tenants.get(tenant, {}).get(namespace, {}))

    def put(self, tenant: str, namespace: str, group: dict[str, Any]) -> None:
        with self._lock:
            self.tenants.setdefault(tenant, {}).setdefault(namespace, {})[group["name"]] = group

    def handle(self, request: Request) -> Response:
        tenant = request.headers.get("x-scope-orgid", "")
        if not tenant:
            return Response.text(401, "no org id")
        found = re.fullmatch(rf"{PREFIX}(?:/([^/]+))?(?:/([^/]+))?", request.path)
        if found is None:
            return Response.text(404, "404 page not found")
        namespace = unquote(found.group(1)) if found.group(1) else None
        group = unquote(found.group(2)) if found.group(2) else None
        with self._lock:
            spaces = self.tenants.setdefault(tenant, {})
            if request.method == "GET":
                return self._get(spaces, namespace, group)
            if request.method == "POST" and namespace and group is None:
                return self._post(spaces, namespace, request)
            if request.method == "DELETE" and namespace:
                return self._delete(spaces, namespace, group)
        return Response.text(405, "method not allowed")

    def _get(
        self, spaces: dict[str, dict[str, dict[str, Any]]], namespace: str | None, group: str | None
    ) -> Response:
        if namespace is None:
            document = {ns: list(groups.values()) for ns, groups in spaces.items() if groups}
            return _yaml(200, document)
        groups = spaces.get(namespace) or {}
        if not groups:
            return Response.text(404, "no rule groups found")
        if group is None:
            return _yaml(200, {namespace: list(groups.values())})
        if group not in groups:
            return Response.text(404, "group does not exist")
        return _yaml(200, groups[group])

    def _post(
        self, spaces: dict[str, dict[str, dict[str, Any]]], namespace: str, request: Request
    ) -> Response:
        if not request.headers.get("content-type", "").startswith("application/yaml"):
            return Response.text(400, "unsupported content type: use application/yaml")
        try:
            group = yaml.safe_load(request.body)
        except yaml.YAMLError as exc:
            return Response.text(400, f"unable to decode rule group: {exc}")
        problem = _invalid(group)
        if problem:
            return Response.text(400, problem)
        spaces.setdefault(namespace, {})[group["name"]] = group
        return Response.json(202, {"status": "success", "data": None, "errorType": "", "error": ""})

    def _delete(
        self, spaces: dict[str, dict[str, dict[str, Any]]], namespace: str, group: str | None
    ) -> Response:
        groups = spaces.get(namespace) or {}
        if group is None:
            if not groups:
                return Response.text(404, "no rule groups found")
            spaces.pop(namespace, None)
        else:
            if group not in groups:
                return Response.text(404, "group does not exist")
            del groups[group]
        return Response.json(202, {"status": "success", "data": None, "errorType": "", "error": ""})


def _invalid(group: Any) -> str:
    if not isinstance(group, dict) or not group.get("name"):
        return "invalid rules config: rule group name must not be empty"
    rules = group.get("rules")
    if not isinstance(rules, list) or not rules:
        return f"invalid rules config: rule group '{group['name']}' has no rules"
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict) or ("record" in rule) == ("alert" in rule):
            return f"group '{group['name']}', rule {index}: one of 'record' or 'alert' must be set"
        if not rule.get("expr"):
            return f"group '{group['name']}', rule {index}: field 'expr' must be set in rule"
    return ""


def _yaml(status: int, document: Any) -> Response:
    return Response.text(status, yaml.safe_dump(document, sort_keys=False), "application/yaml")


__all__ = ["Fault", "RulerDouble"]
