"""What an importer builds: perfdash/v1 services in the making, each value tied to where
its source was written, with the comments and behaviour changes a reviewer should see.

An importer reads a foreign document (with positions, ``perfdash.spec.load``) and fills
``ServiceDraft``s. ``SLODraft.sli`` is a candidate, not yet YAML: the service's shared
``spec.selector`` is only known once every SLO of the service is in (``assemble``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from perfdash.errors import Problem
from perfdash.model.fleet import Matcher, MatchOp
from perfdash.numbers import format_decimal
from perfdash.spec.document import Document, PathKey, format_path


@dataclass(frozen=True)
class Origin:
    """Where a value came from in the imported file."""

    file: str
    line: int
    column: int
    field: str

    @classmethod
    def of(cls, document: Document, path: Iterable[str | int]) -> Origin:
        path = tuple(path)
        where = document.position(path)
        return cls(document.file, where.line, where.column, format_path(path))

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, self.column, self.field, message)


@dataclass(frozen=True)
class Change:
    """A difference in behaviour between the old tool and perfdash, for ``--explain``."""

    service: str
    slo: str  # "" when it concerns the whole service
    text: str


# -- SLI candidates -------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """A metric name and its label matchers (``__name__`` taken out)."""

    metric: str
    matchers: tuple[Matcher, ...]

    def without(self, label: str) -> tuple[Matcher, ...]:
        return tuple(m for m in self.matchers if m.label != label)


@dataclass(frozen=True)
class EventsCandidate:
    total: Series
    bad: tuple[Matcher, ...]


@dataclass(frozen=True)
class LatencyCandidate:
    histogram: str
    threshold: Decimal
    matchers: tuple[Matcher, ...]


@dataclass(frozen=True)
class RawCandidate:
    bad: str  # PromQL with {{ window }}
    total: str


SLICandidate = EventsCandidate | LatencyCandidate | RawCandidate


@dataclass
class SLODraft:
    name: str
    origin: Origin  # where the SLO is declared
    objective: Decimal
    window: str
    sli: SLICandidate
    sli_origin: Origin
    description: str = ""
    runbook: str | None = None
    grouping: tuple[str, ...] = ()
    alerting: dict[str, Any] = field(default_factory=dict)
    # perfdash field (relative to the SLO, e.g. ("alerting", "name")) -> source
    origins: dict[PathKey, Origin] = field(default_factory=dict)
    # comment lines written above a field of the SLO (() for above the SLO itself)
    comments: dict[PathKey, list[str]] = field(default_factory=dict)

    def comment(self, path: PathKey, text: str) -> None:
        self.comments.setdefault(path, []).append(text)


@dataclass
class ServiceDraft:
    name: str
    origin: Origin
    source_format: str  # "Sloth prometheus/v1", shown in the file's header
    team: str = ""
    tier: int | None = None
    runbook: str | None = None
    description: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    slos: list[SLODraft] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # imported files, in order
    origins: dict[PathKey, Origin] = field(default_factory=dict)
    comments: dict[PathKey, list[str]] = field(default_factory=dict)

    def comment(self, path: PathKey, text: str) -> None:
        self.comments.setdefault(path, []).append(text)


# -- assembling a perfdash/v1 document ------------------------------------------------


@dataclass(frozen=True)
class Assembled:
    """One service as a perfdash/v1 document, with its comments and the source of each
    field (both keyed by path in the document)."""

    name: str
    team: str
    data: dict[str, Any]
    comments: Mapping[PathKey, list[str]]
    origins: Mapping[PathKey, Origin]
    header: tuple[str, ...]


def assemble(
    draft: ServiceDraft,
    *,
    team: str,
    tier: int,
    runbook: str | None,
    series_prefix: str | None = None,
) -> Assembled:
    """The perfdash/v1 document of ``draft``: the selector every SLO shares moves to
    ``spec.selector``; each SLO keeps the rest as ``matchers``."""
    selector = _shared_matchers(draft.slos)
    metadata: dict[str, Any] = {"name": draft.name, "team": team, "tier": tier}
    if runbook:
        metadata["runbook"] = runbook
    if draft.description:
        metadata["description"] = draft.description
    if draft.labels:
        metadata["labels"] = dict(sorted(draft.labels.items()))
    comments: dict[PathKey, list[str]] = {k: list(v) for k, v in draft.comments.items()}
    origins: dict[PathKey, Origin] = {(): draft.origin, **draft.origins}
    slos = []
    for index, slo in enumerate(draft.slos):
        base: PathKey = ("spec", "slos", index)
        slos.append(_slo_document(slo, selector))
        origins[base] = slo.origin
        origins[(*base, "name")] = slo.origin
        origins[(*base, "sli")] = slo.sli_origin
        for path, origin in slo.origins.items():
            origins[(*base, *path)] = origin
        for path, lines in slo.comments.items():
            comments.setdefault((*base, *path), []).extend(lines)
    spec: dict[str, Any] = {"selector": matcher_mapping(selector, default="=")}
    if series_prefix:
        spec["rules"] = {"series_prefix": series_prefix}
        comments[("spec", "rules")] = [
            "Recorded series renamed while the old tool's rules still run beside these: drop",
            "it (dashboards and alerts follow) once they are gone. See docs/import.md.",
        ]
    if slos:
        spec["slos"] = slos
    data = {"apiVersion": "perfdash/v1", "kind": "Service", "metadata": metadata, "spec": spec}
    files = ", ".join(dict.fromkeys(draft.sources))
    header = (f"Imported from {files} ({draft.source_format}) by `perfdash import`.",)
    return Assembled(draft.name, team, data, comments, origins, header)


def _slo_document(slo: SLODraft, selector: tuple[Matcher, ...]) -> dict[str, Any]:
    document: dict[str, Any] = {"name": slo.name}
    if slo.description:
        document["description"] = slo.description
    if slo.runbook:
        document["runbook"] = slo.runbook
    document["objective"] = slo.objective
    document["window"] = slo.window
    if slo.grouping:
        document["grouping"] = list(slo.grouping)
    document["sli"] = _sli_document(slo.sli, selector)
    if slo.alerting:
        document["alerting"] = slo.alerting
    return document


def _sli_document(sli: SLICandidate, selector: tuple[Matcher, ...]) -> dict[str, Any]:
    if isinstance(sli, EventsCandidate):
        events: dict[str, Any] = {
            "total": sli.total.metric,
            "bad": matcher_mapping(sli.bad, default="=~"),
        }
        extra = [m for m in sli.total.matchers if m not in selector]
        if extra:
            events["matchers"] = matcher_mapping(extra, default="=")
        return {"events": events}
    if isinstance(sli, LatencyCandidate):
        latency: dict[str, Any] = {"histogram": sli.histogram, "threshold": sli.threshold}
        extra = [m for m in sli.matchers if m not in selector]
        if extra:
            latency["matchers"] = matcher_mapping(extra, default="=")
        return {"latency": latency}
    return {"raw": {"bad": sli.bad, "total": sli.total}}


def _selector_of(sli: SLICandidate) -> set[Matcher] | None:
    if isinstance(sli, EventsCandidate):
        return set(sli.total.matchers)
    if isinstance(sli, LatencyCandidate):
        return set(sli.matchers)
    return None  # raw PromQL ignores spec.selector


def _shared_matchers(slos: Iterable[SLODraft]) -> tuple[Matcher, ...]:
    """Matchers every events and latency SLI of the service has: its ``spec.selector``."""
    found = [s for s in (_selector_of(slo.sli) for slo in slos) if s is not None]
    if not found:
        return ()
    shared = set.intersection(*found)
    return tuple(sorted(shared, key=lambda m: (m.label, m.op, m.value)))


_OPERATORS: tuple[MatchOp, ...] = ("=~", "!~", "!=", "=")


def matcher_mapping(matchers: Iterable[Matcher], *, default: MatchOp) -> dict[str, str]:
    """Matchers as perfdash writes them: ``{label: value}``, the operator written in front
    of the value unless it is the field's default (``=`` for selectors, ``=~`` for bad)."""
    mapping = {}
    for matcher in sorted(matchers, key=lambda m: m.label):
        bare = matcher.op == default and not matcher.value.startswith(("=", "!"))
        mapping[matcher.label] = matcher.value if bare else matcher.op + matcher.value
    return mapping


def number_text(value: Decimal) -> str:
    return format_decimal(value)
