"""Panel building blocks with perfdash's conventions: units, colours, thresholds, layout.

Colours are the Okabe-Ito palette, distinguishable with the common colour-vision
deficiencies: blue means fine, orange means watch it, vermillion means act.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import grafanalib.core as g

from perfdash.grafana.normalize import DATASOURCE_VARIABLE

OK = "#0072B2"  # blue
WARN = "#E69F00"  # orange
BAD = "#D55E00"  # vermillion
NEUTRAL = "#56B4E9"  # sky blue
DATASOURCE = "${" + DATASOURCE_VARIABLE + "}"
GRID_WIDTH = 24


@dataclass
class Layout:
    """Places panels left to right, wrapping at Grafana's 24-column grid, and numbers them."""

    x: int = 0
    y: int = 0
    line_height: int = 0
    panels: list[Any] = field(default_factory=list)

    def row(self, title: str) -> None:
        self.newline()
        self.panels.append(
            g.RowPanel(
                title=title,
                gridPos=g.GridPos(h=1, w=GRID_WIDTH, x=0, y=self.y),
                id=len(self.panels) + 1,
            )
        )
        self.y += 1

    def add(self, panel: Any, *, width: int, height: int) -> None:
        if self.x + width > GRID_WIDTH:
            self.newline()
        panel.gridPos = g.GridPos(h=height, w=width, x=self.x, y=self.y)
        panel.id = len(self.panels) + 1  # ids in layout order, as grafanalib would number them
        self.panels.append(panel)
        self.x += width
        self.line_height = max(self.line_height, height)

    def newline(self) -> None:
        if self.x:
            self.y += self.line_height
        self.x = 0
        self.line_height = 0


def target(
    expr: str, *, legend: str = "", ref: str = "A", instant: bool = False, table: bool = False
) -> g.Target:
    return g.Target(
        expr=expr,
        legendFormat=legend,
        refId=ref,
        instant=instant,
        format="table" if table else "time_series",
        datasource={"type": "prometheus", "uid": DATASOURCE},
    )


def steps(*pairs: tuple[str, float | None]) -> list[g.Threshold]:
    """``steps((BAD, None), (OK, 0.999))``: the first is the base colour."""
    return [
        g.Threshold(color, index, value if value is not None else 0.0)
        for index, (color, value) in enumerate(pairs)
    ]


def stat(
    title: str,
    description: str,
    expr: str,
    *,
    unit: str,
    thresholds: list[g.Threshold],
    decimals: int | None = None,
    mappings: Sequence[dict[str, Any]] = (),
    links: Sequence[dict[str, Any]] = (),
    no_value: str = "no data",
) -> g.Stat:
    panel = g.Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(expr, instant=True)],
        format=unit,
        decimals=decimals,
        thresholds=thresholds,
        reduceCalc="lastNotNull",
        graphMode="none",
        colorMode="background",
        noValue=no_value,
        mappings=list(mappings),
        links=list(links),
    )
    return panel


def timeseries(
    title: str,
    description: str,
    targets: Sequence[g.Target],
    *,
    unit: str,
    thresholds: list[g.Threshold] | None = None,
    threshold_style: str = "line",
    minimum: float | None = None,
    maximum: float | None = None,
    decimals: int | None = None,
) -> g.TimeSeries:
    return g.TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=list(targets),
        unit=unit,
        thresholds=thresholds or [],
        thresholdsStyleMode=threshold_style if thresholds else "off",
        valueMin=minimum,
        valueMax=maximum,
        valueDecimals=decimals,
        fillOpacity=10,
        lineWidth=2,
        showPoints="never",
        spanNulls=True,
        tooltipMode="multi",
        legendDisplayMode="list",
        legendPlacement="bottom",
    )


def alert_timeline(title: str, description: str, expr: str, legend: str) -> g.StateTimeline:
    return g.StateTimeline(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(expr, legend=legend)],
        showValue="never",
        mergeValues=True,
        rowHeight=0.8,
        fillOpacity=80,
        lineWidth=0,
        mappings=[
            {"type": "value", "options": {"1": {"text": "firing", "color": BAD, "index": 0}}},
        ],
        thresholds=steps((BAD, None)),
    )


def link(
    title: str, url: str, *, tooltip: str = "", icon: str = "external link", new_tab: bool = True
) -> g.DashboardLink:
    return g.DashboardLink(
        title=title,
        uri=url,
        type="link",
        icon=icon,
        tooltip=tooltip,
        targetBlank=new_tab,
        keepTime=True,
    )


def panel_link(title: str, url: str) -> dict[str, Any]:
    return {"title": title, "url": url, "targetBlank": True}


def datasource_variable() -> g.Template:
    """The Prometheus datasource picker every dashboard's queries go through."""
    return g.Template(
        name=DATASOURCE_VARIABLE,
        label="Prometheus",
        type="datasource",
        query="prometheus",
        default="",
    )


def label_variable(label: str, query: str) -> g.Template:
    """A multi-value variable over a label's values, with "All" matching everything."""
    return g.Template(
        name=label,
        label=label,
        query=query,
        dataSource=DATASOURCE,
        includeAll=True,
        multi=True,
        allValue=".*",
        refresh=2,
        sort=1,
    )
