"""OpenSLO v1 (``apiVersion: openslo/v1``): Service, SLO, SLI (inline or referenced
by ``indicatorRef``), DataSource (type Prometheus only).

A ``ratioMetric`` of counters becomes an ``events`` SLI when good or bad is the total's
selector with one more matcher, else a ``raw`` SLI over each window's rate; gauges
(``counter: false``) and precomputed ratios (``raw`` with ``rawType``) are averaged over
each window. A ``thresholdMetric`` maps where it reads a classic histogram with a
``lt``/``lte`` objective: a ``latency`` SLI. Several objectives of one ratio SLO become
one perfdash SLO each. Refused, each at its field: calendar-aligned and month, quarter or
year windows, Timeslices budgeting, other data sources, threshold metrics that are not
histograms.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import promql_parser

from perfdash.durations import Duration
from perfdash.model.fleet import Matcher
from perfdash.spec.document import Document, PathKey
from perfdash.spec.importers import queries
from perfdash.spec.importers.draft import (
    EventsCandidate,
    LatencyCandidate,
    Origin,
    RawCandidate,
    Series,
    ServiceDraft,
    SLICandidate,
    SLODraft,
)
from perfdash.spec.importers.translation import Translation, slug, split_labels, tier_from

NAME = "openslo"
TITLE = "OpenSLO"
EXPECTED = "`apiVersion: openslo/v1` (Service, SLO, SLI, DataSource)"
_SHORTHAND = re.compile(r"^([0-9]+)([mhdwMQY])$")
_UNITS = {"m": "m", "h": "h", "d": "d", "w": "w"}
_PROMETHEUS = "prometheus"
_IGNORED_KINDS = ("AlertPolicy", "AlertCondition", "AlertNotificationTarget")
WINDOW = "[{{ window }}]"


def detect(document: Document) -> bool:
    data = document.data
    return isinstance(data, dict) and data.get("apiVersion") == "openslo/v1"


def translate(documents: list[Document], t: Translation) -> list[ServiceDraft]:
    by_kind: dict[str, dict[str, Document]] = {}
    for document in documents:
        kind = t.string(document, ("kind",), required=True) or ""
        name = t.string(document, ("metadata", "name"), required=True) or ""
        by_kind.setdefault(kind, {})[name] = document
    services: dict[str, ServiceDraft] = {}
    for name, document in by_kind.get("Service", {}).items():
        services[slug(name)] = _service(name, document, t)
    for document in by_kind.get("SLO", {}).values():
        _slo(document, by_kind, services, t)
    for kind in by_kind:
        if kind not in ("Service", "SLO", "SLI", "DataSource", *_IGNORED_KINDS):
            for document in by_kind[kind].values():
                t.problem(document, ("kind",), f"unknown OpenSLO v1 kind {kind!r}")
    return [s for s in services.values() if s.slos]


def _labels(document: Document, t: Translation) -> dict[str, str]:
    """metadata.labels: OpenSLO allows a list of strings as a value; those are skipped."""
    found = {}
    for key, value in t.mapping(document, ("metadata", "labels")).items():
        if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
            found[str(key)] = str(value)
    return found


def _service(name: str, document: Document, t: Translation) -> ServiceDraft:
    labels = _labels(document, t)
    service = ServiceDraft(
        name=slug(name),
        origin=Origin.of(document, ("metadata", "name")),
        source_format="OpenSLO v1",
        team=slug(labels.get("team", "")),
        tier=tier_from(labels.get("serviceTier") or labels.get("tier")),
        description=t.string(document, ("spec", "description"))
        or t.string(document, ("metadata", "displayName"))
        or "",
        sources=[document.file],
    )
    service.labels, _ = split_labels({k: v for k, v in labels.items() if _plain_label(k)})
    return service


def _plain_label(name: str) -> bool:
    return name not in ("team", "serviceTier", "tier") and "." not in name and "/" not in name


def _slo(
    document: Document,
    by_kind: dict[str, dict[str, Document]],
    services: dict[str, ServiceDraft],
    t: Translation,
) -> None:
    raw_name = t.string(document, ("metadata", "name"), required=True)
    service_name = t.string(document, ("spec", "service"), required=True)
    if raw_name is None or service_name is None:
        return
    service = services.get(slug(service_name))
    if service is None:
        service = ServiceDraft(
            name=slug(service_name),
            origin=Origin.of(document, ("spec", "service")),
            source_format="OpenSLO v1",
            sources=[document.file],
        )
        services[service.name] = service
    elif document.file not in service.sources:
        service.sources.append(document.file)
    labels = _labels(document, t)
    service.team = service.team or slug(labels.get("team", ""))
    service.tier = service.tier or tier_from(labels.get("serviceTier") or labels.get("tier"))
    window = _window(document, t)
    budgeting = t.string(document, ("spec", "budgetingMethod"), required=True)
    if budgeting is not None and budgeting != "Occurrences":
        t.problem(
            document,
            ("spec", "budgetingMethod"),
            f"{budgeting!r} cannot map: perfdash counts events (Occurrences), not time slices",
        )
    indicator = _indicator(document, by_kind, t)
    objectives = t.sequence(document, ("spec", "objectives"), required=True)
    if not objectives:
        t.problem(document, ("spec", "objectives"), "must list at least one objective")
    if indicator is None:
        return
    sli_document, sli_path = indicator
    description = (
        t.string(document, ("spec", "description"))
        or t.string(document, ("metadata", "displayName"))
        or ""
    )
    if t.sequence(document, ("spec", "alertPolicies")):
        t.change(
            service.name,
            slug(raw_name),
            "alertPolicies not imported: perfdash alerts with the SRE Workbook's four window "
            "pairs (declare alerting.windows to change them)",
        )
    for index, _ in enumerate(objectives):
        path: PathKey = ("spec", "objectives", index)
        candidate = _sli_for(sli_document, sli_path, document, path, t)
        objective = _target(document, path, t)
        if candidate is None or objective is None or window is None:
            continue
        if budgeting != "Occurrences":
            continue
        name = slug(raw_name)
        if len(objectives) > 1:
            label = t.string(document, (*path, "displayName")) or str(index + 1)
            name = slug(f"{raw_name}-{label}")
        slo = SLODraft(
            name=name,
            origin=Origin.of(document, ("metadata", "name")),
            objective=objective,
            window=window,
            sli=candidate,
            sli_origin=Origin.of(sli_document, sli_path),
            description=description,
        )
        slo.origins[("objective",)] = Origin.of(document, path)
        slo.origins[("window",)] = Origin.of(document, ("spec", "timeWindow"))
        if name != raw_name:
            slo.comment(
                (),
                f'OpenSLO SLO "{raw_name}"'
                + (f", objective {index + 1}" if len(objectives) > 1 else ""),
            )
        for note in _semantics(t.mapping(sli_document, sli_path)):
            t.change(service.name, name, note)
        service.slos.append(slo)


def _semantics(spec: dict[str, Any]) -> list[str]:
    """How perfdash reads this kind of OpenSLO indicator, where it is not just events."""
    if "thresholdMetric" in spec:
        return [
            "thresholdMetric read as a latency SLI: the share of requests at or under the "
            "threshold (OpenSLO's Occurrences of a threshold metric count data points)"
        ]
    ratio = spec.get("ratioMetric")
    if not isinstance(ratio, dict):
        return []
    if "raw" in ratio:
        return [
            "ratioMetric.raw: the precomputed ratio averaged over each window, not weighted "
            "by traffic"
        ]
    if ratio.get("counter") is False:
        return ["ratioMetric of gauges (counter: false): each side averaged over each window"]
    return []


def _window(document: Document, t: Translation) -> str | None:
    windows = t.sequence(document, ("spec", "timeWindow"))
    if not windows:
        return "30d"
    if len(windows) != 1:
        t.problem(document, ("spec", "timeWindow"), "must hold exactly one time window")
        return None
    path: PathKey = ("spec", "timeWindow", 0)
    if (
        t.get(document, (*path, "calendar")) is not None
        or t.boolean(document, (*path, "isRolling")) is False
    ):
        t.problem(
            document,
            (*path, "calendar")
            if t.get(document, (*path, "calendar")) is not None
            else (*path, "isRolling"),
            "calendar-aligned windows cannot map: perfdash SLO windows are rolling "
            "(isRolling: true)",
        )
        return None
    text = t.string(document, (*path, "duration"), required=True)
    if text is None:
        return None
    match = _SHORTHAND.match(text)
    if match is None:
        t.problem(
            document, (*path, "duration"), f"{text!r} is not an OpenSLO duration (e.g. 28d, 4w)"
        )
        return None
    count, unit = match.groups()
    if unit not in _UNITS:
        t.problem(
            document,
            (*path, "duration"),
            f"{text!r}: months, quarters and years have no fixed length; give the rolling "
            "window in days or weeks (e.g. 30d, 4w)",
        )
        return None
    return str(Duration.parse(count + _UNITS[unit]))


def _target(document: Document, path: PathKey, t: Translation) -> Decimal | None:
    if t.get(document, (*path, "targetPercent")) is not None:
        return t.number(document, (*path, "targetPercent"))
    target = t.number(document, (*path, "target"))
    if target is None:
        t.problem(document, path, "needs target or targetPercent")
        return None
    return target * 100


def _indicator(
    document: Document, by_kind: dict[str, dict[str, Document]], t: Translation
) -> tuple[Document, PathKey] | None:
    """The SLI's document and the path of its ``spec`` in it."""
    if t.get(document, ("spec", "indicator")) is not None:
        return document, ("spec", "indicator", "spec")
    ref = t.string(document, ("spec", "indicatorRef"))
    if ref is None:
        t.problem(document, ("spec",), "needs indicator or indicatorRef")
        return None
    sli = by_kind.get("SLI", {}).get(ref)
    if sli is None:
        t.problem(
            document,
            ("spec", "indicatorRef"),
            f"no SLI named {ref!r} in the imported files: import its file too",
        )
        return None
    return sli, ("spec",)


