"""Preview pages of the example fleet, loaded in headless Chromium (outage scenario)."""

from __future__ import annotations

from typing import Any

import pytest

from perfdash.preview.panel_data import walk_panels
from perfdash.preview.prometheus_api import PrometheusApi
from testing.browser import distinct_colours
from tests.preview.conftest import Previewed

pytestmark = pytest.mark.integration

PLOTTED = ("timeseries", "state-timeline", "stat", "bargauge", "table")


def _prometheus_panel(panel: dict[str, Any]) -> bool:
    sources = [
        t.get("datasource") or panel.get("datasource") or {} for t in panel.get("targets", [])
    ]
    return bool(sources) and all(s.get("type", "prometheus") == "prometheus" for s in sources)


def test_every_page_loads_offline_without_console_errors(
    outage_preview: Previewed, browser: Any
) -> None:
    assert {p.name for p in outage_preview.pages} == {
        f"{d['uid']}.html" for d in outage_preview.dashboards.values()
    }
    for page in outage_preview.pages:
        loaded = browser.open(outage_preview.folder / page.name)
        assert loaded.console_errors == [], page.name
        # Self-contained: the page asked for nothing but itself.
        assert [u for u in loaded.requests if not u.startswith("file://")] == [], page.name
        loaded.page.close()


def test_every_panel_is_on_the_page_with_its_title(outage_preview: Previewed, browser: Any) -> None:
    for path, dashboard in outage_preview.dashboards.items():
        loaded = browser.open(outage_preview.folder / f"{dashboard['uid']}.html")
        page = loaded.page
        for row in page.query_selector_all(".pd-row[data-collapsed='true']"):
            row.click()  # a collapsed row's panels appear when it is opened, as in Grafana
        for panel in walk_panels(dashboard["panels"]):
            found = page.query_selector(f"[data-panel-id='{panel['id']}']")
            assert found is not None, f"{path}: panel {panel['id']} {panel.get('title')!r}"
            assert found.get_attribute("data-panel-type") == panel["type"]
            title = found.query_selector(".pd-title")
            assert title is not None
            shown = title.inner_text()
            if "$" not in panel.get("title", ""):
                assert shown == panel.get("title", ""), path
            else:  # variables in titles show their current value
                assert "$" not in shown and shown
            if panel.get("description"):
                info = found.query_selector(".pd-info")
                assert info is not None and info.get_attribute("title")
        page.close()


def test_plotted_panels_have_data_points_and_are_not_blank(
    outage_preview: Previewed, browser: Any
) -> None:
    checked = 0
    for dashboard in outage_preview.dashboards.values():
        loaded = browser.open(outage_preview.folder / f"{dashboard['uid']}.html")
        page = loaded.page
        for panel in walk_panels(dashboard["panels"]):
            if panel["type"] not in PLOTTED or not _prometheus_panel(panel):
                continue
            element = page.query_selector(f"[data-panel-id='{panel['id']}'] .pd-body")
            assert element is not None
            where = f"{dashboard['uid']} panel {panel['id']} {panel['title']!r}"
            if element.query_selector(".pd-nodata") is not None:
                # Only a panel whose series no scenario feeds may be empty (RED metrics
                # that no SLO reads): Prometheus holds none of them.
                assert _absent(outage_preview, panel), where
                continue
            if panel["type"] == "timeseries":
                assert int(element.get_attribute("data-points") or 0) > 10, where
                canvas = element.query_selector("canvas")
                assert canvas is not None, where
                # Lines, fills and axes: a drawn plot has many colours, a blank one 1-2.
                assert distinct_colours(canvas.screenshot()) > 20, where
            elif panel["type"] == "state-timeline" and "firing" not in panel["title"].lower():
                assert int(element.get_attribute("data-states") or 0) > 0, where
            elif panel["type"] in ("stat", "bargauge"):
                values = element.query_selector_all("[data-value]")
                assert values and all(v.get_attribute("data-value") != "" for v in values), where
            elif panel["type"] == "table":
                assert len(element.query_selector_all("tbody tr")) > 0, where
            checked += 1
        page.close()
    assert checked > 50


