"""Sloth: the ``prometheus/v1`` spec and the ``sloth.slok.dev/v1`` PrometheusServiceLevel
CRD (Sloth's ``pkg/prometheus/api/v1`` and ``pkg/kubernetes/api/sloth/v1``).

One Sloth document is one service. Events SLIs whose queries are
``sum(rate(counter{...}[{{.window}}]))`` (errors: the same counter with more matchers)
become ``events`` SLIs; ``count - bucket{le=...}`` over a histogram becomes ``latency``;
anything else stays PromQL (``raw``), window template rewritten. Raw error-ratio SLIs
become ``raw`` with a constant total. SLI plugins and SLO plugins (other than
``alert_for``, whose ``for:`` is mapped) are refused: their PromQL is not in the file.
"""

from __future__ import annotations

import re
from typing import Any

from perfdash.spec.document import Document, PathKey
from perfdash.spec.importers import queries
from perfdash.spec.importers.draft import (
    EventsCandidate,
    LatencyCandidate,
    Origin,
    RawCandidate,
    ServiceDraft,
    SLICandidate,
    SLODraft,
)
from perfdash.spec.importers.translation import Translation, slug, split_labels, tier_from

NAME = "sloth"
TITLE = "Sloth"
EXPECTED = "`version: prometheus/v1` or `apiVersion: sloth.slok.dev/v1` with `kind: PrometheusServiceLevel`"
_WINDOW = re.compile(r"\{\{\s*\.window\s*\}\}")
_ALERT_FOR_PLUGIN = "sloth.dev/contrib/alert_for/v1"
_RUNBOOK_ANNOTATIONS = ("runbook", "runbook_url")
_ANNOTATION_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Both spellings: prometheus/v1 files use snake_case, the CRD camelCase, and each has
# used the other's for some fields across Sloth releases.
_ALIASES = {
    "page_alert": "pageAlert",
    "ticket_alert": "ticketAlert",
    "error_query": "errorQuery",
    "total_query": "totalQuery",
    "error_ratio_query": "errorRatioQuery",
    "slo_plugins": "sloPlugins",
    "info_labels": "infoLabels",
}


def detect(document: Document) -> bool:
    data = document.data
    if not isinstance(data, dict):
        return False
    return data.get("version") == "prometheus/v1" or (
        data.get("apiVersion") == "sloth.slok.dev/v1"
        and data.get("kind") == "PrometheusServiceLevel"
    )


def _key(mapping: dict[str, Any], name: str) -> str:
    """``name`` or its other spelling, whichever the document uses."""
    other = _ALIASES.get(name, name)
    return other if other in mapping and name not in mapping else name


def translate(documents: list[Document], t: Translation) -> list[ServiceDraft]:
    """One service per document."""
    return [service for document in documents for service in _service(document, t)]


def _service(document: Document, t: Translation) -> list[ServiceDraft]:
    crd = document.data.get("apiVersion") == "sloth.slok.dev/v1"
    root: PathKey = ("spec",) if crd else ()
    top = t.mapping(document, root, required=crd)
    known = ("service", "labels", "slos", "slo_plugins", "sloPlugins", "description")
    t.unknown_fields(
        document,
        root,
        (*known, "version") if not crd else known,
        what="a Sloth PrometheusServiceLevel spec" if crd else "a Sloth prometheus/v1 spec",
    )
    raw_name = t.string(document, (*root, "service"), required=True)
    if raw_name is None:
        return []
    name = slug(raw_name)
    service = ServiceDraft(
        name=name,
        origin=Origin.of(document, (*root, "service")),
        source_format="Sloth PrometheusServiceLevel" if crd else "Sloth prometheus/v1",
        sources=[document.file],
    )
    if name != raw_name:
        service.comment(("metadata", "name"), f'Sloth service "{raw_name}"')
    labels = t.string_map(document, (*root, "labels"))
    service.team = slug(labels.get("team") or labels.get("owner") or "")
    service.tier = tier_from(labels.get("tier"))
    kept, refused = split_labels(labels)
    service.labels = kept
    for label in refused:
        if label != "team":
            t.change(
                name, "", f"label {label}={labels[label]!r} dropped: perfdash sets {label} itself"
            )
    service.description = t.string(document, (*root, "description")) or ""
    _plugins(document, (*root, _key(top, "slo_plugins")), t)
    for index, _ in enumerate(t.sequence(document, (*root, "slos"), required=True)):
        slo = _slo(document, (*root, "slos", index), service, t)
        if slo is not None:
            service.slos.append(slo)
    _explain_alerts(service, t)
    return [service]


