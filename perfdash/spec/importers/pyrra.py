"""Pyrra: ``pyrra.dev/v1alpha1`` ServiceLevelObjective (Pyrra's
``kubernetes/api/v1alpha1``), one SLO per document.

Pyrra has no services: SLOs are grouped by ``--service``, else by the ``job`` their
total metric selects, else each is its own service. ``ratio`` over one counter becomes
an ``events`` SLI; ``latency`` over ``X_bucket{le=...}`` and ``X_count`` a ``latency``
SLI; ``bool_gauge`` and anything else a ``raw`` SLI computing what Pyrra computes.
``latencyNative`` and dynamic burn rates are refused. Labels ``pyrra.dev/<name>`` of the
object become labels (``pyrra.dev/team`` the team), as Pyrra propagates them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from perfdash.durations import Duration
from perfdash.model.windows import DEFAULT_POLICY
from perfdash.numbers import human_number
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

NAME = "pyrra"
TITLE = "Pyrra"
EXPECTED = "`apiVersion: pyrra.dev/v1alpha1` with `kind: ServiceLevelObjective`"
_LABEL_PREFIX = "pyrra.dev/"
_SPEC_FIELDS = ("description", "target", "window", "indicator", "alerting")
_IGNORED_SPEC_FIELDS = {
    "partial_response_strategy": "only Thanos Ruler reads it",
    "rulenamespace": "perfdash writes its own rule files and groups",
}
_KINDS = ("ratio", "latency", "latencyNative", "bool_gauge")
DAY = 86400


def detect(document: Document) -> bool:
    data = document.data
    return (
        isinstance(data, dict)
        and data.get("apiVersion") == "pyrra.dev/v1alpha1"
        and data.get("kind") == "ServiceLevelObjective"
    )


def translate(documents: list[Document], t: Translation) -> list[ServiceDraft]:
    drafts = [_objective(document, t) for document in documents]
    return [draft for draft in drafts if draft is not None]


def _objective(document: Document, t: Translation) -> ServiceDraft | None:
    raw_name = t.string(document, ("metadata", "name"), required=True)
    spec = t.mapping(document, ("spec",), required=True)
    objective = t.number(document, ("spec", "target"), required=True)
    window = _window(document, t)
    sli, grouping, selected = _indicator(document, t)
    if raw_name is None or objective is None or window is None or sli is None:
        return None
    name = slug(raw_name)
    labels = {
        key.removeprefix(_LABEL_PREFIX): value
        for key, value in t.string_map(document, ("metadata", "labels")).items()
        if key.startswith(_LABEL_PREFIX)
    }
    service_name = t.options.service or _job(selected) or name
    service = ServiceDraft(
        name=slug(service_name),
        origin=Origin.of(document, ("metadata", "name")),
        source_format="Pyrra ServiceLevelObjective",
        team=slug(labels.get("team", "")),
        tier=tier_from(labels.get("tier")),
        sources=[document.file],
    )
    kept, refused = split_labels(labels)
    service.labels = kept
    for label in sorted(set(refused) - {"team"}):
        t.change(service.name, name, f"label {label} dropped: perfdash sets it itself")
    slo = SLODraft(
        name=name,
        origin=Origin.of(document, ("metadata", "name")),
        objective=objective,
        window=window,
        sli=sli,
        sli_origin=Origin.of(document, ("spec", "indicator")),
        description=t.string(document, ("spec", "description")) or "",
        grouping=grouping,
    )
    slo.origins[("objective",)] = Origin.of(document, ("spec", "target"))
    slo.origins[("window",)] = Origin.of(document, ("spec", "window"))
    if name != raw_name:
        slo.comment((), f'Pyrra ServiceLevelObjective "{raw_name}"')
    if objective < 1:
        slo.comment(
            ("objective",),
            f"Pyrra's target {objective} is a percentage: {objective}%, as Pyrra reads it",
        )
    if isinstance(sli, RawCandidate) and document.data["spec"]["indicator"].get("bool_gauge"):
        slo.comment(("sli",), "Pyrra bool_gauge: samples at 0 are bad, samples at 1 good")
    for key in spec:
        if key in _IGNORED_SPEC_FIELDS:
            t.change(service.name, name, f"spec.{key} dropped: {_IGNORED_SPEC_FIELDS[key]}")
        elif key not in _SPEC_FIELDS:
            t.change(
                service.name, name, f"spec.{key} ignored: not a Pyrra field (Pyrra ignores it too)"
            )
    slo.alerting = _alerting(document, service, slo, t)
    service.slos.append(slo)
    return service


def _window(document: Document, t: Translation) -> str | None:
    text = t.string(document, ("spec", "window"), required=True)
    if text is None:
        return None
    try:
        return str(Duration.parse(text))
    except ValueError:
        t.problem(
            document,
            ("spec", "window"),
            f"{text!r}: perfdash windows are whole weeks, days, hours, minutes or seconds "
            "(e.g. 4w, 28d, 30d)",
        )
        return None


def _job(series: Series | None) -> str | None:
    """The job the SLO's total (or gauge) selects exactly: the service, most often."""
    for matcher in series.matchers if series else ():
        if matcher.label == "job" and matcher.op == "=":
            return matcher.value
    return None


