"""Size and drawing time of a preview page: one service dashboard in headless Chromium.

The example fleet's checkout dashboard (27 panels, the largest) is rendered once from the
outage scenario (a Prometheus perfdash backfills), then loaded ``--runs`` times in
Debian's Chromium (Playwright, ``testing.browser``). Printed: the page's size, and the
median and range of the time from navigation start to the first complete drawing (the
page sets ``data-render-ms``), and of the wall time of a load until drawn.

    python -m benchmarks.preview
    python -m benchmarks.preview --runs 3 --dashboard pd-overview
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from testing.browser import chromium, chromium_path

REPO = Path(__file__).resolve().parents[1]
SIZE_GOAL = 1_000_000
RENDER_GOAL_MS = 2000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.preview")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--dashboard", default="pd-checkout")
    parser.add_argument("--scenario", default="outage")
    args = parser.parse_args(argv)
    executable = chromium_path()
    if executable is None:
        print("chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    from perfdash.build import build_artifacts
    from perfdash.preview.pages import dashboards_in, render_pages
    from perfdash.preview.run import select_dashboards
    from perfdash.preview.sources import scenario_source
    from perfdash.spec import load_fleet

    artifacts = build_artifacts(load_fleet([REPO / "slos"]), jsonnet_dir=REPO / "dashboards")
    chosen = select_dashboards(dashboards_in(artifacts), [args.dashboard])
    started = time.perf_counter()
    with scenario_source(artifacts, args.scenario, screen_seconds=6 * 3600) as (source, end):
        backfilled = time.perf_counter() - started
        started = time.perf_counter()
        [page] = render_pages(chosen, source, end=end)
        queried = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / page.name
        path.write_text(page.html, encoding="utf-8")
        size = path.stat().st_size
        drawn, walls = [], []
        with chromium(executable) as browser:
            for _ in range(args.runs):
                started = time.perf_counter()
                loaded = browser.open(path)
                walls.append((time.perf_counter() - started) * 1000)
                drawn.append(float(loaded.page.get_attribute("body", "data-render-ms") or "nan"))
                if loaded.console_errors:
                    print(f"console errors: {loaded.console_errors}", file=sys.stderr)
                    return 1
                loaded.page.close()
    size_text = f"{size / 1e6:.3f} MB (goal <= {SIZE_GOAL / 1e6:g} MB)"
    drawn_text = f"{statistics.median(drawn):.0f} ms ({min(drawn):.0f}-{max(drawn):.0f})"
    wall_text = f"{statistics.median(walls):.0f} ms ({min(walls):.0f}-{max(walls):.0f})"
    setup = f"scenario {backfilled:.1f} s, queries {queried:.2f} s"
    print(f"| {page.name} ({page.panels} panels) | {size_text} | {drawn_text}, goal <= "
          f"{RENDER_GOAL_MS} ms | {wall_text} | {setup} |")  # fmt: skip
    return 0 if size <= SIZE_GOAL and statistics.median(drawn) <= RENDER_GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
