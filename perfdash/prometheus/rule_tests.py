"""promtool unit tests generated for every SLO: proofs that the alerts behave.

For each SLO, synthetic traffic is fed through the real generated rule file:

- total outage: nothing fires before it; the fastest enabled alert pair fires within
  its detection time + ``for:`` + one evaluation (grouped SLOs: only the failing group);
- 5x burn (between the ticket and page factors): the tickets fire, no page ever;
- zero traffic after some traffic: nothing fires, and the SLO-window ratio is still
  the traffic-weighted ratio of the earlier traffic (no NaN poisoning);
- missing data: with no SLI series the ``SLIDataMissing`` alert fires after its ``for:``;
- scrape gap: errors made while nothing was scraped (15 minutes) count in every long
  window (1d, 3d, the SLO window), whose ratio is exactly the traffic-weighted one;
- slow burn (own file, 5m evaluation, 3 days): a burn at 90% of the slowest enabled
  factor fires nothing, and the ratio really sat just under that threshold.

Every "nothing fires" assertion is paired with one proving the synthetic series were
read, so a test cannot pass because it fed the rules nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any

from perfdash import conventions
from perfdash.durations import Duration, humanize_seconds
from perfdash.model.fleet import SLO, EventsSLI, Fleet, LatencySLI, Matcher, RawSLI, Service
from perfdash.model.windows import (
    BASE_WINDOW,
    WindowFacts,
    is_derived,
    recorded_windows,
    window_facts,
)
from perfdash.numbers import format_decimal, promql_number
from perfdash.prometheus import promql
from perfdash.prometheus.rules import alert_labels, series_labels
from perfdash.prometheus.synthetic import (
    Segment,
    counter_values,
    example_value,
    selectors_in,
    series_name,
)
from perfdash.yamlout import dump

REQUESTS_PER_MINUTE = 600  # 10 requests per second
HEALTHY_MINUTES = 180
SLOW_BURN_MINUTES = 3 * 24 * 60
SLOW_BURN_SHARE = Fraction(9, 10)
# The scrape-gap scenario: longer than a 5m rate reaches, short enough to stay cheap.
GAP_BEFORE_MINUTES = 20
GAP_MINUTES = 15
GAP_AFTER_MINUTES = 5
PREFERRED_BURN = Fraction(5)
TOLERANCE = "1e-9"


def build_rule_test_files(fleet: Fleet) -> dict[str, str]:
    files: dict[str, str] = {}
    for service in fleet.services:
        for slo in service.slos:
            files.update(build_slo_tests(service, slo))
    return files


def untestable_reason(service: Service, slo: SLO) -> str | None:
    """Why no test can be generated for this SLO, or None when one can."""
    try:
        _traffic_model(service, slo)
    except _Untestable as exc:
        return str(exc)
    return None


def build_slo_tests(service: Service, slo: SLO) -> dict[str, str]:
    try:
        model = _traffic_model(service, slo)
    except _Untestable:
        return {}
    main_path, slow_path = conventions.rule_test_paths(service.name, slo.name)
    header = (
        f"{conventions.GENERATED_MARK} from {service.source}: unit tests of the {slo.name} SLO's rules.\n"
        "Run with `perfdash test` (promtool test rules). Do not edit."
    )
    rule_file = "../../rules/" + conventions.rule_file_path(service.name).rsplit("/", 1)[1]
    scenarios = _Scenarios(service, slo, model)
    files = {}
    main_tests = [
        t
        for t in (
            scenarios.outage(),
            scenarios.ticket_burn(),
            scenarios.zero_traffic(),
            scenarios.no_errors_yet(),
            scenarios.missing_data(),
            scenarios.scrape_gap(),
        )
        if t
    ]
    files[main_path] = dump(
        {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": main_tests}, header=header
    )
    slow = scenarios.slow_burn()
    if slow:
        files[slow_path] = dump(
            {"rule_files": [rule_file], "evaluation_interval": "5m", "tests": [slow]}, header=header
        )
    return files


class _Untestable(Exception):
    pass


def input_series(service: Service, slo: SLO, phases: Sequence[Phase]) -> list[dict[str, str]]:
    """promtool input series of the SLO's SLI, every group following ``phases``: for
    scenarios written outside the generated tests (raises ValueError when
    ``untestable_reason`` has one)."""
    try:
        model = _traffic_model(service, slo)
    except _Untestable as exc:
        raise ValueError(str(exc)) from exc
    return _Scenarios(service, slo, model).series([phases])


@dataclass(frozen=True)
class Phase:
    """A stretch of synthetic traffic, one sample a minute (none in a scrape gap)."""

    minutes: int
    per_minute: Fraction  # requests per minute
    error_ratio: Fraction
    scraped: bool = True  # False: a scrape gap (the counters still count)


@dataclass(frozen=True)
class _TrafficModel:
    """How to write the input series of one SLO for a group's traffic phases."""

    kind: str
    good: tuple[tuple[str, dict[str, str]], ...]  # series counting good events
    bad: tuple[tuple[str, dict[str, str]], ...]  # series counting bad events
    total: tuple[tuple[str, dict[str, str]], ...]  # series counting all events
    groups: tuple[dict[str, str], ...]  # label values of each group ({} when ungrouped)


