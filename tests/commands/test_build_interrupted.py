"""A real ``perfdash build`` interrupted at random moments: the output is all old or all
new, never a mix; nothing is left running; a killed build is completed by the next."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from testing.fleet import write_fleet

SERVICES = 80
States = tuple[Path, dict[str, bytes], dict[str, bytes], float]


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "slos" not in p.parts
    }


def build(project: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "perfdash", "build", "slos", "--out", str(project)]
    return subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def run_build(project: Path) -> None:
    done = build(project)
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err.decode()


def left_running(project: Path) -> list[str]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if str(project) in cmdline:
            found.append(" ".join(cmdline))
    return found


@pytest.fixture(scope="module")
def states(
    tmp_path_factory: pytest.TempPathFactory,
) -> States:
    """A project built from the old declarations, the old output, and the new output."""
    base = tmp_path_factory.mktemp("interrupted")
    project = base / "project"
    write_fleet(SERVICES, project / "slos")
    run_build(project)
    old = tree(project)
    newer = base / "newer"
    shutil.copytree(project, newer)
    for path in (newer / "slos").iterdir():
        path.write_text(path.read_text().replace("objective: 99", "objective: 98"))
    started = time.monotonic()
    run_build(newer)
    duration = time.monotonic() - started
    new = tree(newer)
    assert old.keys() & new.keys() and old != new
    return project, old, new, duration


def fresh_copy(states: States, where: Path) -> Path:
    project = states[0]
    copy = where / "project"
    shutil.copytree(project, copy)
    for path in (copy / "slos").iterdir():
        path.write_text(path.read_text().replace("objective: 99", "objective: 98"))
    return copy


@pytest.mark.integration
@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("share", [0.15, 0.45, 0.75, 0.95])
def test_an_interrupted_build_leaves_all_old_or_all_new_and_nothing_running(
    states: States, tmp_path: Path, signal_number: int, share: float
) -> None:
    _, old, new, duration = states
    project = fresh_copy(states, tmp_path)
    process = build(project)
    time.sleep(share * duration)
    process.send_signal(signal_number)
    _, err = process.communicate(timeout=120)
    expected_status = {signal.SIGINT: 130, signal.SIGTERM: 143}[signal_number]
    after = tree(project)
    if process.returncode == -signal_number:
        # Interrupted while Python was still importing perfdash, before it could handle
        # signals: the interpreter's own way out; nothing was written yet.
        assert after == old
    else:
        assert process.returncode in (0, expected_status), err.decode()
    assert after in (old, new), sorted(p for p in after if after[p] != old.get(p))[:5]
    assert not [p for p in after if p.endswith(".perfdash-new")]
    time.sleep(0.2)
    assert left_running(project) == []
    run_build(project)
    assert tree(project) == new


@pytest.mark.integration
@pytest.mark.parametrize("share", [0.3, 0.6, 0.8, 0.9, 0.97])
def test_a_killed_build_is_completed_by_the_next_one(
    states: States, tmp_path: Path, share: float
) -> None:
    _, old, new, duration = states
    project = fresh_copy(states, tmp_path)
    process = build(project)
    time.sleep(share * duration)
    process.kill()
    process.communicate(timeout=60)
    time.sleep(0.2)
    assert left_running(project) == []  # workers die with their parent (PR_SET_PDEATHSIG)
    after = {p: d for p, d in tree(project).items() if not p.endswith(".perfdash-new")}
    journal = project / ".perfdash/journal.json"
    assert journal.exists() or after in (old, new)
    run_build(project)
    final = tree(project)
    assert final == new
    assert not journal.exists()
