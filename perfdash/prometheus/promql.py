"""PromQL fragments for each SLI kind: the raw-counter side of the recording rules.

Rates over a window feed the short windows (5m to 6h); increases over a range, optionally
shifted back by an offset, feed the tiles the long windows sum (see
``perfdash.model.windows.tile_ranges``).
"""

from __future__ import annotations

import re
from decimal import Decimal

import promql_parser

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
    return _sum(slo, f"rate({_good_latency_series(service, slo)}[{window}])")


def _good_latency_series(service: Service, slo: SLO) -> str:
    sli = slo.sli
    assert isinstance(sli, LatencySLI)
    le = Matcher("le", "=~", le_regex(sli.threshold))
    return series_selector(sli.histogram + "_bucket", (*service.selector, *sli.matchers, le))


def _total_series(service: Service, slo: SLO) -> str:
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        return series_selector(sli.total, (*service.selector, *sli.matchers))
    assert isinstance(sli, LatencySLI)
    return series_selector(sli.histogram + "_count", (*service.selector, *sli.matchers))


def _shifted(window: Duration, offset: Duration | None) -> str:
    return f"[{window}]" + (f" offset {offset}" if offset else "")


def total_increase(
    service: Service, slo: SLO, window: Duration, offset: Duration | None = None
) -> str:
    """Events over ``window`` (ending ``offset`` ago), as ``increase()`` counts them."""
    sli = slo.sli
    if isinstance(sli, RawSLI):
        return _raw_increase(slo, sli.total, window, offset)
    return _sum(slo, f"increase({_total_series(service, slo)}{_shifted(window, offset)})")


def bad_increase(
    service: Service, slo: SLO, window: Duration, offset: Duration | None = None
) -> str:
    """Bad events over ``window`` (ending ``offset`` ago); empty before the first one.

    Not for latency SLIs, whose bad events are total minus ``good_latency_increase``.
    """
    sli = slo.sli
    if isinstance(sli, RawSLI):
        return _raw_increase(slo, sli.bad, window, offset)
    assert isinstance(sli, EventsSLI)
    series = series_selector(sli.total, (*service.selector, *sli.matchers, *sli.bad))
    return _sum(slo, f"increase({series}{_shifted(window, offset)})")


def good_latency_increase(
    service: Service, slo: SLO, window: Duration, offset: Duration | None = None
) -> str:
    """Requests at or under the latency threshold over ``window`` (ending ``offset`` ago)."""
    return _sum(slo, f"increase({_good_latency_series(service, slo)}{_shifted(window, offset)})")


def present_groups(service: Service, slo: SLO, offset: Duration) -> str:
    """0 for every group with events in the 5m ending ``offset`` ago: the labels a tile's
    difference needs when its earlier range has no data yet (a group's first tile).
    Ranges, not an instant selector: a scrape outage marks the series stale at once."""
    return f"0 * {total_increase(service, slo, Duration(300), offset)}"


def _raw_increase(slo: SLO, query: str, window: Duration, offset: Duration | None) -> str:
    # Raw queries are rates (per second) over {{ window }}: times the window, events.
    return _sum(slo, f"{render_raw(query, window, offset)} * {window.seconds}")


# ``[{{ window }}]``: where a range can take an offset after its closing bracket.
_BRACKETED_WINDOW = re.compile(r"\[\s*\{\{\s*window\s*\}\}\s*\]")


def tiles_range(window: Duration) -> str:
    """A range holding exactly ``window`` worth of tiles recorded one interval apart:
    ``[23h59m59s999ms]`` for 1d. Prometheus 2 selects ranges closed at both ends, so
    ``[1d]`` would hold one tile more than a day (Prometheus 3's are open at the start)."""
    remaining = window.seconds * 1000 - 1
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) + f"{remaining}ms"


def render_raw(query: str, window: Duration, offset: Duration | None = None) -> str:
    """The raw query over ``window``, evaluated ``offset`` ago when one is given.

    The offset goes after each ``[{{ window }}]``. A query that uses the placeholder
    another way, or already shifts its ranges, is evaluated as a whole at that time
    instead, by a one-step subquery (which costs a second evaluation of the query).
    """
    text = query.strip()
    if offset is None:
        return WINDOW_PLACEHOLDER.sub(str(window), text)
    shifted = _BRACKETED_WINDOW.sub(f"[{window}] offset {offset}", text)
    if not WINDOW_PLACEHOLDER.search(shifted) and _parses(shifted):
        return shifted
    whole = WINDOW_PLACEHOLDER.sub(str(window), text)
    return f"last_over_time(({whole})[1ms:1ms] offset {offset})"


def _parses(query: str) -> bool:
    try:
        promql_parser.parse(query)
    except ValueError:
        return False
    return True
