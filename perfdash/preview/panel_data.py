"""Run a dashboard's queries the way Grafana would and keep the answers for the page.

For every panel and every combination of the template variables it uses, each target's
PromQL is interpolated (``perfdash.preview.grafana_vars``) and sent to Prometheus:
range queries over the dashboard's default time range at the panel's step, instant
queries at its end. Answers become compact frames (JSON-ready dicts) that the page's
script draws; table transformations perfdash uses (merge, organize) are applied here.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfdash.durations import Duration
from perfdash.errors import PerfdashError
from perfdash.preview.grafana_vars import (
    DEFAULT_SCRAPE_SECONDS,
    Selection,
    builtin_values,
    interpolate,
    query_interval,
    referenced,
)
from perfdash.preview.prometheus_api import PrometheusApi, Series

PAGE_WIDTH = 1600  # CSS pixels of the grid: a panel w columns wide is w/24 of it
MAX_OPTIONS = 20  # variable values shown (and queried) at most
MAX_VARIANTS = 60  # variable combinations a panel is queried for at most
_LEGEND = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")
_RELATIVE = re.compile(r"^now(?:-(?P<amount>\w+))?$")


@dataclass(frozen=True)
class TimeRange:
    start: float
    end: float
    label: str


def time_range(dashboard: Mapping[str, Any], *, end: float) -> TimeRange:
    """The dashboard's default time range, ``now`` being ``end``."""
    time = dashboard.get("time") or {}
    start_text, end_text = str(time.get("from", "now-6h")), str(time.get("to", "now"))
    start, stop = _instant(start_text, end), _instant(end_text, end)
    label = (
        f"Last {start_text[4:]}"
        if end_text == "now" and start_text.startswith("now-")
        else (f"{start_text} to {end_text}")
    )
    return TimeRange(start, stop, label)


def _instant(text: str, now: float) -> float:
    match = _RELATIVE.match(text)
    if match:
        amount = match["amount"]
        return now - (Duration.parse(amount).seconds if amount else 0)
    try:
        return float(text) / 1000  # epoch milliseconds
    except ValueError as exc:
        raise PerfdashError(f"time range {text!r} is not understood by the preview") from exc


@dataclass(frozen=True)
class PrometheusSource:
    """Where the panels' PromQL goes, with the scrape interval Grafana would assume."""

    api: PrometheusApi
    name: str
    scrape_seconds: float = DEFAULT_SCRAPE_SECONDS


