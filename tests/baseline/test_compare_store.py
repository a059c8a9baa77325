"""Compare verdicts end to end: k6 files -> store -> compare, for A/A, slowed and erroring
runs: real k6 outputs (tests/baseline/fixtures/k6-verdict, recorded by
scripts/record_k6_verdict_fixtures.py) and synthetic ones."""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from perfdash.baseline.report import render
from perfdash.baseline.store import Store
from perfdash.baseline.workflow import Selection, compare_benchmark, ingest_files, record_report
from perfdash.errors import NoBaselineError
from testing.postgres import Server
from tests.baseline.conftest import FIXTURES, dsn_for
from tests.baseline.synthetic import k6_runs

pytestmark = pytest.mark.integration


def ingest(dsn: str, paths: list[Path], branch: str, benchmark: str = "checkout-api") -> list[int]:
    with Store.open(dsn) as store:
        return [
            ingest_files(store, benchmark=benchmark, paths=[p], branch=branch).run_id for p in paths
        ]


@pytest.fixture
def baseline_runs(store_dsn: str, tmp_path: Path) -> list[int]:
    return ingest(store_dsn, k6_runs(tmp_path, "main", count=10, seed=1, hours_ago=40), "main")


def compare(dsn: str, **selection: object) -> dict[str, dict[str, object]]:
    with Store.open(dsn) as store:
        report = compare_benchmark(
            store,
            Selection("checkout-api", **selection),
            now=datetime.now(UTC),  # type: ignore[arg-type]
        )
    return {m["metric"]: m for m in report.to_dict()["metrics"]}


def test_a_a_comparison_finds_no_regression(
    store_dsn: str, tmp_path: Path, baseline_runs: list[int]
) -> None:
    ingest(store_dsn, k6_runs(tmp_path, "same", count=3, seed=2, hours_ago=5), "feature")
    metrics = compare(store_dsn, branch="feature")
    assert all(m["verdict"] != "regression" for m in metrics.values())
    assert metrics["p95"]["verdict"] == "no change"
    assert metrics["error_rate"]["verdict"] == "no change"


def test_slowed_runs_are_a_p95_regression(
    store_dsn: str, tmp_path: Path, baseline_runs: list[int]
) -> None:
    ingest(store_dsn, k6_runs(tmp_path, "slow", count=3, seed=3, slowdown=1.3, hours_ago=5), "slow")
    metrics = compare(store_dsn, branch="slow")
    for name in ("p50", "p90", "p95", "p99", "mean"):
        assert metrics[name]["verdict"] == "regression", (name, metrics[name]["reason"])
    assert metrics["p95"]["change_pct"] == pytest.approx(30, abs=6)
    assert metrics["error_rate"]["verdict"] != "regression"


def test_erroring_runs_are_an_error_rate_regression(
    store_dsn: str, tmp_path: Path, baseline_runs: list[int]
) -> None:
    ingest(
        store_dsn, k6_runs(tmp_path, "err", count=3, seed=4, error_rate=0.05, hours_ago=5), "err"
    )
    metrics = compare(store_dsn, branch="err")
    assert metrics["error_rate"]["verdict"] == "regression"
    assert metrics["error_rate"]["change"] == pytest.approx(0.05, abs=0.02)
    assert metrics["p95"]["verdict"] != "regression"


def test_a_single_slow_run_uses_the_prediction_interval(
    store_dsn: str, tmp_path: Path, baseline_runs: list[int]
) -> None:
    [run] = ingest(
        store_dsn, k6_runs(tmp_path, "one", count=1, seed=5, slowdown=1.4, hours_ago=1), "one"
    )
    metrics = compare(store_dsn, run_ids=(run,))
    assert metrics["p95"]["verdict"] == "regression"
    assert metrics["p95"]["test"] == "single-run t prediction interval (weaker)"


def test_the_latest_main_run_is_compared_with_the_earlier_ones(
    store_dsn: str, baseline_runs: list[int]
) -> None:
    with Store.open(store_dsn) as store:
        report = compare_benchmark(store, Selection("checkout-api"), now=datetime.now(UTC))
    assert report.candidate.ids == [baseline_runs[-1]]
    assert report.baseline.ids == baseline_runs[:-1]
    assert report.candidate.label == "latest run of main"


def test_the_window_limits_the_baseline(
    store_dsn: str, tmp_path: Path, baseline_runs: list[int]
) -> None:
    ingest(store_dsn, k6_runs(tmp_path, "x", count=2, seed=6, hours_ago=2), "x")
    with Store.open(store_dsn) as store, pytest.raises(NoBaselineError, match="no baseline"):
        compare_benchmark(
            store,
            Selection("checkout-api", branch="x", window=timedelta(hours=3)),
            now=datetime.now(UTC),
        )


def test_pinned_baseline_runs_and_recorded_verdicts(
    store_dsn: str, tmp_path: Path, baseline_runs: list[int]
) -> None:
    ingest(store_dsn, k6_runs(tmp_path, "slow", count=3, seed=3, slowdown=1.3, hours_ago=5), "slow")
    with Store.open(store_dsn) as store:
        report = compare_benchmark(
            store,
            Selection("checkout-api", branch="slow", baseline_run_ids=tuple(baseline_runs[:5])),
            now=datetime.now(UTC),
        )
        comparison = record_report(store, report)
        rows = store.execute(
            "SELECT c.candidate_runs, c.baseline_runs, m.verdict FROM perfdash.comparisons c "
            "JOIN perfdash.comparison_metrics m ON m.comparison_id = c.id "
            "WHERE c.id = %s AND m.metric = 'p95'",
            (comparison,),
        )
    assert report.baseline.ids == baseline_runs[:5]
    assert rows == [(report.candidate.ids, baseline_runs[:5], "regression")]


