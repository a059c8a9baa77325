"""A comparison as an offline HTML page: every run, the baseline band, the verdict. Pure.

Per compared metric: each baseline and candidate run as a point over time (uPlot, the
same inlined library as ``perfdash preview``), the baseline band (the baseline runs'
range, their median and the regression threshold in the metric's worse direction), the
two run sets' distributions side by side (a strip plot with quartile boxes, SVG), and
the verdict with its reason. Built only on ``Report``'s public fields and the runs'
summaries, so the statistics behind the verdict may change freely.
"""

from __future__ import annotations

import html
import math
import statistics
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import jinja2
import orjson

from perfdash.baseline.compare import Report, RunSet
from perfdash.preview.assets import load_assets

SECTION_PX = 400
HEADER_PX = 220
VERDICT_COLOURS = {
    "regression": "#D55E00",
    "improvement": "#0072B2",
    "no change": "#009E73",
}
BASELINE_COLOUR = "#56B4E9"
CANDIDATE_COLOUR = "#E69F00"


def report_height(report: Report) -> int:
    """CSS pixels the page needs (for a screenshot)."""
    return HEADER_PX + SECTION_PX * max(1, len(report.verdicts)) + 80


def report_page(report: Report, *, markdown_link: str | None = None) -> str:
    """The whole page; ``markdown_link`` is shown as where the Markdown verdict links."""
    metrics = report.metric_dicts()
    sections = [
        _section(index, metric, report.baseline, report.candidate)
        for index, metric in enumerate(metrics)
    ]
    payload = {
        "metrics": [
            {
                "id": f"m{index}",
                "metric": m["metric"],
                "unit": m.get("unit") or "",
                "better": m.get("better") or "lower",
                "threshold_pct": m.get("threshold_pct"),
                "threshold_abs": m.get("threshold_abs"),
                "baseline": _points(report.baseline, m["metric"]),
                "candidate": _points(report.candidate, m["metric"]),
            }
            for index, m in enumerate(metrics)
        ]
    }
    assets = load_assets()
    static = resources.files("perfdash.preview") / "static"
    regressed = ", ".join(v.test.metric for v in report.regressions)  # the gates only
    return _template().render(
        benchmark=report.benchmark,
        headline=f"regression in {regressed}" if regressed else "no regression",
        regressed=bool(regressed),
        candidate=_describe(report.candidate),
        baseline=_describe(report.baseline),
        candidate_colour=CANDIDATE_COLOUR,
        baseline_colour=BASELINE_COLOUR,
        warnings=report.warnings,
        link=markdown_link,
        sections=sections,
        uplot_css=assets.uplot_css,
        uplot_js=assets.uplot_js,
        uplot_version=assets.uplot_version,
        report_css=(static / "report.css").read_text(encoding="utf-8"),
        report_js=(static / "report.js").read_text(encoding="utf-8"),
        payload=_script_json(payload),
    )


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    folder = resources.files("perfdash.preview") / "templates"
    text = (folder / "baseline_report.html.j2").read_text(encoding="utf-8")
    return jinja2.Environment(autoescape=True).from_string(text)


def markdown_with_link(markdown: str, url: str) -> str:
    """The Markdown verdict with a line linking to the HTML report."""
    return markdown.rstrip("\n") + f"\n\n[Every run of every metric, charted]({url})\n"


def _describe(run_set: RunSet) -> str:
    ids = run_set.ids
    listed = ", ".join(map(str, ids[:12])) + (" ..." if len(ids) > 12 else "")
    return f"{run_set.label}: {len(ids)} run{'s' if len(ids) != 1 else ''} ({listed})"


def _points(run_set: RunSet, metric: str) -> list[dict[str, Any]]:
    out = []
    for run in sorted(run_set.runs, key=lambda r: (r.started_at, r.id)):
        value = run.values.get(metric)
        if value is None or not math.isfinite(value):
            continue
        out.append(
            {
                "id": run.id,
                "t": run.started_at.timestamp(),
                "v": value,
                "branch": run.branch or "",
                "sha": (run.git_sha or "")[:10],
            }
        )
    return out


