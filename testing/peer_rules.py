"""The rules Sloth and Pyrra would generate for the same SLOs, for cost comparisons.

Built from perfdash's model and its PromQL fragments (the same selectors, SLIs and
grouping), in the shape each tool generates, so that a benchmark compares rule shapes
and nothing else:

- Sloth (slok/sloth 0.11+, ``test/integration/prometheus/testdata/out-base.yaml.tpl``):
  three groups per SLO at Prometheus' evaluation interval; the error ratio over 5m, 30m,
  1h, 2h, 6h, 1d and 3d from raw counters, and over the SLO period as the average of the
  recorded 5m ratios (``sum_over_time / count_over_time``: not traffic-weighted); the
  metadata records; two alerts (page, ticket), each two window pairs or-ed.
- Pyrra (pyrra-dev/pyrra ``slo/rules.go``): a ``-increase`` group, every 2m30s for a
  28-35d window, with the raw ``increase`` of the counters over the whole SLO window;
  a group every 30s with the burn rates over windows scaled from 28 days (``Windows``:
  W/672, W/112, W/28, W/7 long, W/8064, W/1344, W/336, W/112 short, factors 14, 7, 2,
  1) and the four alerts.

Neither tool is installable here (no registry carries them); these are imitations of
their output, named as such in the benchmark's report.
"""

from __future__ import annotations

from typing import Any

from perfdash.durations import Duration
from perfdash.model.fleet import SLO, EventsSLI, Fleet, LatencySLI, Service, series_selector
from perfdash.model.windows import window_facts
from perfdash.numbers import format_decimal, promql_number
from perfdash.prometheus import promql
from perfdash.yamlout import dump

