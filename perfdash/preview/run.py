"""``perfdash preview`` as one library call: dashboards in, pages (and pictures) out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfdash.errors import NotFoundError
from perfdash.output import write_file
from perfdash.preview.pages import PreviewPage, dashboards_in, render_pages
from perfdash.preview.panel_data import PrometheusSource, time_range
from perfdash.preview.screenshot import screenshot
from perfdash.preview.sources import prometheus_url_source, scenario_source

PAGE_WIDTH_PX = 1640


@dataclass(frozen=True)
class PreviewResult:
    pages: tuple[PreviewPage, ...]
    written: tuple[Path, ...]
    pictures: tuple[Path, ...]
    source: str


def select_dashboards(
    dashboards: Mapping[str, dict[str, Any]], wanted: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Dashboards whose uid or path is in ``wanted`` (all when empty)."""
    if not wanted:
        return dict(dashboards)
    chosen = {p: d for p, d in dashboards.items() if p in wanted or d.get("uid") in wanted}
    missing = sorted(set(wanted) - set(chosen) - {d.get("uid") for d in chosen.values()})
    if missing:
        known = ", ".join(sorted(str(d.get("uid")) for d in dashboards.values()))
        raise NotFoundError(f"no generated dashboard {', '.join(missing)} (uids: {known})")
    return chosen


def preview(
    artifacts: Mapping[str, str],
    out_dir: Path,
    *,
    dashboards: Sequence[str] = (),
    scenario: str = "outage",
    prometheus_url: str | None = None,
    scrape_seconds: float = 15.0,
    png: bool = False,
    now: float | None = None,
) -> PreviewResult:
    chosen = select_dashboards(dashboards_in(artifacts), dashboards)
    source: AbstractContextManager[tuple[PrometheusSource, float]]
    if prometheus_url:
        source = prometheus_url_source(prometheus_url, scrape_seconds=scrape_seconds)
    else:
        screen = max(
            (round(time_range(d, end=0).end - time_range(d, end=0).start) for d in chosen.values()),
            default=6 * 3600,
        )
        source = scenario_source(artifacts, scenario, screen_seconds=screen, now=now)
    with source as (prometheus, end):
        pages = render_pages(chosen, prometheus, end=end)
        name = prometheus.name
    written = []
    for page in pages:
        target = out_dir / page.name
        write_file(target, page.html)
        written.append(target)
    index = out_dir / "index.html"
    write_file(index, index_html(pages, name))
    written.append(index)
    pictures = []
    if png:
        for page in pages:
            picture = out_dir / page.name.replace(".html", ".png")
            screenshot(out_dir / page.name, picture, width=PAGE_WIDTH_PX, height=page.height)
            pictures.append(picture)
    return PreviewResult(tuple(pages), tuple(written), tuple(pictures), name)


def index_html(pages: Sequence[PreviewPage], source: str) -> str:
    import html

    items = "\n".join(
        f'<li><a href="{html.escape(p.name)}">{html.escape(p.title)}</a> '
        f"<small>{html.escape(p.source_path)}, {p.panels} panels</small></li>"
        for p in pages
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>perfdash preview</title>"
        "<style>body{background:#111217;color:#ccccdc;font:14px/1.5 Arial,sans-serif;margin:24px}"
        "a{color:#6e9fff}small{color:#8e8e9e}</style></head><body>"
        f"<h1>perfdash preview</h1><p>Data: {html.escape(source)}</p><ul>\n{items}\n</ul>"
        "</body></html>\n"
    )
