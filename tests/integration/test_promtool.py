"""Real promtool on the generated output: it accepts every rule file, the generated unit
tests pass, and they fail when a rule is broken the way people break rules.

Everything runs promtool through ``perfdash.prometheus.promtool`` (the one wrapper).
Only the error paths use ``tests/fakes/promtool``.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfdash import conventions
from perfdash.build import build_artifacts
from perfdash.durations import Duration
from perfdash.errors import PromtoolError, PromtoolNotFound
from perfdash.model.fleet import SLO, Fleet, Service
from perfdash.process import ToolRun
from perfdash.prometheus import promtool, rules
from perfdash.spec import load_fleet
from perfdash.verify import units
from perfdash.verify.rules import run_rule_checks
from testing.fleet import write_fleet
from testing.peer_rules import pyrra_rule_files, sloth_rule_files
from testing.scrape_gaps import (
    GAP_BASELINE,
    GAP_MINUTES,
    REPRESENTATIVE_SLOS,
    gap_phases,
    gap_scenario,
    raw_ratio,
    scraped_samples,
)
from tests.helpers import run_cli, write_generated

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FAKE_PROMTOOL = REPO / "tests" / "fakes" / "promtool"
Rule = dict[str, Any]

# promtool 2.x prints, for each file: "Checking FILE" then "  SUCCESS: N rules found".
CHECKED_FILE = re.compile(r"^Checking (?P<file>\S+)\n\s+SUCCESS: (?P<rules>\d+) rules found$", re.M)
# A failed promql_expr_test: `    expr: "<Go-quoted PromQL>", time: 3h2m,`
FAILED_EXPR = re.compile(r'^\s+expr: (?P<expr>".*"), time: (?P<time>\w+),$', re.M)
# One SLO's line in `perfdash test` output: "PASS  checkout/availability".
SLO_RESULT = re.compile(r"^(PASS|FAIL|SKIP)  [a-z0-9-]+/[a-z0-9-]+(:|$)")
DURATION_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def build_into(fleet: Fleet, out_dir: Path) -> dict[str, str]:
    """Generate ``fleet`` and write it under ``out_dir``, as `perfdash build --out` does."""
    artifacts = build_artifacts(fleet)
    write_generated(out_dir, artifacts)
    return artifacts


def load_yaml(text: str) -> Any:
    """YAML through libyaml when present: the pure-Python loader takes seconds on 200 files."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def rules_per_file(artifacts: dict[str, str]) -> dict[str, int]:
    """Rule count of every generated rule file; each rule is a `record` or an `alert`."""
    counts = {}
    for path, text in artifacts.items():
        if not path.startswith(conventions.RULES_DIR + "/"):
            continue
        rules = [rule for group in load_yaml(text)["groups"] for rule in group["rules"]]
        assert all(("record" in rule) != ("alert" in rule) for rule in rules), path
        counts[path] = len(rules)
    return counts


def promtool_rule_counts(output: str) -> dict[str, int]:
    return {m["file"]: int(m["rules"]) for m in CHECKED_FILE.finditer(output)}


def go_duration_seconds(text: str) -> float:
    """``3h2m`` (promtool's time format) or ``182m`` (a test file's eval_time) in seconds."""
    parts = DURATION_PART.findall(text)
    assert "".join(n + u for n, u in parts) == text, f"not a duration: {text!r}"
    return sum(int(n) * UNIT_SECONDS[u] for n, u in parts)


def failed_scenarios(test_file: Path, output: str) -> set[str]:
    """Names of the scenarios in ``test_file`` whose assertions promtool reported failed.

    promtool 2.42 does not print a failing test's name, only each failing expression and
    its evaluation time; they are mapped back to the scenario that asserts them.
    """
    failed = {
        (json.loads(m["expr"]), go_duration_seconds(m["time"]))
        for m in FAILED_EXPR.finditer(output)
    }
    assert failed, f"promtool reported no failed expression:\n{output}"
    scenarios = load_yaml(test_file.read_text(encoding="utf-8"))["tests"]
    asserted_by = {
        (check["expr"], go_duration_seconds(check["eval_time"])): scenario["name"]
        for scenario in scenarios
        for check in scenario["promql_expr_test"]
    }
    unknown = failed - asserted_by.keys()
    assert not unknown, f"failures no scenario of {test_file} asserts: {unknown}\n{output}"
    return {asserted_by[key] for key in failed}