def _plugins(document: Document, path: PathKey, t: Translation) -> None:
    chain = t.sequence(document, (*path, "chain"))
    for index, _ in enumerate(chain):
        plugin = t.string(document, (*path, "chain", index, "id"))
        if plugin and plugin != _ALERT_FOR_PLUGIN:
            t.problem(
                document,
                (*path, "chain", index, "id"),
                f"SLO plugin {plugin!r} changes Sloth's rules in code perfdash cannot read: "
                "remove it and declare the equivalent in perfdash",
            )


def _slo(
    document: Document, path: PathKey, service: ServiceDraft, t: Translation
) -> SLODraft | None:
    raw = t.mapping(document, path, required=True)
    t.unknown_fields(
        document,
        path,
        (
            "name",
            "description",
            "objective",
            "labels",
            "sli",
            "alerting",
            "interval",
            "infoLabels",
            "info_labels",
        ),
        what="a Sloth SLO",
    )
    raw_name = t.string(document, (*path, "name"), required=True)
    objective = t.number(document, (*path, "objective"), required=True)
    sli = _sli(document, (*path, "sli"), t)
    if raw_name is None or objective is None or sli is None:
        return None
    name = slug(raw_name)
    slo = SLODraft(
        name=name,
        origin=Origin.of(document, (*path, "name")),
        objective=objective,
        window=t.options.window,
        sli=sli,
        sli_origin=Origin.of(document, (*path, "sli")),
        description=t.string(document, (*path, "description")) or "",
    )
    slo.origins[("objective",)] = Origin.of(document, (*path, "objective"))
    if name != raw_name:
        slo.comment((), f'Sloth SLO "{raw_name}"')
    if t.options.window != "30d":
        slo.comment(("window",), "Sloth's --default-slo-period, given as perfdash import --window")
    if "raw" in t.mapping(document, (*path, "sli")):
        slo.comment(
            ("sli",), "Sloth raw SLI: the error ratio over each window; total counts 1 per series"
        )
    slo_labels = t.string_map(document, (*path, "labels"))
    if _key(raw, "info_labels") in raw:
        t.change(service.name, name, "infoLabels dropped: perfdash's slo:info has its own labels")
    if "interval" in raw:
        t.change(
            service.name,
            name,
            "interval dropped: perfdash evaluates the pages at Prometheus' interval and the "
            "long windows every spec.rules.long_window_interval (1m)",
        )
    slo.alerting = _alerting(document, (*path, "alerting"), service, slo, slo_labels, t)
    return slo


def _sli(document: Document, path: PathKey, t: Translation) -> SLICandidate | None:
    sli = t.mapping(document, path, required=True)
    kinds = [kind for kind in ("events", "raw", "plugin") if kind in sli]
    if len(kinds) != 1:
        t.problem(document, path, "must have exactly one of events, raw, plugin")
        return None
    (kind,) = kinds
    if kind == "plugin":
        plugin = t.string(document, (*path, "plugin", "id")) or "?"
        t.problem(
            document,
            (*path, "plugin"),
            f"SLI plugin {plugin!r}: its queries are built by code, not written in the file; "
            "run `sloth generate` once and import its error and total queries as an events SLI",
        )
        return None
    body = t.mapping(document, (*path, kind), required=True)
    if kind == "raw":
        key = _key(body, "error_ratio_query")
        query = t.string(document, (*path, kind, key), required=True)
        if query is None:
            return None
        return _ratio_sli(document, (*path, kind, key), query, t)
    error_key, total_key = _key(body, "error_query"), _key(body, "total_query")
    error = t.string(document, (*path, kind, error_key), required=True)
    total = t.string(document, (*path, kind, total_key), required=True)
    if error is None or total is None:
        return None
    return events_sli(document, (*path, kind), error, total, t)


def events_sli(
    document: Document, path: PathKey, error: str, total: str, t: Translation
) -> SLICandidate | None:
    """A Sloth-style pair of templated queries (bad and total events) as the plainest
    perfdash SLI that computes the same ratio."""
    try:
        error_expr = queries.parse(error, placeholder=_WINDOW)
        total_expr = queries.parse(total, placeholder=_WINDOW)
    except queries.QueryError as exc:
        t.problem(document, path, str(exc))
        return None
    for side, text in (("error", error), ("total", total)):
        if not _WINDOW.search(text):
            t.problem(document, path, f"the {side} query does not use {{{{.window}}}}")
            return None
    recognised = _recognise(error_expr, total_expr)
    if recognised is not None:
        return recognised
    return RawCandidate(
        bad=queries.with_window(error, _WINDOW), total=queries.with_window(total, _WINDOW)
    )


