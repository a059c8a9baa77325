"""Golden files: declarations in tests/golden/<case>/in compile to exactly <case>/out.

Update after an intended change with ``pytest tests/test_golden.py --update-golden``
and review the diff in the pull request; never edit out/ by hand.
"""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import pytest

from perfdash.build import build_artifacts
from perfdash.spec import load_fleet

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN.iterdir() if (p / "in").is_dir())
# Long runs of 0s or 9s after a decimal point are float noise, never an exact decimal.
FLOAT_NOISE = re.compile(r"\d\.\d*(?:0{6,}|9{6,})\d")


def _generated(case: str) -> dict[str, str]:
    folder = GOLDEN / case
    return build_artifacts(load_fleet([folder / "in"], root=folder), jobs=1)


def _expected(case: str) -> dict[str, str]:
    out = GOLDEN / case / "out"
    return {
        p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("case", CASES)
def test_declarations_compile_to_the_golden_files(
    case: str, request: pytest.FixtureRequest
) -> None:
    generated = _generated(case)
    if request.config.getoption("--update-golden"):
        out = GOLDEN / case / "out"
        shutil.rmtree(out, ignore_errors=True)
        for relative, text in generated.items():
            (out / relative).parent.mkdir(parents=True, exist_ok=True)
            (out / relative).write_text(text, encoding="utf-8")
    expected = _expected(case)
    assert sorted(generated) == sorted(expected), "the set of generated files changed"
    for relative, text in generated.items():
        if text != expected[relative]:
            diff = "".join(
                difflib.unified_diff(
                    expected[relative].splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    f"golden/{case}/out/{relative}",
                    "generated",
                )
            )
            pytest.fail(f"{relative} differs from its golden file:\n{diff}")


@pytest.mark.parametrize("case", CASES)
def test_golden_output_has_no_float_noise_or_machine_specific_text(case: str) -> None:
    for relative, text in _expected(case).items():
        assert not FLOAT_NOISE.search(text), (
            f"float noise in {relative}: {FLOAT_NOISE.search(text)}"
        )
        assert "/work/" not in text and "/tmp/" not in text, f"absolute path in {relative}"


def test_golden_cases_cover_every_sli_kind_grouping_and_28d() -> None:
    fleets = [load_fleet([GOLDEN / c / "in"], root=GOLDEN / c) for c in CASES]
    slos = [slo for fleet in fleets for service in fleet.services for slo in service.slos]
    assert {slo.sli.kind for slo in slos} == {"events", "latency", "raw"}
    assert any(slo.grouping for slo in slos)
    assert {str(slo.window) for slo in slos} >= {"28d", "30d"}


@pytest.mark.integration
@pytest.mark.parametrize("case", CASES)
def test_golden_rules_pass_promtool_check_and_their_generated_tests(
    case: str, promtool_bin: str
) -> None:
    from perfdash.prometheus import promtool

    out = GOLDEN / case / "out"
    rule_files = sorted(out.glob("alerts/rules/*.yaml"))
    checked = promtool.check_rules([p.relative_to(out) for p in rule_files], cwd=out)
    assert checked.output.count("SUCCESS") == len(rule_files)
    test_files = sorted(p.relative_to(out) for p in out.glob("alerts/tests/**/*.yaml"))
    run = promtool.test_rules(test_files, cwd=out)
    assert run.ok, run.output