def scenario_named(test_file: Path, prefix: str) -> str:
    """The one scenario of ``test_file`` whose name starts with ``prefix``."""
    scenarios = load_yaml(test_file.read_text(encoding="utf-8"))["tests"]
    names: list[str] = [s["name"] for s in scenarios if s["name"].startswith(prefix)]
    assert len(names) == 1, f"{test_file}: scenarios starting with {prefix!r}: {names}"
    return names[0]


def run_test_file(out_dir: Path, test_file: str) -> ToolRun:
    return promtool.test_rules([Path(test_file)], cwd=out_dir)


# --- promtool check rules -----------------------------------------------------------------


def assert_promtool_accepts_every_rule_file(fleet: Fleet, out_dir: Path) -> None:
    expected = rules_per_file(build_into(fleet, out_dir))
    assert len(expected) == sum(1 for s in fleet.services if s.slos)

    checked = promtool.check_rules([Path(p) for p in expected], cwd=out_dir)

    assert checked.ok
    assert promtool_rule_counts(checked.output) == expected, checked.output


def test_promtool_accepts_every_rule_file_of_the_example_fleet(
    promtool_bin: str, example_fleet: Fleet, tmp_path: Path
) -> None:
    assert_promtool_accepts_every_rule_file(example_fleet, tmp_path / "out")


def test_promtool_accepts_every_rule_file_of_a_200_service_fleet(
    promtool_bin: str, tmp_path: Path
) -> None:
    write_fleet(200, tmp_path / "fleet")
    fleet = load_fleet([tmp_path / "fleet"], root=tmp_path)
    assert len(fleet.services) == 200

    assert_promtool_accepts_every_rule_file(fleet, tmp_path / "out")


# --- perfdash test on the example fleet ----------------------------------------------------


@pytest.fixture
def example_project(tmp_path: Path, example_fleet: Fleet) -> Path:
    """A project folder: a copy of slos/ and, in alerts/, what it compiles to."""
    shutil.copytree(REPO / "slos", tmp_path / "slos")
    build_into(example_fleet, tmp_path)
    return tmp_path


def test_perfdash_test_passes_every_slo_of_the_example_fleet(
    promtool_bin: str, example_fleet: Fleet, example_project: Path
) -> None:
    result = run_cli(["test"], cwd=example_project)

    # Only the rule-test lines are this test's business; other checks (Alertmanager
    # routes) may add lines of their own, which do not name a SERVICE/SLO.
    names = [f"{s.name}/{slo.name}" for s in example_fleet.services for slo in s.slos]
    rule_files = sum(1 for s in example_fleet.services if s.slos)
    lines = result.stdout.splitlines()
    # stderr: one progress line per promtool run, nothing else
    progress = result.stderr.splitlines()
    assert progress and all(
        re.fullmatch(r"\[\d+/\d+\] [\w-]+/[\w-]+( \(.*\))?", p) for p in progress
    )
    assert progress[-1].startswith(f"[{len(progress)}/{len(progress)}] ")
    assert lines[0] == f"promtool check rules: {rule_files} files ok"
    assert [line for line in lines if SLO_RESULT.match(line)] == [f"PASS  {n}" for n in names]
    assert lines[-2].startswith(f"{len(names)} passed, 0 failed, 0 without generated tests")
    assert result.exit_code == 0


# --- mutations: the generated tests must catch broken rules -------------------------------


def _recording(name: str) -> Callable[[Rule], bool]:
    return lambda rule: bool(rule.get("record") == name)


def _alert(name: str, *, long: str | None = None) -> Callable[[Rule], bool]:
    return lambda rule: (
        rule.get("alert") == name and (long is None or rule["labels"].get("long") == long)
    )


def _any_rule(rule: Rule) -> bool:
    return True


