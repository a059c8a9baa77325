"""The baseline row of the service dashboards: schema, variables, safe SQL that returns rows."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from perfdash.baseline.store import Store
from perfdash.baseline.workflow import Selection, compare_benchmark, ingest_files, record_report
from perfdash.grafana.baseline_panels import (
    POSTGRES,
    latency_sql,
    per_run_sql,
    sql_literal,
    verdicts_sql,
    with_baseline_rows,
)
from perfdash.grafana.service import service_dashboard
from perfdash.model.fleet import Baseline, Fleet, Service
from tests.baseline.conftest import (  # noqa: F401 (fixtures)
    edition,
    edition_dsn,
    edition_store_dsn,
    pg_server,
    timescale_apache_server,
    timescale_server,
)
from tests.baseline.synthetic import k6_runs
from tests.grafana.conftest import SchemaChecker

TIME_FILTER = re.compile(r"\$__timeFilter\((\w+)\)")
HOSTILE = "it's $__timeFilter(x) ${baseline_datasource} '; DROP TABLE perfdash.runs; --"


def baseline_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p.get("datasource") == POSTGRES]


def as_postgres_receives(sql: str, *, start: datetime, end: datetime, branch: str = "main") -> str:
    """What Grafana sends for the dashboard's default branch: macros and variables expanded."""
    expanded = TIME_FILTER.sub(
        lambda m: f"{m.group(1)} BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'", sql
    )
    expanded = expanded.replace("${baseline_branch:sqlstring}", sql_literal(branch))
    assert "$" not in expanded, expanded
    return expanded


def with_baselines(service: Service, *baselines: Baseline) -> Service:
    return Service(**{**service.__dict__, "baselines": baselines})


def test_checkout_gets_a_baseline_row_and_other_services_none(example_fleet: Fleet) -> None:
    for service in example_fleet.services:
        dashboard = service_dashboard(service)
        rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
        names = [v["name"] for v in dashboard["templating"]["list"]]
        if service.baselines:
            assert "Baseline checkout-api: load-test runs vs $baseline_branch" in rows
            assert names[-2:] == ["baseline_datasource", "baseline_branch"]
            assert [p["title"] for p in baseline_panels(dashboard)] == [
                "Latency per run vs baseline band",
                "Throughput per run",
                "Error rate per run",
                "Latest verdicts",
            ]
        else:
            assert not baseline_panels(dashboard)
            assert "baseline_datasource" not in names


def test_the_variables_select_a_postgresql_store_and_a_branch(example_fleet: Fleet) -> None:
    dashboard = service_dashboard(example_fleet.service("checkout"))
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["baseline_datasource"]["type"] == "datasource"
    assert variables["baseline_datasource"]["query"] == "grafana-postgresql-datasource"
    assert variables["baseline_branch"]["type"] == "textbox"
    assert variables["baseline_branch"]["query"] == "main"
    for panel in baseline_panels(dashboard):
        for target in panel["targets"]:
            assert target["datasource"] == {
                "type": "grafana-postgresql-datasource",
                "uid": "${baseline_datasource}",
            }
            assert "$__timeFilter(" in target["rawSql"]
            assert "perfdash.samples" not in target["rawSql"]  # never raw samples


def test_panel_ids_are_unique_and_the_row_sits_below_everything(example_fleet: Fleet) -> None:
    dashboard = service_dashboard(example_fleet.service("checkout"))
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    first = next(p for p in dashboard["panels"] if p.get("title", "").startswith("Baseline "))
    above = [p for p in dashboard["panels"] if p["id"] < first["id"]]
    assert first["gridPos"]["y"] == max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in above)


def test_dashboards_with_baseline_rows_pass_grafana_s_schema(
    example_fleet: Fleet, tmp_path: Path, grafana_schema_checker: SchemaChecker
) -> None:
    checkout = example_fleet.service("checkout")
    hostile = with_baselines(
        checkout,
        *checkout.baselines,
        Baseline(HOSTILE, ("p99", "BenchmarkEncode.ns/op"), (("p99", Decimal(10)),)),
    )
    (tmp_path / "checkout.json").write_text(json.dumps(service_dashboard(hostile), indent=2))
    result = grafana_schema_checker(tmp_path)
    assert result.ok, str(result)


def test_literals_cannot_escape_their_quotes() -> None:
    assert sql_literal("checkout-api") == "'checkout-api'"
    quoted = sql_literal(HOSTILE)
    assert "'" not in quoted.replace("'\\x", "").replace("'::bytea", "").replace("'UTF8'", "")
    assert "$" not in quoted and "DROP" not in quoted
    for sql in (latency_sql(HOSTILE, ["p95"]), per_run_sql(HOSTILE, "rps"), verdicts_sql(HOSTILE)):
        assert HOSTILE not in sql and "DROP" not in sql
        assert sql.count("$") == sql.count("$__timeFilter(") + sql.count(
            "${baseline_branch:sqlstring}"
        )


def test_a_service_without_baselines_is_unchanged(example_fleet: Fleet) -> None:
    ledger = example_fleet.service("ledger")
    dashboard = service_dashboard(ledger)
    assert with_baseline_rows(dashboard, ledger) is dashboard


@pytest.mark.integration
def test_every_baseline_query_returns_rows_from_the_store(
    edition_store_dsn: str,  # noqa: F811 (plain PostgreSQL, TimescaleDB, its Apache edition)
    example_fleet: Fleet,
    tmp_path: Path,
) -> None:
    checkout = example_fleet.service("checkout")
    service = with_baselines(checkout, *checkout.baselines, Baseline(HOSTILE, ("p95",), ()))
    with Store.open(edition_store_dsn) as store:
        for benchmark in ("checkout-api", HOSTILE):
            for branch, seed, slowdown, ago in (("main", 1, 1.0, 30), ("feature", 2, 1.3, 6)):
                runs = k6_runs(tmp_path / branch, benchmark[:5], count=10 if branch == "main" else 3,
                               seed=seed, slowdown=slowdown, hours_ago=ago, requests=400)  # fmt: skip
                for path in runs:
                    ingest_files(store, benchmark=benchmark, paths=[path], branch=branch)
            report = compare_benchmark(
                store, Selection(benchmark, branch="feature"), now=datetime.now(UTC)
            )
            record_report(store, report)
        end = datetime.now(UTC) + timedelta(minutes=1)
        start = end - timedelta(days=3)
        results: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        for panel in baseline_panels(service_dashboard(service)):
            for target in panel["targets"]:
                sql = as_postgres_receives(target["rawSql"], start=start, end=end)
                results[(panel["title"], sql)] = store.execute(sql)
        assert store.execute("SELECT count(*) FROM perfdash.runs") == [(26,)]
    assert results and all(rows for rows in results.values()), [
        k for k, v in results.items() if not v
    ]
    latency = next(rows for (title, _), rows in results.items() if title.startswith("Latency"))
    series = {row[1] for row in latency}
    assert {"p95 baseline runs", "p95 other branches", "p95 band low", "p95 band high"} <= series
    assert [row[0] for row in latency] == sorted(row[0] for row in latency)  # time-ordered
    verdicts = next(rows for (title, _), rows in results.items() if title == "Latest verdicts")
    assert {row[1]: row[7] for row in verdicts}["p95"] == "regression"
