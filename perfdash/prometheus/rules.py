"""Prometheus recording and alerting rules for every SLO of the fleet.

Three rule groups per SLO; within a group rules run in order, so each reads the series
recorded just before it in the same evaluation:

``perfdash-<service>:<slo>``, at Prometheus' evaluation interval:
  the error ratio over every window up to 6h the policy needs (5m, 30m, 1h, 2h, 6h),
  read from the raw counters, so the fast pages detect as fast as the Workbook says;
  the current burn rate (1h); the alerts over those windows (the pages).

``perfdash-<service>:<slo>:long``, every ``spec.rules.long_window_interval`` (1m):
  the events of the last interval, total and bad (``slo:total_events:increase_tile``,
  ``slo:bad_events:increase_tile``): tiles that partition time, each counter increase
  in exactly one of them, including a jump across a scrape gap or a Prometheus outage
  of up to a day (``perfdash.model.windows.tile_ranges``); the ratio over the long alert
  windows (1d, 3d) as ``sum_over_time`` of the tiles, traffic-weighted and one series
  per SLO instead of raw series over days; metadata series (objective, budget, window,
  info) so dashboards need no constants; the alerts that need a long window (the
  tickets) and ``SLIDataMissing``.

``perfdash-<service>:<slo>:budget``, every 4 long-window intervals (4m): the ratio over
  the SLO window, summed from the same tiles, the SLI and the error budget remaining.
"""

from __future__ import annotations

from typing import Any

from perfdash import conventions
from perfdash.conventions import dashboard_uid
from perfdash.durations import Duration
from perfdash.model import templates as alert_text
from perfdash.model.fleet import SLO, Fleet, LatencySLI, Service
from perfdash.model.windows import (
    BASE_WINDOW,
    CURRENT_BURN_WINDOW,
    TileRanges,
    WindowFacts,
    budget_interval,
    is_derived,
    recorded_windows,
    tile_ranges,
    window_facts,
)
from perfdash.numbers import format_decimal, promql_number
from perfdash.prometheus import promql
from perfdash.yamlout import dump


def build_rule_files(fleet: Fleet) -> dict[str, str]:
    """``{relative path: YAML text}``: one rule file per service that declares SLOs."""
    files = {}
    for service in fleet.services:
        groups = service_groups(service)
        if groups:
            files[conventions.rule_file_path(service.name)] = rule_file(service, groups)
    return files


def service_groups(service: Service) -> list[dict[str, Any]]:
    """The rule groups of every SLO of ``service``, in declaration order."""
    return [group for slo in service.slos for group in build_groups(service, slo)]


def rule_file(service: Service, groups: list[dict[str, Any]]) -> str:
    """The rule file of ``service``: its ``groups`` under perfdash's header."""
    header = (
        f"{conventions.GENERATED_MARK} from {service.source}. Do not edit: change the "
        "declaration\nand run `perfdash build`."
    )
    return dump({"groups": groups}, header=header)