def _recognise(error: Any, total: Any) -> SLICandidate | None:
    total_sum = queries.counter_sum(total)
    if total_sum is None or total_sum.grouping is not None:
        return None
    error_sum = queries.counter_sum(error)
    if error_sum is not None and error_sum.grouping is None:
        bad = queries.extra_matchers(total_sum.series, error_sum.series)
        if bad:
            return EventsCandidate(total_sum.series, bad)
        return None
    # count - bucket{le="x"}: the requests slower than x.
    split = queries.difference(error)
    if split is None:
        return None
    count, bucket = queries.counter_sum(split.left), queries.counter_sum(split.right)
    if count is None or bucket is None or count.grouping or bucket.grouping:
        return None
    if count.series != total_sum.series:
        return None
    histogram = queries.histogram_base(count.series.metric, "_count")
    threshold = queries.le_value(bucket.series)
    if histogram is None or threshold is None or bucket.series.metric != histogram + "_bucket":
        return None
    if bucket.series.without("le") != count.series.matchers:
        return None
    return LatencyCandidate(histogram, threshold, count.series.matchers)


def _ratio_sli(
    document: Document, path: PathKey, query: str, t: Translation
) -> SLICandidate | None:
    """An error ratio (0..1) over each window: bad = the ratio, total = 1 with its labels."""
    if not _WINDOW.search(query):
        t.problem(document, path, "the error ratio query does not use {{.window}}")
        return None
    try:
        queries.parse(query, placeholder=_WINDOW)
    except queries.QueryError as exc:
        t.problem(document, path, str(exc))
        return None
    ratio = queries.with_window(query, _WINDOW)
    inner = "\n".join(f"  {line}" if line else "" for line in ratio.split("\n"))
    return RawCandidate(bad=ratio, total=f"0 * (\n{inner}\n) + 1")


def _alerting(
    document: Document,
    path: PathKey,
    service: ServiceDraft,
    slo: SLODraft,
    slo_labels: dict[str, str],
    t: Translation,
) -> dict[str, Any]:
    raw = t.mapping(document, path)
    t.unknown_fields(
        document,
        path,
        ("name", "labels", "annotations", "page_alert", "ticket_alert", "pageAlert", "ticketAlert"),
        what="Sloth alerting",
    )
    alerting: dict[str, Any] = {}
    alert_name = t.string(document, (*path, "name"))
    if alert_name:
        alerting["name"] = alert_name
        slo.origins[("alerting", "name")] = Origin.of(document, (*path, "name"))
    tiers = {
        tier: t.mapping(document, (*path, _key(raw, f"{tier}_alert")))
        for tier in ("page", "ticket")
    }
    for tier in tiers:
        tier_path = (*path, _key(raw, f"{tier}_alert"))
        t.unknown_fields(
            document, tier_path, ("disable", "labels", "annotations", "for"), what="a Sloth alert"
        )
        if t.boolean(document, (*tier_path, "disable")):
            alerting[tier] = False
            slo.origins[("alerting", tier)] = Origin.of(document, (*tier_path, "disable"))
    if alerting.get("page") is False and alerting.get("ticket") is False:
        # No alerts wanted: not perfdash's SLIDataMissing either.
        alerting["missing_data"] = {"enabled": False}
    _hold(document, path, raw, tiers, alerting, service, slo, t)
    labels = {**slo_labels, **t.string_map(document, (*path, "labels"))}
    annotations = t.string_map(document, (*path, "annotations"))
    per_tier_labels = {
        tier: t.string_map(document, (*path, _key(raw, f"{tier}_alert"), "labels"))
        for tier in tiers
    }
    per_tier_annotations = {
        tier: t.string_map(document, (*path, _key(raw, f"{tier}_alert"), "annotations"))
        for tier in tiers
    }
    enabled = [tier for tier in tiers if alerting.get(tier) is not False]
    for name, value in _shared(per_tier_labels, enabled).items():
        labels.setdefault(name, value)
    for name, value in _shared(per_tier_annotations, enabled).items():
        annotations.setdefault(name, value)
    _per_tier_leftovers(per_tier_labels, per_tier_annotations, enabled, service, slo, t)
    if slo_labels:
        t.change(
            service.name,
            slo.name,
            f"SLO labels {sorted(slo_labels)} are on the alerts only; Sloth also put them on "
            "the recorded series",
        )
    kept, refused = split_labels(labels)
    refused.pop("severity", None)  # both tiers alike: alerting.severity, below
    for label, value in refused.items():
        t.change(service.name, slo.name, f"alert label {label}={value!r} dropped: perfdash sets it")
    if kept:
        alerting["labels"] = dict(sorted(kept.items()))
    for key in _RUNBOOK_ANNOTATIONS:
        if key in annotations:
            # Kept as written: the SLO's own runbook (perfdash's runbook_url annotation).
            slo.runbook = annotations.pop(key)
            slo.origins[("runbook",)] = Origin.of(document, (*path, "annotations", key))
    text = {}
    for name, value in annotations.items():
        if _ANNOTATION_NAME.match(name):
            text[name] = value
        else:
            t.change(service.name, slo.name, f"annotation {name!r} dropped: not a valid name")
    severities = {
        tier: per_tier_labels[tier]["severity"]
        for tier in enabled
        if "severity" in per_tier_labels[tier]
    }
    if severities and len(set(severities.values())) == len(severities):
        alerting["severity"] = severities
    elif severities:
        t.change(
            service.name,
            slo.name,
            f"both tiers had severity {next(iter(severities.values()))!r}: perfdash keeps "
            "page and ticket apart (alerting.severity values must differ)",
        )
    if text:
        alerting["annotations"] = dict(sorted(text.items()))
    return alerting