def test_unknown_candidate_runs_are_an_error(store_dsn: str, baseline_runs: list[int]) -> None:
    with Store.open(store_dsn) as store, pytest.raises(NoBaselineError, match="no run 999"):
        compare_benchmark(store, Selection("checkout-api", run_ids=(999,)), now=datetime.now(UTC))


# -- real k6 runs ---------------------------------------------------------------------------

REAL = FIXTURES / "k6-verdict"


@pytest.fixture(scope="module")
def real_runs(pg_server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    tuple[str, dict[str, int]]
]:  # fmt: skip
    """Every recorded real k6 run ingested once: (DSN, run id by name)."""
    name = "perfdash_test_real_k6"
    with psycopg.connect(dsn_for(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}".encode())
        conn.execute(f"CREATE DATABASE {name}".encode())
    dsn = dsn_for(pg_server, name)
    folder = tmp_path_factory.mktemp("k6-verdict")
    manifest = json.loads((REAL / "manifest.json").read_text())
    ids = {}
    with Store.open(dsn) as store:
        store.init()
        for run in manifest["runs"]:
            plain = folder / run["file"].removesuffix(".gz")
            with gzip.open(REAL / run["file"], "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            ids[run["name"]] = ingest_files(
                store, benchmark="k6-service", paths=[plain], branch=run["condition"]
            ).run_id
    yield dsn, ids


def judge(
    real: tuple[str, dict[str, int]], candidate: list[str], baseline: list[str]
) -> dict[str, object]:
    dsn, ids = real
    selection = Selection(
        "k6-service",
        run_ids=tuple(ids[n] for n in candidate),
        baseline_run_ids=tuple(ids[n] for n in baseline),
    )
    with Store.open(dsn) as store:
        report = compare_benchmark(store, selection, now=datetime.now(UTC))
    shape = report.to_dict()
    shape["text"] = render(report, "table")
    return shape


MAIN_5 = [f"main-{i:02d}" for i in range(1, 6)]
MAIN_10 = [f"main-{i:02d}" for i in range(1, 11)]


def verdicts(shape: dict[str, object]) -> dict[str, str]:
    metrics = shape["metrics"]
    assert isinstance(metrics, list)
    return {m["metric"]: m["verdict"] for m in metrics if m["gate"]}


def test_the_recorded_runs_are_real_k6_output() -> None:
    manifest = json.loads((REAL / "manifest.json").read_text())
    assert manifest["k6"].startswith("k6 v1.1.0")
    assert len(manifest["runs"]) == 19
    with gzip.open(REAL / manifest["runs"][0]["file"], "rt") as handle:
        assert json.loads(handle.readline())["type"] == "Metric"


@pytest.mark.parametrize("baseline", [MAIN_5, MAIN_10], ids=["5 vs 3", "10 vs 3"])
def test_real_k6_runs_thirty_percent_slower_are_a_regression(
    real_runs: tuple[str, dict[str, int]], baseline: list[str]
) -> None:
    shape = judge(real_runs, ["slow-01", "slow-02", "slow-03"], baseline)
    assert shape["regression"] is True, shape["text"]
    gates = verdicts(shape)
    assert gates["p50"] == "regression", shape["text"]
    assert gates["error_rate"] != "regression", shape["text"]


@pytest.mark.parametrize("baseline", [MAIN_5, MAIN_10], ids=["5 vs 3", "10 vs 3"])
def test_real_k6_runs_with_three_points_more_errors_are_a_regression(
    real_runs: tuple[str, dict[str, int]], baseline: list[str]
) -> None:
    shape = judge(real_runs, ["errors-01", "errors-02", "errors-03"], baseline)
    assert shape["regression"] is True, shape["text"]
    assert verdicts(shape)["error_rate"] == "regression", shape["text"]
    assert [name for name, v in verdicts(shape).items() if v == "regression"] == ["error_rate"]


@pytest.mark.parametrize("baseline", [MAIN_5, MAIN_10], ids=["5 vs 3", "10 vs 3"])
def test_real_k6_runs_of_the_same_service_are_no_regression(
    real_runs: tuple[str, dict[str, int]], baseline: list[str]
) -> None:
    shape = judge(real_runs, ["main-11", "main-12", "main-13"], baseline)
    assert shape["regression"] is False, shape["text"]


def test_compare_reads_each_metric_s_unit_and_direction_from_the_store(
    store_dsn: str, tmp_path: Path
) -> None:
    # Real hyperfine output, its command renamed so that the name guess would be wrong:
    # ".../rps" sounds like throughput, but hyperfine measured seconds.
    real = json.loads((FIXTURES / "hyperfine" / "hyperfine.json").read_text())
    real["results"] = real["results"][:1]
    real["results"][0]["command"] = "curl http://localhost:8080/rps"
    paths = {}
    for name, scale, count in (("main", 1.0, 6), ("slow", 1.5, 3)):
        for i in range(count):
            real["results"][0]["times"] = [
                t * scale * (1 + i / 100) for t in real["results"][0]["times"][:8]
            ]
            path = tmp_path / f"{name}-{i}.json"
            path.write_text(json.dumps(real))
            paths.setdefault(name, []).append(path)
    ingest(store_dsn, paths["main"], "main", benchmark="cli")
    ingest(store_dsn, paths["slow"], "slow", benchmark="cli")
    with Store.open(store_dsn) as store:
        report = compare_benchmark(
            store, Selection("cli", branch="slow"), now=datetime.now(UTC)
        ).to_dict()
    metric = next(m for m in report["metrics"] if m["metric"] == "curl_http_//localhost_8080/rps")
    assert (metric["unit"], metric["better"]) == ("s", "lower")
    assert metric["verdict"] == "regression"  # 50% more seconds, not 50% more throughput