def _traffic_model(service: Service, slo: SLO) -> _TrafficModel:
    groups = _group_values(slo, service)
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        matchers = (*service.selector, *sli.matchers)
        base = _labels_for(matchers)
        bad = _labels_for((*matchers, *sli.bad), base)
        good = _failing(base, matchers, sli.bad)
        return _TrafficModel("events", ((sli.total, good),), ((sli.total, bad),), (), groups)
    if isinstance(sli, LatencySLI):
        matchers = (*service.selector, *sli.matchers)
        base = _labels_for(matchers)
        return _TrafficModel(
            "latency",
            ((sli.histogram + "_bucket", {**base, "le": "__threshold__"}),),
            (),
            (
                (sli.histogram + "_bucket", {**base, "le": "+Inf"}),
                (sli.histogram + "_count", base),
            ),
            groups,
        )
    assert isinstance(sli, RawSLI)
    return _raw_model(sli, groups)


def _raw_model(sli: RawSLI, groups: tuple[dict[str, str], ...]) -> _TrafficModel:
    try:
        bad_selectors = selectors_in(promql.render_raw(sli.bad, Duration(300)))
        total_selectors = selectors_in(promql.render_raw(sli.total, Duration(300)))
    except ValueError as exc:
        raise _Untestable(f"raw SLI selectors not understood: {exc}") from exc
    if len(bad_selectors) != 1 or len(total_selectors) != 1:
        raise _Untestable(
            "raw SLI reads several series per side; perfdash synthesizes input only for one "
            "counter selector per side"
        )
    bad_sel, total_sel = bad_selectors[0], total_selectors[0]
    if not bad_sel.metric or not total_sel.metric:
        raise _Untestable("raw SLI selectors need a metric name")
    if bad_sel.metric == total_sel.metric:
        base = _labels_for(total_sel.matchers)
        bad = _labels_for((*total_sel.matchers, *bad_sel.matchers), base)
        good = _failing(base, total_sel.matchers, bad_sel.matchers)
        return _TrafficModel(
            "raw", ((total_sel.metric, good),), ((total_sel.metric, bad),), (), groups
        )
    return _TrafficModel(
        "raw",
        (),
        ((bad_sel.metric, _labels_for(bad_sel.matchers)),),
        ((total_sel.metric, _labels_for(total_sel.matchers)),),
        groups,
    )


def _labels_for(matchers: Sequence[Matcher], base: dict[str, str] | None = None) -> dict[str, str]:
    labels = dict(base or {})
    by_label: dict[str, list[Matcher]] = {}
    for matcher in matchers:
        by_label.setdefault(matcher.label, []).append(matcher)
    for label, constraints in by_label.items():
        value = example_value(constraints)
        if value is None:
            raise _Untestable(f"no label value satisfies the matchers on {label!r}")
        labels[label] = value
    return {k: v for k, v in labels.items() if v != ""}


def _failing(
    base: dict[str, str], matchers: Sequence[Matcher], bad: Sequence[Matcher]
) -> dict[str, str]:
    """Labels of a good-event series: selected by ``matchers``, rejected by ``bad``."""
    labels = dict(base)
    for label in sorted({m.label for m in bad}):
        must = [m for m in matchers if m.label == label]
        value = example_value(must, [m for m in bad if m.label == label])
        if value is not None:
            labels[label] = value
            return {k: v for k, v in labels.items() if v != ""}
    raise _Untestable("no label value selects good events apart from bad ones")


