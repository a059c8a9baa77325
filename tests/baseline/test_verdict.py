"""Verdicts from per-run values: A/A, slowed, erroring, noisy, too few runs, one run,
gates and informative metrics. Pure."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfdash.baseline import power
from perfdash.baseline.compare import RunSet, compare_runs
from perfdash.baseline.metrics import rule_for
from perfdash.baseline.summaries import RunSummary
from perfdash.baseline.verdict import POWER, MetricVerdict, decide, metric_test
from perfdash.errors import NoBaselineError

START = datetime(2024, 5, 6, tzinfo=UTC)
_VALUE = st.one_of(st.just(0.0), st.just(1.0), st.floats(min_value=1e-6, max_value=1e9))
_RATE = st.one_of(st.just(0.0), st.just(1.0), st.floats(min_value=0.0, max_value=1.0))


def runs(values: list[float], *, noise: float = 0.02, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [v * math.exp(rng.gauss(0, noise)) for v in values]


def judge(
    metric: str, baseline: list[float], candidate: list[float], **overrides: Decimal
) -> MetricVerdict:
    test = metric_test(metric, baseline, candidate, rule_for(metric, overrides=overrides))
    return decide([test])[0]


def one(metric: str, baseline: list[float], candidate: list[float], **overrides: Decimal) -> str:
    return judge(metric, baseline, candidate, **overrides).verdict


def errors(metric_runs: list[tuple[int, int]]) -> tuple[list[float], list[int]]:
    return [f / n for f, n in metric_runs], [n for _, n in metric_runs]


def error_verdict(base: list[tuple[int, int]], cand: list[tuple[int, int]]) -> MetricVerdict:
    (bv, bn), (cv, cn) = errors(base), errors(cand)
    test = metric_test("error_rate", bv, cv, rule_for("error_rate"),
                       baseline_requests=bn, candidate_requests=cn)  # fmt: skip
    return decide([test])[0]


def test_the_same_system_measured_again_is_no_change() -> None:
    assert one("p95", runs([100] * 10), runs([100] * 3, seed=2)) == "no change"


def test_a_slowdown_beyond_the_threshold_is_a_regression() -> None:
    assert one("p95", runs([100] * 10), runs([130] * 3, seed=2)) == "regression"


def test_five_runs_against_three_find_thirty_percent() -> None:
    """The issue's case: fully separated runs that a rank test at 5 vs 3 can never call."""
    baseline = [21.9, 23.8, 23.5, 22.3, 22.9]
    verdict = judge("p95", baseline, [27.9, 29.5, 30.4])
    assert verdict.verdict == "regression", verdict.reason
    assert "t on log run values, candidate runs as one session, 5 vs 3 runs" in verdict.reason


def test_a_speedup_beyond_the_threshold_is_an_improvement() -> None:
    assert one("p95", runs([100] * 10), runs([70] * 3, seed=2)) == "improvement"


def test_a_significant_change_below_the_practical_threshold_is_not_a_regression() -> None:
    verdict = judge("p95", runs([100] * 10, noise=0.005), runs([108] * 3, noise=0.005, seed=2))
    assert verdict.verdict == "no change"
    assert verdict.p_value is not None and verdict.p_value < 0.001


def test_throughput_regresses_when_it_falls() -> None:
    assert one("rps", runs([500] * 10), runs([400] * 3, seed=2)) == "regression"
    assert one("rps", runs([500] * 10), runs([650] * 3, seed=2)) == "improvement"


def test_the_error_rate_is_tested_on_request_counts() -> None:
    base = [(3, 2800), (6, 2750), (1, 2900), (4, 2810), (2, 2830)]
    verdict = error_verdict(base, [(80, 2790), (85, 2800), (92, 2760)])
    assert verdict.verdict == "regression", verdict.reason
    assert "quasi-binomial on request counts, 5 vs 3 runs" in verdict.reason
    assert verdict.test.change == pytest.approx(257 / 8350 - 16 / 14090)


def test_ten_runs_of_errors_against_three_are_a_regression() -> None:
    """The issue's case: 0.1% -> 2.7%, every candidate run above every baseline run."""
    base = [(f, 2800) for f in (3, 2, 4, 1, 3, 5, 2, 3, 4, 1)]
    verdict = error_verdict(base, [(70, 2800), (78, 2800), (80, 2800)])
    assert verdict.verdict == "regression"


def test_an_error_rate_rise_under_half_a_point_is_not_a_regression() -> None:
    base = [(3, 3000)] * 5
    verdict = error_verdict(base, [(12, 3000), (12, 3000), (12, 3000)])  # +0.3 points
    assert verdict.verdict != "regression"
    assert verdict.p_value is not None and verdict.p_value < 0.01  # real, but small


