"""Declarations as they were at a git revision (``perfdash plan --since origin/main``).

The repository at ``REF`` (``git archive``) is unpacked into a temporary folder and the
declaration paths are loaded from there like any declarations; git runs from an
argument list with a timeout, and its failures become ``ToolError``.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from perfdash.errors import ConfigError, ToolError, ToolNotFound

GIT_TIMEOUT = 60


def _git(args: Sequence[str], *, cwd: Path) -> bytes:
    git = shutil.which("git")
    if git is None:
        raise ToolNotFound("git is not installed (apt-get install git): --since reads git")
    try:
        done = subprocess.run(
            [git, *args], cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolError(["git", *args]) from exc
    if done.returncode != 0:
        raise ToolError(
            ["git", *args],
            done.returncode,
            done.stdout.decode("utf-8", "replace"),
            done.stderr.decode("utf-8", "replace"),
        )
    return done.stdout


@contextmanager
def declarations_at(
    ref: str, paths: Sequence[Path], *, cwd: Path
) -> Iterator[tuple[Path, list[Path]]]:
    """The declaration ``paths`` (relative to ``cwd``) as of ``ref``, in a temporary copy of
    the repository at ``ref`` (so files a declaration names, such as a Jsonnet override,
    are there too), removed on exit, with the copy's counterpart of ``cwd`` (the project
    folder files must stay in); paths that did not exist at ``ref`` are left out."""
    prefix = _git(["rev-parse", "--show-prefix"], cwd=cwd).decode().strip()
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=cwd)
    except ToolError as exc:
        raise ConfigError(
            f"--since {ref}: no such git revision here (in CI, fetch it: actions/checkout "
            "with fetch-depth: 0)"
        ) from exc
    archive = _git(["archive", "--format=tar", ref], cwd=cwd)
    with tempfile.TemporaryDirectory(prefix="perfdash-since-") as folder:
        root = Path(folder)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")  # no links out, no absolute paths
        base = root / prefix if prefix else root
        yield base, [base / path for path in paths if (base / path).exists()]