def _group_values(slo: SLO, service: Service) -> tuple[dict[str, str], ...]:
    if not slo.grouping:
        return ({},)
    constraints = list(service.selector)
    if isinstance(slo.sli, EventsSLI | LatencySLI):
        constraints += list(slo.sli.matchers)
    groups: list[dict[str, str]] = [{}, {}]
    for label in slo.grouping:
        on_label = [m for m in constraints if m.label == label]
        first = example_value(on_label, avoid=("",))
        second = example_value(on_label, avoid=("", first or ""))
        if first is None:
            raise _Untestable(f"no value of grouping label {label!r} matches the selector")
        groups[0][label] = first
        groups[1][label] = second or first
    if groups[0] == groups[1]:
        return (groups[0],)
    return (groups[0], groups[1])


class _Scenarios:
    def __init__(self, service: Service, slo: SLO, model: _TrafficModel) -> None:
        self.service = service
        self.slo = slo
        self.model = model
        self.facts = window_facts(slo)
        self.budget = Fraction(slo.error_budget)
        self.own = {"service": service.name, "slo": slo.name}
        # Every scenario feeds the same series: their names are made once.
        self._names: dict[tuple[str, int, int, str], str] = {}

    # -- input series ---------------------------------------------------------------

    def series(
        self,
        phases_by_group: Sequence[Sequence[Phase]],
        *,
        threshold_form: str = "go",
        omit_bad: bool = False,
    ) -> list[dict[str, str]]:
        """Input series for each group's traffic phases (the remaining groups idle)."""
        out = []
        counters = _counter_values(tuple(tuple(phases) for phases in phases_by_group))
        for index, group in enumerate(self.model.groups):
            good, bad, total = counters[min(index, len(counters) - 1)]
            for metric, labels in self.model.good:
                out.append(self._one(metric, labels, group, good, threshold_form))
            for metric, labels in () if omit_bad else self.model.bad:
                out.append(self._one(metric, labels, group, bad, threshold_form))
            for metric, labels in self.model.total:
                out.append(self._one(metric, labels, group, total, threshold_form))
        return out

    def _one(
        self,
        metric: str,
        labels: dict[str, str],
        group: dict[str, str],
        values: str,
        threshold_form: str,
    ) -> dict[str, str]:
        # By identity: the labels and groups are the model's own dicts, alive as long as it.
        key = (metric, id(labels), id(group), threshold_form)
        name = self._names.get(key)
        if name is None:
            final = {**labels, **group}
            if final.get("le") == "__threshold__":
                final["le"] = self._le(threshold_form)
            name = self._names[key] = series_name(metric, final)
        return {"series": name, "values": values}

    def _le(self, form: str) -> str:
        """The bucket boundary as a Go client writes it (``1``) or Prometheus 3 (``1.0``)."""
        assert isinstance(self.slo.sli, LatencySLI)
        text = format_decimal(self.slo.sli.threshold)
        if form == "prom3" and "." not in text:
            text += ".0"
        return text

    # -- expected output ------------------------------------------------------------

    def alert_series(self, facts: WindowFacts, group: dict[str, str]) -> str:
        labels = {
            **series_labels(self.service, self.slo),
            **group,
            **alert_labels(self.service, self.slo, facts.window.severity),
            "long": str(facts.window.long),
            "short": str(facts.window.short),
            "alertname": self.slo.alerting.name,
            "alertstate": "firing",
        }
        return series_name("ALERTS", labels)

    def selector(self, **extra: str) -> str:
        labels = {**self.own, **extra}
        return "{" + ", ".join(f'{k}="{v}"' for k, v in labels.items()) + "}"

    def nothing_fired(self, minutes: int, **extra: str) -> dict[str, Any]:
        return {
            "expr": f"count_over_time(ALERTS{self.selector(alertstate='firing', **extra)}[{minutes}m])",
            "eval_time": f"{minutes}m",
            "exp_samples": [],
        }

    def ratio_is(self, metric: str, expected: Fraction, minutes: int) -> dict[str, Any]:
        """The recorded ``metric`` equals ``expected`` (relative tolerance) in every group."""
        value = promql_number(expected)
        return {
            "expr": f"abs({metric}{self.selector()} / {value} - 1) < bool {TOLERANCE}",
            "eval_time": f"{minutes}m",
            "exp_samples": [
                {
                    "labels": series_name("", {**series_labels(self.service, self.slo), **g}),
                    "value": 1,
                }
                for g in self.model.groups
            ],
        }

    # -- scenarios ------------------------------------------------------------------

    def outage(self) -> dict[str, Any] | None:
        if not self.facts:
            return None
        fastest = min(self.facts, key=lambda f: f.detection_seconds)
        for_seconds = self.slo.alerting.for_.seconds if self.slo.alerting.for_ else 0
        bound = math.ceil((fastest.detection_seconds + for_seconds) / 60) + 1
        rate = Fraction(REQUESTS_PER_MINUTE)
        # After the outage, healthy traffic until the short window has forgotten it.
        recovery = math.ceil(fastest.window.short.seconds / 60) + 5
        failing = [
            Phase(HEALTHY_MINUTES, rate, Fraction(0)),
            Phase(bound + 1, rate, Fraction(1)),
            Phase(recovery, rate, Fraction(0)),
        ]
        healthy = [Phase(HEALTHY_MINUTES + bound + 1 + recovery, rate, Fraction(0))]
        first_group = self.model.groups[0]
        fire_at = HEALTHY_MINUTES + bound
        resolved_at = HEALTHY_MINUTES + bound + 1 + recovery
        fast_pair = {"long": str(fastest.window.long), "short": str(fastest.window.short)}
        checks: list[dict[str, Any]] = [
            self.nothing_fired(HEALTHY_MINUTES),
            {
                "expr": "ALERTS"
                + self.selector(
                    alertstate="firing",
                    long=str(fastest.window.long),
                    short=str(fastest.window.short),
                    **first_group,
                ),
                "eval_time": f"{fire_at}m",
                "exp_samples": [{"labels": self.alert_series(fastest, first_group), "value": 1}],
            },
        ]
        for other in self.model.groups[1:]:
            checks.append(
                {
                    "expr": "ALERTS" + self.selector(alertstate="firing", **other),
                    "eval_time": f"{fire_at}m",
                    "exp_samples": [],
                }
            )
        # The short window is what lets a page resolve soon after the errors stop: the
        # long window alone would keep it firing for most of an hour.
        checks.append(
            {
                "expr": "ALERTS" + self.selector(alertstate="firing", **fast_pair, **first_group),
                "eval_time": f"{resolved_at}m",
                "exp_samples": [],
            }
        )
        detection = _seconds_text(fastest.detection_seconds)
        return {
            "name": (
                f"total outage: nothing fires before it, the {fastest.window.severity} alert "
                f"{fastest.window.long}/{fastest.window.short} fires within {bound}m "
                f"(detection {detection} + for + one evaluation) and resolves {recovery}m "
                "after the errors stop"
            ),
            "interval": "1m",
            "input_series": self.series([failing, healthy]),
            "promql_expr_test": checks,
        }

    def ticket_burn(self) -> dict[str, Any] | None:
        pages = [f for f in self.facts if f.window.severity == "page"]
        tickets = [f for f in self.facts if f.window.severity == "ticket"]
        if not pages or not tickets:
            return None
        lowest_page = min(f.factor for f in pages)
        lowest_ticket = min(f.factor for f in tickets)
        if lowest_ticket >= lowest_page:
            return None
        burn = (
            PREFERRED_BURN
            if lowest_ticket < PREFERRED_BURN < lowest_page
            else (lowest_ticket + lowest_page) / 2
        )
        ratio = burn * self.budget
        if ratio >= 1:
            return None
        for_minutes = (
            math.ceil(self.slo.alerting.for_.seconds / 60) if self.slo.alerting.for_ else 0
        )
        minutes = 60 + for_minutes + 1
        rate = Fraction(REQUESTS_PER_MINUTE)
        burning = [Phase(minutes, rate, ratio)]
        healthy = [Phase(minutes, rate, Fraction(0))]
        first_group = self.model.groups[0]
        firing = [f for f in tickets if f.factor < burn]
        return {
            "name": f"{format_decimal(_as_decimal(burn))}x burn: tickets fire, no page ever",
            "interval": "1m",
            "input_series": self.series([burning, healthy], threshold_form="prom3"),
            "promql_expr_test": [
                {
                    "expr": "ALERTS"
                    + self.selector(
                        alertstate="firing", severity=self.slo.alerting.severity_label("ticket")
                    ),
                    "eval_time": f"{minutes}m",
                    "exp_samples": [
                        {"labels": self.alert_series(f, first_group), "value": 1} for f in firing
                    ],
                },
                self.nothing_fired(minutes, severity=self.slo.alerting.severity_label("page")),
            ],
        }

    def zero_traffic(self) -> dict[str, Any]:
        lowest = min((f.factor for f in self.facts), default=Fraction(1))
        error_ratio = lowest * self.budget / 2
        rate = Fraction(REQUESTS_PER_MINUTE)
        phases = [
            Phase(60, rate, error_ratio),
            Phase(60, rate / 10, Fraction(0)),
            Phase(120, Fraction(0), Fraction(0)),
        ]
        minutes = sum(p.minutes for p in phases)
        # Traffic-weighted: errors of the first hour over all requests of both hours.
        expected = error_ratio * 60 * rate / (60 * rate + 60 * rate / 10)
        return {
            "name": "zero traffic fires nothing and leaves the SLO-window ratio traffic-weighted",
            "interval": "1m",
            "input_series": self.series([phases], threshold_form="prom3"),
            "promql_expr_test": [
                self.nothing_fired(minutes),
                self.ratio_is(
                    self.service.series(conventions.error_ratio_name(self.slo.window)),
                    expected,
                    minutes,
                ),
                self.ratio_is(
                    self.service.series(conventions.BUDGET_REMAINING),
                    1 - expected / self.budget,
                    minutes,
                ),
            ],
        }

    def missing_data(self) -> dict[str, Any] | None:
        if not self.slo.alerting.missing_data:
            return None
        minutes = math.ceil(self.slo.alerting.missing_data_for.seconds / 60) + 2
        if isinstance(self.slo.sli, LatencySLI):
            # The histogram is there but the threshold is not one of its buckets.
            rate = Fraction(REQUESTS_PER_MINUTE)
            series = [
                s
                for s in self.series([[Phase(minutes, rate, Fraction(0))]])
                if 'le="' + self._le("go") + '"' not in s["series"]
            ]
            name = "latency threshold that is not a bucket boundary: SLIDataMissing fires"
        else:
            series = [{"series": 'up{job="perfdash-unrelated"}', "values": f"1x{minutes}"}]
            name = "no SLI series at all: SLIDataMissing fires"
        labels = {
            **alert_labels(self.service, self.slo, "ticket"),
            "alertname": conventions.MISSING_DATA_ALERT,
            "alertstate": "firing",
        }
        return {
            "name": name,
            "interval": "1m",
            "input_series": series,
            "promql_expr_test": [
                {
                    "expr": "ALERTS"
                    + self.selector(alertname=conventions.MISSING_DATA_ALERT, alertstate="firing"),
                    "eval_time": f"{minutes}m",
                    "exp_samples": [{"labels": series_name("ALERTS", labels), "value": 1}],
                }
            ],
        }

    def no_errors_yet(self) -> dict[str, Any]:
        """Bad-event series only appear with the first error: until then the SLO reads 0
        and SLIDataMissing stays quiet (the rules' zero fallback)."""
        minutes = math.ceil(self.slo.alerting.missing_data_for.seconds / 60) + 5
        phases = [Phase(minutes, Fraction(REQUESTS_PER_MINUTE), Fraction(0))]
        ratio = f"{self.service.series(conventions.error_ratio_name(BASE_WINDOW))}{self.selector()}"
        return {
            "name": "traffic without a single error yet: the error ratio is 0 and nothing fires",
            "interval": "1m",
            "input_series": self.series([phases], omit_bad=True),
            "promql_expr_test": [
                self.nothing_fired(minutes),
                {
                    "expr": f"{ratio} == bool 0",
                    "eval_time": f"{minutes}m",
                    "exp_samples": [
                        {
                            "labels": series_name(
                                "", {**series_labels(self.service, self.slo), **g}
                            ),
                            "value": 1,
                        }
                        for g in self.model.groups
                    ],
                },
            ],
        }

    def scrape_gap(self) -> dict[str, Any] | None:
        """A gap of GAP_MINUTES without a sample, every request in it failing: each long
        window counts the counters' jump across it (a sum of 5m rates would not), so its
        ratio is exactly the traffic-weighted one of all the scenario's requests."""
        derived = [w for w in recorded_windows(self.slo) if is_derived(w)]
        if not derived:
            return None
        rate = Fraction(REQUESTS_PER_MINUTE)
        phases = [
            Phase(GAP_BEFORE_MINUTES, rate, Fraction(0)),
            Phase(GAP_MINUTES, rate, Fraction(1), scraped=False),
            Phase(GAP_AFTER_MINUTES, rate, Fraction(0)),
        ]
        end = sum(p.minutes for p in phases)
        expected = Fraction(GAP_MINUTES, end)
        # The tiles end INGESTION_DELAY before their evaluation, so the one a minute after
        # the last sample holds it; and a minute later the budget group, which promtool
        # may evaluate before the long-window group at the same instant, sums it too.
        at = end + 2
        return {
            "name": (
                f"every request failing during a {GAP_MINUTES}m scrape gap counts in the "
                f"{', '.join(str(w) for w in derived)} ratios"
            ),
            "interval": "1m",
            "input_series": self.series([phases]),
            "promql_expr_test": [
                self.ratio_is(self.service.series(conventions.error_ratio_name(w)), expected, at)
                for w in derived
            ],
        }

    def slow_burn(self) -> dict[str, Any] | None:
        if not self.facts:
            return None
        slowest = min(self.facts, key=lambda f: f.factor)
        ratio = SLOW_BURN_SHARE * slowest.threshold
        rate = Fraction(REQUESTS_PER_MINUTE)
        phases = [Phase(SLOW_BURN_MINUTES, rate, ratio)]
        long_ratio = self.service.series(conventions.error_ratio_name(slowest.window.long))
        return {
            "name": (
                f"burn at 90% of the slowest factor ({format_decimal(_as_decimal(slowest.factor, 4))}x "
                f"over {slowest.window.long}/{slowest.window.short}) for 3 days fires nothing"
            ),
            "interval": "1m",
            "input_series": self.series([phases]),
            "promql_expr_test": [
                self.nothing_fired(SLOW_BURN_MINUTES),
                self.ratio_is(long_ratio, ratio, SLOW_BURN_MINUTES),
            ],
        }


