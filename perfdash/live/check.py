"""``perfdash check``: do the declarations measure anything on this Prometheus?

For every SLO (and the RED metrics): each metric exists and its series match the
service's selector, every label a matcher or ``grouping`` names is on the metric, a
latency threshold is one of the histogram's ``le`` boundaries, raw PromQL returns data.
Names people get wrong get a hint: a counter without its ``_total`` or with it twice, a
metric that is not a classic histogram, a typo close to a real name (a histogram given
with ``_bucket`` never gets here: validation refuses it). Problems are located
at the declaration's FILE:LINE:COL, like ``perfdash validate``'s.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

from perfdash.durations import Duration
from perfdash.errors import Problem, SpecError
from perfdash.live.prometheus import PrometheusAPI
from perfdash.model.fleet import (
    SLO,
    WINDOW_PLACEHOLDER,
    EventsSLI,
    Fleet,
    LatencySLI,
    Matcher,
    RawSLI,
    Service,
    series_selector,
)
from perfdash.numbers import format_decimal
from perfdash.spec.document import Document, PathKey
from perfdash.spec.load import load_file

CHECK_WINDOW = Duration.parse("5m")
SHOWN_VALUES = 8
_SUFFIXES = ("_total", "_bucket", "_count", "_sum")


@dataclass
class CheckReport:
    url: str
    checked_slos: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class _Where:
    """Locates findings in the declaration file of a service."""

    service: Service
    document: Document | None

    def problem(self, path: PathKey, message: str) -> Problem:
        if self.document is None:
            return Problem(self.service.source, 0, 0, _dotted(path), message)
        return self.document.problem(path, message)


def check_fleet(fleet: Fleet, api: PrometheusAPI, *, root: Path | None = None) -> CheckReport:
    """Compare every service of ``fleet`` with what ``api`` has now."""
    report = CheckReport(api.url)
    live = _Live(api)
    for service in fleet.services:
        where = _Where(service, _document_of(service, root))
        _Checker(service, live, where, report).run()
    return report


def _document_of(service: Service, root: Path | None) -> Document | None:
    path = Path(service.source)
    if root is not None and not path.is_absolute():
        path = root / path
    try:
        documents = load_file(path, display_name=service.source)
    except SpecError:  # positions are a nicety: the check goes on without them
        return None
    for document in documents:
        data = document.data
        if isinstance(data, dict) and (data.get("metadata") or {}).get("name") == service.name:
            return document
    return None


def _dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class _Live:
    """Prometheus answers, each asked once."""

    def __init__(self, api: PrometheusAPI) -> None:
        self.api = api
        self.count = cache(api.count)
        self.query = api.query
        self._names: dict[str, list[str]] = {}

    def names(self, selector: str) -> list[str]:
        if selector not in self._names:
            self._names[selector] = self.api.label_values(
                "__name__", [selector] if selector else []
            )
        return self._names[selector]

    def label_values(self, label: str, selector: str) -> list[str]:
        return self.api.label_values(label, [selector])

    def labels_of(self, selector: str) -> list[str]:
        found: set[str] = set()
        for series in self.api.series([selector])[:500]:
            found.update(series)
        return sorted(found - {"__name__"})


def _selector(metric: str, matchers: Iterable[Matcher]) -> str:
    return series_selector(metric, list(matchers))


class _Checker:
    def __init__(self, service: Service, live: _Live, where: _Where, report: CheckReport) -> None:
        self.service = service
        self.live = live
        self.where = where
        self.report = report

    def error(self, path: PathKey, message: str) -> None:
        self.report.problems.append(self.where.problem(path, message))

    def warn(self, path: PathKey, message: str) -> None:
        self.report.warnings.append(self.where.problem(path, message))

    def run(self) -> None:
        red = self.service.red
        if red is not None:
            self.metric(red.requests, (), ("spec", "red", "requests"))
            if red.duration:
                self.histogram(red.duration, (), None, ("spec", "red", "duration"))
        for index, slo in enumerate(self.service.slos):
            self.report.checked_slos += 1
            self.slo(slo, ("spec", "slos", index))

    def slo(self, slo: SLO, path: PathKey) -> None:
        sli = slo.sli
        if isinstance(sli, EventsSLI):
            base = (*path, "sli", "events")
            if self.metric(
                sli.total,
                sli.matchers,
                (*base, "total"),
                grouping=slo.grouping,
                grouping_path=(*path, "grouping"),
            ):
                self.bad(sli, (*base, "bad"))
        elif isinstance(sli, LatencySLI):
            base = (*path, "sli", "latency")
            self.histogram(
                sli.histogram,
                sli.matchers,
                sli.threshold,
                (*base, "histogram"),
                grouping=slo.grouping,
                grouping_path=(*path, "grouping"),
            )
        else:
            self.raw(slo, sli, (*path, "sli", "raw"))

    # -- metrics and selectors ------------------------------------------------------

    def metric(
        self,
        name: str,
        matchers: Sequence[Matcher],
        path: PathKey,
        *,
        grouping: Sequence[str] = (),
        grouping_path: PathKey = (),
        kind: str = "metric",
    ) -> bool:
        """True when ``name`` has series matching the selector and ``matchers``."""
        selector = self.service.selector
        if self.live.count(_selector(name, (*selector, *matchers))):
            self.labels(name, [*selector, *matchers], grouping, grouping_path)
            return True
        if not self.live.count(_selector(name, ())):
            self.error(path, f"{kind} {name} has no series in Prometheus{self.hint(name)}")
            return False
        for matcher in (*selector, *matchers):
            if not self.live.count(_selector(name, (matcher,))):
                values = self.live.label_values(matcher.label, _selector(name, ()))
                shown = (
                    _values(values)
                    if values
                    else f"no series of {name} has a {matcher.label} label"
                )
                where = ("spec", "selector", matcher.label) if matcher in selector else path
                self.error(
                    where,
                    f"no series of {name} matches {{{matcher.promql()}}}: "
                    + (f"{matcher.label} is one of {shown}" if values else shown),
                )
                return False
        self.error(
            path,
            f"no series of {name} matches all of {_selector(name, (*selector, *matchers))} "
            "at once (each matcher matches some)",
        )
        return False

    def labels(
        self, name: str, matchers: Sequence[Matcher], grouping: Sequence[str], path: PathKey
    ) -> None:
        for index, label in enumerate(grouping):
            if not self.live.count(_selector(name, (*matchers, Matcher(label, "!=", "")))):
                have = ", ".join(self.live.labels_of(_selector(name, matchers)))
                self.error((*path, index), f"label {label} is not on {name} (its labels: {have})")

    def bad(self, sli: EventsSLI, path: PathKey) -> None:
        selector = (*self.service.selector, *sli.matchers)
        for matcher in sli.bad:
            if not self.live.count(
                _selector(sli.total, (*selector, Matcher(matcher.label, "!=", "")))
            ):
                have = ", ".join(self.live.labels_of(_selector(sli.total, selector)))
                self.error(
                    (*path, matcher.label),
                    f"label {matcher.label} is not on {sli.total} (its labels: {have}): no "
                    "request would ever count as bad",
                )
                return
        if not self.live.count(_selector(sli.total, (*selector, *sli.bad))):
            values = {
                m.label: _values(self.live.label_values(m.label, _selector(sli.total, selector)))
                for m in sli.bad
            }
            seen = "; ".join(f"{label} is one of {shown}" for label, shown in values.items())
            self.warn(
                path,
                f"no series of {sli.total} matches the bad matchers yet ({seen}): fine if "
                "no request failed since the service started, else check the pattern",
            )

    def histogram(
        self,
        name: str,
        matchers: Sequence[Matcher],
        threshold: Decimal | None,
        path: PathKey,
        *,
        grouping: Sequence[str] = (),
        grouping_path: PathKey = (),
    ) -> None:
        # (a name ending in _bucket, _count or _sum is refused by validation already)
        bucket = name + "_bucket"
        if not self.live.count(_selector(bucket, ())) and self.live.count(_selector(name, ())):
            self.error(
                path,
                f"{name} has series but no {bucket}: it is not a classic histogram "
                "(a native histogram or a summary cannot give a latency SLI)",
            )
            return
        if not self.metric(
            bucket, matchers, path, grouping=grouping, grouping_path=grouping_path, kind="histogram"
        ):
            return
        if threshold is None:
            return
        selector = _selector(bucket, (*self.service.selector, *matchers))
        boundaries = self.live.label_values("le", selector)
        numbers = {text: _number(text) for text in boundaries}
        if any(value == threshold for value in numbers.values()):
            return
        finite = sorted((v, t) for t, v in numbers.items() if v is not None and v.is_finite())
        listed = ", ".join(text for _, text in finite) or "none"
        nearest = min(finite, key=lambda item: abs(item[0] - threshold), default=None)
        hint = f" (nearest: {nearest[1]})" if nearest else ""
        self.error(
            (*path[:-1], "threshold"),
            f"{format_decimal(threshold)} is not a bucket boundary of {name}: its le values "
            f"are {listed}{hint}; between boundaries the SLI measures nothing",
        )

    def raw(self, slo: SLO, sli: RawSLI, path: PathKey) -> None:
        for side, query in (("total", sli.total), ("bad", sli.bad)):
            rendered = WINDOW_PLACEHOLDER.sub(str(CHECK_WINDOW), query.strip())
            result = self.live.query(rendered)
            if result:
                continue
            if side == "total":
                self.error(
                    (*path, side),
                    f"returns no data over {CHECK_WINDOW} (evaluated as {rendered}): the SLO "
                    "would measure nothing",
                )
            else:
                self.warn(
                    (*path, side),
                    f"returns no data over {CHECK_WINDOW}: fine if no bad event happened "
                    "lately, else check the query",
                )

    # -- hints ----------------------------------------------------------------------

    def hint(self, name: str) -> str:
        selector = series_selector("", self.service.selector) if self.service.selector else ""
        names = self.live.names(selector) or self.live.names("")
        for suffix in _SUFFIXES:
            if name.endswith(suffix + suffix):
                return f": {suffix} is given twice; did you mean {name.removesuffix(suffix)}?"
            if name + suffix in names and suffix == "_total":
                return f": did you mean {name}_total (counters end in _total)?"
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.8)
        return f"; did you mean {close[0]}?" if close else ""


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace("+Inf", "Infinity"))
    except InvalidOperation:
        return None


def _values(values: Sequence[str]) -> str:
    shown = ", ".join(values[:SHOWN_VALUES])
    more = f" and {len(values) - SHOWN_VALUES} more" if len(values) > SHOWN_VALUES else ""
    return f"[{shown}{more}]"
