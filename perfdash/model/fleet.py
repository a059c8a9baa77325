"""The validated, frozen model every generator reads.

perfdash/v1 YAML is the user's contract; this module is internal and may change
freely. Everything here is already checked: generators never re-validate.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import Literal

from perfdash.durations import Duration
from perfdash.errors import Problem

Severity = Literal["page", "ticket"]
MatchOp = Literal["=", "!=", "=~", "!~"]


@dataclass(frozen=True)
class Matcher:
    label: str
    op: MatchOp
    value: str

    def promql(self) -> str:
        return f"{self.label}{self.op}{_quote(self.value)}"


@lru_cache(maxsize=65536)
def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def quote_label_value(value: str) -> str:
    """A PromQL/Prometheus double-quoted string literal."""
    return _quote(value)


def series_selector(metric: str, matchers: Iterable[Matcher]) -> str:
    """``metric{label="value", ...}``: a PromQL vector selector."""
    return f"{metric}{{{', '.join(m.promql() for m in matchers)}}}"


@dataclass(frozen=True)
class AlertWindow:
    """One multiwindow pair of the policy: fires when both windows burn too fast."""

    severity: Severity
    long: Duration
    short: Duration
    budget_fraction: Decimal  # share of the whole budget consumed over ``long``, e.g. 0.02

    def burn_factor(self, slo_window: Duration) -> Fraction:
        """Burn rate threshold: budget share x SLO window / long window (SRE Workbook)."""
        return _burn_factor(self.budget_fraction, slo_window.seconds, self.long.seconds)


@lru_cache(maxsize=4096)
def _burn_factor(share: Decimal, slo_seconds: int, long_seconds: int) -> Fraction:
    # Cached: a fleet has a handful of policies and SLO windows, and Fraction arithmetic
    # is slow enough to show in a large fleet's load time. Fractions are immutable.
    return Fraction(share) * slo_seconds / long_seconds


@dataclass(frozen=True)
class Annotations:
    summary: str
    description: str
    extra: tuple[tuple[str, str], ...] = ()  # any other annotation: name, template


@dataclass(frozen=True)
class Alerting:
    name: str
    page: bool
    ticket: bool
    for_: Duration | None
    labels: tuple[tuple[str, str], ...]
    annotations: Annotations
    windows: tuple[AlertWindow, ...]
    missing_data: bool
    missing_data_for: Duration
    # Values of the ``severity`` label per tier (``alerting.severity``).
    severity_page: str = "page"
    severity_ticket: str = "ticket"

    def severity_label(self, tier: str) -> str:
        """The ``severity`` label of the ``tier`` (page or ticket) alerts."""
        return self.severity_page if tier == "page" else self.severity_ticket

    def enabled_windows(self) -> tuple[AlertWindow, ...]:
        return tuple(
            w for w in self.windows if (self.page if w.severity == "page" else self.ticket)
        )


@dataclass(frozen=True)
class EventsSLI:
    total: str
    bad: tuple[Matcher, ...]
    matchers: tuple[Matcher, ...] = ()
    kind: Literal["events"] = "events"


@dataclass(frozen=True)
class LatencySLI:
    histogram: str
    threshold: Decimal
    matchers: tuple[Matcher, ...] = ()
    kind: Literal["latency"] = "latency"


# In raw SLIs, replaced by each window the rules need (``rate(x[{{ window }}])``).
WINDOW_PLACEHOLDER = re.compile(r"\{\{\s*window\s*\}\}")


@dataclass(frozen=True)
class RawSLI:
    bad: str  # PromQL with {{ window }}
    total: str
    kind: Literal["raw"] = "raw"


SLI = EventsSLI | LatencySLI | RawSLI


@dataclass(frozen=True)
class SLO:
    name: str
    objective: Decimal  # percent, 0 < objective < 100
    window: Duration
    sli: SLI
    grouping: tuple[str, ...]
    alerting: Alerting
    description: str = ""
    runbook: str | None = None  # this SLO's own runbook URL (else <service runbook>#<slo>)

    @cached_property
    def error_budget(self) -> Decimal:
        """Allowed bad-event ratio: 99.9 -> 0.001 (exact). Cached: every generator asks."""
        return (Decimal(100) - self.objective) / Decimal(100)

    @property
    def objective_ratio(self) -> Decimal:
        return self.objective / Decimal(100)


@dataclass(frozen=True)
class RED:
    requests: str
    errors: tuple[Matcher, ...]
    duration: str | None


@dataclass(frozen=True)
class Baseline:
    benchmark: str
    metrics: tuple[str, ...]
    thresholds: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class Receivers:
    """Alertmanager receiver names per severity."""

    page: str
    ticket: str


@dataclass(frozen=True)
class Timing:
    group_wait: Duration
    group_interval: Duration
    repeat_interval: Duration


# Alertmanager timings per severity when a Team does not say.
DEFAULT_TIMINGS = {
    "page": Timing(Duration.parse("30s"), Duration.parse("5m"), Duration.parse("4h")),
    "ticket": Timing(Duration.parse("5m"), Duration.parse("30m"), Duration.parse("24h")),
}


@dataclass(frozen=True)
class Team:
    """Where a team's alerts go (a ``kind: Team`` declaration)."""

    name: str
    receivers: Receivers
    page_timing: Timing
    ticket_timing: Timing
    source: str


@dataclass(frozen=True)
class Service:
    name: str
    team: str
    tier: int
    runbook: str | None
    labels: tuple[tuple[str, str], ...]
    selector: tuple[Matcher, ...]
    red: RED | None
    slos: tuple[SLO, ...]
    baselines: tuple[Baseline, ...]
    source: str  # the file it was declared in, relative, for headers and messages
    description: str = ""
    dashboard_jsonnet: str | None = None  # absolute path of a declared dashboard override
    routing: Receivers | None = None  # overrides the team's receivers
    # Evaluation interval of the long-window rule groups (see prometheus.rules).
    long_window_interval: Duration = field(default_factory=lambda: Duration(60))
    # Put in front of every series this service's rules record (spec.rules.series_prefix):
    # names that cannot collide with another tool's while both run (docs/import.md).
    series_prefix: str = ""

    def series(self, name: str) -> str:
        """The name this service records ``name`` (a ``perfdash.conventions`` series) under."""
        return self.series_prefix + name

    @property
    def has_alerts(self) -> bool:
        return any(slo.alerting.enabled_windows() or slo.alerting.missing_data for slo in self.slos)

    @property
    def priority(self) -> str:
        return f"P{self.tier}"

    def slo(self, name: str) -> SLO:
        for slo in self.slos:
            if slo.name == name:
                return slo
        raise KeyError(name)


@dataclass(frozen=True)
class Fleet:
    services: tuple[Service, ...] = field(default_factory=tuple)
    teams: tuple[Team, ...] = field(default_factory=tuple)
    # Problems reported as warnings (e.g. a missing runbook with --missing-runbook=warn).
    warnings: tuple[Problem, ...] = field(default_factory=tuple)

    def team(self, name: str) -> Team:
        for team in self.teams:
            if team.name == name:
                return team
        raise KeyError(name)

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    @property
    def slo_count(self) -> int:
        return sum(len(s.slos) for s in self.services)
