"""See every generated dashboard without a Grafana: offline HTML pages (and pictures).

``preview`` renders each dashboard with data from a Prometheus you name, or from a
scenario (outage, slow burn, healthy) perfdash backfills into a throwaway Prometheus
from the synthetic traffic of the generated promtool tests.
"""

from perfdash.preview.pages import PreviewPage, dashboards_in, render_page, render_pages
from perfdash.preview.run import PreviewResult, preview
from perfdash.preview.scenario import SCENARIOS

__all__ = [
    "SCENARIOS",
    "PreviewPage",
    "PreviewResult",
    "dashboards_in",
    "preview",
    "render_page",
    "render_pages",
]