def test_no_errors_on_either_side_is_no_change() -> None:
    verdict = error_verdict([(0, 3000)] * 5, [(0, 3000)] * 3)
    assert verdict.verdict == "no change", verdict.reason


def test_overdispersed_error_runs_are_not_a_regression_on_a_wobble() -> None:
    """Baseline runs that swing between 0.2% and 2.2% errors: a candidate at 1.6% is within
    their variation, though a binomial test on the pooled counts would call it."""
    base = [(6, 3000), (66, 3000), (9, 3000), (45, 3000), (12, 3000), (60, 3000)]
    verdict = error_verdict(base, [(48, 3000), (50, 3000), (46, 3000)])
    assert verdict.verdict != "regression", verdict.reason
    difference = verdict.test.difference
    assert difference is not None and difference.counts is not None
    assert difference.counts.baseline_dispersion > 5


def test_one_regressed_gate_is_found_among_four() -> None:
    """Only the error rate regressed: the correction over the four gates still finds it."""
    rng = random.Random(4)

    def run(run_id: int, fails: int) -> RunSummary:
        p95, rps = 22 * math.exp(rng.gauss(0, 0.04)), 190 * math.exp(rng.gauss(0, 0.04))
        return _run(run_id, {"p95": p95, "rps": rps, "error_rate": fails / 2800,
                             "p50": p95 * 0.9, "p99": p95 * 1.5}, counts=2800)  # fmt: skip

    base = RunSet("main", tuple(run(i, f) for i, f in enumerate((3, 2, 4, 1, 3), 1)))
    cand = RunSet("x", tuple(run(i, f) for i, f in ((11, 80), (12, 90), (13, 85))))
    report = compare_runs("api", cand, base)
    assert [v.test.metric for v in report.regressions] == ["error_rate"]
    assert [(v.test.metric, v.family) for v in report.verdicts] == [
        ("p50", 4),
        ("p95", 4),
        ("error_rate", 4),
        ("rps", 4),
        ("p99", 1),
    ]


def test_informative_metrics_never_make_a_regression() -> None:
    base = RunSet("main", tuple(_run(i, {"p95": 100.0 + i % 3, "p99": 150.0 + i % 3})
                                for i in range(1, 11)))  # fmt: skip
    cand = RunSet("x", tuple(_run(i, {"p95": 101.0 + i % 3, "p99": 240.0 + i % 3},
                                  branch="x") for i in (11, 12, 13)))  # fmt: skip
    report = compare_runs("api", cand, base)
    verdicts = {v.test.metric: v for v in report.verdicts}
    assert verdicts["p99"].verdict == "regression" and not verdicts["p99"].gate
    assert verdicts["p95"].gate and verdicts["p95"].verdict == "no change"
    assert report.regressions == []
    assert report.to_dict()["regression"] is False
    assert report.to_dict()["gates"] == ["p95"]
    gated = compare_runs("api", cand, base, metrics=["p99"])
    assert [v.test.metric for v in gated.regressions] == ["p99"]


def test_only_gates_push_a_regression_series() -> None:
    from perfdash.baseline.push import verdict_registry

    base = RunSet("main", tuple(_run(i, {"p95": 100.0 + i % 3, "p99": 150.0 + i % 3})
                                for i in range(1, 11)))  # fmt: skip
    cand = RunSet("x", tuple(_run(i, {"p95": 101.0 + i % 3, "p99": 240.0 + i % 3},
                                  branch="x") for i in (11, 12, 13)))  # fmt: skip
    registry = verdict_registry(compare_runs("api", cand, base))
    labels = {"benchmark": "api", "metric": "p95"}
    assert registry.get_sample_value("perfdash_baseline_regression", labels) == 0.0
    p99 = {"benchmark": "api", "metric": "p99"}
    assert registry.get_sample_value("perfdash_baseline_regression", p99) is None
    assert registry.get_sample_value("perfdash_baseline_change_ratio", p99) == pytest.approx(
        math.exp(sum(math.log(240.0 + i % 3) for i in (11, 12, 13)) / 3)
        / math.exp(sum(math.log(150.0 + i % 3) for i in range(1, 11)) / 10)
        - 1
    )


def test_the_reported_detectable_change_has_the_power_it_claims() -> None:
    baseline = [100.0, 104, 97, 102, 99, 101, 96, 103, 98, 100]
    verdict = judge("p95", baseline, [110.0, 126, 118])
    assert verdict.verdict == "inconclusive", verdict.reason
    assert 0.2 < verdict.mdc < 1
    assert f"detect a rise of {verdict.mdc:.1%} or more at least 9 times out of 10" in (
        verdict.reason
    )
    difference = verdict.test.difference
    assert difference is not None
    at_mdc = power.power(difference, math.log1p(verdict.mdc), alpha=0.05,
                         floor=verdict.test.worse_floor)  # fmt: skip
    assert at_mdc == pytest.approx(POWER, abs=1e-3)


