"""Preview pages: each dashboard, its data and the browser code in one offline HTML file.

Pure apart from the data source it is handed: dashboards (as generated) in, pages out.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
import orjson
from markdown_it import MarkdownIt

from perfdash import conventions
from perfdash.preview.assets import load_assets
from perfdash.preview.panel_data import (
    PrometheusSource,
    TimeRange,
    panel_data,
    time_range,
    variable_options,
    walk_panels,
)

HEADER_PX = 110  # title bar, variables and links above the grid
FOOTER_PX = 60
ROW_PX = 38  # a grid unit: 30px and an 8px gutter


@dataclass(frozen=True)
class PreviewPage:
    """One dashboard's page: file name (``<uid>.html``), what it shows, its HTML."""

    name: str
    uid: str
    title: str
    source_path: str
    html: str
    height: int  # CSS pixels of the page as first shown (for screenshots)
    panels: int


def dashboards_in(artifacts: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The dashboards among generated files, by path."""
    prefix = conventions.DASHBOARDS_DIR + "/"
    return {
        path: orjson.loads(text)
        for path, text in sorted(artifacts.items())
        if path.startswith(prefix) and path.endswith(".json")
    }


def page_name(dashboard: Mapping[str, Any]) -> str:
    return f"{dashboard['uid']}.html"


def render_pages(
    dashboards: Mapping[str, Mapping[str, Any]], source: PrometheusSource, *, end: float
) -> list[PreviewPage]:
    catalogue = [
        {
            "uid": d["uid"],
            "title": d.get("title", d["uid"]),
            "tags": list(d.get("tags") or []),
            "file": page_name(d),
        }
        for d in dashboards.values()
    ]
    return [
        render_page(path, d, source, end=end, catalogue=catalogue) for path, d in dashboards.items()
    ]


def render_page(
    path: str,
    dashboard: Mapping[str, Any],
    source: PrometheusSource,
    *,
    end: float,
    catalogue: Sequence[Mapping[str, Any]] = (),
) -> PreviewPage:
    window = time_range(dashboard, end=end)
    variables = variable_options(dashboard, source, window)
    panels = [_panel(p, variables, source, window) for p in dashboard.get("panels") or []]
    payload = {
        "uid": dashboard["uid"],
        "title": dashboard.get("title", ""),
        "time": {"start": window.start, "end": window.end, "label": window.label},
        "variables": variables,
        "links": dashboard.get("links") or [],
        "dashboards": list(catalogue),
        "files": {d["uid"]: d["file"] for d in catalogue},
        "panels": panels,
    }
    html = _template().render(
        title=dashboard.get("title", dashboard["uid"]),
        description=dashboard.get("description", ""),
        tags=dashboard.get("tags") or [],
        uid=dashboard["uid"],
        refresh=dashboard.get("refresh"),
        source=source.name,
        time_label=window.label,
        time_from=_utc(window.start),
        time_to=_utc(window.end),
        assets=load_assets(),
        payload=_script_json(payload),
    )
    return PreviewPage(
        page_name(dashboard),
        str(dashboard["uid"]),
        str(dashboard.get("title", "")),
        path,
        html,
        _height(dashboard.get("panels") or []),
        sum(1 for _ in walk_panels(dashboard.get("panels") or [])),
    )


def _panel(
    panel: Mapping[str, Any],
    variables: Sequence[Mapping[str, Any]],
    source: PrometheusSource,
    window: TimeRange,
) -> dict[str, Any]:
    out = {k: v for k, v in panel.items() if k not in ("targets", "panels")}
    kind = panel.get("type")
    if kind == "row":
        out["panels"] = [_panel(c, variables, source, window) for c in panel.get("panels") or []]
    elif kind == "text":
        options = panel.get("options") or {}
        content = str(options.get("content", ""))
        # Grafana sanitizes HTML in text panels; the preview shows HTML mode as text.
        out["html"] = (
            _markdown().render(content)
            if options.get("mode", "markdown") == "markdown"
            else ("<pre>" + html.escape(content) + "</pre>")
        )
    elif panel.get("targets"):
        out["data"] = panel_data(panel, variables, source, window)
    out["targets"] = [
        {
            k: t.get(k)
            for k in ("refId", "expr", "rawSql", "legendFormat", "instant", "format")
            if k in t
        }
        for t in panel.get("targets") or []
    ]
    return out


def _height(panels: Sequence[Mapping[str, Any]]) -> int:
    bottom = 0
    for panel in panels:
        grid = panel.get("gridPos") or {}
        height = 1 if panel.get("type") == "row" else int(grid.get("h", 8))
        bottom = max(bottom, int(grid.get("y", 0)) + height)
    return HEADER_PX + bottom * ROW_PX + FOOTER_PX


def _utc(seconds: float) -> str:
    import datetime as _dt

    return _dt.datetime.fromtimestamp(seconds, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _script_json(payload: Any) -> str:
    text = orjson.dumps(payload).decode()
    # Inside <script>: no "</script>" or "<!--" may appear in the data.
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    text = (resources.files("perfdash.preview") / "templates" / "dashboard.html.j2").read_text(
        encoding="utf-8"
    )
    return jinja2.Environment(autoescape=True).from_string(text)


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable("table")