def _replace_in_expr(*replacements: tuple[str, str]) -> Callable[[Rule], bool]:
    def edit(rule: Rule) -> bool:
        before: str = rule["expr"]
        after = before
        for old, new in replacements:
            after = after.replace(old, new)
        rule["expr"] = after
        return after != before

    return edit


def _set(field: str, value: str) -> Callable[[Rule], bool]:
    def edit(rule: Rule) -> bool:
        changed = rule.get(field) != value
        rule[field] = value
        return changed

    return edit


def _delete_from_expr(pattern: str) -> Callable[[Rule], bool]:
    def edit(rule: Rule) -> bool:
        after, deleted = re.subn(pattern, "", rule["expr"])
        rule["expr"] = after
        return deleted > 0

    return edit


@dataclass(frozen=True)
class Mutation:
    """A realistic mistake in one SLO's generated rules, and the scenarios that catch it."""

    description: str
    service: str
    slo: str
    picks: Callable[[Rule], bool]  # the rules of the SLO's group to edit
    edit: Callable[[Rule], bool]  # edits one rule in place; True when it changed it
    slow_burn: bool  # caught by the slow-burn test file (else the main one)
    catching: tuple[str, ...]  # name prefixes of the scenarios that must fail


FAST_PAGE_10X_TOO_HIGH = Mutation(
    "fast page threshold 10x too high",
    "checkout",
    "availability",
    _alert("ErrorBudgetBurn", long="1h"),
    _replace_in_expr(("(14.4 * 0.001)", "(144 * 0.001)")),
    slow_burn=False,
    catching=("total outage",),
)
MUTATIONS = [
    FAST_PAGE_10X_TOO_HIGH,
    Mutation(
        "slow page threshold 10x too low",
        "checkout",
        "availability",
        _alert("ErrorBudgetBurn", long="6h"),
        _replace_in_expr(("(6 * 0.001)", "(0.6 * 0.001)")),
        slow_burn=False,
        catching=("5x burn",),
    ),
    Mutation(
        "first ticket threshold 10x too high",
        "checkout",
        "availability",
        _alert("ErrorBudgetBurn", long="1d"),
        _replace_in_expr(("(3 * 0.001)", "(30 * 0.001)")),
        slow_burn=False,
        catching=("5x burn",),
    ),
    Mutation(
        "slowest ticket threshold halved",
        "checkout",
        "availability",
        _alert("ErrorBudgetBurn", long="3d"),
        _replace_in_expr(("(1 * 0.001)", "(0.5 * 0.001)")),
        slow_burn=True,
        catching=("burn at 90% of the slowest factor",),
    ),
    Mutation(
        "SLO-window ratio averages the 5m ratios instead of weighting by traffic",
        "checkout",
        "availability",
        _recording("slo:sli_error:ratio_rate30d"),
        _set(
            "expr",
            'avg_over_time(slo:sli_error:ratio_rate5m{service="checkout", slo="availability"}[30d])',
        ),
        slow_burn=False,
        catching=("zero traffic", "every request failing during"),
    ),
    Mutation(
        "SLIDataMissing waits 1h instead of 10m",
        "checkout",
        "availability",
        _alert("SLIDataMissing"),
        _set("for", "1h"),
        slow_burn=False,
        catching=("no SLI series at all",),
    ),
    Mutation(
        "grouped SLO sums every route together",
        "search",
        "availability",
        _any_rule,
        _replace_in_expr(("sum by (route) (", "sum("), ("on (route)", "on ()")),
        slow_burn=False,
        catching=(
            "total outage",
            "5x burn",
            "zero traffic",
            "traffic without a single error yet",
            "every request failing during",
        ),
    ),
    Mutation(
        "latency SLI reads a bucket the histogram does not have",
        "checkout",
        "latency",
        _any_rule,
        _replace_in_expr((r'le=~"0\\.30*"', r'le=~"0\\.50*"')),
        slow_burn=False,
        catching=(
            "total outage",
            "5x burn",
            "zero traffic",
            "traffic without a single error yet",
            "every request failing during",
        ),
    ),
]

