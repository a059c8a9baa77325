"""``spec.rules.series_prefix``: a service's recorded series under names that cannot mix
with Sloth's (``slo:sli_error:ratio_rate5m`` with sloth_* labels) while both run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from perfdash.build import build_artifacts
from perfdash.spec import load_fleet
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration

# A recorded-series name as perfdash writes them, with whatever comes before it.
SERIES = re.compile(r"(?P<before>[\w:]*)(?P<name>slo:[a-z_]+:[a-z0-9_]+)")
PREFIXED = (
    MINIMAL_SERVICE.replace(
        "  selector: {job: checkout}\n",
        '  selector: {job: checkout}\n  rules: {series_prefix: "perfdash:"}\n',
    )
    + """\
    - name: latency
      objective: 99
      sli:
        latency: {histogram: http_request_duration_seconds, threshold: 0.3}
"""
)
PLAIN = MINIMAL_SERVICE.replace("name: checkout", "name: search").replace(
    "job: checkout", "job: search"
)


def names_in(text: str) -> set[str]:
    return {m["before"] + m["name"] for m in SERIES.finditer(text)}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    write_declaration(tmp_path / "slos", "checkout.yaml", PREFIXED)
    write_declaration(tmp_path / "slos", "search.yaml", PLAIN)
    return build_artifacts(load_fleet([tmp_path / "slos"], root=tmp_path))


def test_every_series_the_service_records_or_reads_back_is_prefixed(files: dict[str, str]) -> None:
    rules = files["alerts/rules/checkout.yaml"]
    recorded = [
        rule["record"]
        for group in yaml.safe_load(rules)["groups"]
        for rule in group["rules"]
        if "record" in rule
    ]
    assert recorded and all(name.startswith("perfdash:slo:") for name in recorded)
    assert "perfdash:slo:sli_error:ratio_rate5m" in recorded
    # Every reference in the expressions too: none reads an unprefixed (Sloth's) series.
    assert {n for n in names_in(rules) if not n.startswith("perfdash:")} == set()
    dashboard = files["dashboards/payments/checkout.json"]
    assert names_in(dashboard) and all(n.startswith("perfdash:") for n in names_in(dashboard))
    tests = "".join(
        text for path, text in files.items() if path.startswith("alerts/tests/checkout/")
    )
    assert names_in(tests) and all(n.startswith("perfdash:") for n in names_in(tests))


def test_other_services_keep_their_names_and_the_overview_reads_both(
    files: dict[str, str],
) -> None:
    assert all(not n.startswith("perfdash:") for n in names_in(files["alerts/rules/search.yaml"]))
    overview = files["dashboards/overview.json"]
    assert '__name__=~\\"(?:|perfdash:)slo:info\\", team=~\\"$team\\"' in overview
    assert '__name__=~\\"(?:|perfdash:)slo:error_budget_remaining:ratio\\"' in overview


def test_a_prefix_must_start_a_metric_name(tmp_path: Path) -> None:
    write_declaration(
        tmp_path / "slos", "checkout.yaml", PREFIXED.replace('"perfdash:"', '"9-bad"')
    )
    result = run_cli(["validate"], cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: slos/checkout.yaml:10:26: spec.rules.series_prefix: must be the start of a metric "
        "name: letters, digits, _ and :, got '9-bad'\n"
    )


@pytest.mark.integration
def test_the_generated_rule_tests_pass_under_the_prefix(tmp_path: Path) -> None:
    from tests.conftest import require_binary

    require_binary("promtool")
    write_declaration(tmp_path / "slos", "checkout.yaml", PREFIXED)
    assert run_cli(["build"], cwd=tmp_path).exit_code == 0
    tested = run_cli(["test"], cwd=tmp_path)
    assert tested.exit_code == 0, tested.output
