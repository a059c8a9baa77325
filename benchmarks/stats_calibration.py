"""Calibrate the baseline verdict: false-positive rate on A/A comparisons, power on slowdowns.

Each simulated run is a load test of ``--requests`` requests whose durations are
log-normal (median 80 ms, sigma 0.5) times a per-run environmental factor
exp(N(0, ``--run-noise``)), the run-to-run variation real machines show. Its per-run
metrics are computed exactly from its own requests (p50, p90, p95, p99, mean, max), plus
rps (the same environmental factor, inverted) and the error rate (Binomial(requests,
0.001)). Comparisons go through ``perfdash.baseline.compare.compare_runs``, the code the
CLI runs: Mann-Whitney U per metric with Benjamini-Hochberg over the metrics, or the
single-run t prediction interval.

- A/A: candidate and baseline runs come from the same system. A false positive is a
  comparison in which any metric is called a regression (the rate CI would fail wrongly).
- Shifted: every candidate request is 30% slower. Power is the share of comparisons in
  which p95 is called a regression.

Goals (issue 5): false-positive rate <= 5%; power for +30% p95 with 10 baseline and 3
candidate runs >= 90%. Exits 1 when a goal is missed.

    python -m benchmarks.stats_calibration                 # 1000 comparisons per case
    python -m benchmarks.stats_calibration --comparisons 2000 --requests 2000
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from perfdash.baseline.compare import RunSet, compare_runs
from perfdash.baseline.summaries import RunSummary

MEDIAN_MS = 80.0
SIGMA = 0.5
ERROR_RATE = 0.001
RPS = 200.0
METRICS = ("p50", "p90", "p95", "p99", "mean", "max", "rps", "error_rate")
CASES = (("10 vs 3", 10, 3), ("5 vs 5", 5, 5), ("10 vs 1 (single run)", 10, 1),
         ("20 vs 1 (single run)", 20, 1), ("3 vs 3", 3, 3))  # fmt: skip
START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class Outcome:
    comparisons: int = 0
    any_regression: int = 0
    p95_regression: int = 0
    p95_too_noisy: int = 0
    p95_no_change: int = 0
    p95_significant: int = 0  # adjusted p < 0.05, whatever the threshold says

    def rate(self, count: int) -> float:
        return count / self.comparisons if self.comparisons else 0.0


def simulate_runs(
    rng: np.random.Generator, count: int, *, requests: int, run_noise: float, slowdown: float,
    first_id: int,
) -> list[RunSummary]:  # fmt: skip
    factors = np.exp(rng.normal(0.0, run_noise, size=count))
    latencies = rng.lognormal(np.log(MEDIAN_MS), SIGMA, size=(count, requests))
    latencies *= (factors * slowdown)[:, None]
    percentiles = np.percentile(latencies, [50, 90, 95, 99], axis=1)  # linear, = percentile_cont
    failures = rng.binomial(requests, ERROR_RATE, size=count)
    runs = []
    for i in range(count):
        values = {
            "p50": percentiles[0, i], "p90": percentiles[1, i], "p95": percentiles[2, i],
            "p99": percentiles[3, i], "mean": latencies[i].mean(), "max": latencies[i].max(),
            "rps": RPS / factors[i] / slowdown, "error_rate": failures[i] / requests,
        }  # fmt: skip
        runs.append(
            RunSummary(
                first_id + i,
                "sim",
                START + timedelta(hours=first_id + i),
                "main",
                None,
                "sim",
                None,
                (),
                {k: float(v) for k, v in values.items()},
                dict.fromkeys(values, requests),
            )
        )
    return runs


def run_case(
    rng: np.random.Generator, *, baseline: int, candidate: int, slowdown: float,
    comparisons: int, requests: int, run_noise: float,
) -> Outcome:  # fmt: skip
    outcome = Outcome()
    for _ in range(comparisons):
        base = simulate_runs(rng, baseline, requests=requests, run_noise=run_noise,
                             slowdown=1.0, first_id=1)  # fmt: skip
        cand = simulate_runs(rng, candidate, requests=requests, run_noise=run_noise,
                             slowdown=slowdown, first_id=1000)  # fmt: skip
        report = compare_runs("sim", RunSet("candidate", tuple(cand)), RunSet("base", tuple(base)),
                              metrics=METRICS)  # fmt: skip
        verdicts = {v.test.metric: v.verdict for v in report.verdicts}
        outcome.comparisons += 1
        outcome.any_regression += any(v == "regression" for v in verdicts.values())
        outcome.p95_regression += verdicts["p95"] == "regression"
        outcome.p95_too_noisy += verdicts["p95"] == "too noisy"
        outcome.p95_no_change += verdicts["p95"] == "no change"
        p95 = next(v for v in report.verdicts if v.test.metric == "p95")
        outcome.p95_significant += p95.p_adjusted is not None and p95.p_adjusted < 0.05
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comparisons", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=5000, help="requests per simulated run")
    parser.add_argument("--run-noise", type=float, default=0.02, help="sd of log run factor")
    parser.add_argument("--slowdown", type=float, default=1.3)
    parser.add_argument("--seed", type=int, default=20240506)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    began = time.perf_counter()
    print(
        f"{args.comparisons} comparisons per case; {args.requests} requests per run, log-normal "
        f"(median {MEDIAN_MS:g} ms, sigma {SIGMA}), run-to-run noise {args.run_noise:.0%}; "
        f"shifted candidates {args.slowdown - 1:+.0%}\n"
    )
    shift = f"{args.slowdown - 1:+.0%}"
    print(
        "| baseline vs candidate runs | A/A: any metric a regression (false positives) | "
        "A/A: p95 significant, adj. p < 0.05 | A/A: p95 no change | "
        f"{shift}: p95 regression (power) | {shift}: p95 too noisy |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    missed = []
    for label, baseline, candidate in CASES:
        common = {"baseline": baseline, "candidate": candidate, "comparisons": args.comparisons,
                  "requests": args.requests, "run_noise": args.run_noise}  # fmt: skip
        same = run_case(rng, slowdown=1.0, **common)
        slow = run_case(rng, slowdown=args.slowdown, **common)
        fp, power = same.rate(same.any_regression), slow.rate(slow.p95_regression)
        print(
            f"| {label} | {fp:.1%} | {same.rate(same.p95_significant):.1%} | "
            f"{same.rate(same.p95_no_change):.1%} | {power:.1%} | "
            f"{slow.rate(slow.p95_too_noisy):.1%} |"
        )
        if fp > 0.05:
            missed.append(f"{label}: false-positive rate {fp:.1%} > 5%")
        if label == "10 vs 3" and power < 0.9:
            missed.append(f"{label}: power {power:.1%} < 90%")
    print(f"\n{time.perf_counter() - began:.1f} s")
    for line in missed:
        print(f"GOAL MISSED: {line}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
