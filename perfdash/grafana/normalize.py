"""Turn grafanalib's output into the dashboard model current Grafana stores.

grafanalib 0.7 emits schemaVersion 12 with legacy keys (``rows``, ``style``,
``sharedCrosshair``, ``hideControls``, ``__inputs``), about a dozen ``null`` fields per
panel, string datasources and panel options from older Grafana releases. Grafana would
migrate all of that on load, so every push would differ from what it stores and every
plan would show noise. Here each panel keeps only the keys of Grafana's published
dashboard schema, with options and field config completed to what each panel type's
schema requires, and the result is the same bytes for the same input.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 39  # Grafana 10.4 / 11: new enough for these panels, old enough to import anywhere
DATASOURCE_VARIABLE = "datasource"
PROMETHEUS = {"type": "prometheus", "uid": "${" + DATASOURCE_VARIABLE + "}"}

_DASHBOARD_KEYS = (
    "uid", "title", "description", "tags", "timezone", "editable", "graphTooltip", "time",
    "timepicker", "refresh", "fiscalYearStartMonth", "liveNow", "weekStart", "schemaVersion",
    "links", "annotations", "templating", "panels",
)  # fmt: skip
_PANEL_KEYS = (
    "id", "type", "title", "description", "datasource", "gridPos", "links", "repeat",
    "repeatDirection", "maxPerRow", "interval", "timeFrom", "timeShift", "transparent",
    "transformations", "targets", "options", "fieldConfig",
)  # fmt: skip
# Keys whose values are rebuilt below rather than copied.
_DASHBOARD_REBUILT = frozenset({"links", "templating", "panels", "annotations", "timepicker"})
_PANEL_REBUILT = frozenset({"targets", "fieldConfig", "options"})
_TARGET_KEYS = (
    "refId", "datasource", "expr", "legendFormat", "instant", "range", "format", "interval",
    "editorMode", "hide", "exemplar", "rawSql", "rawQuery",
)  # fmt: skip
_FIELD_DEFAULT_KEYS = (
    "displayName", "description", "unit", "decimals", "min", "max", "mappings", "thresholds",
    "color", "links", "noValue", "custom",
)  # fmt: skip
_GRAPH_CUSTOM_KEYS = frozenset(
    {
        "axisBorderShow", "axisCenteredZero", "axisColorMode", "axisGridShow", "axisLabel",
        "axisPlacement", "axisSoftMax", "axisSoftMin", "axisWidth", "barAlignment",
        "barMaxWidth", "barWidthFactor", "drawStyle", "fillBelowTo", "fillColor", "fillOpacity",
        "gradientMode", "hideFrom", "insertNulls", "lineColor", "lineInterpolation", "lineStyle",
        "lineWidth", "pointColor", "pointSize", "pointSymbol", "scaleDistribution", "showPoints",
        "spanNulls", "stacking", "thresholdsStyle", "transform",
    }
)  # fmt: skip
_TIMELINE_CUSTOM_KEYS = frozenset({"lineWidth", "fillOpacity", "hideFrom", "spanNulls"})
_NO_DEFAULT = object()
_GRAPH_DEFAULTS: dict[str, Any] = {
    "axisLabel": "",
    "axisPlacement": "auto",
    "barAlignment": 0,
    "drawStyle": "line",
    "gradientMode": "none",
    "hideFrom": {"legend": False, "tooltip": False, "viz": False},
    "lineInterpolation": "linear",
    "pointSize": 5,
    "scaleDistribution": {"type": "linear", "log": 2},
    "stacking": {},
    "thresholdsStyle": {"mode": "off"},
}
_LEGEND = {"displayMode": "list", "placement": "bottom", "showLegend": True, "calcs": []}
_TOOLTIP = {"mode": "multi", "sort": "desc"}
BUILT_IN_ANNOTATION = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


def normalize_dashboard(
    dashboard_in: Any, *, panels: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A grafanalib Dashboard (or its JSON) -> a dashboard valid against Grafana's
    schema, deterministic. ``panels``: the dashboard's panels, already as Grafana stores
    them (``perfdash.grafana.panels.Layout``), instead of the Dashboard's own.

    grafanalib objects are converted level by level as the keys kept here are read, so
    what Grafana does not store is never converted, and each level is copied once.
    grafanalib writes ``null`` for unset fields: they are dropped wherever keys are
    kept (a threshold step keeps its ``value``: null marks the base step)."""
    raw = _shallow(dashboard_in)
    dashboard = {
        key: plain_data(raw[key])
        for key in _DASHBOARD_KEYS
        if raw.get(key) is not None and key not in _DASHBOARD_REBUILT
    }
    dashboard["schemaVersion"] = SCHEMA_VERSION
    dashboard["annotations"] = {"list": [BUILT_IN_ANNOTATION]}
    dashboard["links"] = [_link(link) for link in raw.get("links") or []]
    templating = _shallow(raw.get("templating")) or {}
    dashboard["templating"] = {"list": [_variable(v) for v in templating.get("list") or []]}
    if panels is None:
        panels = [normalize_panel(panel) for panel in raw.get("panels") or []]
    dashboard["panels"] = panels
    dashboard["timepicker"] = {}  # Grafana's defaults; grafanalib's time_options are legacy
    if not dashboard.get("description"):
        dashboard.pop("description", None)
    return dashboard