SLOTH_WINDOWS = tuple(Duration.parse(w) for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"))
PYRRA_FACTORS = (14, 7, 2, 1)
# Long and short window of each Pyrra alert as a fraction of the SLO window (rules.go).
PYRRA_DIVISORS = ((672, 8064), (112, 1344), (28, 336), (7, 112))


def _ratio(service: Service, slo: SLO, window: Duration) -> str:
    bad = promql.bad_rate(service, slo, window)
    return f"({bad})\n/\n({promql.total_rate(service, slo, window)})"


def _rules_file(groups: list[dict[str, Any]], tool: str) -> str:
    return dump({"groups": groups}, header=f"{tool} rule shapes (testing/peer_rules.py)")


# -- Sloth ----------------------------------------------------------------------------


def sloth_rule_files(fleet: Fleet) -> dict[str, str]:
    """``{file name: YAML}``: one file per service, Sloth's three groups per SLO."""
    return {
        f"{service.name}.yaml": _rules_file(
            [g for slo in service.slos for g in sloth_groups(service, slo)], "Sloth"
        )
        for service in fleet.services
        if service.slos
    }


def sloth_groups(service: Service, slo: SLO) -> list[dict[str, Any]]:
    sloth_id = f"{service.name}-{slo.name}"
    labels = {"sloth_id": sloth_id, "sloth_service": service.name, "sloth_slo": slo.name}
    own = "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"
    period = slo.window
    sli = [
        {
            "record": f"slo:sli_error:ratio_rate{window}",
            "expr": _ratio(service, slo, window),
            "labels": {**labels, "sloth_window": str(window)},
        }
        for window in SLOTH_WINDOWS
    ]
    sli.append(
        {
            "record": f"slo:sli_error:ratio_rate{period}",
            "expr": (
                f"sum_over_time(slo:sli_error:ratio_rate5m{own}[{period}])\n"
                "/ ignoring (sloth_window)\n"
                f"count_over_time(slo:sli_error:ratio_rate5m{own}[{period}])"
            ),
            "labels": {**labels, "sloth_window": str(period)},
        }
    )
    budget = format_decimal(slo.error_budget)
    on = "on (sloth_id, sloth_slo, sloth_service) group_left"
    meta = [
        {"record": "slo:objective:ratio", "expr": f"vector({slo.objective_ratio})"},
        {"record": "slo:error_budget:ratio", "expr": f"vector({budget})"},
        {"record": "slo:time_period:days", "expr": f"vector({period.seconds // 86400})"},
        {
            "record": "slo:current_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate5m{own}\n/ {on}\nslo:error_budget:ratio{own}",
        },
        {
            "record": "slo:period_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate{period}{own}\n/ {on}\nslo:error_budget:ratio{own}",
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "expr": f"1 - slo:period_burn_rate:ratio{own}",
        },
        {"record": "sloth_slo_info", "expr": "vector(1)"},
    ]
    for rule in meta:
        rule["labels"] = labels
    alerts = []
    facts = window_facts(slo)
    for severity in ("page", "ticket"):
        pairs = [f for f in facts if f.window.severity == severity]
        if not pairs:
            continue
        terms = []
        for f in pairs:
            threshold = f"({promql_number(f.factor)} * {budget})"
            terms.append(
                f"(\n  (slo:sli_error:ratio_rate{f.window.short}{own} > {threshold})\n"
                "  and ignoring (sloth_window)\n"
                f"  (slo:sli_error:ratio_rate{f.window.long}{own} > {threshold})\n)"
            )
        alerts.append(
            {
                "alert": "SlothErrorBudgetBurn",
                "expr": "\nor ignoring (sloth_window)\n".join(terms),
                "labels": {"sloth_id": sloth_id, "sloth_severity": severity},
            }
        )
    name = f"{service.name}-{slo.name}"
    groups = [
        {"name": f"sloth-slo-sli-recordings-{name}", "rules": sli},
        {"name": f"sloth-slo-meta-recordings-{name}", "rules": meta},
    ]
    if alerts:
        groups.append({"name": f"sloth-slo-alerts-{name}", "rules": alerts})
    return groups


# -- Pyrra ----------------------------------------------------------------------------


def pyrra_rule_files(fleet: Fleet) -> dict[str, str]:
    """``{file name: YAML}``: one file per service, Pyrra's two groups per SLO."""
    return {
        f"{service.name}.yaml": _rules_file(
            [g for slo in service.slos for g in pyrra_groups(service, slo)], "Pyrra"
        )
        for service in fleet.services
        if service.slos
    }


def pyrra_windows(window: Duration) -> list[tuple[Duration, Duration, int]]:
    """(long, short, factor) of Pyrra's four alerts for an SLO ``window``, rounded to the
    minute as Pyrra does."""
    minutes = window.seconds / 60
    return [
        (Duration(round(minutes / long) * 60), Duration(max(1, round(minutes / short)) * 60), f)
        for (long, short), f in zip(PYRRA_DIVISORS, PYRRA_FACTORS, strict=True)
    ]


def pyrra_increase_interval(window: Duration) -> str:
    """Pyrra's ``increaseInterval``: 30s under 7d, then 30s more per started week."""
    days = window.seconds / 86400
    for limit, interval in ((7, 30), (14, 60), (21, 90), (28, 120), (35, 150), (42, 180)):
        if days < limit:
            return f"{interval}s"
    return "240s"


def pyrra_metric(slo: SLO, name: str) -> str:
    """Pyrra names records after the SLI's metric (``http_requests:burnrate5m``)."""
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        return sli.total.removesuffix("_total")
    if isinstance(sli, LatencySLI):
        return sli.histogram
    return name.replace("-", "_")


def pyrra_groups(service: Service, slo: SLO) -> list[dict[str, Any]]:
    name = f"{service.name}-{slo.name}"
    metric = pyrra_metric(slo, name)
    labels = {"slo": name}
    window = slo.window
    sli = slo.sli
    grouping = promql.by_clause(slo)
    increases: list[dict[str, Any]] = []
    if isinstance(sli, EventsSLI):
        # One increase of the total metric, by the labels that tell errors apart.
        by = sorted({*slo.grouping, *(m.label for m in sli.bad)})
        total = series_selector(sli.total, (*service.selector, *sli.matchers))
        increases.append(
            {
                "record": f"{metric}:increase{window}",
                "expr": f"sum by ({', '.join(by)}) (increase({total}[{window}]))",
            }
        )
    elif isinstance(sli, LatencySLI):
        increases.append(
            {
                "record": f"{sli.histogram}:increase{window}",
                "expr": promql.total_increase(service, slo, window),
            }
        )
        increases.append(
            {
                "record": f"{sli.histogram}_bucket:increase{window}",
                "expr": promql.good_latency_increase(service, slo, window),
            }
        )
    else:
        for side, query in (("total", sli.total), ("errors", sli.bad)):
            increases.append(
                {
                    "record": f"{metric}_{side}:increase{window}",
                    "expr": f"{grouping}({promql.render_raw(query, window)} * {window.seconds})",
                }
            )
    for rule in increases:
        rule["labels"] = labels
    burnrates: set[Duration] = set()
    alerts = []
    target = format_decimal(slo.objective_ratio)
    for long, short, factor in pyrra_windows(window):
        burnrates.update((long, short))
        alerts.append(
            {
                "alert": "PyrraErrorBudgetBurn",
                "expr": (
                    f'{metric}:burnrate{short}{{slo="{name}"}} > ({factor} * (1-{target}))\n'
                    f'and {metric}:burnrate{long}{{slo="{name}"}} > ({factor} * (1-{target}))'
                ),
                "labels": {**labels, "long": str(long), "short": str(short)},
            }
        )
    records = [
        {
            "record": f"{metric}:burnrate{w}",
            "expr": _ratio(service, slo, w),
            "labels": labels,
        }
        for w in sorted(burnrates)
    ]
    return [
        {
            "name": f"pyrra-{name}-increase",
            "interval": pyrra_increase_interval(window),
            "rules": increases,
        },
        {"name": f"pyrra-{name}", "interval": "30s", "rules": [*records, *alerts]},
    ]
