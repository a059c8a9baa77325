"""SLOs the same up to names share a shape; anything that could differ does not."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from perfdash.model.fleet import Fleet
from perfdash.spec import load_fleet
from perfdash.verify.shapes import shape_of
from perfdash.verify.units import Unit, slo_unit
from tests.helpers import MINIMAL_SERVICE, write_declaration

VERSION = "promtool, version 2.42.0"

RAW = """\
apiVersion: perfdash/v1
kind: Service
metadata:
  name: {name}
  team: {team}
  tier: 2
  runbook: https://runbooks.example.com/{name}
  labels: {{env: {env}}}
spec:
  selector: {{job: {name}}}
  slos:
    - name: jobs
      objective: 99.9
      sli:
        raw:
          bad: sum(rate(jobs_failed_total{{job="{name}"{extra}}}[{{{{ window }}}}]))
          total: sum(rate(jobs_processed_total{{job="{name}"}}[{{{{ window }}}}]))
"""


def fleet_of(tmp_path: Path, *texts: str) -> Fleet:
    for index, text in enumerate(texts):
        write_declaration(tmp_path / "slos", f"s{index}.yaml", text)
    return load_fleet([tmp_path / "slos"], root=tmp_path)


def keys(fleet: Fleet) -> list[str | None]:
    found = []
    for service in fleet.services:
        for slo in service.slos:
            unit = slo_unit(service, slo)
            assert unit is not None
            found.append(shape_of(service, slo, unit, VERSION).key)
    return found


def test_slos_that_differ_only_in_names_share_a_shape(tmp_path: Path) -> None:
    fleet = fleet_of(
        tmp_path,
        RAW.format(name="a", team="t1", env="prod", extra=""),
        RAW.format(name="b-two", team="other", env="staging", extra=""),
    )
    first, second = keys(fleet)
    assert first is not None and first == second


def test_slos_with_other_objectives_or_queries_do_not(tmp_path: Path) -> None:
    other_objective = MINIMAL_SERVICE.replace("99.9", "99.5").replace("checkout", "search")
    fleet = fleet_of(
        tmp_path,
        MINIMAL_SERVICE,
        other_objective,
        RAW.format(name="a", team="t", env="p", extra=""),
        RAW.format(name="b", team="t", env="p", extra=', kind="x"'),
    )
    found = keys(fleet)
    assert None not in found
    assert len(set(found)) == 4


def test_a_regular_expression_on_a_renamed_label_keeps_an_slo_apart(tmp_path: Path) -> None:
    # job is renamed (its value is the service name); a regex on job could match one
    # name and not another, so no renaming can be trusted here.
    fleet = fleet_of(
        tmp_path,
        RAW.format(name="a", team="t", env="p", extra=', job=~"a|b"'),
        RAW.format(name="b", team="t", env="p", extra=', job=~"a|b"'),
    )
    assert keys(fleet) == [None, None]


@pytest.mark.parametrize(
    "query",
    [
        'label_replace(sum(rate(x_total{job="NAME"}[{{ window }}])), "a", "$1", "job", "(.*)")',
        'topk(1, sum by (job) (rate(x_total{job="NAME"}[{{ window }}])))',
    ],
)
def test_functions_that_read_label_values_keep_an_slo_apart(tmp_path: Path, query: str) -> None:
    text = RAW.format(name="a", team="t", env="p", extra="")
    bad = text.splitlines()[15]
    fleet = fleet_of(tmp_path, text.replace(bad, f"          bad: {query.replace('NAME', 'a')}"))
    assert keys(fleet) == [None]


def test_files_that_are_not_a_renaming_of_the_shape_are_refused(tmp_path: Path) -> None:
    fleet = fleet_of(tmp_path, MINIMAL_SERVICE)
    service = fleet.services[0]
    slo = service.slos[0]
    unit = slo_unit(service, slo)
    assert unit is not None
    assert shape_of(service, slo, unit, VERSION).key is not None
    # One character of the rules changed (as a generator bug that depended on the name
    # would): the proof fails, so this SLO would run on its own.
    mutated = dataclasses.replace(unit, rules=unit.rules.replace("14.4", "14.5", 1))
    assert "14.4" in unit.rules
    shape = shape_of(service, slo, mutated, VERSION)
    assert shape.key is None
    assert shape.reason == "its files are not a renaming of its canonical form"


def test_two_values_of_one_label_may_not_become_one(tmp_path: Path) -> None:
    # The service's env label and its selector's value are both "a": they are one value,
    # one sentinel; but a selector value equal to a fixed value of the same label in the
    # generated tests would merge two series.
    text = RAW.format(name="perfdash-unrelated", team="t", env="p", extra="")
    fleet = fleet_of(tmp_path, text)
    service = fleet.services[0]
    unit = slo_unit(service, service.slos[0])
    assert isinstance(unit, Unit)
    shape = shape_of(service, service.slos[0], unit, VERSION)
    assert shape.key is None
    assert "become one" in shape.reason