def test_a_shift_far_beyond_a_noisy_baseline_is_still_a_regression() -> None:
    noisy = runs([100] * 10, noise=0.15, seed=3)
    assert one("p95", noisy, [300.0, 320.0, 310.0]) == "regression"


def test_runs_that_cannot_detect_twice_the_threshold_are_too_noisy() -> None:
    verdict = judge("max", runs([900] * 10, noise=0.3), runs([950] * 3, noise=0.3, seed=5))
    assert verdict.verdict == "too noisy", verdict.reason
    assert verdict.mdc > 2 * 0.2
    assert "between baseline runs" in verdict.reason
    assert f"a rise of {verdict.mdc:.1%} or more" in verdict.reason


def test_one_candidate_run_needs_ten_baseline_runs() -> None:
    few = judge("p95", runs([100] * 9), [140.0])
    assert few.verdict == "inconclusive"
    assert "needs at least 10 baseline runs (have 9)" in few.reason
    enough = judge("p95", runs([100] * 10), [140.0])
    assert enough.verdict == "regression"
    assert "single-run t prediction interval (weaker)" in enough.reason


def test_one_baseline_run_is_not_enough_for_run_sets() -> None:
    verdict = judge("p95", [100.0], [140.0, 141.0, 139.0])
    assert verdict.verdict == "inconclusive"
    assert "one baseline run" in verdict.reason


def test_declared_thresholds_change_what_counts() -> None:
    baseline, candidate = runs([100] * 10, noise=0.005), runs([112] * 3, noise=0.005, seed=2)
    assert one("p95", baseline, candidate) == "no change"
    assert one("p95", baseline, candidate, p95=Decimal(5)) == "regression"


def test_p_values_are_adjusted_within_the_gates_and_within_the_informative_metrics() -> None:
    tests = [
        metric_test(
            m,
            runs([100] * 10, seed=i),
            runs([100] * 3, seed=i + 50),
            rule_for(m),
            gate=m in ("p95", "p99"),
        )
        for i, m in enumerate(["p50", "p90", "p95", "p99", "mean"])
    ]
    verdicts = decide(tests)
    assert [v.family for v in verdicts] == [3, 3, 2, 2, 3]
    for v in verdicts:
        assert v.p_adjusted is not None and v.p_value is not None
        assert v.p_adjusted >= v.p_value


def _run(
    run_id: int, values: dict[str, float], *, counts: int = 2000, branch: str = "main"
) -> RunSummary:
    return RunSummary(
        run_id, "api", START + timedelta(hours=run_id), branch, None, "k6", None, (),
        dict(values), dict.fromkeys(values, counts),
    )  # fmt: skip


def test_compare_reports_geometric_means_run_ids_and_warnings() -> None:
    base = RunSet(
        "branch main", tuple(_run(i, {"p95": 100 + i, "p99": 150.0}) for i in range(1, 11))
    )
    cand = RunSet(
        "branch x",
        tuple(_run(i, {"p95": 140.0, "p99": 151.0}, counts=100, branch="x") for i in (11, 12, 13)),
    )
    report = compare_runs("api", cand, base)
    assert [(v.test.metric, v.gate) for v in report.verdicts] == [("p95", True), ("p99", False)]
    geometric = math.exp(sum(math.log(100 + i) for i in range(1, 11)) / 10)
    assert report.verdicts[0].test.baseline == pytest.approx(geometric)
    assert report.verdicts[0].test.candidate == pytest.approx(140.0)
    assert [v.test.metric for v in report.regressions] == ["p95"]
    shape = report.to_dict()
    assert shape["candidate"]["runs"] == [11, 12, 13]
    assert shape["baseline"]["runs"] == list(range(1, 11))
    assert set(shape["metrics"][0]) >= {
        "metric", "baseline", "candidate", "change_pct", "p_value", "verdict", "reason", "gate",
        "min_detectable_change_pct",
    }  # fmt: skip
    assert shape["metrics"][0]["change_pct"] == pytest.approx(140 / geometric * 100 - 100)
    assert any(
        w.startswith("p99: too few requests for this percentile in run 11 (100)")
        and "needs at least 368" in w
        for w in report.warnings
    )