def _sli_for(
    sli: Document, path: PathKey, slo: Document, objective: PathKey, t: Translation
) -> SLICandidate | None:
    spec = t.mapping(sli, path, required=True)
    if "ratioMetric" in spec:
        return _ratio(sli, (*path, "ratioMetric"), t)
    if "thresholdMetric" in spec:
        return _threshold(sli, (*path, "thresholdMetric"), slo, objective, t)
    t.problem(sli, path, "needs ratioMetric or thresholdMetric")
    return None


def _query(document: Document, path: PathKey, t: Translation, by_kind: Any = None) -> Any:
    """The parsed PromQL of a ``metricSource`` (path: the object holding ``metricSource``)."""
    source: PathKey = (*path, "metricSource")
    kind = t.string(document, (*source, "type"))
    if kind is not None and kind.lower() != _PROMETHEUS:
        t.problem(
            document,
            (*source, "type"),
            f"data source type {kind!r} cannot map: perfdash reads Prometheus only",
        )
        return None
    query = t.string(document, (*source, "spec", "query")) or t.string(
        document, (*source, "spec", "promql")
    )
    if query is None:
        t.problem(document, (*source, "spec"), "needs a PromQL query (spec.query)")
        return None
    try:
        return queries.parse(query)
    except queries.QueryError as exc:
        t.problem(document, (*source, "spec", "query"), str(exc))
        return None


