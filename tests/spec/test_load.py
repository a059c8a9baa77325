"""Loading declaration files: YAML errors at their position, documents, folders, exact numbers.

Every bad input goes through ``load_fleet`` on real files, and the test asserts the
whole Problem: file, line, column, field path and the message word for word.
"""

from __future__ import annotations

import tracemalloc
from decimal import Decimal
from pathlib import Path

import pytest

from perfdash.errors import Problem, SpecError
from perfdash.model.fleet import Fleet
from perfdash.spec import load_fleet
from perfdash.spec.document import format_path
from perfdash.spec.load import MAX_DEPTH, MAX_VALUES_PER_DOCUMENT, load_text
from tests.helpers import MINIMAL_SERVICE, write_declaration

FILE = "slos/checkout.yaml"


def load(tmp_path: Path) -> Fleet:
    return load_fleet([tmp_path / "slos"], root=tmp_path)


def problems_of(tmp_path: Path, text: str, name: str = "checkout.yaml") -> list[Problem]:
    """Write ``text`` as ``slos/<name>``, load the folder and return every problem reported."""
    write_declaration(tmp_path / "slos", name, text)
    with pytest.raises(SpecError) as caught:
        load(tmp_path)
    return list(caught.value.problems)


def renamed(text: str, name: str) -> str:
    return text.replace("name: checkout", f"name: {name}").replace("/checkout", f"/{name}")


# -- YAML errors --------------------------------------------------------------------


def test_a_yaml_syntax_error_is_reported_where_the_parser_stopped(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("team: payments", "team: payments: core")
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE, 5, 17, "", "YAML syntax error: mapping values are not allowed in this context"
        )
    ]


def test_an_unclosed_flow_sequence_names_what_the_parser_expected(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("team: payments", "team: [payments")
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            6,
            7,
            "",
            "YAML syntax error: while parsing a flow sequence did not find expected ',' or ']'",
        )
    ]


def test_a_duplicate_mapping_key_is_an_error_not_a_silent_overwrite(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("  tier: 1\n", "  tier: 1\n  tier: 2\n")
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 7, 3, "metadata.tier", "duplicate key 'tier' (first written at line 6)")
    ]


def test_every_duplicate_key_of_a_document_is_reported_at_once(tmp_path: Path) -> None:
    text = MINIMAL_SERVICE.replace("  tier: 1\n", "  tier: 1\n  tier: 2\n").replace(
        "      objective: 99.9\n", "      objective: 99.9\n      objective: 99\n"
    )
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 7, 3, "metadata.tier", "duplicate key 'tier' (first written at line 6)"),
        Problem(
            FILE,
            14,
            7,
            "spec.slos[0].objective",
            "duplicate key 'objective' (first written at line 13)",
        ),
    ]


def test_nesting_deeper_than_the_limit_is_refused(tmp_path: Path) -> None:
    depth = MAX_DEPTH + 6
    text = "x: " + "[" * depth + "]" * depth + "\n"
    # The first "[" (column 4) is at depth 1; the value past the limit is MAX_DEPTH further.
    assert problems_of(tmp_path, text) == [
        Problem(FILE, 1, 4 + MAX_DEPTH, "", f"YAML nesting deeper than {MAX_DEPTH} levels; refused")
    ]


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each level lists the previous one ``width`` times."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels + 1):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "bomb.yaml", _alias_bomb())
    tracemalloc.start()
    try:
        with pytest.raises(SpecError) as caught:
            load(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [problem] = caught.value.problems
    assert problem.file == "slos/bomb.yaml"
    assert problem.message == (
        f"document expands to more than {MAX_VALUES_PER_DOCUMENT} values "
        "(YAML aliases nested too deeply?); refused"
    )
    # 9**10 values if expanded; refused after MAX_VALUES_PER_DOCUMENT, so memory stays small.
    assert peak < 50 * 1024 * 1024


# -- documents and files ------------------------------------------------------------


def test_line_numbers_of_a_second_document_point_into_that_document(tmp_path: Path) -> None:
    second = renamed(MINIMAL_SERVICE, "cart").replace("objective: 99.9", "objective: 100")
    text = MINIMAL_SERVICE + "---\n" + second
    # MINIMAL_SERVICE has 14 lines, "---" is line 15: the second objective is on 15 + 12.
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            27,
            18,
            "spec.slos[0].objective",
            "must be a percentage strictly between 0 and 100, got 100",
        )
    ]


def test_a_folder_tree_and_multi_document_files_all_load(tmp_path: Path) -> None:
    slos = tmp_path / "slos"
    write_declaration(slos, "checkout.yaml", MINIMAL_SERVICE)
    write_declaration(
        slos / "platform" / "search",
        "services.yml",
        renamed(MINIMAL_SERVICE, "search") + "---\n" + renamed(MINIMAL_SERVICE, "indexer"),
    )
    write_declaration(slos / "platform", "notes.txt", "not: yaml: at all: [")
    fleet = load(tmp_path)
    assert [service.name for service in fleet.services] == ["checkout", "indexer", "search"]
    assert fleet.service("indexer").source == "slos/platform/search/services.yml"