def build_groups(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """Three groups per SLO.

    The first runs at Prometheus' evaluation interval: ratios over windows up to 6h from
    raw counters, and the alerts that only need those (the pages). The second runs every
    minute (``spec.rules.long_window_interval``): the tiles (events of the interval), the
    1d and 3d windows summed from them, metadata, and the alerts that need a long window
    (the tickets). A tile per minute keeps ``sum_over_time`` over 30 days at 43,200
    samples a series whatever Prometheus' own interval, and tiles must follow each other
    exactly one interval apart, which only a group of their own guarantees. The third,
    every 4 minutes (``budget_interval``), sums the SLO window and records the SLI and
    the budget left: no alert reads them.
    """
    short, long = _split_alerts(service, slo)
    return [
        {
            "name": conventions.group_name(service.name, slo.name),
            "rules": [*short_window_rules(service, slo), *short],
        },
        {
            "name": conventions.long_group_name(service.name, slo.name),
            "interval": str(service.long_window_interval),
            "rules": [*long_window_rules(service, slo), *long],
        },
        {
            "name": conventions.budget_group_name(service.name, slo.name),
            "interval": str(budget_interval(service.long_window_interval)),
            "rules": budget_rules(service, slo),
        },
    ]


def series_labels(service: Service, slo: SLO) -> dict[str, str]:
    """Labels every recorded series of this SLO carries."""
    return {"service": service.name, "slo": slo.name, **dict(service.labels)}


def _recorder(service: Service, slo: SLO) -> Any:
    labels = series_labels(service, slo)

    def record(name: str, expr: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
        return {"record": name, "expr": expr, "labels": {**labels, **(extra or {})}}

    return record


def _zero_while_traffic(service: Service, slo: SLO) -> str:
    # Bad-event series appear only after the first error: while there is traffic, count
    # "none yet" as 0. No traffic at all in 5m stays absent (SLIDataMissing reads it).
    return f"{promql.on_clause(slo)} (0 * {promql.total_rate(service, slo, BASE_WINDOW)})"


def _zero_when_no_errors(service: Service, slo: SLO) -> str:
    own = conventions.slo_selector(service.name, slo.name)
    return f"{promql.on_clause(slo)} (0 * {service.series(conventions.TOTAL_TILE)}{own})"


def short_window_rules(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """Error ratios over the windows up to 6h, from raw counters, and the current burn."""
    record = _recorder(service, slo)
    own = conventions.slo_selector(service.name, slo.name)
    rules = []
    for window in recorded_windows(slo):
        if is_derived(window):
            continue
        total = promql.total_rate(service, slo, window)
        if isinstance(slo.sli, LatencySLI):
            # Bad over total, not 1 - good/total: at exactly a threshold the subtraction
            # after the division leaves float noise (0.06000000000000005 for 6x).
            expr = (
                f"(\n  {total}\n  -\n  {promql.good_latency_rate(service, slo, window)}\n)\n"
                f"/\n  {total}"
            )
        else:
            expr = (
                f"(\n  {promql.bad_rate(service, slo, window)}\n/\n  {total}\n)\n"
                f"or {_zero_while_traffic(service, slo)}"
            )
        rules.append(record(service.series(conventions.error_ratio_name(window)), expr))
    budget = format_decimal(slo.error_budget)
    rules.append(
        record(
            service.series(conventions.CURRENT_BURN),
            f"{service.series(conventions.error_ratio_name(CURRENT_BURN_WINDOW))}{own} / {budget}",
        )
    )
    return rules


def _difference(slo: SLO, current: str, previous: str, first: str) -> str:
    """``current - previous``, where ``previous`` counts as 0 for groups it lacks and
    ``first`` (``0 * ...``) has: a group seen for the first time keeps its first tile."""
    on = promql.on_clause(slo)
    return f"{current}\n- {on} (\n  {previous}\n  or {on} ({first})\n)"


def _total_tile(service: Service, slo: SLO, tiles: TileRanges) -> str:
    current = promql.total_increase(service, slo, tiles.current, tiles.delay)
    previous = promql.total_increase(service, slo, tiles.previous, tiles.previous_offset)
    first = promql.present_groups(service, slo, tiles.delay)
    return _difference(slo, current, previous, first)


def _bad_tile(service: Service, slo: SLO, tiles: TileRanges) -> str:
    own = conventions.slo_selector(service.name, slo.name)
    no_errors_yet = f"0 * {service.series(conventions.TOTAL_TILE)}{own}"
    if isinstance(slo.sli, LatencySLI):
        # bad = total - good, counted directly. A missing threshold bucket must leave
        # the long windows without a value, not at 0 errors: no fallback for good.
        good = _difference(
            slo,
            promql.good_latency_increase(service, slo, tiles.current, tiles.delay),
            promql.good_latency_increase(service, slo, tiles.previous, tiles.previous_offset),
            no_errors_yet,
        )
        indented = good.replace("\n", "\n  ")
        return f"{service.series(conventions.TOTAL_TILE)}{own}\n- {promql.on_clause(slo)} (\n  {indented}\n)"
    bad = _difference(
        slo,
        promql.bad_increase(service, slo, tiles.current, tiles.delay),
        promql.bad_increase(service, slo, tiles.previous, tiles.previous_offset),
        no_errors_yet,
    )
    indented = bad.replace("\n", "\n  ")
    return f"(\n  {indented}\n)\nor {_zero_when_no_errors(service, slo)}"


def _tiled_ratio(service: Service, slo: SLO, window: Duration) -> str:
    own = conventions.slo_selector(service.name, slo.name)
    tiles_in = promql.tiles_range(window)
    return (
        f"sum_over_time({service.series(conventions.BAD_TILE)}{own}[{tiles_in}])\n/\n"
        f"sum_over_time({service.series(conventions.TOTAL_TILE)}{own}[{tiles_in}])"
    )


def _alert_windows(slo: SLO) -> set[Duration]:
    return {w for pair in slo.alerting.enabled_windows() for w in (pair.long, pair.short)}


def long_window_rules(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """Tiles, the long alert windows summed from them, metadata."""
    record = _recorder(service, slo)
    tiles = tile_ranges(service.long_window_interval)
    rules = [
        record(service.series(conventions.TOTAL_TILE), _total_tile(service, slo, tiles)),
        record(service.series(conventions.BAD_TILE), _bad_tile(service, slo, tiles)),
    ]
    alerting = _alert_windows(slo)
    for window in recorded_windows(slo):
        if is_derived(window) and window in alerting:
            rules.append(
                record(
                    service.series(conventions.error_ratio_name(window)),
                    _tiled_ratio(service, slo, window),
                )
            )
    budget = format_decimal(slo.error_budget)
    rules += [
        record(
            service.series(conventions.OBJECTIVE), f"vector({format_decimal(slo.objective_ratio)})"
        ),
        record(service.series(conventions.ERROR_BUDGET), f"vector({budget})"),
        record(service.series(conventions.WINDOW_SECONDS), f"vector({slo.window.seconds})"),
        record(
            service.series(conventions.INFO),
            "vector(1)",
            {
                "team": service.team,
                "tier": str(service.tier),
                "objective": format_decimal(slo.objective),
                "window": str(slo.window),
                "runbook_url": alert_text.runbook_url(service, slo),
                "grouping": ",".join(slo.grouping),
                "dashboard_uid": dashboard_uid(service.name),
            },
        ),
    ]
    return rules


def budget_rules(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """The SLO-window ratio (unless an alert window already records it), SLI, budget."""
    record = _recorder(service, slo)
    own = conventions.slo_selector(service.name, slo.name)
    rules = []
    if is_derived(slo.window) and slo.window not in _alert_windows(slo):
        rules.append(
            record(
                service.series(conventions.error_ratio_name(slo.window)),
                _tiled_ratio(service, slo, slo.window),
            )
        )
    budget = format_decimal(slo.error_budget)
    window_ratio = f"{service.series(conventions.error_ratio_name(slo.window))}{own}"
    rules += [
        record(service.series(conventions.SLI_RATIO), f"1 - {window_ratio}"),
        record(service.series(conventions.BUDGET_REMAINING), f"1 - ({window_ratio} / {budget})"),
    ]
    return rules


def recording_rules(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """Every recording rule of the SLO, in its three groups."""
    return [
        *short_window_rules(service, slo),
        *long_window_rules(service, slo),
        *budget_rules(service, slo),
    ]


def _split_alerts(service: Service, slo: SLO) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(alerts over raw windows only, alerts that need a derived window or SLIDataMissing)."""
    short: list[dict[str, Any]] = []
    long: list[dict[str, Any]] = []
    base = alert_text.base_context(service, slo)  # once, not per alert
    for facts in window_facts(slo):
        derived = is_derived(facts.window.long) or is_derived(facts.window.short)
        (long if derived else short).append(burn_alert(service, slo, facts, base=base))
    if slo.alerting.missing_data:
        long.append(missing_data_alert(service, slo))
    return short, long


def alert_labels(service: Service, slo: SLO, severity: str) -> dict[str, str]:
    return {
        **dict(service.labels),
        **dict(slo.alerting.labels),
        "service": service.name,
        "slo": slo.name,
        "team": service.team,
        "severity": slo.alerting.severity_label(severity),
        "priority": service.priority,
    }


def burn_alert(
    service: Service, slo: SLO, facts: WindowFacts, *, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    own = conventions.slo_selector(service.name, slo.name)
    threshold = f"({promql_number(facts.factor)} * {format_decimal(slo.error_budget)})"
    long_ratio = f"{service.series(conventions.error_ratio_name(facts.window.long))}{own}"
    short_ratio = f"{service.series(conventions.error_ratio_name(facts.window.short))}{own}"
    rule: dict[str, Any] = {
        "alert": slo.alerting.name,
        "expr": f"{long_ratio} > {threshold}\nand\n{short_ratio} > {threshold}",
    }
    if slo.alerting.for_ is not None:
        rule["for"] = str(slo.alerting.for_)
    rule["labels"] = {
        **alert_labels(service, slo, facts.window.severity),
        "long": str(facts.window.long),
        "short": str(facts.window.short),
    }
    rule["annotations"] = alert_text.burn_annotations(service, slo, facts, base=base)
    return rule


def missing_data_alert(service: Service, slo: SLO) -> dict[str, Any]:
    own = conventions.slo_selector(service.name, slo.name)
    hint = ""
    if isinstance(slo.sli, LatencySLI):
        hint = (
            f", and that {format_decimal(slo.sli.threshold)} is a bucket boundary (le) of "
            f"{slo.sli.histogram}"
        )
    return {
        "alert": conventions.MISSING_DATA_ALERT,
        # The 5m ratio, raw: absent as soon as its series stop (a tile keeps counting a
        # gap for a day).
        "expr": f"absent({service.series(conventions.error_ratio_name(BASE_WINDOW))}{own})",
        "for": str(slo.alerting.missing_data_for),
        "labels": alert_labels(service, slo, "ticket"),
        "annotations": alert_text.missing_data_annotations(service, slo, hint=hint),
    }


def alerting_rules(service: Service, slo: SLO) -> list[dict[str, Any]]:
    """Every alerting rule of the SLO (in its first two groups)."""
    short, long = _split_alerts(service, slo)
    return [*short, *long]