def _metric(document: Document, path: PathKey, t: Translation) -> Series | None:
    text = t.string(document, path, required=True)
    if text is None:
        return None
    try:
        expr = queries.parse(text)
    except queries.QueryError as exc:
        t.problem(document, path, str(exc))
        return None
    series = queries.series_of(expr)
    if series is None:
        t.problem(
            document, path, 'must be a metric selector, as Pyrra requires (metric{label="value"})'
        )
    return series


def _indicator(
    document: Document, t: Translation
) -> tuple[SLICandidate | None, tuple[str, ...], Series | None]:
    """The SLI, its grouping, and the series counting all events (for the service name)."""
    indicator = t.mapping(document, ("spec", "indicator"), required=True)
    kinds = [kind for kind in indicator if kind in _KINDS]
    if len(kinds) != 1:
        t.problem(document, ("spec", "indicator"), f"must have exactly one of {', '.join(_KINDS)}")
        return None, (), None
    (kind,) = kinds
    path: PathKey = ("spec", "indicator", kind)
    grouping = tuple(str(g) for g in t.sequence(document, (*path, "grouping")))
    if kind == "latencyNative":
        t.problem(
            document,
            path,
            "native histograms cannot map: perfdash's latency SLI reads classic histograms "
            "(_bucket{le=...}); declare a raw SLI with histogram_fraction() instead",
        )
        return None, grouping, None
    if kind == "ratio":
        errors = _metric(document, (*path, "errors", "metric"), t)
        total = _metric(document, (*path, "total", "metric"), t)
        if errors is None or total is None:
            return None, grouping, None
        bad = queries.extra_matchers(total, errors)
        if bad:
            return EventsCandidate(total, bad), grouping, total
        # Two counters (or matchers perfdash cannot split): the ratio of their rates.
        window = "[{{ window }}]"
        raw = RawCandidate(f"rate({_sel(errors)}{window})", f"rate({_sel(total)}{window})")
        return raw, grouping, total
    if kind == "latency":
        success = _metric(document, (*path, "success", "metric"), t)
        total = _metric(document, (*path, "total", "metric"), t)
        if success is None or total is None:
            return None, grouping, None
        return _latency(success, total, grouping), grouping, total
    gauge = _metric(document, (*path, "metric"), t)
    if gauge is None:
        return None, grouping, None
    samples = f"count_over_time({_sel(gauge)}[{{{{ window }}}}])"
    good = f"sum_over_time({_sel(gauge)}[{{{{ window }}}}])"
    return RawCandidate(bad=f"{samples}\n-\n{good}", total=samples), grouping, gauge


def _sel(series: Series) -> str:
    return queries.selector_text(series)


