"""The hostile corpus (``hostile_corpus.py``) through the real CLI.

For every case: a copy of a project whose fleet is already built, the case's files added,
then ``perfdash build`` (or the case's command) through CliRunner with
``catch_exceptions=False`` (a bug fails the test with its traceback instead of exiting
70). It must exit with the case's status and print exactly the case's problems, change
nothing in the project (every file's content and mtime, every link), and never show the
secret kept beside the project. A few cases also run as ``python -m perfdash`` in a
subprocess, the way CI runs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration
from tests.spec.hostile_corpus import CASES, FILE_CASES, SECRET, Case, Fifo, Link

ALL = [*CASES, *FILE_CASES]
GOOD = MINIMAL_SERVICE.replace("checkout", "good")
Snapshot = dict[str, tuple[object, ...]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose one service is built: alerts/, dashboards/, the manifest."""
    project = tmp_path_factory.mktemp("corpus") / "project"
    write_declaration(project / "slos", "good.yaml", GOOD)
    result = run_cli(["build"], cwd=project)
    assert result.exit_code == 0, result.stderr
    return project


def prepare(case: Case, built: Path, where: Path) -> Path:
    project = where / "project"
    shutil.copytree(built, project, symlinks=True)
    secret = where / "secret.txt"
    secret.write_text(f"password={SECRET}\n")
    outside = where / "outside"
    outside.mkdir()
    (outside / "svc.yaml").write_text(f"# {SECRET}\n" + MINIMAL_SERVICE)
    for relative, content in case.files.items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Link):
            special = {"@secret": secret, "@outside": outside}
            path.symlink_to(special.get(content.target, project / content.target))
        elif isinstance(content, Fifo):
            os.mkfifo(path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{secret}", str(secret)), encoding="utf-8")
    return project


def expected_error(case: Case, where: Path) -> str:
    lines = (line.replace("{secret}", str(where / "secret.txt")) for line in case.expected)
    return "Error: " + "\n".join(lines) + "\n"


def snapshot(project: Path) -> Snapshot:
    """Every entry of the project: kind, size, mtime, content digest or link target."""
    found: Snapshot = {}
    for directory, folders, files in os.walk(project):
        for name in [*folders, *files]:
            path = Path(directory, name)
            info = path.lstat()
            if path.is_symlink():
                found[str(path)] = ("link", os.readlink(path))
            elif path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                found[str(path)] = ("file", info.st_size, info.st_mtime_ns, digest)
            else:
                found[str(path)] = ("other", info.st_mode, info.st_mtime_ns)
    return found


@pytest.mark.parametrize("case", ALL, ids=[case.id for case in ALL])
def test_a_hostile_declaration_is_refused_clearly_and_changes_nothing(
    case: Case, built: Path, tmp_path: Path
) -> None:
    project = prepare(case, built, tmp_path)
    before = snapshot(project)
    result = run_cli(case.args, cwd=project)
    shown = result.stdout + result.stderr
    assert (result.exit_code, result.stdout) == (case.exit_code, ""), shown
    assert result.stderr == expected_error(case, tmp_path)
    assert SECRET not in shown
    assert snapshot(project) == before


SUBPROCESS = ["nul-byte-in-a-value", "objective-nan", "jinja-two-billion-x", "file-over-2-mib"]
SUBPROCESS += ["symlink-to-a-secret-outside", "go-template-perfdash-name"]


@pytest.mark.parametrize("case", [c for c in ALL if c.id in SUBPROCESS], ids=SUBPROCESS)
def test_as_a_subprocess_the_exit_status_and_message_are_the_same(
    case: Case, built: Path, tmp_path: Path
) -> None:
    project = prepare(case, built, tmp_path)
    before = snapshot(project)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PERFDASH_")}
    finished = subprocess.run(
        [sys.executable, "-m", "perfdash", *case.args],
        cwd=project,
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert (finished.returncode, finished.stdout) == (case.exit_code, "")
    assert finished.stderr == expected_error(case, tmp_path)
    assert SECRET not in finished.stderr
    assert snapshot(project) == before


def test_the_corpus_is_large_and_every_case_is_named_once() -> None:
    assert len(ALL) >= 100
    assert len({case.id for case in ALL}) == len(ALL)
