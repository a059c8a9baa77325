"""The record of passed tests: a stale, damaged or hand-edited record never turns a
failing test into a pass (real promtool, real generated tests, a broken generator)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from perfdash.prometheus import rule_tests
from perfdash.verify.record import KEY_FILE, RECORD_FILE, TestRecord
from tests.conftest import REPO
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration


def test_entries_are_signed_and_only_passes_are_kept(tmp_path: Path) -> None:
    record = TestRecord(tmp_path)
    record.add(["k1"])
    record.save()
    assert TestRecord(tmp_path).passed("k1")
    assert not TestRecord(tmp_path).passed("k2")
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    document = json.loads((tmp_path / RECORD_FILE).read_text())
    document["passed"]["k2"] = document["passed"]["k1"]  # a signature copied by hand
    (tmp_path / RECORD_FILE).write_text(json.dumps(document))
    assert not TestRecord(tmp_path).passed("k2")
    (tmp_path / KEY_FILE).write_bytes(b"x" * 32)  # another key: nothing verifies
    assert not TestRecord(tmp_path).passed("k1")


def test_generated_entries_are_signed_over_code_fingerprint_and_payload(
    tmp_path: Path,
) -> None:
    record = TestRecord(tmp_path)
    record.remember("code-1", "model-a", '{"files": "a"}')
    record.remember("code-1", "model-b", '{"files": "b"}')
    assert record.generated("code-1", "model-a") == '{"files": "a"}'  # before saving, too
    record.save()
    assert TestRecord(tmp_path).generated("code-1", "model-a") == '{"files": "a"}'
    assert TestRecord(tmp_path).generated("code-1", "model-c") is None
    assert TestRecord(tmp_path).generated("code-2", "model-a") is None
    document = json.loads((tmp_path / RECORD_FILE).read_text())
    models = document["generated"]["models"]
    payload, signature = models["model-a"]
    models["model-a"] = [payload.replace('"a"', '"b"'), signature]  # the payload edited
    models["model-c"] = [payload, signature]  # moved to another model
    (tmp_path / RECORD_FILE).write_text(json.dumps(document))
    assert TestRecord(tmp_path).generated("code-1", "model-a") is None
    assert TestRecord(tmp_path).generated("code-1", "model-c") is None
    assert TestRecord(tmp_path).generated("code-1", "model-b") == '{"files": "b"}'
    document["generated"]["code"] = "code-2"  # moved to another perfdash
    (tmp_path / RECORD_FILE).write_text(json.dumps(document))
    assert TestRecord(tmp_path).generated("code-2", "model-b") is None


def test_only_one_perfdash_s_generated_entries_are_kept(tmp_path: Path) -> None:
    record = TestRecord(tmp_path)
    record.remember("code-1", "model-a", "a")
    record.save()
    record = TestRecord(tmp_path)
    record.remember("code-2", "model-b", "b")
    record.save()
    document = json.loads((tmp_path / RECORD_FILE).read_text())
    assert document["generated"]["code"] == "code-2"
    assert list(document["generated"]["models"]) == ["model-b"]


def test_a_damaged_record_is_ignored_with_a_warning(tmp_path: Path) -> None:
    TestRecord(tmp_path)
    (tmp_path / RECORD_FILE).write_bytes(b"\x00garbage{")
    record = TestRecord(tmp_path)
    assert record.problem.startswith(f"ignored the test record {tmp_path / RECORD_FILE}")
    assert not record.passed("anything")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    return tmp_path


def perfdash_test(project: Path) -> Result:
    return run_cli(["test", "--record", str(project / "record")], cwd=project)


def break_the_generated_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in perfdash's generator: the outage test expects the page a minute after
    the healthy hours start, long before any error. Every generated test now fails."""
    real = rule_tests._Scenarios.outage

    def early(self: Any) -> dict[str, Any] | None:
        test = real(self)
        if test is not None:
            test["promql_expr_test"][1]["eval_time"] = "1m"
        return test

    monkeypatch.setattr(rule_tests._Scenarios, "outage", early)


