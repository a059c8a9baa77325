"""``perfdash preview`` from the command line, and the scenarios against what the
generated promtool tests prove."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from perfdash.preview.prometheus_api import PrometheusApi
from perfdash.preview.sources import scenario_source
from perfdash.prometheus.synthetic import selectors_in
from testing.browser import distinct_colours
from tests.conftest import REPO, require_binary
from tests.helpers import run_cli
from tests.preview.conftest import Previewed, require_uplot

FLEET = [str(REPO / "slos"), "--jsonnet-dir", str(REPO / "dashboards")]


def test_an_unknown_dashboard_is_an_error_naming_the_known_ones(tmp_path: Path) -> None:
    result = run_cli(["preview", *FLEET, "--dashboard", "pd-nope", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == (
        "running scenario outage...\nError: no generated dashboard pd-nope (uids: pd-checkout, "
        "pd-email-worker, pd-frontend, pd-ledger, pd-notifications, pd-overview, "
        "pd-payments-flow, pd-search)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_bad_or_unreachable_prometheus_fails_at_once_without_its_password(tmp_path: Path) -> None:
    bad = run_cli(["preview", *FLEET, "--prometheus-url", "ftp://x", "--out", str(tmp_path)])
    assert bad.exit_code == 1
    assert "must be an http(s) URL" in bad.stderr
    down = run_cli(["preview", *FLEET, "--prometheus-url", "http://me:s3cret@127.0.0.1:9",
                    "--out", str(tmp_path)])  # fmt: skip
    assert down.exit_code == 1
    assert down.stderr.startswith(
        "querying Prometheus...\nError: GET http://me:***@127.0.0.1:9/api/v1/query: ConnectError"
    )
    assert "s3cret" not in down.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.integration
def test_preview_of_a_prometheus_url_with_pictures(
    outage_preview: Previewed, tmp_path: Path
) -> None:
    require_binary("chromium", package="chromium")
    result = run_cli(["preview", *FLEET, "--prometheus-url", outage_preview.prometheus_url,
                      "--scrape-interval", "1m", "--dashboard", "pd-checkout", "--png",
                      "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"wrote {tmp_path}/pd-checkout.html (checkout SLOs, 27 panels)",
        f"wrote {tmp_path}/pd-checkout.png",
        f"open {tmp_path}/index.html",
    ]
    html = (tmp_path / "pd-checkout.html").read_text(encoding="utf-8")
    assert "Prometheus at 127.0.0.1" in html
    assert distinct_colours((tmp_path / "pd-checkout.png").read_bytes()) > 200


@pytest.mark.integration
def test_outage_alerts_are_those_the_promtool_tests_expect(outage_preview: Previewed) -> None:
    """At the outage's "now", Prometheus answers each SLO's firing check of its generated
    test with exactly the alerts the test expects."""
    checked = 0
    with PrometheusApi(outage_preview.prometheus_url) as api:
        for path, text in outage_preview.artifacts.items():
            if not path.startswith("alerts/tests/") or path.endswith(".slow-burn.yaml"):
                continue
            outage = next(
                (t for t in yaml.safe_load(text)["tests"] if t["name"].startswith("total outage")),
                None,
            )
            if outage is None:
                continue
            check = next(c for c in outage["promql_expr_test"] if c["exp_samples"])
            answer = api.query(check["expr"], at=outage_preview.end)
            got = sorted(sorted(s.labels.items()) for s in answer)
            expected = sorted(
                sorted({"__name__": "ALERTS", **{m.label: m.value for m in sel.matchers}}.items())
                for sel in (selectors_in(s["labels"])[0] for s in check["exp_samples"])
            )
            assert got == expected, path
            checked += 1
    assert checked >= 8


@pytest.mark.integration
@pytest.mark.parametrize("scenario", ["slow-burn", "healthy"])
def test_slow_burn_and_healthy_fire_nothing(
    scenario: str, example_artifacts: dict[str, str]
) -> None:
    require_binary("prometheus", package="prometheus")
    require_uplot()
    checkout = {
        p: t
        for p, t in example_artifacts.items()
        if "/checkout" in p or p.endswith("/checkout.yaml")
    }
    with scenario_source(checkout, scenario, screen_seconds=6 * 3600) as (source, end):
        api = source.api
        assert api.query('ALERTS{alertstate="firing"}', at=end) == []
        budget = 'slo:error_budget_remaining:ratio{slo="availability"}'
        [now] = api.query(budget, at=end)
        [before] = api.query(budget, at=end - 6 * 3600)
        [burn] = api.query('slo:current_burn_rate:ratio{slo="availability"}', at=end)
    if scenario == "healthy":
        assert now.points[0][1] == before.points[0][1] == 1
        assert burn.points[0][1] == 0
    else:  # 90% of the slowest factor (1x over 3d) for three days: the budget shrinks
        assert 0 < now.points[0][1] < before.points[0][1] < 1
        assert burn.points[0][1] == pytest.approx(0.9, rel=1e-6)


def test_the_pr_workflow_posts_pictures_of_the_changed_dashboards() -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/perfdash-pr.yml").read_text("utf-8"))
    steps = workflow["jobs"]["preview"]["steps"]
    runs = "\n".join(str(step.get("run", "")) for step in steps)
    assert "apt-get install -y -qq --no-install-recommends prometheus chromium" in runs
    assert "npm install --prefix ~/.cache/perfdash --no-audit --no-fund uplot@1.6.32" in runs
    assert 'perfdash preview --scenario outage --png --out preview "${args[@]}"' in runs
    assert "git diff --name-only" in runs  # only the dashboards the pull request changes
    scripts = [s["with"]["script"] for s in steps if "github-script" in str(s.get("uses"))]
    assert scripts and "<!-- perfdash-preview -->" in scripts[0]
