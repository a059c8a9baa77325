"""PromQL fragments for each SLI kind: the raw-counter side of the recording rules.

Names of the recorded series are defined here once; rules, tests and dashboards
import them rather than spelling them again.
"""

from __future__ import annotations

import re
from decimal import Decimal

from perfdash.durations import Duration
from perfdash.model.fleet import (
    SLO,
    WINDOW_PLACEHOLDER,
    EventsSLI,
    LatencySLI,
    Matcher,
    RawSLI,
    Service,
    series_selector,
)
from perfdash.numbers import format_decimal


def by_clause(slo: SLO) -> str:
    """``sum by (route) `` for grouped SLOs, plain ``sum`` otherwise: prefix of ``(expr)``."""
    return f"sum by ({', '.join(slo.grouping)}) " if slo.grouping else "sum"


def on_clause(slo: SLO) -> str:
    return f"on ({', '.join(slo.grouping)})"


def le_regex(threshold: Decimal) -> str:
    """Regex matching every way an exporter or Prometheus writes the bucket boundary.

    Prometheus 2 keeps ``le`` as exposed (``1`` from Go clients, ``1.0`` from Python's);
    Prometheus 3 normalises it to ``1.0``. Matching all decimal spellings of the same
    number works on both, and on mixed fleets.
    """
    plain = format_decimal(threshold)
    escaped = re.escape(plain)
    pattern = escaped + (r"(\.0+)?" if "." not in plain else "0*")
    alternatives = [pattern]
    scientific = repr(float(threshold))
    if "e" in scientific:
        alternatives.append(re.escape(scientific))
    return "|".join(alternatives)


def _sum(slo: SLO, expr: str) -> str:
    return f"{by_clause(slo)}({expr})"


def total_rate(service: Service, slo: SLO, window: Duration) -> str:
    """Events per second over ``window``, from raw series."""
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        series = series_selector(sli.total, (*service.selector, *sli.matchers))
        return _sum(slo, f"rate({series}[{window}])")
    if isinstance(sli, LatencySLI):
        series = series_selector(sli.histogram + "_count", (*service.selector, *sli.matchers))
        return _sum(slo, f"rate({series}[{window}])")
    return _sum(slo, render_raw(sli.total, window))


def bad_rate(service: Service, slo: SLO, window: Duration) -> str:
    """Bad events per second over ``window``, from raw series (may be empty: no errors yet)."""
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        series = series_selector(sli.total, (*service.selector, *sli.matchers, *sli.bad))
        return _sum(slo, f"rate({series}[{window}])")
    if isinstance(sli, LatencySLI):
        return f"{total_rate(service, slo, window)} - {good_latency_rate(service, slo, window)}"
    assert isinstance(sli, RawSLI)
    return _sum(slo, render_raw(sli.bad, window))


def good_latency_rate(service: Service, slo: SLO, window: Duration) -> str:
    """Requests per second at or under the latency threshold: the ``le`` bucket's rate."""
    sli = slo.sli
    assert isinstance(sli, LatencySLI)
    le = Matcher("le", "=~", le_regex(sli.threshold))
    series = series_selector(sli.histogram + "_bucket", (*service.selector, *sli.matchers, le))
    return _sum(slo, f"rate({series}[{window}])")


def render_raw(query: str, window: Duration) -> str:
    return WINDOW_PLACEHOLDER.sub(str(window), query.strip())
