"""Every generated dashboard as ``{relative path: JSON text}``.

Service dashboards go to ``dashboards/<team>/<service>.json`` (one folder per team, as
in Grafana), the overview to ``dashboards/overview.json``. JSON is written with sorted
keys and a trailing newline, so unchanged declarations give unchanged bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from perfdash import conventions
from perfdash.grafana.overview import overview_dashboard
from perfdash.grafana.service import service_dashboard
from perfdash.model.fleet import Fleet, Service


def dashboard_folder(path: str, dashboard: Mapping[str, Any]) -> str:
    """The Grafana folder a generated dashboard belongs in: its team for
    ``dashboards/<team>/<service>.json``, else the ``team:`` tag of an extra dashboard,
    else ``perfdash`` (the overview, extra dashboards of no team)."""
    parts = path.split("/")
    if len(parts) == 3 and parts[1] != "extra":
        return parts[1]
    for tag in dashboard.get("tags") or []:
        if isinstance(tag, str) and tag.startswith("team:"):
            return tag.removeprefix("team:")
    return conventions.OVERVIEW_FOLDER


def dashboard_json(dashboard: dict[str, Any]) -> str:
    # orjson: the standard library's encoder is pure Python as soon as it indents, and
    # dumping was most of the time spent on dashboards of a large fleet.
    return (
        orjson.dumps(dashboard, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"
    )


def has_dashboard(service: Service) -> bool:
    return bool(service.slos) or service.red is not None


def build_service_dashboards(services: Iterable[Service]) -> dict[str, dict[str, Any]]:
    return {
        conventions.dashboard_path(s.team, s.name): service_dashboard(s)
        for s in services
        if has_dashboard(s)
    }


def build_overview(fleet: Fleet) -> dict[str, dict[str, Any]]:
    return {conventions.OVERVIEW_PATH: overview_dashboard(fleet)} if fleet.slo_count else {}
