"""Check dashboards against Grafana's published JSON schemas (tests/grafana/schema/).

What is checked, for every dashboard: the dashboard object (definition ``Dashboard``);
for every panel, rows' nested panels too, ``options`` against the panel type's
``Options`` and ``fieldConfig.defaults.custom`` against its ``FieldConfig``; every
target of a Prometheus panel against ``Dataquery``. A problem is one line,
``PATH: message``, with its JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "tests" / "grafana" / "schema"


@cache
def _validator(name: str, definition: str) -> jsonschema.Draft7Validator | None:
    path = SCHEMA_DIR / f"{name}.jsonschema.json"
    if not path.is_file():
        return None  # a panel type Grafana publishes no schema for
    schema = json.loads(path.read_text(encoding="utf-8"))
    if definition not in schema.get("definitions", {}):
        return None
    return jsonschema.Draft7Validator({**schema, "$ref": f"#/definitions/{definition}"})


def _problems(name: str, definition: str, node: Any, where: str) -> list[str]:
    validator = _validator(name, definition)
    if validator is None or node is None:
        return []
    found = []
    for error in validator.iter_errors(node):
        path = "/".join(str(part) for part in error.absolute_path)
        found.append(
            f"{where}/{path}: {error.message[:200]}" if path else f"{where}: {error.message[:200]}"
        )
    return found


def _panels(panels: Any, where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for index, panel in enumerate(panels or []):
        here = f"{where}/{index}"
        yield here, panel
        if panel.get("type") == "row":
            yield from _panels(panel.get("panels"), f"{here}/panels")


def dashboard_problems(dashboard: Mapping[str, Any]) -> list[str]:
    """Every schema problem of one dashboard (empty: valid)."""
    if not (SCHEMA_DIR / "dashboard.jsonschema.json").is_file():
        raise FileNotFoundError(f"Grafana's dashboard schema is missing from {SCHEMA_DIR}")
    problems = _problems("dashboard", "Dashboard", dashboard, "dashboard")
    for where, panel in _panels(dashboard.get("panels"), "dashboard/panels"):
        kind = panel.get("type")
        if not kind or kind == "row":
            continue
        problems += _problems(kind, "Options", panel.get("options"), f"{where}/options")
        custom = (panel.get("fieldConfig") or {}).get("defaults", {}).get("custom")
        problems += _problems(kind, "FieldConfig", custom, f"{where}/fieldConfig/defaults/custom")
        for index, target in enumerate(panel.get("targets") or []):
            source = target.get("datasource") or panel.get("datasource") or {}
            if isinstance(source, dict) and source.get("type") == "prometheus":
                problems += _problems("prometheus", "Dataquery", target, f"{where}/targets/{index}")
    return problems


def folder_problems(folder: Path) -> tuple[int, list[str]]:
    """(dashboard files checked, ``FILE: problem`` lines) for every ``*.json`` below ``folder``."""
    checked = 0
    problems: list[str] = []
    for path in sorted(folder.rglob("*.json")) if folder.is_dir() else [folder]:
        document = json.loads(path.read_text(encoding="utf-8"))
        dashboard = document.get("dashboard", document)
        if "panels" not in dashboard and "title" not in dashboard:
            continue  # not a dashboard
        checked += 1
        problems += [f"{path}: {problem}" for problem in dashboard_problems(dashboard)]
    return checked, problems
