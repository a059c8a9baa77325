"""perfdash/v1 documents -> the model (Sloth's ``MapSpecToModel``).

The mapper reads only values that passed the schema and were not reported already
(``Document.clean``), so a document with schema errors is still mapped as far as it
can be, and the checks that need the model (never-firing alerts, templates) still run
on its other parts: ``perfdash validate`` reports everything in one pass. When some
part could not be mapped, the Service carries placeholders there and is marked
incomplete: it serves the checks and is never returned to generators.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import promql_parser

from perfdash import conventions
from perfdash.durations import Duration
from perfdash.errors import Problem
from perfdash.model import templates as alert_text
from perfdash.model.fleet import (
    DEFAULT_TIMINGS,
    RED,
    SLI,
    SLO,
    Alerting,
    AlertWindow,
    Annotations,
    Baseline,
    EventsSLI,
    LatencySLI,
    Matcher,
    MatchOp,
    RawSLI,
    Receivers,
    Service,
    Team,
    Timing,
)
from perfdash.model.windows import DEFAULT_POLICY
from perfdash.spec.document import Document, PathKey
from perfdash.spec.raw_queries import raw_query_problem

DEFAULT_WINDOW = Duration.parse("30d")
LONG_WINDOW_INTERVAL = Duration.parse("1m")
DEFAULT_MISSING_DATA_FOR = Duration.parse("10m")
# Shorter SLO windows make little sense and break the generated zero-traffic test (4h).
MIN_SLO_WINDOW = Duration.parse("1d")
MIN_ALERT_WINDOW = Duration.parse("1m")
MAX_DURATION = Duration.parse("5200w")  # a century; Prometheus' own limit is 292 years
_OPERATORS: tuple[MatchOp, ...] = ("=~", "!~", "!=", "=")
_HISTOGRAM_SERIES = re.compile(r"_(bucket|count|sum)$")


@dataclass(frozen=True)
class MappedService:
    """A Service as far as its document allows, and each mapped SLO's index."""

    service: Service
    slos: tuple[tuple[int, SLO], ...]
    complete: bool  # every part mapped and nothing wrong: ``service`` is the real one


def map_team(document: Document) -> tuple[Team | None, list[Problem]]:
    mapper = _Mapper(document)
    data = document.data
    spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
    timings = spec.get("timings", {}) if mapper.clean("spec", "timings") else {}
    page = mapper.timing("page", timings.get("page", {}))
    ticket = mapper.timing("ticket", timings.get("ticket", {}))
    if document.tainted or document.problems or mapper.problems:
        return None, mapper.problems
    team = Team(
        name=data["metadata"]["name"],
        receivers=Receivers(spec["receivers"]["page"], spec["receivers"]["ticket"]),
        page_timing=page,
        ticket_timing=ticket,
        source=document.file,
    )
    return team, mapper.problems


def map_service(
    document: Document, *, root: Path | None = None
) -> tuple[MappedService, list[Problem]]:
    """``root``: the project folder, which a declared Jsonnet file may not leave."""
    mapper = _Mapper(document, root=root)
    return mapper.service(), mapper.problems