def _link(link_in: Any) -> dict[str, Any]:
    raw = _shallow(link_in)
    link = {
        "title": raw.get("title", ""),
        "type": raw.get("type", "link"),
        "icon": raw.get("icon", "external link"),
        "tooltip": raw.get("tooltip", ""),
        "tags": plain_data(raw.get("tags") or []),
        "asDropdown": bool(raw.get("asDropdown", False)),
        "targetBlank": bool(raw.get("targetBlank", False)),
        "includeVars": bool(raw.get("includeVars", False)),
        "keepTime": bool(raw.get("keepTime", False)),
    }
    url = raw.get("url") or raw.get("uri")
    if url:
        link["url"] = url
    return link


def _variable(variable_in: Any) -> dict[str, Any]:
    raw = _shallow(variable_in)
    variable: dict[str, Any] = {
        key: plain_data(raw[key])
        for key in (
            "type", "name", "label", "hide", "description", "query", "datasource", "current",
            "multi", "includeAll", "allValue", "options", "refresh", "sort", "regex", "definition",
        )
        if key in raw and raw[key] is not None
    }  # fmt: skip
    if isinstance(variable.get("datasource"), str):
        variable["datasource"] = _datasource(variable["datasource"])
    if not variable.get("allValue"):
        variable.pop("allValue", None)
    if variable.get("regex") == "":
        variable.pop("regex")
    # Grafana picks the first value (or All) itself; a saved selection would be noise.
    variable.pop("current", None)
    if variable.get("type") == "datasource":
        variable.pop("options", None)
    return variable