@pytest.mark.integration
def test_a_passed_record_never_covers_a_test_that_now_fails(
    promtool_bin: str, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli(["build"], cwd=project).exit_code == 0
    passed = perfdash_test(project)
    assert passed.exit_code == 0, passed.output
    again = perfdash_test(project)
    assert "promtool ran 0 tests" in again.stdout  # recorded: nothing runs

    break_the_generated_tests(monkeypatch)
    assert run_cli(["build"], cwd=project).exit_code == 0
    record_file = project / "record" / RECORD_FILE
    kept = json.loads(record_file.read_text())

    # Stale: the record holds the passing test, not this one.
    failed = perfdash_test(project)
    assert failed.exit_code == 1
    assert "FAIL  checkout/availability" in failed.stdout
    assert "promtool ran 1 tests" in failed.stdout

    # Hand-edited: every key the failing run could look up, each with a signature that
    # verified before (copied from the passing entries).
    signature = next(iter(kept["passed"].values()))
    forged = dict(kept["passed"])
    for line in _keys_of_the_failing_run(project, monkeypatch):
        forged[line] = signature
    record_file.write_text(json.dumps({"version": 1, "passed": forged}))
    assert perfdash_test(project).exit_code == 1

    # Damaged: ignored with a warning, the test runs and fails.
    record_file.write_text("{not json")
    damaged = perfdash_test(project)
    assert damaged.exit_code == 1
    assert "warning: ignored the test record" in damaged.stderr


def _keys_of_the_failing_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys the runner looks up (unit, rule file, shape), captured from a run."""
    from perfdash.verify import rules

    asked: list[str] = []
    real = TestRecord.passed

    def spy(self: TestRecord, key: str) -> bool:
        asked.append(key)
        return real(self, key)

    monkeypatch.setattr(rules.TestRecord, "passed", spy)
    perfdash_test(project)
    monkeypatch.setattr(rules.TestRecord, "passed", real)
    return asked


@pytest.mark.integration
def test_another_promtool_version_runs_everything_again(
    promtool_bin: str, project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert run_cli(["build"], cwd=project).exit_code == 0
    assert perfdash_test(project).exit_code == 0
    wrapper = tmp_path / "promtool"
    wrapper.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --version ]; then echo "promtool, version 9.9.9"; exit 0; fi\n'
        f'exec {promtool_bin} "$@"\n'
    )
    wrapper.chmod(0o755)
    monkeypatch.setenv("PERFDASH_PROMTOOL", str(wrapper))
    result = perfdash_test(project)
    assert result.exit_code == 0, result.output
    assert "promtool ran 1 tests" in result.stdout
    assert "promtool check rules: 1 files ok\n" in result.stdout


def run_perfdash_from(
    source: Path, args: list[str], project: Path
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, from a copy of perfdash's source at ``source``."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "perfdash",
            *args,
            *(["--record", str(project / "record")] if args[0] == "test" else []),
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(source)},
        check=False,
    )


@pytest.mark.integration
def test_a_remembered_model_never_covers_changed_perfdash_code(
    promtool_bin: str, project: Path, tmp_path: Path
) -> None:
    """The record remembers what each service model generates, so an unchanged service
    is not generated again; perfdash's own source is part of that key. A perfdash whose
    generator now writes failing tests (its source edited, nothing rebuilt yet, with
    every file on disk as the remembered entry says) must not pass on the record."""
    source = tmp_path / "source"
    shutil.copytree(
        REPO / "perfdash", source / "perfdash", ignore=shutil.ignore_patterns("__pycache__")
    )
    where = run_perfdash_from(source, ["--version"], project)
    assert where.returncode == 0, where.stderr
    assert run_perfdash_from(source, ["build"], project).returncode == 0
    passed = run_perfdash_from(source, ["test"], project)
    assert passed.returncode == 0, passed.stderr
    again = run_perfdash_from(source, ["test"], project)
    assert "promtool ran 0 tests" in again.stdout and "1 were unchanged" in again.stdout

    generator = source / "perfdash" / "prometheus" / "rule_tests.py"
    text = generator.read_text()
    assert text.count("fire_at = HEALTHY_MINUTES + bound\n") == 1
    generator.write_text(text.replace("fire_at = HEALTHY_MINUTES + bound\n", "fire_at = 1\n"))
    not_rebuilt = run_perfdash_from(source, ["test"], project)
    assert not_rebuilt.returncode == 1
    assert (
        "are not up to date" in not_rebuilt.stderr and "run `perfdash build`" in not_rebuilt.stderr
    )

    assert run_perfdash_from(source, ["build"], project).returncode == 0
    failed = run_perfdash_from(source, ["test"], project)
    assert failed.returncode == 1
    assert "FAIL  checkout/availability" in failed.stdout
