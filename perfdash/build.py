"""Compile a fleet into every generated file: ``{relative path: text}``.

Rules, their promtool tests and the service dashboards depend on one service each and
are generated in parallel chunks; the overview needs the whole fleet.

Pure: no file is read or written here. ``perfdash.output`` writes or checks the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfdash.grafana.dashboards import build_overview, build_service_dashboards, dashboard_json
from perfdash.parallel import map_chunks
from perfdash.prometheus.rule_tests import build_rule_test_files
from perfdash.prometheus.rules import build_rule_files
from perfdash.spec.model import Fleet, Service

# Folders whose perfdash-generated files a build owns: it may replace or delete them.
OWNED_DIRS = ("alerts/rules", "alerts/tests", "dashboards")


def build_artifacts(fleet: Fleet, *, jobs: int | None = None) -> dict[str, str]:
    artifacts: dict[str, str] = {}
    for part in map_chunks(_service_artifacts, fleet.services, jobs=jobs):
        artifacts.update(part)
    for path, dashboard in build_overview(fleet).items():
        artifacts[path] = dashboard_json(dashboard)
    return dict(sorted(artifacts.items()))


def _service_artifacts(services: Sequence[Service]) -> dict[str, str]:
    """Files that depend on these services alone (rules and their tests)."""
    subset = Fleet(tuple(services))
    dashboards = {path: dashboard_json(d) for path, d in build_service_dashboards(services).items()}
    return {**build_rule_files(subset), **build_rule_test_files(subset), **dashboards}