class _Mapper:
    def __init__(self, document: Document, *, root: Path | None = None) -> None:
        self.doc = document
        self.root = (root or Path.cwd()).resolve()
        self.problems: list[Problem] = []

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append(self.doc.problem(path, message, key=key))

    def clean(self, *path: str | int) -> bool:
        return self.doc.clean(path)

    def get(self, path: PathKey, default: Any, *, whole: bool = True) -> Any:
        """The value at ``path`` if it is there and nothing in it was reported, else
        ``default``. ``whole=False``: only the path itself must not be reported (a list
        of SLOs whose second one has a problem still gives the first)."""
        if not self.doc.tainted:  # the usual case: nothing to skip
            value: Any = self.doc.data
            try:
                for part in path:
                    value = value[part]
            except (KeyError, IndexError, TypeError):
                return default
            return value
        if whole and not self.doc.clean(path):
            return default
        if not whole and any(path[: len(t)] == t for t in self.doc.tainted):
            return default
        value = self.doc.data
        for part in path:
            found = isinstance(value, dict) and isinstance(part, str) and part in value
            found = found or (
                isinstance(value, list) and isinstance(part, int) and part < len(value)
            )
            if not found:
                return default
            value = value[part]
        return value

    # -- the service --------------------------------------------------------------
    def service(self) -> MappedService:
        get = self.get
        labels = self.labels(("metadata", "labels"), get(("metadata", "labels"), {}))
        selector = self.matchers(("spec", "selector"), get(("spec", "selector"), {}), "=")
        red = self.red(get(("spec", "red"), None))
        # None when spec.alerting has problems: SLOs then skip the checks that need it.
        service_alerting = get(("spec", "alerting"), {}) if self.clean("spec", "alerting") else None
        if service_alerting is not None:
            self.labels(("spec", "alerting", "labels"), service_alerting.get("labels", {}))
        slos = self.slos(get(("spec", "slos"), [], whole=False), service_alerting)
        baselines = []
        for index, raw in enumerate(get(("spec", "baselines"), [], whole=False)):
            if self.clean("spec", "baselines", index):
                baselines.append(self.baseline(("spec", "baselines", index), raw))
        routing = get(("spec", "routing"), None)
        interval_path = ("spec", "rules", "long_window_interval")
        interval = self.duration(interval_path, get(interval_path, None), LONG_WINDOW_INTERVAL)
        service = Service(
            name=get(("metadata", "name"), "service"),
            team=get(("metadata", "team"), "team"),
            tier=get(("metadata", "tier"), 1),
            runbook=get(("metadata", "runbook"), None),
            labels=labels,
            selector=selector,
            red=red,
            slos=tuple(slo for _, slo in slos),
            baselines=tuple(baselines),
            source=self.doc.file,
            description=get(("metadata", "description"), ""),
            routing=Receivers(**routing) if routing else None,
            long_window_interval=interval or LONG_WINDOW_INTERVAL,
            series_prefix=get(("spec", "rules", "series_prefix"), ""),
            dashboard_jsonnet=self.jsonnet_file(get(("spec", "dashboard", "jsonnet"), None)),
        )
        complete = not (self.problems or self.doc.problems or self.doc.tainted)
        return MappedService(service, tuple(slos), complete)

    def red(self, raw: Mapping[str, Any] | None) -> RED | None:
        if raw is None:
            return None
        errors = self.matchers(("spec", "red", "errors"), raw.get("errors", {}), "=~")
        duration = raw.get("duration")
        if duration is not None:
            self.histogram(("spec", "red", "duration"), duration)
        return RED(raw["requests"], errors, duration)

    def histogram(self, path: PathKey, name: str) -> None:
        suffix = _HISTOGRAM_SERIES.search(name)
        if suffix:
            base = name[: suffix.start()]
            self.problem(
                path,
                f"give the histogram's base name, not its _{suffix[1]} series: {base} "
                f"(perfdash reads {base}_bucket and {base}_count)",
            )

    def baseline(self, path: PathKey, raw: Mapping[str, Any]) -> Baseline:
        thresholds: dict[str, Decimal] = {}
        for metric, value in raw.get("thresholds", {}).items():
            if value < 0:
                self.problem(
                    (*path, "thresholds", metric),
                    f"threshold {value}: expected a percentage, 0 or more",
                )
                continue
            thresholds[metric] = Decimal(str(value))
        metrics = tuple(raw.get("metrics", ()))
        return Baseline(raw["benchmark"], metrics, tuple(sorted(thresholds.items())))

    def jsonnet_file(self, declared: str | None) -> str | None:
        """The declared dashboard override, resolved against the declaration's folder;
        it must stay inside the project (the working directory)."""
        if declared is None:
            return None
        base = self.doc.directory or Path.cwd()
        resolved = (base / declared).resolve()
        path = ("spec", "dashboard", "jsonnet")
        if not resolved.is_relative_to(self.root):
            self.problem(path, "must be a file inside the project folder")
            return None
        if not resolved.is_file():
            self.problem(path, f"no such file: {declared}")
            return None
        return str(resolved)

    # -- SLOs ---------------------------------------------------------------------
    def slos(
        self, raw_slos: list[Any], service_alerting: Mapping[str, Any] | None
    ) -> list[tuple[int, SLO]]:
        mapped = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(raw_slos):
            path: PathKey = ("spec", "slos", index)
            name = self.get((*path, "name"), None)
            if name is not None:
                if name in seen:
                    self.problem(
                        (*path, "name"),
                        f"duplicate SLO name {name!r} (first at spec.slos[{seen[name]}])",
                    )
                    continue
                seen[name] = index
            if not self.clean(*path):
                continue
            slo = self.slo(path, raw, service_alerting)
            if slo is not None:
                mapped.append((index, slo))
        return mapped

    def slo(
        self, path: PathKey, raw: Mapping[str, Any], service_alerting: Mapping[str, Any] | None
    ) -> SLO | None:
        ok = True
        window = self.duration((*path, "window"), raw.get("window"), DEFAULT_WINDOW)
        if window is None:
            ok = False
        elif window < MIN_SLO_WINDOW:
            self.problem((*path, "window"), f"SLO window must be at least {MIN_SLO_WINDOW}")
            ok = False
        grouping = tuple(raw.get("grouping", ()))
        for i, label in enumerate(grouping):
            if label in conventions.RESERVED_LABELS or label.startswith("__"):
                self.problem(
                    (*path, "grouping", i), f"{label!r} is set by perfdash; group by another label"
                )
                ok = False
        sli = self.sli((*path, "sli"), raw["sli"], grouping)
        alerting = None
        if service_alerting is not None:
            alerting = self.alerting(path, service_alerting, raw.get("alerting", {}))
        if not ok or sli is None or alerting is None or window is None:
            return None
        return SLO(
            name=raw["name"],
            objective=Decimal(raw["objective"]),
            window=window,
            sli=sli,
            grouping=grouping,
            alerting=alerting,
            description=raw.get("description", ""),
            runbook=raw.get("runbook"),
        )

    def sli(self, path: PathKey, raw: Mapping[str, Any], grouping: tuple[str, ...]) -> SLI | None:
        if "events" in raw:
            events = raw["events"]
            bad = self.matchers((*path, "events", "bad"), events["bad"], "=~")
            extra = self.matchers((*path, "events", "matchers"), events.get("matchers", {}), "=")
            return EventsSLI(total=events["total"], bad=bad, matchers=extra)
        if "latency" in raw:
            latency = raw["latency"]
            self.histogram((*path, "latency", "histogram"), latency["histogram"])
            extra = self.matchers((*path, "latency", "matchers"), latency.get("matchers", {}), "=")
            if any(matcher.label == "le" for matcher in extra):
                self.problem(
                    (*path, "latency", "matchers", "le"), "le is set from threshold; remove it"
                )
            return LatencySLI(
                histogram=latency["histogram"],
                threshold=Decimal(latency["threshold"]),
                matchers=extra,
            )
        raw_sli = raw["raw"]
        ok = True
        for side in ("bad", "total"):
            problem = raw_query_problem(raw_sli[side], grouping)
            if problem:
                self.problem((*path, "raw", side), problem)
                ok = False
        return RawSLI(bad=raw_sli["bad"], total=raw_sli["total"]) if ok else None

    # -- alerting -----------------------------------------------------------------
    def alerting(
        self, path: PathKey, service_level: Mapping[str, Any], slo_level: Mapping[str, Any]
    ) -> Alerting | None:
        """Service-level alerting settings, overridden key by key by the SLO's own."""

        def pick(key: str) -> tuple[Any, PathKey | None]:
            if key in slo_level:
                return slo_level[key], (*path, "alerting", key)
            if key in service_level:
                return service_level[key], ("spec", "alerting", key)
            return None, None

        for_value, for_path = pick("for")
        for_ = self.duration(for_path, for_value, None) if for_path else None
        windows_value, windows_path = pick("windows")
        windows: tuple[AlertWindow, ...] = DEFAULT_POLICY
        if windows_path is not None:
            parsed = [self.alert_window((*windows_path, i), w) for i, w in enumerate(windows_value)]
            if any(w is None for w in parsed):
                return None
            windows = tuple(w for w in parsed if w is not None)
        labels = dict(service_level.get("labels", {}))
        labels.update(slo_level.get("labels", {}))
        self.labels((*path, "alerting", "labels"), slo_level.get("labels", {}))
        templates = dict(service_level.get("annotations", {}))
        templates.update(slo_level.get("annotations", {}))
        for source, owner in (
            (service_level, ("spec", "alerting")),
            (slo_level, (*path, "alerting")),
        ):
            if "runbook_url" in source.get("annotations", {}):
                self.problem(
                    (*owner, "annotations", "runbook_url"),
                    "runbook_url is generated: set metadata.runbook (alerts link "
                    "<runbook>#<slo>) or the SLO's runbook",
                    key=True,
                )
        severity = dict(service_level.get("severity", {}))
        severity.update(slo_level.get("severity", {}))
        page_severity = severity.get("page", "page")
        ticket_severity = severity.get("ticket", "ticket")
        if page_severity == ticket_severity:
            where: PathKey = (*path, "alerting", "severity")
            if where not in self.doc.positions:
                where = ("spec", "alerting", "severity")
            self.problem(
                where,
                f"page and ticket alerts both have severity {page_severity!r}: Alertmanager "
                "could not tell them apart (routes, inhibition)",
            )
        missing = dict(service_level.get("missing_data", {}))
        missing.update(slo_level.get("missing_data", {}))
        missing_for = DEFAULT_MISSING_DATA_FOR
        if "for" in missing:
            source_path = (*path, "alerting", "missing_data", "for")
            if "for" not in slo_level.get("missing_data", {}):
                source_path = ("spec", "alerting", "missing_data", "for")
            missing_for = (
                self.duration(source_path, missing["for"], DEFAULT_MISSING_DATA_FOR) or missing_for
            )
        name_value, _ = pick("name")
        page_value, _ = pick("page")
        ticket_value, _ = pick("ticket")
        return Alerting(
            name=name_value or conventions.DEFAULT_ALERT_NAME,
            page=True if page_value is None else bool(page_value),
            ticket=True if ticket_value is None else bool(ticket_value),
            for_=for_,
            labels=tuple(sorted(labels.items())),
            annotations=Annotations(
                summary=templates.get("summary", alert_text.DEFAULT_SUMMARY),
                description=templates.get("description", alert_text.DEFAULT_DESCRIPTION),
                extra=tuple(
                    sorted(
                        (name, text)
                        for name, text in templates.items()
                        if name not in ("summary", "description", "runbook_url")
                    )
                ),
            ),
            windows=windows,
            missing_data=bool(missing.get("enabled", True)),
            missing_data_for=missing_for,
            severity_page=page_severity,
            severity_ticket=ticket_severity,
        )

    def alert_window(self, path: PathKey, raw: Mapping[str, Any]) -> AlertWindow | None:
        long = self.duration((*path, "long"), raw["long"], None)
        short = self.duration((*path, "short"), raw["short"], None)
        if long is None or short is None:
            return None
        if short >= long:
            self.problem(
                (*path, "short"),
                f"short window {short} must be shorter than the long window {long}",
            )
            return None
        if short < MIN_ALERT_WINDOW:
            self.problem(
                (*path, "short"), f"windows shorter than {MIN_ALERT_WINDOW} cannot hold two scrapes"
            )
            return None
        return AlertWindow(raw["severity"], long, short, Decimal(raw["budget_percent"]) / 100)

    # -- small values ---------------------------------------------------------------
    def timing(self, severity: str, raw: Mapping[str, str]) -> Timing:
        default = DEFAULT_TIMINGS[severity]
        values = {}
        for field_name in ("group_wait", "group_interval", "repeat_interval"):
            path = ("spec", "timings", severity, field_name)
            parsed = self.duration(path, raw.get(field_name), getattr(default, field_name))
            values[field_name] = parsed or getattr(default, field_name)
        return Timing(**values)

    def duration(self, path: PathKey, value: Any, default: Duration | None) -> Duration | None:
        if value is None:
            return default
        try:
            parsed = Duration.parse(value)
        except ValueError as exc:
            self.problem(path, str(exc))
            return None
        if parsed > MAX_DURATION:
            self.problem(path, f"{value!r} is longer than {MAX_DURATION.seconds // 604800}w")
            return None
        return parsed

    def labels(self, path: PathKey, raw: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
        for name in raw:
            if name in conventions.RESERVED_LABELS or name.startswith("__"):
                self.problem(
                    (*path, name),
                    f"label {name!r} is set by perfdash and cannot be declared",
                    key=True,
                )
        return tuple(sorted(raw.items()))

    def matchers(
        self, path: PathKey, raw: Mapping[str, str], default_op: MatchOp
    ) -> tuple[Matcher, ...]:
        matchers = []
        for label, text in raw.items():
            op, value = default_op, text
            for candidate in _OPERATORS:
                if text.startswith(candidate):
                    op, value = candidate, text[len(candidate) :]
                    break
            if label.startswith("__"):
                self.problem((*path, label), f"label {label!r} is reserved", key=True)
                continue
            matcher = Matcher(label, op, value)
            if op in ("=~", "!~"):
                error = _regex_error(matcher)
                if error:
                    self.problem((*path, label), f"invalid regular expression {value!r}: {error}")
                    continue
            matchers.append(matcher)
        return tuple(sorted(matchers, key=lambda m: (m.label, m.op, m.value)))


@lru_cache(maxsize=4096)
def _regex_error(matcher: Matcher) -> str | None:
    """What the PromQL parser (RE2-like regex syntax) says of a regex matcher, or None."""
    try:
        promql_parser.parse("perfdash_check{" + matcher.promql() + "}")
    except ValueError as exc:
        return str(exc)
    return None
