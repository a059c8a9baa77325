"""The baseline row of a service dashboard: load-test runs against their baseline.

For each ``baselines:`` entry of a service: per-run latency percentiles over time with the
baseline band (min..max of the last 10 baseline-branch runs), throughput, error rate, the
declared custom metrics, and a table of the latest verdicts of ``perfdash baseline
compare``. Panels read the PostgreSQL store chosen in the ``baseline_datasource``
variable: the per-run summary table (and the recorded verdicts), never raw samples.

Every literal taken from a declaration is quoted by ``sql_literal``: names made of safe
characters become plain SQL strings; any other name is passed as hex and decoded by the
server, so neither a quote nor a Grafana ``$variable`` in a name can change the query.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from typing import Any

from perfdash.model.fleet import Baseline, Service

BASELINE_DATASOURCE_VARIABLE = "baseline_datasource"
BRANCH_VARIABLE = "baseline_branch"
DEFAULT_BRANCH = "main"
POSTGRES = {
    "type": "grafana-postgresql-datasource",
    "uid": "${" + BASELINE_DATASOURCE_VARIABLE + "}",
}
SCHEMA = "perfdash"
SUMMARY_TABLE = f"{SCHEMA}.run_summary"
VERDICT_TABLE = f"{SCHEMA}.comparison_metrics"
BRANCH = "${" + BRANCH_VARIABLE + ":sqlstring}"
BAND_RUNS = 10
LATENCY = ("p50", "p90", "p95", "p99", "p99.9", "mean", "max", "min")
_SAFE = re.compile(r"^[A-Za-z0-9 _.:/%-]*$")
OK, BAD, NEUTRAL = "#0072B2", "#D55E00", "#56B4E9"


def sql_literal(text: str) -> str:
    """A PostgreSQL expression equal to ``text`` that nothing inside ``text`` can escape."""
    if _SAFE.match(text):
        return f"'{text}'"
    return f"convert_from('\\x{text.encode('utf-8').hex()}'::bytea, 'UTF8')"


def baseline_variables() -> list[dict[str, Any]]:
    return [
        {
            "type": "datasource",
            "name": BASELINE_DATASOURCE_VARIABLE,
            "label": "Baseline store",
            "query": POSTGRES["type"],
            "hide": 0,
            "refresh": 1,
            "description": "PostgreSQL holding perfdash's baseline store (perfdash baseline init).",
        },
        {
            "type": "textbox",
            "name": BRANCH_VARIABLE,
            "label": "Baseline branch",
            "query": DEFAULT_BRANCH,
            "hide": 0,
            "description": "Runs on this branch form the baseline band; other branches are "
            "candidates.",
        },
    ]


def latency_sql(benchmark: str, metrics: Sequence[str]) -> str:
    """Per-run values of ``metrics`` split into baseline and other branches, plus the band."""
    names = ", ".join(sql_literal(m) for m in metrics)
    return f"""WITH runs AS (
  SELECT started_at, branch, metric, value
  FROM {SUMMARY_TABLE}
  WHERE benchmark = {sql_literal(benchmark)}
    AND metric IN ({names})
    AND $__timeFilter(started_at)
), band AS (
  SELECT started_at, metric,
    min(value) OVER w AS low,
    max(value) OVER w AS high
  FROM runs
  WHERE branch = {BRANCH}
  WINDOW w AS (PARTITION BY metric ORDER BY started_at ROWS BETWEEN {BAND_RUNS - 1} PRECEDING AND CURRENT ROW)
)
SELECT started_at AS "time",
  metric || CASE WHEN branch = {BRANCH} THEN ' baseline runs' ELSE ' other branches' END AS metric,
  value
FROM runs
UNION ALL
SELECT started_at, metric || ' band low', low FROM band
UNION ALL
SELECT started_at, metric || ' band high', high FROM band
ORDER BY 1"""


def per_run_sql(benchmark: str, metric: str) -> str:
    """One metric's per-run values, baseline branch and other branches as two series."""
    return f"""SELECT started_at AS "time",
  CASE WHEN branch = {BRANCH} THEN {sql_literal(metric + " baseline runs")}
       ELSE {sql_literal(metric + " other branches")} END AS metric,
  value
FROM {SUMMARY_TABLE}
WHERE benchmark = {sql_literal(benchmark)}
  AND metric = {sql_literal(metric)}
  AND $__timeFilter(started_at)
ORDER BY 1"""


def verdicts_sql(benchmark: str) -> str:
    """The latest recorded verdict of each metric."""
    return f"""SELECT DISTINCT ON (metric)
  compared_at AS "time", metric, candidate, baseline, candidate_value, change_pct, p_value,
  verdict, reason
FROM {VERDICT_TABLE}
WHERE benchmark = {sql_literal(benchmark)}
  AND $__timeFilter(compared_at)
ORDER BY metric, compared_at DESC"""


def baseline_rows(service: Service, *, first_id: int, top: int) -> list[dict[str, Any]]:
    """Row and panels for every baseline of ``service``, ids from ``first_id``, from y=``top``."""
    panels: list[dict[str, Any]] = []
    y = top
    for baseline in service.baselines:
        row, y = _row(baseline, y)
        panels += row
    for offset, panel in enumerate(panels):
        panel["id"] = first_id + offset
    return panels