def test_perfdash_output_inside_the_declarations_folder_is_not_read(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    write_declaration(tmp_path / "slos" / "out", "rules.yaml", "# Generated by perfdash\n[oops\n")
    assert len(load(tmp_path).services) == 1


def test_empty_documents_and_comment_only_files_are_ignored(tmp_path: Path) -> None:
    slos = tmp_path / "slos"
    write_declaration(slos, "empty.yaml", "")
    write_declaration(slos, "comments.yaml", "# nothing declared here yet\n")
    write_declaration(slos, "separators.yaml", "---\n# only a comment\n---\n")
    write_declaration(
        slos, "checkout.yaml", "---\n" + MINIMAL_SERVICE + "---\n# retired: cart\n---\n"
    )
    assert [service.name for service in load(tmp_path).services] == ["checkout"]


def test_a_missing_path_is_reported_by_name(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(SpecError) as caught:
        load_fleet([missing], root=tmp_path)
    assert caught.value.problems == (Problem("nope", 0, 0, "", "no such file or directory"),)


def test_yaml_merge_keys_fill_in_what_a_mapping_does_not_say(tmp_path: Path) -> None:
    write_declaration(
        tmp_path / "slos",
        "checkout.yaml",
        """\
        apiVersion: perfdash/v1
        kind: Service
        metadata:
          name: checkout
          team: payments
          tier: 1
          runbook: https://runbooks.example.com/checkout
        spec:
          selector: {job: checkout}
          slos:
            - &availability
              name: availability
              objective: 99.9
              window: 28d
              sli:
                events: {total: http_requests_total, bad: {code: "5.."}}
            - <<: *availability
              name: availability-fast
              objective: 99
        """,
    )
    first, second = load(tmp_path).service("checkout").slos
    assert (second.name, second.objective, str(second.window)) == ("availability-fast", 99, "28d")
    assert second.sli == first.sli


def test_a_value_overriding_a_merge_key_is_reported_where_it_is_written(tmp_path: Path) -> None:
    text = """\
    apiVersion: perfdash/v1
    kind: Service
    metadata:
      name: checkout
      team: payments
      tier: 1
      runbook: https://runbooks.example.com/checkout
    spec:
      selector: {job: checkout}
      slos:
        - &availability
          name: availability
          objective: 99.9
          sli:
            events: {total: http_requests_total, bad: {code: "5.."}}
        - <<: *availability
          name: availability-strict
          objective: 100
    """
    assert problems_of(tmp_path, text) == [
        Problem(
            FILE,
            18,
            18,
            "spec.slos[1].objective",
            "must be a percentage strictly between 0 and 100, got 100",
        )
    ]


# -- exact numbers ------------------------------------------------------------------


def test_objectives_keep_the_digits_written(tmp_path: Path) -> None:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    slo = load(tmp_path).service("checkout").slo("availability")
    assert slo.objective == Decimal("99.9")
    assert str(slo.objective) == "99.9"
    assert slo.error_budget == Decimal("0.001")
    assert str(slo.error_budget) == "0.001"


@pytest.mark.parametrize(
    ("objective", "budget"),
    [("99.9", "0.001"), ("99.95", "0.0005"), ("99", "0.01"), ("99.999", "0.00001"), ("90", "0.1")],
)
def test_the_error_budget_is_exact(tmp_path: Path, objective: str, budget: str) -> None:
    text = MINIMAL_SERVICE.replace("objective: 99.9", f"objective: {objective}")
    write_declaration(tmp_path / "slos", "checkout.yaml", text + "      alerting: {page: false}\n")
    slo = load(tmp_path).service("checkout").slo("availability")
    assert slo.error_budget == Decimal(budget)
    assert format(slo.error_budget, "f") == budget


def test_yaml_floats_become_decimals_and_ints_stay_ints() -> None:
    [document] = load_text("a: 99.9\nb: 1_000.25\nc: 7\nd: 0x10\ne: yes\nf: ~\n", "x.yaml")
    assert document.data == {
        "a": Decimal("99.9"),
        "b": Decimal("1000.25"),
        "c": 7,
        "d": 16,
        "e": True,
        "f": None,
    }
    assert type(document.data["a"]) is Decimal
    assert type(document.data["c"]) is int


def test_documents_remember_where_values_and_keys_are_written() -> None:
    [document] = load_text(MINIMAL_SERVICE, "checkout.yaml")
    assert (
        document.position(("spec", "slos", 0, "objective"))
        == document.positions[("spec", "slos", 0, "objective")]
    )
    assert document.position(("spec", "slos", 0, "objective")).line == 12
    assert document.position(("metadata", "tier"), key=True).column == 3
    # An absent field is located at the nearest enclosing value that is written.
    assert document.position(("spec", "slos", 0, "window")) == document.position(
        ("spec", "slos", 0)
    )


def test_field_paths_read_like_the_declaration() -> None:
    assert format_path(("spec", "slos", 1, "objective")) == "spec.slos[1].objective"
    assert format_path(("spec", "slos", 0, "grouping", 2)) == "spec.slos[0].grouping[2]"
    assert format_path(()) == ""


def test_a_document_with_thousands_of_problems_gets_a_count_and_the_first_hundred(
    tmp_path: Path,
) -> None:
    keys = "".join(f"  k{i}: 1\n" for i in range(5000))
    text = MINIMAL_SERVICE.replace("  tier: 1\n", "  tier: 1\n" + keys)
    found = problems_of(tmp_path, text)
    assert len(found) == 101
    assert found[0] == Problem(
        FILE,
        1,
        1,
        "",
        "5000 problems in this document (it may not be a declaration); the first 100 are shown",
    )
    assert found[1] == Problem(
        FILE,
        7,
        3,
        "metadata.k0",
        "unknown field 'k0' (allowed: description, labels, name, runbook, team, tier)",
    )
