"""Read generated dashboards the way Grafana does: panels (rows' too), targets, variables.

Import as ``from tests.grafana.dashboard_walk import ...``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import yaml

Dashboard = dict[str, Any]
Panel = dict[str, Any]

# What Grafana substitutes before a query reaches Prometheus, as Prometheus would see it.
INTERVALS = {"__rate_interval": "5m", "__interval": "1m"}
_INTERVAL = re.compile(r"\$(?:\{(__\w+)\}|(__\w+))")
_REGEX_VARIABLE = re.compile(r'=~"\$(?:\{(\w+)\}|(\w+))"')


def dashboards_of(artifacts: Mapping[str, str]) -> dict[str, Dashboard]:
    """``{relative path: dashboard}`` of every generated dashboard."""
    return {
        path: json.loads(text)
        for path, text in artifacts.items()
        if path.startswith("dashboards/") and path.endswith(".json")
    }


def all_panels(dashboard: Dashboard) -> Iterator[Panel]:
    """Every panel, rows included, with the panels nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def content_panels(dashboard: Dashboard) -> list[Panel]:
    """Every panel that shows data (everything but rows)."""
    return [panel for panel in all_panels(dashboard) if panel["type"] != "row"]


def panels_by_row(dashboard: Dashboard) -> dict[str, list[Panel]]:
    """``{row title: its panels}``: panels nested in a row or laid out after it."""
    rows: dict[str, list[Panel]] = {}
    current: list[Panel] | None = None
    for panel in dashboard.get("panels", []):
        if panel["type"] == "row":
            current = rows.setdefault(panel["title"], [])
            current.extend(panel.get("panels", []))
        elif current is not None:
            current.append(panel)
    return rows


def slo_row(dashboard: Dashboard, slo: str) -> list[Panel]:
    """The panels of the row of one SLO (titled ``SLO <name>: ...``)."""
    rows = [
        panels
        for title, panels in panels_by_row(dashboard).items()
        if title.startswith(f"SLO {slo}:")
    ]
    assert len(rows) == 1, f"expected one row for SLO {slo}, found {len(rows)}"
    return rows[0]


def panel_titled(panels: Collection[Panel], title: str) -> Panel:
    found = [panel for panel in panels if panel["title"] == title]
    assert len(found) == 1, f"expected one panel titled {title!r}, found {len(found)}"
    return found[0]


def targets_of(dashboard: Dashboard) -> Iterator[tuple[Panel, dict[str, Any]]]:
    """``(panel, target)`` for every Prometheus target of every panel (the baseline rows'
    SQL targets are checked in ``test_baseline_panels.py``)."""
    for panel in content_panels(dashboard):
        for target in panel.get("targets", []):
            if (target.get("datasource") or {}).get("type") != "grafana-postgresql-datasource":
                yield panel, target


def query_variables(dashboard: Dashboard) -> dict[str, dict[str, Any]]:
    """``{name: variable}`` of the dashboard's query variables (``team``, ``route``...)."""
    return {
        variable["name"]: variable
        for variable in dashboard["templating"]["list"]
        if variable["type"] == "query"
    }


def threshold_values(panel: Panel) -> list[float | None]:
    return [step["value"] for step in panel["fieldConfig"]["defaults"]["thresholds"]["steps"]]


def substitute_variables(expr: str, *, regex_variables: Collection[str]) -> str:
    """The query Prometheus receives with every option of the dashboard set to All.

    ``$__rate_interval`` -> 5m, ``$__interval`` -> 1m, and a variable of
    ``regex_variables`` used as ``label=~"$var"`` -> ``label=~".*"``. Any other ``$``
    is a variable this helper does not know: it fails rather than guess.
    """

    def interval(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in INTERVALS:
            raise AssertionError(f"unknown Grafana interval ${name} in {expr!r}")
        return INTERVALS[name]

    def regex(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name not in regex_variables:
            raise AssertionError(f"${name} is not a variable of this dashboard: {expr!r}")
        return '=~".*"'

    substituted = _REGEX_VARIABLE.sub(regex, _INTERVAL.sub(interval, expr))
    if "$" in substituted:
        raise AssertionError(f"a Grafana variable is left in {substituted!r} (from {expr!r})")
    return substituted


def prometheus_queries(dashboard: Dashboard) -> list[str]:
    """Every target expression of the dashboard as Prometheus receives it."""
    variables = query_variables(dashboard)
    return [
        substitute_variables(target["expr"], regex_variables=variables)
        for _, target in targets_of(dashboard)
    ]


def recording_rules(artifacts: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every recording rule of the generated ``alerts/rules/*.yaml``."""
    rules = []
    for path, text in artifacts.items():
        if path.startswith("alerts/rules/") and path.endswith(".yaml"):
            for group in yaml.safe_load(text)["groups"]:
                rules += [rule for rule in group["rules"] if "record" in rule]
    return rules
