"""The build as a whole: determinism, freshness of the committed output, the example fleet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from perfdash.build import build_artifacts
from perfdash.model.fleet import Fleet
from tests.conftest import REPO
from tests.helpers import run_cli


def _build_in_child(out: Path, *, hash_seed: str, jobs: str) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PERFDASH_JOBS": jobs}
    subprocess.run(
        [sys.executable, "-m", "perfdash", "build", "slos", "--out", str(out)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


def test_builds_are_byte_identical_across_hash_seeds_and_worker_counts(tmp_path: Path) -> None:
    one = _build_in_child(tmp_path / "a", hash_seed="1", jobs="1")
    other = _build_in_child(tmp_path / "b", hash_seed="4242", jobs="2")
    assert one and one == other


def test_parallel_and_serial_generation_agree_on_a_large_fleet(tmp_path: Path) -> None:
    from perfdash.spec import load_fleet
    from testing.fleet import write_fleet

    write_fleet(120, tmp_path / "fleet", per_file=7)
    serial = build_artifacts(load_fleet([tmp_path / "fleet"], root=tmp_path, jobs=1), jobs=1)
    parallel = build_artifacts(load_fleet([tmp_path / "fleet"], root=tmp_path, jobs=2), jobs=2)
    # per service: a rule file, two test files per SLO (4 SLOs), a dashboard; plus the overview
    assert len(serial) == 120 * (1 + 2 * 4 + 1) + 1
    assert serial == parallel


def test_the_committed_output_is_what_the_example_fleet_generates() -> None:
    from perfdash.pipeline import plan_build

    previous = Path.cwd()
    os.chdir(REPO)
    try:
        built = plan_build([], out_dir=Path("."), jsonnet_dir=Path("dashboards"))
    finally:
        os.chdir(previous)
    plan = built.plan
    assert plan.clean, (
        f"run `perfdash build` and commit: {plan.created, plan.updated, plan.deleted}"
    )
    assert not plan.conflicts


def test_the_example_fleet_shows_every_feature(example_fleet: Fleet) -> None:
    services = example_fleet.services
    slos = [slo for s in services for slo in s.slos]
    assert len(services) >= 4
    assert {slo.sli.kind for slo in slos} == {"events", "latency", "raw"}
    assert any(str(slo.window) == "28d" for slo in slos)
    assert any(slo.grouping for slo in slos)
    assert any(not slo.alerting.page for slo in slos), "a disabled page tier"
    assert any(not slo.alerting.ticket for slo in slos), "a disabled ticket tier"
    assert any(slo.alerting.for_ is not None for slo in slos), "a per-SLO for:"
    assert any(slo.alerting.windows != slos[0].alerting.windows for slo in slos), "custom windows"
    assert len({s.source for s in services}) < len(services), "a multi-document file"


# -- atomic writes when the workers stage the files ---------------------------------------

LARGE_FLEET = 120  # above parallel.MIN_PARALLEL_ITEMS: generated and staged by workers
# A file per service: workers load, check and generate chunks of files in one pass. Seven
# services a file (18 files): loaded first, then the services are shared out.
LAYOUTS = pytest.mark.parametrize("per_file", [1, 7], ids=["file-per-service", "few-files"])


def _everything(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder (None) below ``root``."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


def _large_project(root: Path, override: str, per_file: int = 7) -> Path:
    from testing.fleet import write_fleet

    write_fleet(LARGE_FLEET, root / "slos", per_file=per_file)
    last = f"svc-{LARGE_FLEET - 1:04d}"
    path = root / "dashboards" / "overrides" / f"{last}.libsonnet"
    path.parent.mkdir(parents=True)
    path.write_text(override, encoding="utf-8")
    return path


BROKEN_OVERRIDE = "function(dashboard) error 'broken on purpose'\n"


@LAYOUTS
def test_a_parallel_build_failing_in_its_last_part_leaves_the_output_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_file: int
) -> None:
    monkeypatch.setenv("PERFDASH_JOBS", "2")
    override = _large_project(
        tmp_path, "function(dashboard) dashboard { editable: false }\n", per_file
    )
    assert run_cli(["build"], cwd=tmp_path).exit_code == 0
    # Every service changes (the workers stage a new version of each file), and the last
    # service's dashboard override fails.
    for declaration in (tmp_path / "slos").iterdir():
        text = declaration.read_text(encoding="utf-8")
        declaration.write_text(text.replace("objective: 99\n", "objective: 98\n"), encoding="utf-8")
    override.write_text(BROKEN_OVERRIDE, encoding="utf-8")
    before = _everything(tmp_path)

    result = run_cli(["build"], cwd=tmp_path)
    assert result.exit_code == 1
    assert "broken on purpose" in result.stderr
    assert _everything(tmp_path) == before  # no staged file, no new folder, nothing replaced


@LAYOUTS
def test_a_first_parallel_build_that_fails_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_file: int
) -> None:
    monkeypatch.setenv("PERFDASH_JOBS", "2")
    _large_project(tmp_path, BROKEN_OVERRIDE, per_file)
    before = _everything(tmp_path)
    result = run_cli(["build", "--out", "out"], cwd=tmp_path)
    assert result.exit_code == 1
    assert _everything(tmp_path) == before
    assert not (tmp_path / "out").exists()


@LAYOUTS
def test_build_check_compares_in_the_workers_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per_file: int
) -> None:
    monkeypatch.setenv("PERFDASH_JOBS", "2")
    _large_project(tmp_path, "function(dashboard) dashboard\n", per_file)
    assert run_cli(["build"], cwd=tmp_path).exit_code == 0
    assert run_cli(["build", "--check"], cwd=tmp_path).exit_code == 0
    stale = tmp_path / "alerts" / "rules" / "svc-0042.yaml"
    stale.write_text(stale.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    (tmp_path / "dashboards" / "overview.json").unlink()
    result = run_cli(["build", "--check"], cwd=tmp_path)
    assert result.exit_code == 1
    assert "alerts/rules/svc-0042.yaml" in result.stderr + result.stdout
    assert "dashboards/overview.json" in result.stderr + result.stdout


def test_a_service_declared_twice_in_chunks_of_different_workers_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first and last files go to different workers, which both generate svc-0000's
    # files before the parent sees the duplicate (the second to stage them fails on the
    # first one's staged file): the user must see the duplicate, and nothing is left.
    monkeypatch.setenv("PERFDASH_JOBS", "2")
    _large_project(tmp_path, "function(dashboard) dashboard\n", per_file=1)
    first = tmp_path / "slos" / "fleet-0000.yaml"
    last = sorted((tmp_path / "slos").iterdir())[-1]
    last.write_text(first.read_text(encoding="utf-8"), encoding="utf-8")
    before = _everything(tmp_path)

    result = run_cli(["build", "--out", "out"], cwd=tmp_path)
    assert result.exit_code == 1
    assert "duplicate service name 'svc-0000'" in result.stderr
    assert _everything(tmp_path) == before


def test_invalid_declarations_are_reported_before_a_failing_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The override fails in the last chunk; a declaration of the first chunk is invalid:
    # the declaration's problem is what the user must see (and fix) first.
    monkeypatch.setenv("PERFDASH_JOBS", "2")
    _large_project(tmp_path, BROKEN_OVERRIDE, per_file=1)
    first = tmp_path / "slos" / "fleet-0000.yaml"
    first.write_text(
        first.read_text(encoding="utf-8").replace("objective: 99\n", "objective: 100\n"),
        encoding="utf-8",
    )
    result = run_cli(["build"], cwd=tmp_path)
    assert result.exit_code == 1
    assert "fleet-0000.yaml" in result.stderr and "objective" in result.stderr
    assert "broken on purpose" not in result.stderr


def test_perfdash_output_inside_the_declarations_is_not_read_by_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers, not the parent, look at each file's header on large fleets.
    monkeypatch.setenv("PERFDASH_JOBS", "2")
    _large_project(tmp_path, "function(dashboard) dashboard\n", per_file=1)
    assert run_cli(["build", "slos", "--out", "slos/out"], cwd=tmp_path).exit_code == 0
    assert (tmp_path / "slos/out/alerts/rules/svc-0000.yaml").is_file()
    result = run_cli(["build", "slos", "--out", "slos/out"], cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("wrote 0, unchanged ")


def test_two_rule_groups_of_one_name_are_refused(
    example_fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Names are unique by construction (conventions.group_name); were that ever broken,
    # the build must refuse rather than let a Prometheus namespace keep one of the two.
    from perfdash import conventions
    from perfdash.build import build_output
    from perfdash.errors import OutputError

    monkeypatch.setattr(conventions, "group_name", lambda service, slo: "perfdash-same")
    with pytest.raises(OutputError, match="two rule groups are named 'perfdash-same'"):
        build_output(example_fleet, jobs=1)