def _absent(previewed: Previewed, panel: dict[str, Any]) -> bool:
    from perfdash.prometheus.synthetic import selectors_in

    names = {
        s.metric
        for t in panel["targets"]
        for s in selectors_in(t["expr"].replace("$__rate_interval", "5m"))
    }
    with PrometheusApi(previewed.prometheus_url) as api:
        return all(
            not api.query(f'count({{__name__="{name}"}})', at=previewed.end) for name in names
        )


def _panel(dashboard: dict[str, Any], title: str, after_row: str) -> dict[str, Any]:
    in_row = False
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            in_row = panel["title"].startswith(after_row)
        elif in_row and panel["title"] == title:
            return dict(panel)
    raise AssertionError(f"no panel {title!r} after row {after_row!r}")


def _frame_values(page: Any, panel_id: int, frame: int = 0) -> list[float]:
    values: list[float] = page.evaluate(
        """([id, frame]) => {
          const panel = window.PERFDASH_PREVIEW.panels.find(p => p.id === id);
          const data = Object.values(panel.data.variants)[0].frames[frame];
          return data.values.filter(v => v !== null);
        }""",
        [panel_id, frame],
    )
    return values


def test_outage_shows_the_page_firing_and_the_sli_falling(
    outage_preview: Previewed, browser: Any
) -> None:
    dashboard = next(d for d in outage_preview.dashboards.values() if d["uid"] == "pd-checkout")
    loaded = browser.open(outage_preview.folder / "pd-checkout.html")
    page = loaded.page
    firing = _panel(dashboard, "Firing alerts", "SLO availability")
    states = page.query_selector_all(f"[data-panel-id='{firing['id']}'] .pd-state")
    pages = [s for s in states if "page 1h/5m" in (s.get_attribute("title") or "")]
    assert pages and all(s.get_attribute("data-text") == "firing" for s in pages)

    # The 1h SLI reacts first: below the objective (99.9%) when the page fires.
    sli = _panel(dashboard, "SLI vs objective", "SLO availability")
    hourly = _frame_values(page, sli["id"], frame=1)
    assert hourly[0] == pytest.approx(1.0, abs=1e-3) and hourly[-1] < 0.999

    # The budget is summed over the SLO window every 4 minutes (the :budget group), so at
    # the minute the page fires, two minutes into the outage, it may not show it yet:
    # present, healthy before, never rising.
    budget = _panel(dashboard, "Error budget remaining", "SLO availability")
    values = _frame_values(page, budget["id"])
    assert values[0] == pytest.approx(1.0, abs=1e-3)
    assert values[-1] <= values[0]

    stat = _panel(dashboard, "availability: error budget left", "SLOs at a glance")
    shown = page.inner_text(f"[data-panel-id='{stat['id']}'] .pd-stat-value")
    assert shown.endswith("%") and float(shown[:-1]) <= 100
    page.close()


def test_the_overview_team_selector_filters_what_is_shown(
    outage_preview: Previewed, browser: Any
) -> None:
    loaded = browser.open(outage_preview.folder / "pd-overview.html")
    page = loaded.page
    everyone = len(page.query_selector_all(".pd-table tbody tr"))
    page.select_option("select[name='team']", "payments")
    payments = page.query_selector_all(".pd-table tbody tr")
    assert 0 < len(payments) < everyone
    assert all("payments" in row.inner_text() for row in payments)
    # Bars link to the service dashboards' own preview pages.
    links = {a.get_attribute("href") for a in page.query_selector_all(".pd-bar-name")}
    assert links and all(link.startswith("pd-") and link.endswith(".html") for link in links)
    assert loaded.console_errors == []
    page.close()