def _over_window(expr: Any, function: str) -> str | None:
    """``function(SEL[{{ window }}])``, moved inside ``sum``/``sum by`` when the query
    aggregates a selector; None for other shapes."""
    series = queries.series_of(expr)
    if series is not None:
        return f"{function}({queries.selector_text(series)}{WINDOW})"
    inner = expr
    while isinstance(inner, promql_parser.ParenExpr):
        inner = inner.expr
    if isinstance(inner, promql_parser.AggregateExpr) and str(inner.op) == "sum":
        series = queries.series_of(inner.expr)
        if series is None:
            return None
        prefix = "sum"
        if inner.modifier is not None:
            if inner.modifier.type != promql_parser.AggModifierType.By:
                return None
            prefix = queries.by_prefix(tuple(inner.modifier.labels))
        return f"{prefix}({function}({queries.selector_text(series)}{WINDOW}))"
    return None


def _plain(expr: Any) -> Series | None:
    """A selector, or ``sum(selector)`` (no by): the series it reads."""
    series = queries.series_of(expr)
    if series is not None:
        return series
    inner = expr
    while isinstance(inner, promql_parser.ParenExpr):
        inner = inner.expr
    if (
        isinstance(inner, promql_parser.AggregateExpr)
        and str(inner.op) == "sum"
        and inner.modifier is None
    ):
        return queries.series_of(inner.expr)
    return None


