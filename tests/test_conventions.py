"""Names generated from declarations cannot collide: rule groups, files and dashboard uids."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest
import yaml

from perfdash import conventions
from tests.conftest import require_binary
from tests.helpers import run_cli, write_declaration

# Service and SLO names that a dash-joined scheme confuses: (a-b, c) and (a, b-c) gave
# "perfdash-a-b-c"; (a, b) and (a, b-long) gave "perfdash-a-b-long" twice.
TRICKY = [
    ("a-b", "c"), ("a", "b-c"), ("a", "b"), ("a", "b-long"), ("a-b-c", "long"), ("a", "long"),
    ("a", "b-budget"), ("a-b-c", "budget"), ("a", "budget"),
]  # fmt: skip


def test_every_service_and_slo_pair_has_its_own_rule_groups() -> None:
    names = [
        name
        for service, slo in TRICKY
        for name in (
            conventions.group_name(service, slo),
            conventions.long_group_name(service, slo),
            conventions.budget_group_name(service, slo),
        )
    ]
    assert len(set(names)) == len(names)


def test_the_group_name_scheme_is_injective_on_every_short_name() -> None:
    alphabet = ["a", "b", "l", "-"]  # "l": the start of "long"
    words = {
        "".join(letters)
        for size in range(1, 5)
        for letters in itertools.product(alphabet, repeat=size)
        if letters[0] != "-" and letters[-1] != "-"
    }
    seen: dict[str, tuple[str, str]] = {}
    for service, slo in itertools.product(sorted(words), repeat=2):
        for name in (
            conventions.group_name(service, slo),
            conventions.long_group_name(service, slo),
            conventions.budget_group_name(service, slo),
        ):
            assert name not in seen, (name, seen.get(name), (service, slo))
            seen[name] = (service, slo)


def test_group_names_keep_the_prefix_ruler_pruning_recognises() -> None:
    assert conventions.group_name("checkout", "availability") == "perfdash-checkout:availability"
    assert (
        conventions.long_group_name("checkout", "availability")
        == "perfdash-checkout:availability:long"
    )
    assert (
        conventions.budget_group_name("checkout", "availability")
        == "perfdash-checkout:availability:budget"
    )
    assert conventions.group_name("x", "y").startswith(conventions.GROUP_PREFIX)


SERVICE = """\
apiVersion: perfdash/v1
kind: Service
metadata: {{name: {name}, team: payments, tier: 1, runbook: https://runbooks.example.com/x}}
spec:
  selector: {{job: {name}}}
  slos:
{slos}"""
SLO = """\
    - name: {name}
      objective: 99.9
      sli: {{events: {{total: http_requests_total, bad: {{code: "5.."}}}}}}
"""


def test_colliding_names_of_the_old_scheme_build_rules_promtool_accepts(tmp_path: Path) -> None:
    promtool = require_binary("promtool")
    slos = tmp_path / "slos"
    write_declaration(
        slos,
        "a.yaml",
        SERVICE.format(
            name="a",
            slos=SLO.format(name="b")
            + SLO.format(name="b-long")
            + SLO.format(name="b-budget")
            + SLO.format(name="b-c"),
        ),
    )
    write_declaration(slos, "a-b.yaml", SERVICE.format(name="a-b", slos=SLO.format(name="c")))
    assert run_cli(["build", "slos", "--out", "out"], cwd=tmp_path).exit_code == 0
    rule_files = sorted((tmp_path / "out" / "alerts" / "rules").glob("*.yaml"))
    groups = [
        group["name"] for path in rule_files for group in yaml.safe_load(path.read_text())["groups"]
    ]
    assert len(groups) == 15 == len(set(groups))  # 5 SLOs x 3 groups
    checked = subprocess.run(
        [promtool, "check", "rules", *map(str, rule_files)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("name", ["checkout", "x" * 37, "x" * 38, "y" * 63])
def test_dashboard_uids_fit_grafana(name: str) -> None:
    uid = conventions.dashboard_uid(name)
    assert len(uid) <= conventions.UID_MAX
    assert uid.startswith("pd-")