def walk_panels(panels: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    """Every panel, those inside collapsed rows included."""
    for panel in panels:
        yield panel
        yield from walk_panels(panel.get("panels") or ())


def variable_options(
    dashboard: Mapping[str, Any], source: PrometheusSource, window: TimeRange
) -> list[dict[str, Any]]:
    """Each template variable with the options Grafana would list and its default."""
    out = []
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        kind = variable.get("type")
        options: list[str]
        note = ""
        if kind == "datasource":
            options = [source.name if variable.get("query") == "prometheus" else "(not connected)"]
        elif kind == "query":
            options, note = _query_options(variable, source, window)
        elif kind == "custom":
            options = [o.strip() for o in str(variable.get("query", "")).split(",") if o.strip()]
        elif kind in ("textbox", "constant"):
            options = [str(variable.get("query", ""))]
        elif kind == "interval":
            options = [o.strip() for o in str(variable.get("query", "")).split(",") if o.strip()]
        else:
            options, note = [], f"{kind} variables are not resolved by the preview"
        if variable.get("regex"):
            pattern = re.compile(str(variable["regex"]).strip("/"))
            options = [o for o in options if pattern.search(o)]
        if variable.get("sort") in (1, 3, 5, 7):
            options.sort()
        include_all = bool(variable.get("includeAll"))
        current = _current(variable, options, include_all)
        out.append(
            {
                "name": variable["name"],
                "label": variable.get("label") or variable["name"],
                "type": kind,
                "hide": variable.get("hide", 0),
                "multi": bool(variable.get("multi")),
                "includeAll": include_all,
                "allValue": variable.get("allValue"),
                "description": variable.get("description", ""),
                "options": options[:MAX_OPTIONS],
                "current": current,
                "note": note,
            }
        )
    return out


def _current(variable: Mapping[str, Any], options: list[str], include_all: bool) -> str:
    saved = (variable.get("current") or {}).get("value")
    if isinstance(saved, list):
        saved = saved[0] if saved else None
    if saved in ("$__all",) and include_all:
        return "$__all"
    if isinstance(saved, str) and saved in options:
        return saved
    if include_all:
        return "$__all"
    return options[0] if options else ""


_LABEL_VALUES = re.compile(r"^label_values\((?:(?P<metric>.+),\s*)?(?P<label>\w+)\)$")


def _query_options(
    variable: Mapping[str, Any], source: PrometheusSource, window: TimeRange
) -> tuple[list[str], str]:
    query = variable.get("query")
    if isinstance(query, Mapping):
        query = query.get("query", "")
    match = _LABEL_VALUES.match(str(query).strip())
    if match is None:
        return [], f"query {query!r} is not resolved by the preview (only label_values)"
    metric = match["metric"]
    values = source.api.label_values(
        match["label"], match=[metric] if metric else [], start=window.start, end=window.end
    )
    return sorted(set(values)), ""


def selections(
    variables: Sequence[Mapping[str, Any]], chosen: Mapping[str, str]
) -> dict[str, Selection]:
    out = {}
    for variable in variables:
        value = chosen.get(variable["name"], variable["current"])
        is_all = value == "$__all"
        out[variable["name"]] = Selection(
            variable["name"],
            () if is_all else (value,),
            all=is_all,
            multi=variable["multi"],
            include_all=variable["includeAll"],
            all_value=variable["allValue"],
            options=tuple(variable["options"]),
        )
    return out


def choices(variable: Mapping[str, Any]) -> list[str]:
    return (["$__all"] if variable["includeAll"] else []) + list(variable["options"])


def variant_key(chosen: Mapping[str, str]) -> str:
    return "&".join(f"{k}={chosen[k]}" for k in sorted(chosen))


def panel_data(
    panel: Mapping[str, Any],
    variables: Sequence[Mapping[str, Any]],
    source: PrometheusSource,
    window: TimeRange,
) -> dict[str, Any]:
    """``{"vars": [...], "variants": {key: result}}`` of one panel's targets."""
    targets = [t for t in panel.get("targets") or [] if not t.get("hide")]
    texts = [str(t.get("expr", "")) for t in targets] + [str(panel.get("title", ""))]
    used = sorted(
        set().union(*(referenced(t) for t in texts))
        & {v["name"] for v in variables if v["type"] in ("query", "custom", "interval")}
    )
    by_name = {v["name"]: v for v in variables}
    combos = list(itertools.product(*(choices(by_name[name]) for name in used)))[:MAX_VARIANTS]
    variants = {}
    for combo in combos:
        chosen = dict(zip(used, combo, strict=True))
        variants[variant_key(chosen)] = _run_targets(
            panel, targets, selections(variables, chosen), source, window
        )
    return {"vars": used, "variants": variants}


def _datasource_type(panel: Mapping[str, Any], target: Mapping[str, Any]) -> str:
    for holder in (target, panel):
        ds = holder.get("datasource")
        if isinstance(ds, Mapping) and ds.get("type"):
            return str(ds["type"])
    return "prometheus"


def _run_targets(
    panel: Mapping[str, Any],
    targets: Sequence[Mapping[str, Any]],
    chosen: Mapping[str, Selection],
    source: PrometheusSource,
    window: TimeRange,
) -> dict[str, Any]:
    width = max(1, int((panel.get("gridPos") or {}).get("w", 24)))
    max_points = int(panel.get("maxDataPoints") or width * PAGE_WIDTH / 24)
    interval = query_interval(window.end - window.start, max_points, source.scrape_seconds)
    builtins = builtin_values(
        start=window.start, end=window.end, interval=interval, scrape_seconds=source.scrape_seconds
    )
    frames: list[dict[str, Any]] = []
    errors: list[str] = []
    for target in targets:
        kind = _datasource_type(panel, target)
        if kind != "prometheus":
            errors.append(f"{kind} data source: not connected in this preview")
            continue
        expr = interpolate(str(target.get("expr", "")), chosen, builtins)
        ref = str(target.get("refId", "A"))
        instant = bool(target.get("instant")) and not target.get("range")
        try:
            if instant:
                answer = source.api.query(expr, at=window.end)
            else:
                start = math.floor(window.start / interval) * interval
                end = math.floor(window.end / interval) * interval
                answer = source.api.query_range(expr, start=start, end=end, step=interval)
        except PerfdashError as exc:
            errors.append(f"{ref}: {exc}")
            continue
        legend = str(target.get("legendFormat") or "")
        frames.extend(
            _frame(series, ref, legend, instant=instant, table=target.get("format") == "table")
            for series in answer
        )
        if not instant:
            _share_time(frames, start, interval)
    result: dict[str, Any] = {"frames": frames, "interval": interval}
    if errors:
        result["errors"] = errors
    if panel.get("type") == "table":
        result["table"] = table_rows(frames, panel.get("transformations") or [])
    return result


def _frame(series: Series, ref: str, legend: str, *, instant: bool, table: bool) -> dict[str, Any]:
    labels = dict(series.labels)
    return {
        "refId": ref,
        "name": display_name(labels, legend),
        "labels": labels,
        "instant": instant,
        "table": table,
        "points": [[t, _compact(v)] for t, v in series.points],
    }


def _share_time(frames: list[dict[str, Any]], start: float, step: float) -> None:
    """Range answers sit on the step grid: keep the grid once, values by index."""
    for frame in frames:
        if "points" not in frame or frame["instant"]:
            continue
        points = frame.pop("points")
        if not points:
            frame.update(start=start, step=step, values=[])
            continue
        first = points[0][0]
        count = round((points[-1][0] - first) / step) + 1
        values: list[float | None] = [None] * count
        for t, v in points:
            values[round((t - first) / step)] = v
        frame.update(start=first, step=step, values=values)


def display_name(labels: Mapping[str, str], legend: str) -> str:
    """Grafana's series name: the legend format with ``{{label}}`` filled in, else the
    series as PromQL writes it."""
    if legend and legend != "__auto":
        return _LEGEND.sub(lambda m: labels.get(m.group(1), ""), legend)
    name = labels.get("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{inner}}}" if inner else (name or "Value")


def _compact(value: float) -> float | None:
    if math.isnan(value) or math.isinf(value):
        return None
    return float(f"{value:.6g}")


def table_rows(
    frames: Sequence[Mapping[str, Any]], transformations: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Instant table answers as Grafana's table: a frame per query (Time, labels,
    ``Value #refId``), then the dashboard's transformations in order."""
    tables: list[list[dict[str, Any]]] = []
    by_ref: dict[str, list[dict[str, Any]]] = {}
    for frame in frames:
        points = frame.get("points") or []
        if not points:
            continue
        row: dict[str, Any] = {"Time": points[-1][0] * 1000}
        row.update({k: v for k, v in sorted(frame["labels"].items()) if k != "__name__"})
        row[f"Value #{frame['refId']}"] = points[-1][1]
        by_ref.setdefault(frame["refId"], []).append(row)
    tables = list(by_ref.values())
    notes = []
    for step in transformations:
        kind = step.get("id")
        options = step.get("options") or {}
        if kind == "merge":
            tables = [_merge(tables)]
        elif kind == "organize":
            tables = [_organize(t, options) for t in tables]
        else:
            notes.append(f"transformation {kind!r} is not reproduced by the preview")
    rows = tables[0] if tables else []
    columns = list(dict.fromkeys(k for row in rows for k in row))
    order = _column_order(transformations)
    if order:
        columns.sort(key=lambda c: order.get(c, len(order)))
    return {
        "columns": columns,
        "rows": [[row.get(c) for c in columns] for row in rows],
        "notes": notes,
    }


def _merge(tables: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Grafana's "merge": rows join when every field they share (values aside) is equal."""
    merged: list[dict[str, Any]] = []
    for table in tables:
        for row in table:
            keys = {k for k in row if not k.startswith("Value")}
            for existing in merged:
                shared = keys & {k for k in existing if not k.startswith("Value")}
                if (
                    shared
                    and all(existing[k] == row[k] for k in shared)
                    and not (set(row) - keys) & set(existing)
                ):
                    existing.update(row)
                    break
            else:
                merged.append(dict(row))
    return merged


def _organize(rows: list[dict[str, Any]], options: Mapping[str, Any]) -> list[dict[str, Any]]:
    excluded = {k for k, v in (options.get("excludeByName") or {}).items() if v}
    renames = options.get("renameByName") or {}
    index = options.get("indexByName") or {}
    out = []
    for row in rows:
        kept = {k: v for k, v in row.items() if k not in excluded}
        ordered = sorted(kept, key=lambda k: index.get(k, len(index) + list(kept).index(k)))
        out.append({renames.get(k) or k: kept[k] for k in ordered})
    return out


def _column_order(transformations: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    for step in transformations:
        if step.get("id") == "organize":
            options = step.get("options") or {}
            renames = options.get("renameByName") or {}
            return {renames.get(k) or k: v for k, v in (options.get("indexByName") or {}).items()}
    return {}
