"""Panel building blocks with perfdash's conventions: units, colours, thresholds, layout.

Colours are the Okabe-Ito palette, distinguishable with the common colour-vision
deficiencies: blue means fine, orange means watch it, vermillion means act.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from perfdash.grafana.normalize import (
    BUILT_IN_ANNOTATION,
    DATASOURCE_VARIABLE,
    SCHEMA_VERSION,
    normalize_panel,
)

OK = "#0072B2"  # blue
WARN = "#E69F00"  # orange
BAD = "#D55E00"  # vermillion
NEUTRAL = "#56B4E9"  # sky blue
DATASOURCE = "${" + DATASOURCE_VARIABLE + "}"
GRID_WIDTH = 24


Panel = dict[str, Any]


@dataclass
class Layout:
    """Places panels left to right, wrapping at Grafana's 24-column grid, and numbers them.

    Panels are kept as the JSON Grafana stores: the helpers below build it directly, and
    a grafanalib panel (the overview's bar gauge and table) is normalised as it is added."""

    x: int = 0
    y: int = 0
    line_height: int = 0
    panels: list[Panel] = field(default_factory=list)

    def row(self, title: str) -> None:
        self.newline()
        self.panels.append(
            {
                "type": "row",
                "id": len(self.panels) + 1,
                "title": title,
                "collapsed": False,
                "gridPos": _grid(h=1, w=GRID_WIDTH, x=0, y=self.y),
                "panels": [],
            }
        )
        self.y += 1

    def add(self, panel: Any, *, width: int, height: int) -> None:
        """Place ``panel``: a Panel, or a grafanalib panel (normalised here)."""
        if self.x + width > GRID_WIDTH:
            self.newline()
        if not isinstance(panel, dict):
            panel = normalize_panel(panel)
        panel["gridPos"] = _grid(h=height, w=width, x=self.x, y=self.y)
        panel["id"] = len(self.panels) + 1  # ids in layout order, as grafanalib would number them
        self.panels.append(panel)
        self.x += width
        self.line_height = max(self.line_height, height)

    def newline(self) -> None:
        if self.x:
            self.y += self.line_height
        self.x = 0
        self.line_height = 0


def _grid(*, h: int, w: int, x: int, y: int) -> dict[str, int]:
    return {"h": h, "w": w, "x": x, "y": y}


# The panels below are built as ``normalize_panel`` would write grafanalib's panels of
# the same arguments (tests/grafana/test_panels.py holds them to that): a service
# dashboard has dozens, and building them through grafanalib's objects and normalising
# those was most of the time a large fleet's build spent on dashboards.


def _datasource() -> dict[str, str]:
    return {"type": "prometheus", "uid": DATASOURCE}


def target(
    expr: str, *, legend: str = "", ref: str = "A", instant: bool = False, table: bool = False
) -> dict[str, Any]:
    made: dict[str, Any] = {"refId": ref, "datasource": _datasource(), "expr": expr}
    if legend:
        made["legendFormat"] = legend
    if instant:
        made["instant"] = True
        made["range"] = False
    if table:
        made["format"] = "table"
    return made


def steps(*pairs: tuple[str, float | None]) -> list[dict[str, Any]]:
    """``steps((BAD, None), (OK, 0.999))``: the first is the base colour (value null)."""
    return [
        {"color": color, "value": None if index == 0 else value}
        for index, (color, value) in enumerate(pairs)
    ]


def _panel(
    kind: str,
    title: str,
    description: str,
    targets: list[dict[str, Any]],
    defaults: dict[str, Any],
    options: dict[str, Any],
) -> Panel:
    panel: Panel = {"type": kind, "title": title}
    if description:
        panel["description"] = description
    panel["datasource"] = _datasource()
    panel["targets"] = targets
    panel["fieldConfig"] = {"defaults": defaults, "overrides": []}
    panel["options"] = options
    return panel


def _thresholds(thresholds: list[dict[str, Any]]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": thresholds}


def _legend() -> dict[str, Any]:
    return {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": True}


def stat(
    title: str,
    description: str,
    expr: str,
    *,
    unit: str,
    thresholds: list[dict[str, Any]],
    decimals: int | None = None,
    mappings: Sequence[dict[str, Any]] = (),
    links: Sequence[dict[str, Any]] = (),
    no_value: str = "no data",
) -> Panel:
    defaults: dict[str, Any] = {"unit": unit}
    if decimals is not None:
        defaults["decimals"] = decimals
    if mappings:
        defaults["mappings"] = [dict(mapping) for mapping in mappings]
    if thresholds:
        defaults["thresholds"] = _thresholds(thresholds)
    if no_value:
        defaults["noValue"] = no_value
    options = {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "orientation": "auto",
        "textMode": "auto",
        "wideLayout": True,
        "colorMode": "background",
        "graphMode": "none",
        "justifyMode": "auto",
        "showPercentChange": False,
        "percentChangeColorMode": "standard",
    }
    panel = _panel("stat", title, description, [target(expr, instant=True)], defaults, options)
    if links:
        panel["links"] = [_panel_link(link) for link in links]
    return panel


def timeseries(
    title: str,
    description: str,
    targets: Sequence[dict[str, Any]],
    *,
    unit: str,
    thresholds: list[dict[str, Any]] | None = None,
    threshold_style: str = "line",
    minimum: float | None = None,
    maximum: float | None = None,
    decimals: int | None = None,
) -> Panel:
    custom: dict[str, Any] = {
        "fillOpacity": 10,
        "lineWidth": 2,
        "showPoints": "never",
        "spanNulls": True,
    }
    defaults: dict[str, Any] = {"unit": unit, "color": {"mode": "palette-classic"}}
    if thresholds:
        if threshold_style != "off":  # Grafana's default, left out
            custom["thresholdsStyle"] = {"mode": threshold_style}
        defaults["thresholds"] = _thresholds(thresholds)
    defaults["custom"] = custom
    for key, value in (("min", minimum), ("max", maximum), ("decimals", decimals)):
        if value is not None:
            defaults[key] = value
    options = {"legend": _legend(), "tooltip": {"mode": "multi", "sort": "none"}}
    return _panel("timeseries", title, description, list(targets), defaults, options)


def alert_timeline(title: str, description: str, expr: str, legend: str) -> Panel:
    defaults = {
        "color": {"mode": "thresholds"},
        "custom": {"fillOpacity": 80, "lineWidth": 0},
        "mappings": [
            {"type": "value", "options": {"1": {"text": "firing", "color": BAD, "index": 0}}},
        ],
        "thresholds": _thresholds(steps((BAD, None))),
    }
    options = {
        "showValue": "never",
        "rowHeight": 0.8,
        "mergeValues": True,
        "alignValue": "left",
        "legend": _legend(),
        "tooltip": {"mode": "single", "sort": "desc"},
    }
    return _panel(
        "state-timeline", title, description, [target(expr, legend=legend)], defaults, options
    )


def _panel_link(link: dict[str, Any]) -> dict[str, Any]:
    """A ``panel_link`` as Grafana stores a panel's link."""
    made = {
        "title": link.get("title", ""),
        "type": "link",
        "icon": "external link",
        "tooltip": "",
        "tags": [],
        "asDropdown": False,
        "targetBlank": bool(link.get("targetBlank", False)),
        "includeVars": False,
        "keepTime": False,
    }
    if link.get("url"):
        made["url"] = link["url"]
    return made


def link(
    title: str,
    url: str = "",
    *,
    tooltip: str = "",
    icon: str = "external link",
    new_tab: bool = True,
    kind: str = "link",
    tags: Sequence[str] = (),
    dropdown: bool = False,
) -> dict[str, Any]:
    """A dashboard link: to ``url``, or (``kind="dashboards"``) to the dashboards tagged
    ``tags``."""
    made: dict[str, Any] = {
        "title": title,
        "type": kind,
        "icon": icon,
        "tooltip": tooltip,
        "tags": list(tags),
        "asDropdown": dropdown,
        "targetBlank": new_tab,
        "includeVars": False,
        "keepTime": True,
    }
    if url:
        made["url"] = url
    return made


def panel_link(title: str, url: str) -> dict[str, Any]:
    return {"title": title, "url": url, "targetBlank": True}


def datasource_variable() -> dict[str, Any]:
    """The Prometheus datasource picker every dashboard's queries go through."""
    return {
        "type": "datasource",
        "name": DATASOURCE_VARIABLE,
        "label": "Prometheus",
        "hide": 0,
        "query": "prometheus",
        "multi": False,
        "includeAll": False,
        "refresh": 1,
        "sort": 1,
    }


def label_variable(label: str, query: str) -> dict[str, Any]:
    """A multi-value variable over a label's values, with "All" matching everything."""
    return {
        "type": "query",
        "name": label,
        "label": label,
        "hide": 0,
        "query": query,
        "datasource": _datasource(),
        "multi": True,
        "includeAll": True,
        "allValue": ".*",
        "options": [],
        "refresh": 2,
        "sort": 1,
    }


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    tags: Sequence[str],
    links: Sequence[dict[str, Any]],
    variables: Sequence[dict[str, Any]],
    panels: list[Panel],
    graph_tooltip: int = 0,
) -> dict[str, Any]:
    """A dashboard as Grafana stores it (``normalize_dashboard`` of grafanalib's
    Dashboard of these arguments, last six hours, refreshed every minute)."""
    made: dict[str, Any] = {
        "uid": uid,
        "title": title,
        "tags": list(tags),
        "timezone": "browser",
        "editable": True,
        "graphTooltip": graph_tooltip,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "annotations": {"list": [dict(BUILT_IN_ANNOTATION)]},
        "links": list(links),
        "templating": {"list": list(variables)},
        "panels": panels,
        "timepicker": {},
    }
    if description:
        made["description"] = description
    return made
