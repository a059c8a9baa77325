"""Verdicts from per-run values: A/A, slowed, erroring, noisy, too few runs, one run. Pure."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from perfdash.baseline.compare import RunSet, compare_runs
from perfdash.baseline.metrics import rule_for
from perfdash.baseline.summaries import RunSummary
from perfdash.baseline.verdict import decide, metric_test
from perfdash.errors import NoBaselineError

START = datetime(2024, 5, 6, tzinfo=UTC)


def runs(values: list[float], *, noise: float = 0.02, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [v * math.exp(rng.gauss(0, noise)) for v in values]


def one(metric: str, baseline: list[float], candidate: list[float], **overrides: Decimal) -> str:
    test = metric_test(metric, baseline, candidate, rule_for(metric, overrides=overrides))
    return decide([test])[0].verdict


def test_the_same_system_measured_again_is_no_change() -> None:
    assert one("p95", runs([100] * 10), runs([100] * 3, seed=2)) == "no change"


def test_a_slowdown_beyond_the_threshold_is_a_regression() -> None:
    assert one("p95", runs([100] * 10), runs([130] * 3, seed=2)) == "regression"


def test_a_speedup_beyond_the_threshold_is_an_improvement() -> None:
    assert one("p95", runs([100] * 10), runs([70] * 3, seed=2)) == "improvement"


def test_a_significant_change_below_the_practical_threshold_is_not_a_regression() -> None:
    verdict = one("p95", runs([100] * 10, noise=0.005), runs([108] * 3, noise=0.005, seed=2))
    assert verdict == "no change"


def test_throughput_regresses_when_it_falls() -> None:
    assert one("rps", runs([500] * 10), runs([400] * 3, seed=2)) == "regression"
    assert one("rps", runs([500] * 10), runs([650] * 3, seed=2)) == "improvement"


def test_error_rate_is_compared_in_points_from_zero() -> None:
    assert one("error_rate", [0.0] * 10, [0.03, 0.04, 0.035]) == "regression"
    # up 0.3 points: under the 0.5-point floor
    assert one("error_rate", [0.0] * 10, [0.003, 0.003, 0.003]) != "regression"


def test_three_runs_against_three_can_never_be_significant() -> None:
    test = metric_test("p95", runs([100] * 3), runs([140] * 3, seed=2), rule_for("p95"))
    verdict = decide([test])[0]
    assert verdict.verdict == "inconclusive"
    assert "smallest change these runs could detect is unbounded" in verdict.reason


def test_inconclusive_names_the_smallest_detectable_change() -> None:
    baseline = [100.0, 104, 97, 102, 99, 101, 96, 103, 98, 100]
    test = metric_test("p95", baseline, [110.0, 126, 118], rule_for("p95"))
    verdict = decide([test])[0]
    assert verdict.verdict == "inconclusive", verdict.reason
    assert 0 < test.mdc < 1
    assert f"could detect is {test.mdc:.1%}" in verdict.reason


def test_a_baseline_that_varies_more_than_five_percent_is_too_noisy() -> None:
    verdict = decide(
        [metric_test("max", runs([900] * 10, noise=0.3), runs([950] * 3), rule_for("max"))]
    )[0]
    assert verdict.verdict == "too noisy"
    assert "between baseline runs" in verdict.reason


def test_one_candidate_run_needs_ten_baseline_runs() -> None:
    few = decide([metric_test("p95", runs([100] * 9), [140.0], rule_for("p95"))])[0]
    assert few.verdict == "inconclusive"
    assert "needs at least 10 baseline runs (have 9)" in few.reason
    enough = decide([metric_test("p95", runs([100] * 10), [140.0], rule_for("p95"))])[0]
    assert enough.verdict == "regression"
    assert "single-run t prediction interval (weaker)" in enough.reason


def test_declared_thresholds_change_what_counts() -> None:
    baseline, candidate = runs([100] * 10, noise=0.005), runs([112] * 3, noise=0.005, seed=2)
    assert one("p95", baseline, candidate) == "no change"
    assert one("p95", baseline, candidate, p95=Decimal(5)) == "regression"


def test_p_values_are_adjusted_over_the_metrics() -> None:
    tests = [
        metric_test(m, runs([100] * 10, seed=i), runs([100] * 3, seed=i + 50), rule_for(m))
        for i, m in enumerate(["p50", "p90", "p95", "p99", "mean"])
    ]
    verdicts = decide(tests)
    for v in verdicts:
        assert v.p_adjusted is not None and v.test.p_value is not None
        assert v.p_adjusted >= v.test.p_value


def _run(
    run_id: int, values: dict[str, float], *, counts: int = 2000, branch: str = "main"
) -> RunSummary:
    return RunSummary(
        run_id, "api", START + timedelta(hours=run_id), branch, None, "k6", None, (),
        dict(values), dict.fromkeys(values, counts),
    )  # fmt: skip


def test_compare_reports_medians_run_ids_and_warnings() -> None:
    base = RunSet(
        "branch main", tuple(_run(i, {"p95": 100 + i, "p99": 150.0}) for i in range(1, 11))
    )
    cand = RunSet(
        "branch x",
        tuple(_run(i, {"p95": 140.0, "p99": 151.0}, counts=100, branch="x") for i in (11, 12, 13)),
    )
    report = compare_runs("api", cand, base)
    assert [v.test.metric for v in report.verdicts] == ["p95", "p99"]
    assert report.verdicts[0].test.baseline == 105.5
    assert report.verdicts[0].test.candidate == 140.0
    assert [v.test.metric for v in report.regressions] == ["p95"]
    shape = report.to_dict()
    assert shape["candidate"]["runs"] == [11, 12, 13]
    assert shape["baseline"]["runs"] == list(range(1, 11))
    assert set(shape["metrics"][0]) >= {
        "metric", "baseline", "candidate", "change_pct", "p_value", "verdict", "reason",
    }  # fmt: skip
    assert shape["metrics"][0]["change_pct"] == pytest.approx(140 / 105.5 * 100 - 100)
    assert any(
        w.startswith("p99: too few requests for this percentile in run 11 (100)")
        and "needs at least 368" in w
        for w in report.warnings
    )


def test_no_baseline_is_an_error_not_a_pass() -> None:
    cand = RunSet("branch x", (_run(1, {"p95": 1.0}),))
    with pytest.raises(NoBaselineError, match="no baseline for 'api'"):
        compare_runs("api", cand, RunSet("branch main (last 7d)", ()))


def test_coarse_tool_resolution_is_warned_about() -> None:
    def coarse(i: int) -> RunSummary:
        run = _run(i, {"p50": 4.0})
        return RunSummary(**{**run.__dict__, "resolution_ms": 1.0})

    report = compare_runs(
        "api",
        RunSet("c", (coarse(20), coarse(21))),
        RunSet("b", tuple(coarse(i) for i in range(10))),
    )
    assert any("steps of 1 ms" in w and "coarse" in w for w in report.warnings)