def _datasource(value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return value
    if value in ("${" + DATASOURCE_VARIABLE + "}", "$" + DATASOURCE_VARIABLE):
        return dict(PROMETHEUS)
    return {"uid": str(value)}


def normalize_panel(panel_in: Any) -> dict[str, Any]:
    """One grafanalib panel (or its JSON) as Grafana stores it (see normalize_dashboard)."""
    raw = _shallow(panel_in)
    if raw.get("type") == "row":
        return _row(raw)
    panel = {
        key: value if type(value) in _SCALARS else plain_data(value)
        for key in _PANEL_KEYS
        if key not in _PANEL_REBUILT and (value := raw.get(key)) is not None
    }
    for empty in ("description", "links", "transformations", "interval", "repeat"):
        if panel.get(empty) in ("", [], None):
            panel.pop(empty, None)
    if not panel.get("transparent"):
        panel.pop("transparent", None)
    if panel.get("links"):
        panel["links"] = [_link(link) for link in panel["links"]]
    panel["datasource"] = _datasource(panel.get("datasource")) or dict(PROMETHEUS)
    panel["targets"] = [_target(t, panel["datasource"]) for t in raw.get("targets") or []]
    field_config = _shallow(raw.get("fieldConfig")) or {}
    if panel["type"] == "bargauge":
        field_config = _legacy_field_options(raw)
    panel["fieldConfig"] = _field_config(panel["type"], field_config)
    panel["options"] = _options(panel["type"], _shallow(raw.get("options")) or {})
    if panel["fieldConfig"]["defaults"].get("links"):
        panel["fieldConfig"]["defaults"]["links"] = [
            _link(item) for item in panel["fieldConfig"]["defaults"]["links"]
        ]
    if raw.get("mappings"):  # grafanalib's Table puts mappings at panel level
        panel["fieldConfig"]["defaults"]["mappings"] = plain_data(raw["mappings"])
    return panel


def _row(raw: dict[str, Any]) -> dict[str, Any]:
    row = {
        "type": "row",
        "id": raw["id"],
        "title": raw.get("title", ""),
        "collapsed": bool(raw.get("collapsed", False)),
        "gridPos": plain_data(raw["gridPos"]),
        "panels": [normalize_panel(p) for p in raw.get("panels") or []],
    }
    if raw.get("repeat"):
        row["repeat"] = plain_data(raw["repeat"])
    return row


def _target(target_in: Any, datasource: dict[str, Any]) -> dict[str, Any]:
    raw = _shallow(target_in)
    target = {
        key: value if type(value) in _SCALARS else plain_data(value)
        for key in _TARGET_KEYS
        if (value := raw.get(key)) is not None
    }
    target["datasource"] = _datasource(target.get("datasource")) or dict(datasource)
    for key in ("interval", "legendFormat"):
        if target.get(key) == "":
            target.pop(key)
    if not target.get("hide"):
        target.pop("hide", None)
    if target.get("format") == "time_series":
        target.pop("format")
    if target.get("instant"):
        target["range"] = False
    else:
        target.pop("instant", None)
    return target


def _field_config(panel_type: str, raw: dict[str, Any]) -> dict[str, Any]:
    defaults_in = _shallow(raw.get("defaults")) or {}
    defaults = {
        key: value if type(value) in _SCALARS else plain_data(value)
        for key in _FIELD_DEFAULT_KEYS
        if key != "thresholds" and (value := defaults_in.get(key)) not in (None, "", [])
    }
    thresholds = _shallow(defaults_in.get("thresholds")) or {}
    steps = _shallow(thresholds.get("steps"))
    if isinstance(steps, list) and steps:
        mode = _shallow(thresholds.get("mode"))
        defaults["thresholds"] = {
            "mode": "absolute" if mode is None else mode,
            "steps": [_threshold_step(_shallow(step)) for step in steps],
        }
    custom = {
        k: v if type(v) in _SCALARS else plain_data(v)
        for k, v in (_shallow(defaults_in.get("custom")) or {}).items()
        if v is not None
    }
    if panel_type == "timeseries":
        # Grafana's defaults are left out: smaller files, and the same meaning.
        custom = {
            k: v
            for k, v in custom.items()
            if k in _GRAPH_CUSTOM_KEYS and _GRAPH_DEFAULTS.get(k, _NO_DEFAULT) != v
        }
    elif panel_type == "state-timeline":
        custom = {k: v for k, v in custom.items() if k in _TIMELINE_CUSTOM_KEYS}
    elif panel_type == "table":
        custom = {
            "align": custom.get("align", "auto"),
            "inspect": False,
            "filterable": bool(custom.get("filterable", False)),
        }
    else:
        custom = {}
    if custom:
        defaults["custom"] = custom
    else:
        defaults.pop("custom", None)
    return {"defaults": defaults, "overrides": plain_data(raw.get("overrides") or [])}


def _legacy_field_options(raw: dict[str, Any]) -> dict[str, Any]:
    """grafanalib's BarGauge still writes Grafana 6's options.fieldOptions: lift it out."""
    legacy = plain_data((_shallow(raw.get("options")) or {}).get("fieldOptions") or {})
    defaults = {k: v for k, v in (legacy.get("defaults") or {}).items() if k in _FIELD_DEFAULT_KEYS}
    field_config = plain_data(raw.get("fieldConfig") or {})
    defaults["thresholds"] = field_config.get("defaults", {}).get("thresholds")
    if legacy.get("mappings"):
        defaults["mappings"] = legacy["mappings"]
    return {"defaults": defaults, "overrides": []}


def _threshold_step(raw: dict[str, Any]) -> dict[str, Any]:
    value = raw.get("value")
    if raw.get("index") == 0 or (type(value) is str and value in ("null", "")):
        value = None
    return {"color": raw["color"], "value": value}


def _options(panel_type: str, raw: dict[str, Any]) -> dict[str, Any]:
    legend = {**_LEGEND, **_known(raw.get("legend"), _LEGEND)}
    tooltip = {**_TOOLTIP, **_known(raw.get("tooltip"), _TOOLTIP)}
    if panel_type == "stat":
        reduce = _shallow(raw.get("reduceOptions")) or {}
        return {
            "reduceOptions": {
                "calcs": plain_data(reduce.get("calcs")) or ["lastNotNull"],
                "fields": reduce.get("fields", ""),
                "values": bool(reduce.get("values", False)),
            },
            "orientation": raw.get("orientation", "auto"),
            "textMode": raw.get("textMode", "auto"),
            "wideLayout": True,
            "colorMode": raw.get("colorMode", "value"),
            "graphMode": raw.get("graphMode", "none"),
            "justifyMode": raw.get("justifyMode", "auto"),
            "showPercentChange": False,
            "percentChangeColorMode": "standard",
        }
    if panel_type == "timeseries":
        return {"legend": legend, "tooltip": tooltip}
    if panel_type == "state-timeline":
        return {
            "showValue": raw.get("showValue", "never"),
            "rowHeight": raw.get("rowHeight", 0.9),
            "mergeValues": bool(raw.get("mergeValues", True)),
            "alignValue": raw.get("alignValue", "left"),
            "legend": legend,
            "tooltip": tooltip,
        }
    if panel_type == "table":
        return {
            "frameIndex": 0,
            "showHeader": bool(raw.get("showHeader", True)),
            "cellHeight": "sm",
            "footer": {"show": False, "reducer": ["sum"], "countRows": False},
            "sortBy": plain_data(raw.get("sortBy") or []),
        }
    if panel_type == "bargauge":
        legacy = _shallow(raw.get("fieldOptions")) or {}
        return {
            "reduceOptions": {
                "calcs": plain_data(legacy.get("calcs")) or ["lastNotNull"],
                "fields": "",
                "values": bool(legacy.get("values", False)),
            },
            "orientation": raw.get("orientation", "horizontal"),
            "displayMode": raw.get("displayMode", "gradient"),
            "valueMode": "color",
            "namePlacement": "left",
            "showUnfilled": True,
            "sizing": "auto",
            "minVizWidth": 8,
            "minVizHeight": 16,
            "maxVizHeight": 300,
            "legend": {**_LEGEND, "showLegend": False},
        }
    if panel_type == "text":
        return {"mode": raw.get("mode", "markdown"), "content": raw.get("content", "")}
    return dict(plain_data(raw))


def _known(raw: Any, defaults: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``raw`` (legend or tooltip options) that override ``defaults``."""
    return {
        k: plain_data(v)
        for k, v in (_shallow(raw) or {}).items()
        if k in defaults and v is not None
    }


_SCALARS = frozenset({str, int, float, bool})


def _shallow(value: Any) -> Any:
    """A grafanalib object as its JSON at this level (nested objects stay objects)."""
    while hasattr(value, "to_json_data"):
        value = value.to_json_data()
    return value


def plain_data(value: Any) -> Any:
    """grafanalib objects -> plain data, as grafanalib's DashboardEncoder would write them,
    minus ``null`` fields (kept only for threshold steps' ``value``, where null means base)."""
    # Scalars are tested inline, not by a recursive call: a dashboard has thousands.
    kind = type(value)
    if kind in _SCALARS or value is None:
        return value
    if kind is dict:
        return {
            k: v if type(v) in _SCALARS else plain_data(v)
            for k, v in value.items()
            if v is not None or k == "value"
        }
    if kind is list or kind is tuple:
        return [v if type(v) in _SCALARS else plain_data(v) for v in value]
    return plain_data(_shallow(value))
