"""The panel helpers build the JSON that grafanalib's panels of the same arguments give
once normalised: the helpers skip grafanalib for speed, so grafanalib stays the reference
here (the arguments below cover every option the generators use)."""

from __future__ import annotations

from typing import Any

import grafanalib.core as g
import pytest

from perfdash.grafana import panels as p
from perfdash.grafana.normalize import normalize_dashboard, normalize_panel

DATASOURCE = p.DATASOURCE


def _target(
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


def _steps(*pairs: tuple[str, float | None]) -> list[g.Threshold]:
    return [
        g.Threshold(color, index, value if value is not None else 0.0)
        for index, (color, value) in enumerate(pairs)
    ]


def _placed(panel: Any) -> dict[str, Any]:
    panel.gridPos = g.GridPos(h=8, w=6, x=6, y=3)
    panel.id = 7
    return normalize_panel(panel)


def _laid_out(panel: dict[str, Any]) -> dict[str, Any]:
    layout = p.Layout(x=6, y=3, panels=[{}] * 6)
    layout.add(panel, width=6, height=8)
    return layout.panels[-1]


STEPS = [(p.BAD, None), (p.WARN, 0.0), (p.OK, 0.25)]
TARGETS: list[dict[str, Any]] = [
    {"expr": "up"},
    {"expr": "sum(rate(x[5m]))\n/ 2", "legend": "{{route}} errors/s", "ref": "B"},
    {"expr": "up", "instant": True},
    {"expr": "up", "ref": "C", "instant": True, "table": True},
]


@pytest.mark.parametrize("arguments", TARGETS)
def test_target_as_grafanalib_writes_it(arguments: dict[str, Any]) -> None:
    reference = _placed(g.TimeSeries(targets=[_target(**arguments)], dataSource=DATASOURCE))
    ours = _laid_out(p.timeseries("", "", [p.target(**arguments)], unit="short"))
    assert ours["targets"] == reference["targets"]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"decimals": 3, "mappings": [{"type": "value", "options": {"0": {"text": "none"}}}]},
        {"links": [p.panel_link("Runbook", "https://runbooks.example/x#y")], "no_value": ""},
        {"decimals": 0, "no_value": "no traffic"},
    ],
)
@pytest.mark.parametrize("description", ["", "What it means."])
def test_stat_as_grafanalib_writes_it(options: dict[str, Any], description: str) -> None:
    reference = g.Stat(
        title="SLI",
        description=description,
        dataSource=DATASOURCE,
        targets=[_target("up", instant=True)],
        format="percentunit",
        decimals=options.get("decimals"),
        thresholds=_steps(*STEPS),
        reduceCalc="lastNotNull",
        graphMode="none",
        colorMode="background",
        noValue=options.get("no_value", "no data"),
        mappings=list(options.get("mappings", [])),
        links=list(options.get("links", [])),
    )
    ours = p.stat(
        "SLI", description, "up", unit="percentunit", thresholds=p.steps(*STEPS), **options
    )
    assert _laid_out(ours) == _placed(reference)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"minimum": 0},
        {"minimum": -1, "maximum": 1, "decimals": 2},
        {"thresholds": STEPS, "threshold_style": "dashed"},
        {"thresholds": STEPS[:1], "threshold_style": "line+area", "decimals": 0},
        {"thresholds": STEPS, "threshold_style": "off"},
        {"thresholds": STEPS},
    ],
)
def test_timeseries_as_grafanalib_writes_it(options: dict[str, Any]) -> None:
    pairs = options.pop("thresholds", None)
    style = options.get("threshold_style", "line")
    reference = g.TimeSeries(
        title="Burn rate",
        description="How fast.",
        dataSource=DATASOURCE,
        targets=[_target("a", legend="x"), _target("b", ref="B")],
        unit="s",
        thresholds=_steps(*pairs) if pairs else [],
        thresholdsStyleMode=style if pairs else "off",
        valueMin=options.get("minimum"),
        valueMax=options.get("maximum"),
        valueDecimals=options.get("decimals"),
        fillOpacity=10,
        lineWidth=2,
        showPoints="never",
        spanNulls=True,
        tooltipMode="multi",
        legendDisplayMode="list",
        legendPlacement="bottom",
    )
    ours = p.timeseries(
        "Burn rate",
        "How fast.",
        [p.target("a", legend="x"), p.target("b", ref="B")],
        unit="s",
        thresholds=p.steps(*pairs) if pairs else None,
        **options,
    )
    assert _laid_out(ours) == _placed(reference)


