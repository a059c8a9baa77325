"""Compare verdicts end to end: k6 files -> store -> compare, for A/A, slowed and erroring runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from perfdash.baseline.store import Store
from perfdash.baseline.workflow import Selection, compare_benchmark, ingest_files, record_report
from perfdash.errors import NoBaselineError
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