def with_baseline_rows(dashboard: dict[str, Any], service: Service) -> dict[str, Any]:
    """``dashboard`` with the baseline rows appended and their variables added."""
    if not service.baselines:
        return dashboard
    result = copy.deepcopy(dashboard)
    existing = list(_all_panels(result["panels"]))
    first_id = max((p.get("id", 0) for p in existing), default=0) + 1
    top = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in result["panels"]), default=0)
    result["panels"] += baseline_rows(service, first_id=first_id, top=top)
    result["templating"]["list"] += baseline_variables()
    return result


def _all_panels(panels: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _all_panels(panel.get("panels", []))


def _row(baseline: Baseline, y: int) -> tuple[list[dict[str, Any]], int]:
    name = baseline.benchmark
    declared = baseline.metrics
    latency = [m for m in declared if m in LATENCY] or ["p95", "p99"]
    others = [m for m in declared if m not in LATENCY and m not in ("rps", "error_rate")]
    threshold = dict(baseline.thresholds)
    panels = [
        {
            "type": "row",
            "title": f"Baseline {name}: load-test runs vs ${BRANCH_VARIABLE}",
            "collapsed": False,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
            "panels": [],
        },
        _timeseries(
            "Latency per run vs baseline band",
            f"{', '.join(latency)} of every ingested run of {name} (one point per run, "
            f"computed from the run's own requests). The baseline band spans the last {BAND_RUNS} "
            f"runs of the baseline branch, between its 'band low' and 'band high' lines; a "
            f"candidate point above it is worth a `perfdash baseline compare`. Thresholds for "
            f"a regression: " + ", ".join(f"{m} +{threshold.get(m, 20)}%" for m in latency) + ".",
            latency_sql(name, latency),
            unit="ms",
            grid={"h": 8, "w": 12, "x": 0, "y": y + 1},
        ),
        _timeseries(
            "Throughput per run",
            f"Requests per second of every run of {name}. A drop of more than "
            f"{threshold.get('rps', 15)}% from the baseline runs is a regression.",
            per_run_sql(name, "rps"),
            unit="reqps",
            grid={"h": 8, "w": 6, "x": 12, "y": y + 1},
        ),
        _timeseries(
            "Error rate per run",
            f"Share of failed requests in every run of {name}. Rising by more than half a "
            "percentage point (or 5% of the baseline) is a regression.",
            per_run_sql(name, "error_rate"),
            unit="percentunit",
            grid={"h": 8, "w": 6, "x": 18, "y": y + 1},
        ),
    ]
    bottom = y + 9
    if others:
        for index, metric in enumerate(others[:4]):
            width = 24 // min(len(others), 4)
            panels.append(
                _timeseries(
                    f"{metric} per run",
                    f"{metric} of every run of {name}, baseline branch and other branches.",
                    per_run_sql(name, metric),
                    unit="none",
                    grid={"h": 8, "w": width, "x": index * width, "y": bottom},
                )
            )
        bottom += 8
    panels.append(_verdict_table(name, bottom))
    return panels, bottom + 8


def _target(sql: str, *, table: bool = False) -> dict[str, Any]:
    return {
        "refId": "A",
        "datasource": dict(POSTGRES),
        "editorMode": "code",
        "format": "table" if table else "time_series",
        "rawQuery": True,
        "rawSql": sql,
    }


def _timeseries(
    title: str,
    description: str,
    sql: str,
    *,
    unit: str,
    grid: dict[str, int],
) -> dict[str, Any]:
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": dict(POSTGRES),
        "gridPos": grid,
        "targets": [_target(sql)],
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "min": 0,
                "color": {"mode": "palette-classic"},
                "mappings": [],
                "custom": {
                    "drawStyle": "line",
                    "lineWidth": 1,
                    "fillOpacity": 20,
                    "showPoints": "always",
                    "pointSize": 5,
                    "spanNulls": True,
                    "lineInterpolation": "linear",
                    "axisPlacement": "auto",
                    "gradientMode": "none",
                    "stacking": {"mode": "none", "group": "A"},
                    "thresholdsStyle": {"mode": "off"},
                    "hideFrom": {"legend": False, "tooltip": False, "viz": False},
                },
            },
            "overrides": [],
        },
        "options": {
            "legend": {
                "calcs": [],
                "displayMode": "list",
                "placement": "bottom",
                "showLegend": True,
            },
            "tooltip": {"mode": "multi", "sort": "none"},
        },
    }


def _verdict_table(benchmark: str, y: int) -> dict[str, Any]:
    colours = {"regression": BAD, "improvement": OK, "no change": OK}
    return {
        "type": "table",
        "title": "Latest verdicts",
        "description": f"The latest `perfdash baseline compare` verdict of each metric of "
        f"{benchmark}: regression (significant and beyond the threshold), improvement, no "
        "change (the whole interval within the tolerance), inconclusive (with the smallest "
        "change the runs could detect) or too noisy. Read the reason before acting.",
        "datasource": dict(POSTGRES),
        "gridPos": {"h": 8, "w": 24, "x": 0, "y": y},
        "targets": [_target(verdicts_sql(benchmark), table=True)],
        "fieldConfig": {
            "defaults": {
                "custom": {"align": "auto", "inspect": False, "filterable": False},
                "mappings": [
                    {
                        "type": "value",
                        "options": {
                            verdict: {"color": colour, "index": index}
                            for index, (verdict, colour) in enumerate(colours.items())
                        },
                    }
                ],
            },
            "overrides": [],
        },
        "options": {
            "frameIndex": 0,
            "showHeader": True,
            "cellHeight": "sm",
            "footer": {"show": False, "reducer": ["sum"], "countRows": False},
            "sortBy": [],
        },
    }
