"""Declarations as they were at a git revision (``perfdash plan --since origin/main``).

The files under the declaration paths at ``REF`` are written into a temporary folder,
under the same relative paths, and loaded like any declarations; git runs from an
argument list with a timeout, and its failures become ``ToolError``.
"""

from __future__ import annotations

import shutil
import subprocess
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
def declarations_at(ref: str, paths: Sequence[Path], *, cwd: Path) -> Iterator[list[Path]]:
    """The declaration ``paths`` (relative to ``cwd``) as of ``ref``, in a temporary folder
    removed on exit; paths that did not exist at ``ref`` are left out."""
    prefix = _git(["rev-parse", "--show-prefix"], cwd=cwd).decode().strip()
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=cwd)
    except ToolError as exc:
        raise ConfigError(
            f"--since {ref}: no such git revision here (in CI, fetch it: actions/checkout "
            "with fetch-depth: 0)"
        ) from exc
    with tempfile.TemporaryDirectory(prefix="perfdash-since-") as folder:
        root = Path(folder)
        found = []
        for path in paths:
            listed = _git(
                [
                    "ls-tree",
                    "-r",
                    "-z",
                    "--name-only",
                    "--full-tree",
                    ref,
                    "--",
                    prefix + str(path),
                ],
                cwd=cwd,
            )
            for name in filter(None, listed.decode("utf-8").split("\0")):
                relative = Path(name).relative_to(prefix) if prefix else Path(name)
                target = root / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(_git(["show", f"{ref}:{name}"], cwd=cwd))
            if (root / path).exists():
                found.append(root / path)
        yield found