# The long windows must count the counters' jump across a scrape gap: tiles that look
# back only as far as a 5m rate (the old design) lose it.
MUTATIONS += [
    Mutation(
        "tiles look back 5m instead of a day",
        "checkout",
        "availability",
        lambda rule: rule.get("record") in (conventions.TOTAL_TILE, conventions.BAD_TILE),
        _replace_in_expr(("[1d1m] offset 15s", "[6m] offset 15s"), ("[1d] offset", "[5m] offset")),
        slow_burn=False,
        # Also zero traffic: over a 5m lookback, Prometheus' extrapolation at the start of
        # the two ranges no longer cancels where traffic changes.
        catching=("every request failing during", "zero traffic"),
    ),
]

# The page must resolve soon after the errors stop (its short window), and traffic before
# the first error must read 0 rather than trip SLIDataMissing (the zero fallback).
MUTATIONS += [
    Mutation(
        "fast page ignores its 5m short window",
        "checkout",
        "availability",
        _alert("ErrorBudgetBurn", long="1h"),
        _delete_from_expr(r"\nand\n.*"),
        slow_burn=False,
        catching=("total outage",),
    ),
    Mutation(
        "no zero fallback before the first bad event",
        "checkout",
        "availability",
        _any_rule,
        _delete_from_expr(r"\n\s*or on \(\) \(0 \* .*\)$"),
        slow_burn=False,
        catching=("traffic without a single error yet",),
    ),
]


def apply_mutation(fleet: Fleet, out_dir: Path, mutation: Mutation) -> None:
    """Edit the built rule file of ``mutation.service`` in place."""
    service = fleet.service(mutation.service)
    slo = service.slo(mutation.slo).name
    groups = (
        conventions.group_name(service.name, slo),
        conventions.long_group_name(service.name, slo),
        conventions.budget_group_name(service.name, slo),
    )
    path = out_dir / conventions.rule_file_path(service.name)
    document = load_yaml(path.read_text(encoding="utf-8"))
    # The SLO's three groups: short windows, long windows, SLO window and budget.
    rules = [r for g in document["groups"] if g["name"] in groups for r in g["rules"]]
    changed = [mutation.edit(rule) for rule in rules if mutation.picks(rule)]
    assert any(changed), f"{mutation.description}: changed no rule of {groups[0]} in {path}"
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=1000), encoding="utf-8")


def mutation_test_file(fleet: Fleet, mutation: Mutation) -> str:
    service = fleet.service(mutation.service)
    main, slow = conventions.rule_test_paths(service.name, service.slo(mutation.slo).name)
    return slow if mutation.slow_burn else main


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.description)
def test_generated_tests_fail_on_a_broken_rule(
    promtool_bin: str, example_fleet: Fleet, tmp_path: Path, mutation: Mutation
) -> None:
    build_into(example_fleet, tmp_path)
    test_file = mutation_test_file(example_fleet, mutation)
    before = run_test_file(tmp_path, test_file)
    assert before.ok, f"fails before the mutation:\n{before.output}"

    apply_mutation(example_fleet, tmp_path, mutation)
    after = run_test_file(tmp_path, test_file)

    assert after.returncode == 1, after.output
    expected = {scenario_named(tmp_path / test_file, p) for p in mutation.catching}
    assert failed_scenarios(tmp_path / test_file, after.output) == expected, after.output


