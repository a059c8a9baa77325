"""What perfdash stores from each real tool's output equals what the tool itself printed.

The fixtures and the printed summaries come from one run of each real tool
(``python -m testing.baseline_fixtures``); every value is compared within the precision
the tool printed it at. ``rps`` differs by design where the tools measure it over
another span: see each test.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from perfdash.baseline.store import Store
from perfdash.baseline.workflow import ingest_files
from tests.baseline import printed
from tests.baseline.printed import Printed, fixture

pytestmark = pytest.mark.integration


def stored(dsn: str, *paths: Path, fmt: str | None = None) -> dict[str, float]:
    with Store.open(dsn) as store:
        result = ingest_files(store, benchmark="bench", paths=list(paths), format_name=fmt)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT metric, value FROM perfdash.run_summary WHERE run_id = %s", (result.run_id,)
        ).fetchall()
    return dict(rows)


def units(dsn: str) -> dict[str, tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT metric, unit, better FROM perfdash.run_summary").fetchall()
    return {metric: (unit, better) for metric, unit, better in rows}


def assert_printed(got: dict[str, float], expected: dict[str, Printed], *metrics: str) -> None:
    for metric in metrics:
        want = expected[metric]
        assert got[metric] == pytest.approx(want.value, abs=want.precision + 1e-9), metric


K6_FILES = [
    "run.json",
    "run.json.gz",
    "run.csv",
    "run-unix_milli.csv.gz",
    "run-unix_micro.csv.gz",
    "run-unix_nano.csv.gz",
    "run-rfc3339.csv.gz",
    "run-rfc3339_nano.csv.gz",
]


@pytest.mark.parametrize("name", K6_FILES)
def test_k6_raw_outputs_store_what_k6_printed(store_dsn: str, name: str) -> None:
    got = stored(store_dsn, fixture("k6", name))
    summary = printed.k6_summary()
    assert_printed(got, summary, "mean", "min", "p50", "max", "p90", "p95", "p99", "requests")
    assert got["failures"] == summary["failures"].value
    # perfdash's rps is over the span of the requests' timestamps; k6's http_reqs rate is
    # over the whole test (start-up and the last request's wait included): a little lower.
    k6_duration = summary["requests"].value / summary["rps"].value
    if name in ("run.csv", "run-rfc3339.csv.gz"):
        # whole-second times (k6's default "unix", and "rfc3339"): this 0.6 s run fell in
        # one or two seconds, too coarse for a rate
        assert got.get("duration_s", 0) <= 1
        return
    assert got["duration_s"] <= k6_duration < got["duration_s"] + 0.1
    assert got["rps"] >= summary["rps"].value


def test_k6_summary_export_is_k6_s_own_numbers(store_dsn: str) -> None:
    got = stored(store_dsn, fixture("k6", "summary-export.json"))
    summary = printed.k6_summary()
    assert_printed(got, summary, "mean", "min", "p50", "max", "p90", "p95", "p99", "requests")
    assert_printed(got, summary, "rps", "failures")


def test_k6_handle_summary_matches_the_same_run_s_raw_points(store_dsn: str) -> None:
    own = stored(store_dsn, fixture("k6", "handle-summary.json"))
    raw = stored(store_dsn, fixture("k6", "handle-summary-run.json.gz"))
    for metric in ("mean", "min", "p50", "max", "p90", "p95", "p99", "requests", "failures"):
        assert raw[metric] == pytest.approx(own[metric], rel=1e-9), metric
    assert raw["error_rate"] == pytest.approx(own["error_rate"])
    assert raw["duration_s"] <= own["duration_s"]


def test_locust_json_stores_what_locust_printed(store_dsn: str) -> None:
    got = stored(store_dsn, fixture("locust", "locust.json"))
    summary = printed.locust_summary()
    assert_printed(got, summary, "requests", "failures", "mean", "min", "max")
    # perfdash: requests from the first request to the last; Locust's printed Aggregated
    # req/s counts from the test's start (not in the JSON), so it is a little lower
    assert summary["rps"].value <= got["rps"] < summary["rps"].value * 1.05
    # Locust's percentiles are bucket values of its rounded histogram: equal, not close
    for metric in ("p50", "p90", "p95", "p99", "p99.9"):
        assert got[metric] == summary[metric].value, metric


def test_locust_stats_csv_with_its_history_is_one_run(store_dsn: str) -> None:
    got = stored(
        store_dsn,
        fixture("locust", "locust_stats.csv"),
        fixture("locust", "locust_stats_history.csv"),
        fixture("locust", "locust_failures.csv"),
    )
    # Locust 2.47 wrote this file before the run's last requests (the JSON has them all)
    assert 0 < got["requests"] <= printed.locust_summary()["requests"].value
    assert got["p95"] > 0 and got["error_rate"] == got["failures"] / got["requests"]


@pytest.mark.parametrize("name", ["results.jtl", "results-header.jtl", "results.xml.jtl"])
def test_jmeter_results_store_what_jmeter_printed(store_dsn: str, name: str) -> None:
    got = stored(store_dsn, fixture("jmeter", name))
    summary = printed.jmeter_summary(name.removesuffix(".jtl") + ".stdout.txt")
    assert_printed(got, summary, "requests", "failures", "mean", "min", "max")


def test_hyperfine_stores_seconds_per_command(store_dsn: str) -> None:
    got = stored(store_dsn, fixture("hyperfine", "hyperfine.json"))
    for command, summary in zip(
        ("sleep_0.02", "sleep_0.03", "sh_-c_sleep_0.01_exit_3"), printed.hyperfine_summary(),
        strict=True,
    ):  # fmt: skip
        assert_printed({k.removeprefix(command + "."): v for k, v in got.items()}, summary,
                       "mean", "stddev", "min", "max", "user", "system")  # fmt: skip
    assert got["error_rate"] == pytest.approx(1 / 3)  # one command of three always exits 3
    assert units(store_dsn)["sleep_0.02"] == ("s", "lower")
    assert units(store_dsn)["sleep_0.02.mean"] == ("s", "lower")


def test_pytest_benchmark_stores_seconds_per_test(store_dsn: str) -> None:
    got = stored(store_dsn, fixture("pytest-benchmark", "pytest-benchmark.json"))
    for name, summary in printed.pytest_benchmark_summary().items():
        assert_printed({k.removeprefix(name + "."): v for k, v in got.items()}, summary,
                       "min", "max", "mean", "stddev")  # fmt: skip
        assert got[name] == pytest.approx(summary["median"].value, abs=summary["median"].precision)
    found = units(store_dsn)
    assert found["test_json_dumps"] == ("s", "lower")
    assert found["test_json_dumps.mean"] == ("s", "lower")
    assert found["test_json_dumps.ops"] == ("ops/s", "higher")


def test_go_throughput_is_higher_is_better_and_sub_benchmarks_stay_apart(
    store_dsn: str,
) -> None:
    got = stored(store_dsn, fixture("go", "gobench-cpu1.txt"))
    assert "BenchmarkSort/len-100.ns/op" in got and "BenchmarkSort/len-10000.ns/op" in got
    assert got["BenchmarkSort/len-10000.ns/op"] > 10 * got["BenchmarkSort/len-100.ns/op"]
    found = units(store_dsn)
    assert found["BenchmarkSort/len-100.MB/s"] == ("MB/s", "higher")
    assert found["BenchmarkSort/len-100.MB/s.mean"] == ("MB/s", "higher")
    assert found["BenchmarkSort/len-100.ops/s"] == ("ops/s", "higher")
    assert found["BenchmarkEncode.items/op"] == ("items/op", "lower")
    assert found["BenchmarkEncode.ns/op.max"] == ("ns/op", "lower")


def test_wrk_stores_its_report(store_dsn: str) -> None:
    got = stored(store_dsn, fixture("wrk", "wrk.txt"))
    report = printed.wrk_report()
    requests = int(report.split(" requests in ")[0].split()[-1])
    errors = int(report.split("Non-2xx or 3xx responses:")[1].split()[0])
    assert got["requests"] == requests
    assert got["error_rate"] == pytest.approx(errors / requests)
    rate = float(report.split("Requests/sec:")[1].split()[0])
    assert got["rps"] == rate
    p50 = report.split("50%")[1].split()[0]
    assert got["p50"] == pytest.approx(float(p50.removesuffix("ms")))
