"""Jsonnet: per-service dashboard overrides and whole extra dashboards.

An override is a Jsonnet file whose value is a function of the generated dashboard:

    // dashboards/overrides/checkout.libsonnet
    function(dashboard) dashboard + {
      panels+: [{type: 'text', title: 'On call', gridPos: {h: 3, w: 24, x: 0, y: 100},
                 options: {mode: 'markdown', content: 'Pager: #payments-oncall'}}],
    }

It is found at ``<jsonnet dir>/overrides/<service>.libsonnet`` or declared in
``spec.dashboard.jsonnet``. Extra dashboards are ``<jsonnet dir>/src/*.jsonnet`` files
evaluating to a dashboard; they are written to ``dashboards/extra/<name>.json``. Both
can import from ``<jsonnet dir>`` and ``<jsonnet dir>/vendor`` (e.g. grafonnet). Errors
name the Jsonnet file, line and column.

Imports (``import``, ``importstr``, ``importbin``) are confined to the project (the
working directory) and the Jsonnet folder: a path that leaves them, directly or through
a symbolic link, is refused without being read, so an override cannot copy
``/etc/passwd`` or a key file into a dashboard.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import _jsonnet
import orjson

from perfdash import conventions
from perfdash.errors import Problem, SpecError
from perfdash.model.fleet import Service

DEFAULT_JSONNET_DIR = Path("dashboards")
EXTRA_DIR = conventions.EXTRA_DASHBOARDS_DIR
_LOCATION = re.compile(r"(?P<file>[^\s:()]+\.(?:lib|j)sonnet):\(?(?P<line>\d+):(?P<column>\d+)")


def find_overrides(services: tuple[Service, ...], jsonnet_dir: Path) -> dict[str, str]:
    """``{service name: override file}`` for services that have one (declared or by name)."""
    found = {}
    for service in services:
        if service.dashboard_jsonnet:
            found[service.name] = service.dashboard_jsonnet
            continue
        conventional = jsonnet_dir / "overrides" / f"{service.name}.libsonnet"
        if conventional.is_file():
            found[service.name] = str(conventional)
    return {name: _readable(path) for name, path in found.items()}


def _readable(path: str) -> str:
    """Relative to the working directory when inside it: that is what errors will show."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def apply_override(
    dashboard: dict[str, Any], override: str, *, jsonnet_dir: Path
) -> dict[str, Any]:
    """Call the override function with ``dashboard``; keep its uid and the perfdash tag."""
    # Called positionally: the function's parameter may have any name.
    call = f"(import {json.dumps(os.path.abspath(override))})(std.extVar('dashboard'))"
    result = _evaluate(
        override, jsonnet_dir, snippet=call, ext={"dashboard": orjson.dumps(dashboard).decode()}
    )
    if not isinstance(result, dict):
        raise _problem(
            override,
            f"must evaluate to a function returning a dashboard object, got {type(result).__name__}",
        )
    if result.get("uid") != dashboard.get("uid"):
        raise _problem(
            override,
            f"must keep the dashboard uid {dashboard.get('uid')!r} (perfdash finds its dashboards by uid)",
        )
    tags = list(result.get("tags") or [])
    if "perfdash" not in tags:
        result["tags"] = ["perfdash", *tags]
    return result


def build_extra_dashboards(jsonnet_dir: Path) -> dict[str, dict[str, Any]]:
    """``{dashboards/extra/<name>.json: dashboard}`` for every ``<jsonnet dir>/src/*.jsonnet``."""
    source_dir = jsonnet_dir / "src"
    if not source_dir.is_dir():
        return {}
    dashboards: dict[str, dict[str, Any]] = {}
    uids: dict[str, Path] = {}
    for source in sorted(source_dir.glob("*.jsonnet")):
        dashboard = _evaluate(str(source), jsonnet_dir)
        if not isinstance(dashboard, dict) or not isinstance(dashboard.get("panels", []), list):
            raise _problem(str(source), "must evaluate to a dashboard object")
        uid, title = dashboard.get("uid"), dashboard.get("title")
        if not uid or not title:
            raise _problem(str(source), "a dashboard needs a uid and a title")
        if uid in uids:
            raise _problem(str(source), f"uid {uid!r} is already used by {uids[uid]}")
        uids[uid] = source
        tags = list(dashboard.get("tags") or [])
        dashboard["tags"] = tags if "perfdash" in tags else ["perfdash", *tags]
        dashboards[f"{EXTRA_DIR}/{source.stem}.json"] = dashboard
    return dashboards


def _evaluate(
    path: str,
    jsonnet_dir: Path,
    *,
    snippet: str | None = None,
    ext: Mapping[str, str] | None = None,
) -> Any:
    search = [jsonnet_dir.resolve(), (jsonnet_dir / "vendor").resolve()]
    importer = _ConfinedImports(
        roots=(Path.cwd().resolve(), jsonnet_dir.resolve()),
        search=search,
        trusted=Path(path).resolve() if snippet is not None else None,
    )
    try:
        if snippet is None:
            if not importer.allowed(Path(path).resolve()):
                raise _problem(path, "is outside the project and the Jsonnet folder; not read")
            text = _jsonnet.evaluate_file(path, import_callback=importer)
        else:
            text = _jsonnet.evaluate_snippet(
                os.path.abspath("<perfdash>"),
                snippet,
                import_callback=importer,
                ext_codes=dict(ext or {}),
            )
    except RuntimeError as exc:
        raise _located(path, str(exc)) from exc
    return orjson.loads(text)


class _ConfinedImports:
    """Jsonnet's import callback: relative to the importing file, then the search path;
    only files inside ``roots`` (or the one ``trusted`` file, a declared override)."""

    def __init__(
        self, *, roots: tuple[Path, ...], search: list[Path], trusted: Path | None
    ) -> None:
        self.roots = roots
        self.search = search
        self.trusted = trusted

    def allowed(self, path: Path) -> bool:
        return path == self.trusted or any(path.is_relative_to(root) for root in self.roots)

    def __call__(self, directory: str, name: str) -> tuple[str, bytes]:
        candidates = [Path(directory) / name, *(folder / name for folder in self.search)]
        for candidate in candidates:
            resolved = candidate.resolve()
            if not resolved.is_file():
                continue
            if not self.allowed(resolved):
                raise RuntimeError("outside the project and the Jsonnet folder; not read")
            return str(candidate), resolved.read_bytes()
        raise RuntimeError("no such file next to the importing file or in the Jsonnet folder")


def _located(path: str, message: str) -> SpecError:
    """A Jsonnet error as a Problem at the innermost file:line:column it names."""
    text = message.strip() or "jsonnet error"
    match = _LOCATION.search(text)
    if not match:
        return SpecError([Problem(path, 0, 0, "jsonnet", text.splitlines()[0])])
    where = _readable(match["file"])
    first_line = text.splitlines()[0].replace(f"{match['file']}:", "").replace(match["file"], where)
    first_line = re.sub(r"ERROR: \d+:\d+(-\d+)?: ", "ERROR: ", first_line)
    return SpecError(
        [Problem(where, int(match["line"]), int(match["column"]), "jsonnet", first_line)]
    )


def _problem(path: str, message: str) -> SpecError:
    return SpecError([Problem(path, 0, 0, "jsonnet", message)])