def test_rule_checks_report_only_the_slo_whose_rules_broke(
    promtool_bin: str, example_fleet: Fleet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The generator itself is broken (as a bug in perfdash would): the files on disk are
    # what it generates, and the generated tests must catch it.
    real = rules.build_groups

    def broken(service: Service, slo: SLO) -> list[dict[str, Any]]:
        groups = real(service, slo)
        if (service.name, slo.name) == ("checkout", "availability"):
            for group in groups:
                for rule in group["rules"]:
                    if FAST_PAGE_10X_TOO_HIGH.picks(rule):
                        FAST_PAGE_10X_TOO_HIGH.edit(rule)
        return groups

    monkeypatch.setattr(rules, "build_groups", broken)
    monkeypatch.setattr(units, "build_groups", broken)
    fleet = Fleet((example_fleet.service("checkout"), example_fleet.service("email-worker")))
    build_into(fleet, tmp_path)

    report = run_rule_checks(fleet, tmp_path)

    statuses = {(r.service, r.slo): r.status for r in report.results}
    assert statuses == {
        ("checkout", "availability"): "failed",
        ("checkout", "latency"): "passed",
        ("email-worker", "jobs"): "passed",
    }
    assert not report.ok
    assert report.rule_files == ("alerts/rules/checkout.yaml", "alerts/rules/email-worker.yaml")
    (failed,) = [r for r in report.results if r.status == "failed"]
    checkout = example_fleet.service("checkout")
    assert failed.files == conventions.rule_test_paths(
        checkout.name, checkout.slo("availability").name
    )
    main_file = tmp_path / failed.files[0]
    assert failed_scenarios(main_file, failed.detail) == {
        scenario_named(main_file, "total outage")
    }, failed.detail


# --- error paths: a promtool that refuses, or none at all ---------------------------------


@pytest.fixture
def refusing_promtool(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """PERFDASH_PROMTOOL is the fake, exiting 3; returns the file it logs its argv to."""
    argv_log = tmp_path / "promtool-argv.log"
    monkeypatch.setenv("PERFDASH_PROMTOOL", str(FAKE_PROMTOOL))
    monkeypatch.setenv("FAKE_PROMTOOL_EXIT", "3")
    monkeypatch.setenv("FAKE_PROMTOOL_ARGV", str(argv_log))
    return argv_log


def refusal_message(fleet: Fleet) -> str:
    files = " ".join(conventions.rule_file_path(s.name) for s in fleet.services if s.slos)
    return (
        f"command failed: {FAKE_PROMTOOL} check rules {files}\n"
        "  exit status: 3\n"
        "  output:\n"
        "    fake promtool: check rules\n"
        "    fake promtool: exiting with 3"
    )


def test_rule_checks_raise_promtool_error_with_command_status_and_output(
    refusing_promtool: Path, example_fleet: Fleet, example_project: Path
) -> None:
    with pytest.raises(PromtoolError) as raised:
        run_rule_checks(example_fleet, example_project)

    rule_files = [conventions.rule_file_path(s.name) for s in example_fleet.services if s.slos]
    assert raised.value.command == (str(FAKE_PROMTOOL), "check", "rules", *rule_files)
    assert raised.value.returncode == 3
    assert raised.value.stdout == "fake promtool: check rules\n"
    assert raised.value.stderr == "fake promtool: exiting with 3\n"
    assert str(raised.value) == refusal_message(example_fleet)
    # promtool ran for its version, then check rules: no unit test runs after the rule
    # files were refused.
    assert refusing_promtool.read_text().splitlines() == [
        "--version",
        "\t".join(["check", "rules", *rule_files]),
    ]


def test_perfdash_test_exits_1_when_promtool_refuses(
    refusing_promtool: Path, example_fleet: Fleet, example_project: Path
) -> None:
    result = run_cli(["test"], cwd=example_project)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {refusal_message(example_fleet)}\n"


def test_perfdash_test_exits_1_naming_a_missing_promtool(
    monkeypatch: pytest.MonkeyPatch, example_fleet: Fleet, example_project: Path
) -> None:
    missing = example_project / "no-such-promtool"
    monkeypatch.setenv("PERFDASH_PROMTOOL", str(missing))

    result = run_cli(["test"], cwd=example_project)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: PERFDASH_PROMTOOL={missing} is not an executable file\n"
    with pytest.raises(PromtoolNotFound, match=re.escape(str(missing))):
        run_rule_checks(example_fleet, example_project)


def test_a_relative_perfdash_promtool_runs_from_any_out_dir(
    refusing_promtool: Path,
    monkeypatch: pytest.MonkeyPatch,
    example_fleet: Fleet,
    example_project: Path,
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("PERFDASH_PROMTOOL", str(FAKE_PROMTOOL.relative_to(REPO)))

    with pytest.raises(PromtoolError) as raised:
        run_rule_checks(example_fleet, example_project)

    assert raised.value.returncode == 3


# --- scrape gaps: the long windows count what raw increase() counts ----------------------
#
# The generated per-SLO tests prove one 15m gap exactly for every SLO (cheap: 40
# evaluations). These prove the rule shape on one SLO of each kind (events, latency,
# grouped, raw PromQL) against what Prometheus' own rate() over the window says, for the
# gaps of issue 15: 6h of traffic at 10,000 requests a minute (1 in 10,000 failing), then
# 10m, 40m or 3h without a sample in which every request fails, then normal traffic.
# Every SLO kind compiles to the same tile expression up to selectors and grouping, so
# running these ~1,300 evaluations per SLO for every SLO of a fleet would only repeat
# this proof at 30 times the cost of its generated tests (cases in testing/scrape_gaps.py).


@pytest.mark.parametrize(("service_name", "slo_name"), REPRESENTATIVE_SLOS)
def test_long_windows_and_tickets_follow_the_raw_ratios_across_scrape_gaps(
    promtool_bin: str, example_fleet: Fleet, tmp_path: Path, service_name: str, slo_name: str
) -> None:
    build_into(example_fleet, tmp_path)
    service = example_fleet.service(service_name)
    slo = service.slo(slo_name)
    test_file = tmp_path / conventions.TESTS_DIR / f"gaps-{service.name}-{slo.name}.yaml"
    document = {
        "rule_files": [f"../../{conventions.rule_file_path(service.name)}"],
        "evaluation_interval": "1m",
        "tests": [gap_scenario(service, slo, gap) for gap in GAP_MINUTES],
    }
    test_file.write_text(yaml.safe_dump(document, sort_keys=False, width=1000), encoding="utf-8")

    run = run_test_file(tmp_path, str(test_file.relative_to(tmp_path)))

    assert run.ok, run.output


def test_the_gap_scenarios_expect_what_issue_15_describes() -> None:
    """The arithmetic the gap tests rely on, on the issue's own numbers: 400,000 failed
    requests in a 40m gap make the raw 1d ratio 0.0977 ten minutes later; a 3h gap is
    outside every short window by then but inside the 6h one."""
    samples = scraped_samples(gap_phases(40))
    ratio = raw_ratio(samples, 411, Duration.parse("1d"))
    assert ratio is not None and round(float(ratio), 4) == 0.0977
    assert samples[-1].bad - samples[0].bad == 400_000 + 370
    three_hours = scraped_samples(gap_phases(180))
    assert raw_ratio(three_hours, 552, Duration.parse("2h")) == GAP_BASELINE
    six_hours = raw_ratio(three_hours, 552, Duration.parse("6h"))
    assert six_hours is not None and six_hours > Fraction(1, 10)


def test_the_peer_rule_shapes_of_the_cost_benchmark_load_in_promtool(
    promtool_bin: str, tmp_path: Path
) -> None:
    """benchmarks/rule_eval_cost.py compares perfdash with Sloth's and Pyrra's shapes
    (testing/peer_rules.py): they must be rules Prometheus accepts, for every SLO kind."""
    write_fleet(3, tmp_path / "fleet")
    fleet = load_fleet([tmp_path / "fleet"], root=tmp_path)
    for tool, files in (("sloth", sloth_rule_files(fleet)), ("pyrra", pyrra_rule_files(fleet))):
        folder = tmp_path / tool
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        checked = promtool.check_rules(sorted(folder.glob("*.yaml")), cwd=tmp_path)
        assert checked.ok, checked.output
        # Sloth: 8 ratios + 7 metadata + 2 alerts per SLO (12 SLOs, 4 without tickets);
        # Pyrra: increases (1, 2 for latency and raw), 7 burn rates (one window is both a
        # long and a short one), 4 alerts per SLO.
        rules = sum(promtool_rule_counts(checked.output).values())
        assert rules == {"sloth": 12 * 17 - 1, "pyrra": 12 * 12 + 6}[tool], checked.output