def _ratio(document: Document, path: PathKey, t: Translation) -> SLICandidate | None:
    metric = t.mapping(document, path)
    if "raw" in metric:
        return _precomputed(document, path, t)
    counter = t.boolean(document, (*path, "counter"))
    function = "rate" if counter is not False else "avg_over_time"
    sides = [side for side in ("good", "bad") if side in metric]
    if len(sides) != 1 or "total" not in metric:
        t.problem(document, path, "needs total and exactly one of good, bad (or raw)")
        return None
    (side,) = sides
    numerator = _query(document, (*path, side), t)
    total = _query(document, (*path, "total"), t)
    if numerator is None or total is None:
        return None
    if counter is not False:
        events = _events(numerator, total, side)
        if events is not None:
            return events
    parts = {}
    for name, expr in ((side, numerator), ("total", total)):
        text = _over_window(expr, function)
        if text is None:
            t.problem(
                document,
                (*path, name, "metricSource", "spec", "query"),
                f"cannot take {function}() of this query over each window: give a metric "
                "selector, or sum(...) of one",
            )
            return None
        parts[name] = text
    if side == "bad":
        return RawCandidate(bad=parts["bad"], total=parts["total"])
    return RawCandidate(
        bad=f"{_summed(parts['total'])}\n-\n{_summed(parts['good'])}", total=parts["total"]
    )


def _summed(text: str) -> str:
    return text if text.startswith("sum") else f"sum({text})"


def _events(numerator: Any, total: Any, side: str) -> EventsCandidate | None:
    total_series, numerator_series = _plain(total), _plain(numerator)
    if total_series is None or numerator_series is None:
        return None
    extra = queries.extra_matchers(total_series, numerator_series)
    if not extra:
        return None
    if side == "bad":
        return EventsCandidate(total_series, extra)
    if len(extra) == 1:
        return EventsCandidate(total_series, (queries.negated(extra[0]),))
    return None


def _precomputed(document: Document, path: PathKey, t: Translation) -> SLICandidate | None:
    raw_type = t.string(document, (*path, "rawType"), required=True)
    if raw_type not in ("success", "failure"):
        if raw_type is not None:
            t.problem(document, (*path, "rawType"), f"must be success or failure, got {raw_type!r}")
        return None
    expr = _query(document, (*path, "raw"), t)
    if expr is None:
        return None
    ratio = _over_window(expr, "avg_over_time")
    if ratio is None:
        t.problem(
            document,
            (*path, "raw", "metricSource", "spec", "query"),
            "cannot average this query over each window: give a metric selector, or sum(...) of one",
        )
        return None
    bad = ratio if raw_type == "failure" else f"1 - {ratio}"
    return RawCandidate(bad=bad, total=f"0 * {ratio} + 1")


def _threshold(
    sli: Document, path: PathKey, slo: Document, objective: PathKey, t: Translation
) -> SLICandidate | None:
    expr = _query(sli, path, t)
    if expr is None:
        return None
    buckets = {s for s in _selectors(expr) if s.metric.endswith("_bucket")}
    if len(buckets) != 1:
        t.problem(
            sli,
            path,
            "a threshold metric maps only when it reads one classic histogram (X_bucket, or "
            "histogram_quantile over it): perfdash counts requests under the threshold",
        )
        return None
    (bucket,) = buckets
    op = t.string(slo, (*objective, "op"))
    value = t.number(slo, (*objective, "value"))
    if op not in ("lt", "lte") or value is None or value <= 0:
        t.problem(
            slo,
            (*objective, "op"),
            "a latency threshold maps with op lt or lte and a positive value (seconds)",
        )
        return None
    matchers: tuple[Matcher, ...] = bucket.without("le")
    return LatencyCandidate(bucket.metric.removesuffix("_bucket"), value, matchers)


def _selectors(expr: Any) -> Iterator[Series]:
    """Every plain selector in ``expr``."""
    if isinstance(expr, promql_parser.VectorSelector):
        series = queries.series_of(expr)
        if series is not None:
            yield series
        return
    for attribute in ("expr", "lhs", "rhs", "vector_selector"):
        child = getattr(expr, attribute, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from _selectors(child)
    for argument in getattr(expr, "args", None) or ():
        yield from _selectors(argument)