def test_alert_timeline_as_grafanalib_writes_it() -> None:
    reference = g.StateTimeline(
        title="Firing alerts",
        description="When.",
        dataSource=DATASOURCE,
        targets=[_target("ALERTS", legend="{{alertname}}")],
        showValue="never",
        mergeValues=True,
        rowHeight=0.8,
        fillOpacity=80,
        lineWidth=0,
        mappings=[
            {"type": "value", "options": {"1": {"text": "firing", "color": p.BAD, "index": 0}}},
        ],
        thresholds=_steps((p.BAD, None)),
    )
    ours = p.alert_timeline("Firing alerts", "When.", "ALERTS", "{{alertname}}")
    assert _laid_out(ours) == _placed(reference)


def test_row_as_grafanalib_writes_it() -> None:
    layout = p.Layout(x=4, y=2, line_height=4, panels=[{}] * 3)
    layout.row("SLO checkout")
    reference = g.RowPanel(title="SLO checkout", gridPos=g.GridPos(h=1, w=24, x=0, y=6), id=4)
    assert layout.panels[-1] == normalize_panel(reference)


def test_a_grafanalib_panel_is_normalised_as_it_is_added() -> None:
    gauge = g.BarGauge(title="Budget", dataSource=DATASOURCE, targets=[_target("up")])
    layout = p.Layout()
    layout.add(gauge, width=10, height=8)
    assert layout.panels == [
        _placed(g.BarGauge(title="Budget", dataSource=DATASOURCE, targets=[_target("up")]))
        | {"gridPos": {"h": 8, "w": 10, "x": 0, "y": 0}, "id": 1}
    ]


@pytest.mark.parametrize(("description", "tooltip"), [("", 0), ("Generated by perfdash.", 1)])
def test_dashboard_as_grafanalib_writes_it(description: str, tooltip: int) -> None:
    reference = g.Dashboard(
        title="checkout SLOs",
        uid="pd-checkout",
        description=description,
        tags=["perfdash", "team:payments"],
        timezone="browser",
        editable=True,
        graphTooltip=tooltip,
        time=g.Time("now-6h", "now"),
        refresh="1m",
        templating=g.Templating(
            list=[
                g.Template(
                    name="datasource",
                    label="Prometheus",
                    type="datasource",
                    query="prometheus",
                    default="",
                ),
                g.Template(
                    name="route",
                    label="route",
                    query="label_values(slo:sli:ratio, route)",
                    dataSource=DATASOURCE,
                    includeAll=True,
                    multi=True,
                    allValue=".*",
                    refresh=2,
                    sort=1,
                ),
            ]
        ),
        links=[
            g.DashboardLink(
                title="Runbook",
                uri="https://runbooks.example/checkout",
                type="link",
                icon="doc",
                tooltip="How to operate it",
                targetBlank=True,
                keepTime=True,
            ),
            g.DashboardLink(
                title="Service dashboards",
                type="dashboards",
                tags=["perfdash"],
                asDropdown=True,
                keepTime=True,
            ),
        ],
    )
    ours = p.dashboard(
        uid="pd-checkout",
        title="checkout SLOs",
        description=description,
        tags=["perfdash", "team:payments"],
        links=[
            p.link(
                "Runbook",
                "https://runbooks.example/checkout",
                tooltip="How to operate it",
                icon="doc",
            ),
            p.link(
                "Service dashboards",
                kind="dashboards",
                tags=["perfdash"],
                dropdown=True,
                new_tab=False,
            ),
        ],
        variables=[
            p.datasource_variable(),
            p.label_variable("route", "label_values(slo:sli:ratio, route)"),
        ],
        panels=[],
        graph_tooltip=tooltip,
    )
    assert ours == normalize_dashboard(reference)
