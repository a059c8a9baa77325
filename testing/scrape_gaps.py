"""The scrape-gap scenarios of issue 15 as promtool test cases, and what Prometheus' own
``rate()`` over a window says about them (exact fractions).

6h of traffic at 10,000 requests a minute (1 in 10,000 failing), then 10m, 40m or 3h
without a sample in which every request fails, then normal traffic. Used by
tests/integration/test_promtool.py (the long windows and tickets follow the raw ratios)
and benchmarks/scrape_gaps.py (the figures in docs/long-windows.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from perfdash import conventions
from perfdash.durations import Duration
from perfdash.model.fleet import SLO, Service
from perfdash.model.windows import is_derived, recorded_windows, window_facts
from perfdash.prometheus import promql
from perfdash.prometheus.rule_tests import Phase, input_series

GAP_RATE = Fraction(10_000)
GAP_BASELINE = Fraction(1, 10_000)
GAP_BEFORE_MINUTES = 360
GAP_AFTER_MINUTES = 10
GAP_MINUTES = (10, 40, 180)
REPRESENTATIVE_SLOS = (
    ("checkout", "availability"),  # events
    ("checkout", "latency"),  # latency from a histogram, with for: 2m
    ("search", "availability"),  # grouped by route
    ("ledger", "write-success"),  # raw PromQL
)


@dataclass(frozen=True)
class CounterSample:
    minute: int
    total: Fraction
    bad: Fraction


def gap_phases(gap: int) -> list[Phase]:
    return [
        Phase(GAP_BEFORE_MINUTES, GAP_RATE, GAP_BASELINE),
        Phase(gap, GAP_RATE, Fraction(1), scraped=False),
        Phase(GAP_AFTER_MINUTES, GAP_RATE, GAP_BASELINE),
    ]


def scraped_samples(phases: list[Phase]) -> list[CounterSample]:
    """The counters at every scraped minute (one sample a minute from 0, as promtool
    reads the input series)."""
    samples = [CounterSample(0, Fraction(0), Fraction(0))]
    minute, total, bad = 0, Fraction(0), Fraction(0)
    for phase in phases:
        for _ in range(phase.minutes):
            minute += 1
            total += phase.per_minute
            bad += phase.per_minute * phase.error_ratio
            if phase.scraped:
                samples.append(CounterSample(minute, total, bad))
    return samples


def raw_ratio(samples: list[CounterSample], at: int, window: Duration) -> Fraction | None:
    """bad/total as ``rate(...[window])`` at minute ``at`` sees them: the increase between
    the first and last sample of the closed range (extrapolation scales both alike)."""
    inside = [s for s in samples if at - window.seconds // 60 <= s.minute <= at]
    if len(inside) < 2 or inside[-1].total == inside[0].total:
        return None
    return (inside[-1].bad - inside[0].bad) / (inside[-1].total - inside[0].total)


def expected_firing(slo: SLO, samples: list[CounterSample], at: int) -> list[tuple[str, str]]:
    """(long, short) of every burn-rate alert the raw ratios say fires at ``at``: both over
    the threshold at every evaluation of its ``for:``. A tiled long window holds the
    samples up to one evaluation earlier (its tiles end INGESTION_DELAY back)."""
    for_minutes = math.ceil(slo.alerting.for_.seconds / 60) if slo.alerting.for_ else 0
    firing = []
    for facts in window_facts(slo):
        long, short = facts.window.long, facts.window.short
        lag = 1 if is_derived(long) else 0
        held = all(
            (ratio_long := raw_ratio(samples, minute - lag, long)) is not None
            and (ratio_short := raw_ratio(samples, minute, short)) is not None
            and ratio_long > facts.threshold
            and ratio_short > facts.threshold
            for minute in range(at - for_minutes, at + 1)
        )
        if held:
            firing.append((str(long), str(short)))
    return firing


def raw_ratio_expr(service: Service, slo: SLO, window: Duration) -> str:
    return (
        f"({promql.bad_rate(service, slo, window)})\n/\n({promql.total_rate(service, slo, window)})"
    )


def gap_scenario(service: Service, slo: SLO, gap: int) -> dict[str, Any]:
    phases = gap_phases(gap)
    samples = scraped_samples(phases)
    # A minute after the last sample the tiles hold it; a minute later the budget group,
    # which promtool may evaluate before the long-window group, has summed it too.
    at = samples[-1].minute + 2
    own = conventions.slo_selector(service.name, slo.name)
    checks = [
        {
            # Every group within 1% of Prometheus' own ratio over the window.
            "expr": (
                f"min(abs(\n{service.series(conventions.error_ratio_name(window))}{own}\n"
                f"/ {promql.on_clause(slo)}\n({raw_ratio_expr(service, slo, window)})\n- 1) "
                "< bool 0.01)"
            ),
            "eval_time": f"{at}m",
            "exp_samples": [{"labels": "{}", "value": 1}],
        }
        for window in recorded_windows(slo)
        if is_derived(window)
    ]
    selector = own[:-1] + ', alertname="ErrorBudgetBurn", alertstate="firing"}'
    checks.append(
        {
            "expr": f"max by (long, short) (ALERTS{selector})",
            "eval_time": f"{at}m",
            "exp_samples": [
                {"labels": f'{{long="{long}", short="{short}"}}', "value": 1}
                for long, short in expected_firing(slo, samples, at)
            ],
        }
    )
    return {
        "name": f"{gap}m scrape gap, every request in it failing",
        "interval": "1m",
        "input_series": input_series(service, slo, phases),
        "promql_expr_test": checks,
    }
