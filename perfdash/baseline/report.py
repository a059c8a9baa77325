"""A comparison report as text: a table for terminals, Markdown for PR comments, JSON. Pure."""

from __future__ import annotations

import json
import math
from typing import Any

from perfdash.baseline.compare import Report, RunSet

FORMATS = ("table", "markdown", "json")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    rows = [_cells(m) for m in report.metric_dicts()]
    header = ["metric", "baseline", "candidate", "change", "p (adj.)", "verdict"]
    title = (
        f"{report.benchmark}: {_describe(report.candidate)} vs baseline "
        f"{_describe(report.baseline)}"
    )
    reasons = [f"{m['metric']}: {m['reason']}" for m in report.metric_dicts()]
    if fmt == "markdown":
        lines = [f"### {title}", "", _md_row(header), _md_row(["---"] * len(header))]
        lines += [_md_row(row) for row in rows]
        lines += ["", *(f"- {reason}" for reason in reasons)]
        if report.warnings:
            lines += ["", "**Warnings**", "", *(f"- {w}" for w in report.warnings)]
        return "\n".join(lines) + "\n"
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [title, ""]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in [header, *rows]]  # fmt: skip
    lines += ["", *reasons]
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines) + "\n"


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
    change = metric["change_pct"]
    if metric["change"] is not None and unit == "percentunit":
        change_text = f"{metric['change'] * 100:+.2f} pts"
    else:
        change_text = "n/a" if change is None else f"{change:+.1f}%"
    p = metric["p_adjusted"]
    return [
        metric["metric"],
        _value(metric["baseline"], unit),
        _value(metric["candidate"], unit),
        change_text,
        "n/a" if p is None else f"{p:.3g}",
        metric["verdict"],
    ]


def _value(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return str(value)
    if unit == "percentunit":
        return f"{value * 100:.2f}%"
    if unit in ("ms", "s"):
        return f"{value:.4g} {unit}"
    return f"{value:.4g}"