def test_a_gate_no_run_measured_is_a_warning_and_no_gate_at_all_an_error() -> None:
    base = RunSet("main", tuple(_run(i, {"p95": 100.0 + i}) for i in range(1, 6)))
    cand = RunSet("x", tuple(_run(i, {"p95": 101.0 + i}) for i in (11, 12, 13)))
    report = compare_runs("api", cand, base, metrics=["p95", "error_rate"])
    assert "error_rate: not measured in the candidate runs (gate skipped)" in report.warnings
    with pytest.raises(NoBaselineError, match="none of the gates p99 is measured"):
        compare_runs("api", cand, base, metrics=["p99"])


def test_custom_benchmarks_gate_on_their_primary_metrics() -> None:
    def bench(run_id: int, ns: float) -> RunSummary:
        values = {"Encode.ns/op": ns, "Encode.ns/op.mean": ns, "Encode.allocs/op": 3.0}
        return _run(run_id, values)

    report = compare_runs("codec", RunSet("x", (bench(11, 150), bench(12, 151))),
                          RunSet("main", tuple(bench(i, 100 + i) for i in range(1, 6))))  # fmt: skip
    assert report.to_dict()["gates"] == ["Encode.allocs/op", "Encode.ns/op"]
    verdicts = {v.test.metric: v.verdict for v in report.verdicts}
    assert verdicts == {"Encode.allocs/op": "no change", "Encode.ns/op": "regression",
                        "Encode.ns/op.mean": "regression"}  # fmt: skip


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


@settings(max_examples=150, deadline=None)
@given(
    base=st.lists(st.tuples(_VALUE, _VALUE, _RATE), min_size=1, max_size=12),
    cand=st.lists(st.tuples(_VALUE, _VALUE, _RATE), min_size=1, max_size=5),
    requests=st.integers(min_value=1, max_value=5000),
)
def test_any_run_values_give_a_report_that_renders(
    base: list[tuple[float, float, float]],
    cand: list[tuple[float, float, float]],
    requests: int,
) -> None:
    """Zeros, ties, constant metrics, one run, huge spreads: a verdict, never a crash, and
    JSON without NaN or infinity."""
    from perfdash.baseline.report import render

    def run_set(rows: list[tuple[float, float, float]], first: int) -> RunSet:
        return RunSet("s", tuple(
            _run(first + i, {"p95": p95, "rps": rps, "error_rate": round(rate * requests) / requests},
                 counts=requests)
            for i, (p95, rps, rate) in enumerate(rows)
        ))  # fmt: skip

    report = compare_runs("api", run_set(cand, 100), run_set(base, 1))
    assert [v.test.metric for v in report.verdicts] == ["p95", "error_rate", "rps"]
    for fmt in ("table", "markdown", "json"):
        assert render(report, fmt)


def test_the_direction_and_unit_the_store_saved_win_over_the_name() -> None:
    # hyperfine timed a command named ".../rps": seconds, lower is better, whatever the name
    metric = "curl_http_//localhost_8080/rps"
    base = [_run(i, {metric: 0.20 + i / 1000}) for i in range(1, 11)]
    cand = [_run(i, {metric: 0.30}, branch="x") for i in (11, 12, 13)]
    for run in (*base, *cand):
        run.directions[metric], run.units[metric] = "lower", "s"
    report = compare_runs("api", RunSet("x", tuple(cand)), RunSet("main", tuple(base)))
    (verdict,) = report.verdicts
    assert (verdict.test.rule.direction, verdict.test.rule.unit) == ("lower", "s")
    assert verdict.verdict == "regression"  # 50% more seconds
    # Runs that do not say (made before the store saved it): the name decides.
    for run in (*base, *cand):
        run.directions.clear()
        run.units.clear()
    guessed = compare_runs("api", RunSet("x", tuple(cand)), RunSet("main", tuple(base)))
    assert guessed.verdicts[0].test.rule.direction == "higher"
    assert guessed.verdicts[0].verdict == "improvement"


def test_runs_stored_with_different_directions_use_the_newest_and_say_so() -> None:
    metric = "BenchmarkEncode.MB/s"
    base = [_run(i, {metric: 100.0 + i}) for i in range(1, 11)]
    cand = [_run(i, {metric: 60.0}, branch="x") for i in (11, 12, 13)]
    for run in base:  # stored by an older perfdash that took MB/s for lower-is-better
        run.directions[metric] = "lower"
    for run in cand:
        run.directions[metric] = "higher"
    report = compare_runs("api", RunSet("x", tuple(cand)), RunSet("main", tuple(base)))
    assert report.verdicts[0].test.rule.direction == "higher"
    assert report.verdicts[0].verdict == "regression"  # 40% less throughput
    assert (
        f"{metric}: runs were stored with different directions (lower is better in runs "
        "1, 2, 3, 4, 5 and 5 more, higher in runs 11, 12, 13): using the newest run's, higher "
        "is better"
    ) in report.warnings