@lru_cache(maxsize=1024)
def _counter_values(
    phases_by_group: tuple[tuple[Phase, ...], ...],
) -> tuple[tuple[str, str, str], ...]:
    """promtool values of the good, bad and total event counters of each group's phases.

    Cached: SLOs with the same objective and policy get the same traffic, and the
    Fraction arithmetic is a visible part of a large fleet's build.
    """
    scale = _integer_scale([p for phases in phases_by_group for p in phases])
    counters = []
    for phases in phases_by_group:
        good, bad, total = [], [], []
        for phase in phases:
            # Whole numbers by the choice of scale: int() is exact.
            all_events = scale * phase.per_minute
            bad_events = all_events * phase.error_ratio
            good.append(Segment(phase.minutes, int(all_events - bad_events), phase.scraped))
            bad.append(Segment(phase.minutes, int(bad_events), phase.scraped))
            total.append(Segment(phase.minutes, int(all_events), phase.scraped))
        counters.append((counter_values(good), counter_values(bad), counter_values(total)))
    return tuple(counters)


def _integer_scale(phases: Sequence[Phase]) -> int:
    """Smallest factor making every per-minute count an integer.

    Counters in whole numbers keep promtool's repeated float additions exact: a
    segment ending at 17.999999999999996 followed by one starting at 18 would read as
    a counter reset and corrupt every rate after it. Ratios do not change with scale.
    """
    scale = 1
    for phase in phases:
        for value in (phase.per_minute * phase.error_ratio, phase.per_minute):
            scale = math.lcm(scale, value.denominator)
    return scale


def _as_decimal(value: Fraction, digits: int = 6) -> Decimal:
    return round(Decimal(value.numerator) / Decimal(value.denominator), digits)


def _seconds_text(seconds: float) -> str:
    return humanize_seconds(seconds)