def _latency(success: Series, total: Series, grouping: tuple[str, ...]) -> SLICandidate:
    histogram = queries.histogram_base(total.metric, "_count")
    threshold = queries.le_value(success)
    if (
        histogram is not None
        and threshold is not None
        and success.metric == histogram + "_bucket"
        and success.without("le") == total.matchers
    ):
        return LatencyCandidate(histogram, threshold, total.matchers)
    # What Pyrra computes: errors = total - success, each summed on its own.
    prefix = queries.by_prefix(grouping)
    bad = (
        f"{prefix}(rate({_sel(total)}[{{{{ window }}}}]))\n-\n"
        f"{prefix}(rate({_sel(success)}[{{{{ window }}}}]))"
    )
    return RawCandidate(bad=bad, total=f"rate({_sel(total)}[{{{{ window }}}}])")


def _alerting(
    document: Document, service: ServiceDraft, slo: SLODraft, t: Translation
) -> dict[str, Any]:
    path: PathKey = ("spec", "alerting")
    raw = t.mapping(document, path)
    alerting: dict[str, Any] = {}
    name = t.string(document, (*path, "name"))
    if name:
        alerting["name"] = name
        slo.origins[("alerting", "name")] = Origin.of(document, (*path, "name"))
    disabled = t.boolean(document, (*path, "disabled"))
    burnrates = t.boolean(document, (*path, "burnrates"))
    if disabled or burnrates is False:
        alerting["page"] = False
        alerting["ticket"] = False
        key = "disabled" if disabled else "burnrates"
        slo.origins[("alerting", "page")] = Origin.of(document, (*path, key))
    if t.boolean(document, (*path, "absent")) is False:
        alerting["missing_data"] = {"enabled": False}
    absent_name = t.string(document, (*path, "absentName"))
    if absent_name:
        t.change(
            service.name, slo.name, f"the absent alert {absent_name!r} is called SLIDataMissing"
        )
    kind = t.string(document, (*path, "burnRateType"))
    if kind and kind != "static":
        t.problem(
            document,
            (*path, "burnRateType"),
            f"{kind!r} burn rates cannot map: perfdash alerts on static thresholds (the SRE "
            "Workbook's); remove burnRateType to import with static ones",
        )
    for key in raw:
        if key not in ("name", "disabled", "burnrates", "absent", "absentName", "burnRateType"):
            t.problem(document, (*path, key), f"unknown field {key!r} in Pyrra alerting")
    if alerting.get("page") is not False:
        # Pyrra's own severities: critical for the two fast alerts, warning for the slow.
        alerting["severity"] = {"page": "critical", "ticket": "warning"}
        t.change(service.name, slo.name, _windows_change(slo.window))
    return alerting


def pyrra_windows(window_seconds: int) -> list[tuple[str, int, int, int, int]]:
    """Pyrra's four alerts for an SLO window: (severity, for, long, short, factor) in
    seconds, scaled from its 28-day table and rounded to the minute as Pyrra does."""

    def scaled(divisor: int) -> int:
        return _round_minute(Decimal(window_seconds) / divisor)

    return [
        ("critical", scaled(28 * 24 * 30), scaled(28 * 24), scaled(28 * 24 * 12), 14),
        ("critical", scaled(28 * 24 * 4), scaled(28 * 4), scaled(28 * 24 * 2), 7),
        ("warning", scaled(28 * 24), scaled(28), scaled(28 * 12), 2),
        ("warning", scaled(28 * 8), scaled(7), scaled(28 * 4), 1),
    ]


def _round_minute(seconds: Decimal) -> int:
    minutes = (seconds / 60).to_integral_value(rounding="ROUND_HALF_UP")
    return int(minutes) * 60


def _windows_change(window: str) -> str:
    slo_window = Duration.parse(window)
    pyrra = ", ".join(
        f"{factor}x over {Duration(long)}/{Duration(short)} (for {Duration(hold)})"
        for _, hold, long, short, factor in pyrra_windows(slo_window.seconds)
    )
    ours = ", ".join(
        f"{human_number(w.burn_factor(slo_window))}x over {w.long}/{w.short}"
        for w in DEFAULT_POLICY
    )
    return (
        f"alert windows: Pyrra fires at {pyrra}; perfdash at {ours} (the Workbook's factors, "
        f"derived from the {window} window, standard windows, no for:)"
    )