def _section(
    index: int, metric: Mapping[str, Any], baseline: RunSet, candidate: RunSet
) -> dict[str, Any]:
    verdict = str(metric["verdict"])
    unit = str(metric.get("unit") or "")
    change = metric.get("change_pct")
    p = metric.get("p_adjusted")
    name = str(metric["metric"])
    return {
        "id": f"m{index}",
        "metric": name,
        "verdict": verdict,
        "colour": VERDICT_COLOURS.get(verdict, "#8e8e9e"),
        "reason": str(metric.get("reason", "")),
        "facts": [
            ("baseline (median)", _value(metric["baseline"], unit)),
            ("candidate (median)", _value(metric["candidate"], unit)),
            ("change", "n/a" if change is None else f"{change:+.1f}%"),
            ("threshold", _threshold(metric)),
            ("p (adjusted)", "n/a" if p is None else f"{p:.3g}"),
            (
                "runs",
                f"{metric.get('baseline_runs', '?')} baseline, "
                f"{metric.get('candidate_runs', '?')} candidate",
            ),
        ],
        "strip": _strip_plot(_values(baseline, name), _values(candidate, name), unit),
    }


def _values(run_set: RunSet, metric: str) -> list[float]:
    return [v for r in run_set.runs if (v := r.values.get(metric)) is not None and math.isfinite(v)]


def _threshold(metric: Mapping[str, Any]) -> str:
    pct = metric.get("threshold_pct")
    absolute = metric.get("threshold_abs")
    parts = []
    if pct is not None:
        parts.append(f"{pct:g}%")
    if absolute:
        parts.append(_value(absolute, str(metric.get("unit") or "")))
    worse = "higher" if metric.get("better") == "lower" else "lower"
    return f"{' or '.join(parts) or 'n/a'} {worse}"


def _value(value: Any, unit: str) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return str(value)
    if unit == "percentunit":
        return f"{value * 100:.2f}%"
    if unit in ("ms", "s"):
        return f"{value:.4g} {unit}"
    return f"{value:.4g}"


def _strip_plot(baseline: Sequence[float], candidate: Sequence[float], unit: str) -> str:
    """Both run sets on one horizontal value axis: a dot per run, a box from the first
    to the third quartile, a line at the median."""
    values = [*baseline, *candidate]
    if not values:
        return '<p class="empty">No values</p>'
    width, left, right, lane = 520, 90, 40, 60
    low, high = min(values), max(values)
    if high == low:
        low, high = low - (abs(low) or 1) * 0.05, high + (abs(high) or 1) * 0.05
    pad = (high - low) * 0.05
    low, high = low - pad, high + pad

    def x(v: float) -> float:
        return left + (v - low) / (high - low) * (width - left - right)

    parts = []
    for lane_index, (name, runs, colour) in enumerate(
        (("baseline", baseline, BASELINE_COLOUR), ("candidate", candidate, CANDIDATE_COLOUR))
    ):
        mid = 30 + lane_index * lane
        parts.append(f'<text x="8" y="{mid + 4}" class="lane">{name}</text>')
        if len(runs) >= 2:
            q1, median, q3 = statistics.quantiles(runs, n=4, method="inclusive")
            parts.append(
                f'<rect x="{x(q1):.1f}" y="{mid - 14}" width="{max(1.0, x(q3) - x(q1)):.1f}" '
                f'height="28" fill="{colour}" fill-opacity="0.18" stroke="{colour}"/>'
                f'<line x1="{x(median):.1f}" x2="{x(median):.1f}" y1="{mid - 16}" y2="{mid + 16}" '
                f'stroke="{colour}" stroke-width="2"/>'
            )
        for i, value in enumerate(sorted(runs)):
            jitter = ((i * 7) % 5 - 2) * 3
            parts.append(
                f'<circle class="run {name}" cx="{x(value):.1f}" cy="{mid + jitter}" r="4" '
                f'fill="{colour}"><title>{name} run: {html.escape(_value(value, unit))}</title></circle>'
            )
    for k in range(5):
        value = low + (high - low) * k / 4
        label = html.escape(_value(value, unit))
        parts.append(
            f'<text x="{x(value):.1f}" y="{30 + 2 * lane - 8}" class="tick">{label}</text>'
        )
    return (
        f'<svg class="strip" viewBox="0 0 {width} {30 + 2 * lane}" width="{width}" '
        f'height="{30 + 2 * lane}" role="img">{"".join(parts)}</svg>'
    )


def _script_json(payload: Any) -> str:
    text = orjson.dumps(payload).decode()
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")
