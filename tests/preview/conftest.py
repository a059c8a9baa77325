"""The example fleet previewed once per session in the outage scenario, and a browser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from perfdash.errors import ToolError
from perfdash.model.fleet import Fleet
from tests.baseline.conftest import pg_dsn, pg_server, store_dsn  # noqa: F401 (fixtures)
from tests.conftest import IN_CI, REPO, require_binary


@dataclass(frozen=True)
class Previewed:
    folder: Path
    pages: list[Any]  # PreviewPage
    dashboards: dict[str, dict[str, Any]]  # path -> dashboard JSON
    artifacts: dict[str, str]
    prometheus_url: str
    end: float


def require_uplot() -> None:
    from perfdash.preview.assets import find_uplot

    try:
        find_uplot()
    except ToolError as exc:
        if IN_CI:
            pytest.fail(f"{exc}; CI must provide it (make setup)", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def example_artifacts(example_fleet: Fleet) -> dict[str, str]:
    from perfdash.build import build_artifacts

    return build_artifacts(example_fleet, jsonnet_dir=REPO / "dashboards")


@pytest.fixture(scope="session")
def outage_preview(
    example_artifacts: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Previewed]:
    """Every dashboard of the example fleet rendered from a real, backfilled Prometheus
    (outage scenario), which keeps running for the session's other tests."""
    require_binary("prometheus", package="prometheus")
    require_binary("promtool", package="prometheus")
    require_uplot()
    from perfdash.preview.pages import dashboards_in, render_pages
    from perfdash.preview.sources import scenario_source

    folder = tmp_path_factory.mktemp("preview-outage")
    dashboards = dashboards_in(example_artifacts)
    with scenario_source(example_artifacts, "outage", screen_seconds=6 * 3600) as (source, end):
        pages = render_pages(dashboards, source, end=end)
        for page in pages:
            (folder / page.name).write_text(page.html, encoding="utf-8")
        yield Previewed(folder, pages, dashboards, example_artifacts, source.api.url, end)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = require_binary("chromium", package="chromium")
    from testing.browser import chromium

    with chromium(executable) as opened:
        yield opened
