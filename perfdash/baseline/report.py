"""A comparison report as text: a table for terminals, Markdown for PR comments, JSON. Pure.

The first line after the title answers the question ("regression in p95" or "no
regression"), naming the gates; the table then lists the gates before the informative
metrics, each with its change, the interval of the change, its adjusted p-value and its
verdict; the reasons follow, one line per metric.
"""

from __future__ import annotations

import json
import math
from typing import Any

from perfdash.baseline.compare import Report, RunSet

FORMATS = ("table", "markdown", "json")
HEADER = ["metric", "role", "baseline", "candidate", "change", "90% CI", "p (adj.)", "verdict"]


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    metrics = report.metric_dicts()
    rows = [_cells(m) for m in metrics]
    title = (
        f"{report.benchmark}: {_describe(report.candidate)} vs baseline "
        f"{_describe(report.baseline)}"
    )
    headline = summary_line(report)
    reasons = [f"{m['metric']}: {m['reason']}" for m in metrics]
    if fmt == "markdown":
        lines = [f"### {title}", "", f"**{headline}**", "", _md_row(HEADER)]
        lines += [_md_row(["---"] * len(HEADER)), *(_md_row(row) for row in rows)]
        lines += ["", *(f"- {reason}" for reason in reasons)]
        if report.warnings:
            lines += ["", "**Warnings**", "", *(f"- {w}" for w in report.warnings)]
        return "\n".join(lines) + "\n"
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = [title, "", headline, ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in [HEADER, *rows]]  # fmt: skip
    lines += ["", *reasons]
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines) + "\n"


def summary_line(report: Report) -> str:
    """``REGRESSION in p95, rps (gates: p95, error_rate, rps)`` or ``no regression ...``."""
    gates = [v.test.metric for v in report.verdicts if v.gate]
    listed = f"(gates: {', '.join(gates)})"
    if report.regressions:
        return f"REGRESSION in {', '.join(v.test.metric for v in report.regressions)} {listed}"
    open_gates = [v.test.metric for v in report.verdicts
                  if v.gate and v.verdict in ("inconclusive", "too noisy")]  # fmt: skip
    if open_gates:
        return (
            f"no regression found, but {', '.join(open_gates)} could not be judged "
            f"(inconclusive or too noisy) {listed}"
        )
    return f"no regression {listed}"


def _describe(run_set: RunSet) -> str:
    """``branch main (last 7d): 10 runs, 1, 2, 3 ... 10``; explicit ids are said once."""
    if run_set.label.startswith(("runs ", "pinned runs ")):
        return run_set.label
    ids = run_set.ids
    listed = ", ".join(map(str, ids))
    if len(ids) > 8:
        listed = f"{', '.join(map(str, ids[:3]))} ... {ids[-1]}"
    return f"{run_set.label}: {len(ids)} run{'s' if len(ids) != 1 else ''}, {listed}"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _cells(metric: dict[str, Any]) -> list[str]:
    unit = metric["unit"]
    p = metric["p_adjusted"]
    return [
        metric["metric"],
        "gate" if metric["gate"] else "info",
        _value(metric["baseline"], unit),
        _value(metric["candidate"], unit),
        _change(metric, metric["change_pct"], metric["change"]),
        _interval(metric),
        "n/a" if p is None else f"{p:.3g}",
        metric["verdict"],
    ]


def _change(metric: dict[str, Any], pct: float | None, amount: float | None) -> str:
    if amount is not None and metric["unit"] == "percentunit":
        return f"{amount * 100:+.2f} pts"
    if amount is not None and pct is None:
        return f"{amount:+.4g}"
    return "n/a" if pct is None else f"{pct:+.1f}%"


def _interval(metric: dict[str, Any]) -> str:
    if metric["change"] is None:  # relative (log scale)
        low, high = metric["change_low_pct"], metric["change_high_pct"]
        if low is None or high is None:
            return "n/a"
        return f"{low:+.1f}% to {high:+.1f}%"
    low, high = metric["change_low"], metric["change_high"]
    if low is None or high is None:
        return "n/a"
    if metric["unit"] == "percentunit":
        return f"{low * 100:+.2f} to {high * 100:+.2f} pts"
    return f"{low:+.4g} to {high:+.4g}"


def _value(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return str(value)
    if unit == "percentunit":
        return f"{value * 100:.2f}%"
    if unit in ("ms", "s"):
        return f"{value:.4g} {unit}"
    return f"{value:.4g}"