def _hold(
    document: Document,
    path: PathKey,
    raw: dict[str, Any],
    tiers: dict[str, dict[str, Any]],
    alerting: dict[str, Any],
    service: ServiceDraft,
    slo: SLODraft,
    t: Translation,
) -> None:
    """``for:`` per tier (the alert_for plugin): perfdash has one per SLO."""
    holds = {}
    for tier in tiers:
        text = t.string(document, (*path, _key(raw, f"{tier}_alert"), "for"))
        if text and alerting.get(tier) is not False:
            holds[tier] = text
    if not holds:
        return
    chosen_tier = "page" if "page" in holds else "ticket"
    alerting["for"] = holds[chosen_tier]
    slo.origins[("alerting", "for")] = Origin.of(
        document, (*path, _key(raw, f"{chosen_tier}_alert"), "for")
    )
    if len(set(holds.values())) > 1 or len(holds) < 2:
        t.change(
            service.name,
            slo.name,
            f"for: {holds[chosen_tier]} (the {chosen_tier} alert's) applies to every alert of "
            f"the SLO; Sloth had {', '.join(f'{k} {v}' for k, v in holds.items())}",
        )


def _shared(per_tier: dict[str, dict[str, str]], enabled: list[str]) -> dict[str, str]:
    """What every enabled tier has, with the same value."""
    if not enabled:
        return {}
    first, *rest = (per_tier[tier] for tier in enabled)
    return {k: v for k, v in first.items() if all(other.get(k) == v for other in rest)}


def _per_tier_leftovers(
    labels: dict[str, dict[str, str]],
    annotations: dict[str, dict[str, str]],
    enabled: list[str],
    service: ServiceDraft,
    slo: SLODraft,
    t: Translation,
) -> None:
    shared_labels = _shared(labels, enabled)
    shared_annotations = _shared(annotations, enabled)
    for tier in enabled:
        for name, value in sorted(labels[tier].items()):
            if name == "severity":
                continue  # alerting.severity, per tier
            if name not in shared_labels:
                t.change(
                    service.name,
                    slo.name,
                    f"the {tier} alert's label {name}={value!r} dropped (perfdash labels every "
                    "tier alike): route by severity, or a Team's page/ticket receivers",
                )
        for name in sorted(set(annotations[tier]) - set(shared_annotations)):
            t.change(service.name, slo.name, f"the {tier} alert's annotation {name!r} dropped")


def _explain_alerts(service: ServiceDraft, t: Translation) -> None:
    if not service.slos:
        return
    t.change(
        service.name,
        "",
        "Sloth's two alerts per SLO (page: 1h/5m or 6h/30m; ticket: 1d/2h or 3d/6h, each one "
        "rule over two window pairs) become four rules, one per window pair, labelled "
        "long/short, with the same burn factors (14.4, 6, 3, 1 for 30d): Alertmanager can "
        "inhibit the slower pairs while a faster one fires",
    )
    t.change(
        service.name,
        "",
        "recorded series: perfdash records slo:sli_error:ratio_rate<window> like Sloth, but "
        "labelled service/slo instead of sloth_service/sloth_slo/sloth_id: dashboards and "
        "alerts reading Sloth's series need their selectors changed (see docs/import.md)",
    )
    t.change(
        service.name,
        "",
        "missing data: perfdash adds an SLIDataMissing alert per SLO (severity ticket, after 10m)",
    )
