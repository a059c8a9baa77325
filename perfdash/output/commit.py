"""Carry out an ``OutputPlan``: all of the new output or none of it.

1. Every new file is staged next to its target (``.<name>.<token>.perfdash-new``) and
   the new manifest beside the old one. A failure here (disk full, Ctrl-C) removes the
   staged files and the folders made for them: the folder is as it was.
2. A journal (``.perfdash/journal.json``) lists the renames and deletions to come; it
   is written atomically, and from then on the build is as good as done.
3. With SIGINT and SIGTERM held back, the staged files are renamed into place, old
   files deleted, the manifest replaced, emptied folders removed, the journal deleted.
   A signal arriving meanwhile takes effect right after, so an interrupted build never
   leaves a mix of old and new files. (Holding starts before the journal is written.)
If the process dies during step 3 anyway (killed, a crash), the next build finds the
journal and completes it first (``recover``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from perfdash.errors import OutputError
from perfdash.output.manifest import MANIFEST_PATH, STATE_DIR, digest
from perfdash.output.plan import STAGED_SUFFIX, OutputPlan

JOURNAL_PATH = f"{STATE_DIR}/journal.json"


@dataclass(frozen=True)
class WriteReport:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


class Staging:
    """One build's staged files. ``stage`` writes one (in a worker process, too: this
    object travels to them); ``discard`` removes every file staged under this build's
    token, wherever it was made, and the folders made for them."""

    def __init__(self, root: Path, folders: Iterable[str]) -> None:
        self.root = root
        self.token = secrets.token_hex(4)
        self.folders = tuple(folders)
        self.existing = _existing_folders(root, self.folders)
        self._made: dict[str, str] = {}  # relative folder -> its path, once it exists

    def __call__(self, relative: str, data: bytes) -> str:
        # Plain strings, and each folder looked at once: Path objects for every one of
        # 10,000 small files cost more than writing them.
        folder, _, name = relative.rpartition("/")
        directory = self._made.get(folder)
        if directory is None:
            directory = self._made[folder] = self._folder(folder)
        staged = f".{name}.{self.token}{STAGED_SUFFIX}"
        _write_new(os.path.join(directory, staged), data)
        return f"{folder}/{staged}" if folder else staged

    def _folder(self, folder: str) -> str:
        directory = self.root / folder
        if str(directory) not in self.existing:
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise OutputError(f"cannot create {directory}: {exc.strerror}") from exc
        return str(directory)

    def discard(self) -> None:
        suffix = f".{self.token}{STAGED_SUFFIX}"
        for top in (*self.folders, STATE_DIR):
            for directory, _, names in os.walk(self.root / top, topdown=False):
                for name in names:
                    if name.endswith(suffix):
                        (Path(directory) / name).unlink(missing_ok=True)
                if directory not in self.existing:
                    with contextlib.suppress(OSError):
                        os.rmdir(directory)  # only when empty
            for made in (self.root / top).parents:  # alerts/ of alerts/rules, the root
                if made != self.root and self.root not in made.parents:
                    break
                if str(made) not in self.existing:
                    with contextlib.suppress(OSError):
                        made.rmdir()


def _existing_folders(root: Path, folders: Iterable[str]) -> set[str]:
    """The folders there are now, in and above the output folders (up to ``root``)."""
    found = {str(root)} if root.is_dir() else set()
    for folder in (*folders, STATE_DIR):
        found.update(directory for directory, _, _ in os.walk(root / folder))
        found.update(str(p) for p in (root / folder).parents if p.is_dir())
    return found


def write_plan(plan: OutputPlan, staging: Staging | None = None) -> WriteReport:
    """Apply ``plan`` atomically (see the module docstring), with the files already
    staged by ``staging``. A plan with conflicts is refused: nothing is written."""
    root = plan.root
    if staging is None:
        staging = Staging(root, sorted({path.split("/", 1)[0] for path in plan.writes}))
    if plan.conflicts:
        staging.discard()
        raise OutputError(
            f"{len(plan.conflicts)} files are in the way (see above): nothing written. Move them "
            "away, restore what perfdash wrote, or run with --force to replace them"
        )
    for leftover in plan.leftovers:
        (root / leftover).unlink(missing_ok=True)
    if not (plan.writes or plan.staged or plan.deleted or plan.manifest_changed):
        return WriteReport((), plan.unchanged, ())
    try:
        renames = [(staged, path) for path, staged in plan.staged.items()]
        renames += [(staging(path, data), path) for path, data in sorted(plan.writes.items())]
        renames.append(
            (staging(MANIFEST_PATH, plan.manifest.render().encode("utf-8")), MANIFEST_PATH)
        )
        deletions = [(path, digest((root / path).read_bytes())) for path in plan.deleted]
        with _signals_held():
            _write_journal(root, renames, deletions)
            _finish(root, renames, deletions)
    except BaseException:
        if not (root / JOURNAL_PATH).exists():
            staging.discard()
        raise
    return WriteReport(tuple(sorted([*plan.writes, *plan.staged])), plan.unchanged, plan.deleted)


def recover(root: Path) -> bool:
    """Complete a build that was killed while committing; True when there was one."""
    journal = root / JOURNAL_PATH
    try:
        text = journal.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    try:
        document = json.loads(text)
        renames = [(str(a), str(b)) for a, b in document["renames"]]
        deletions = [(str(a), str(b)) for a, b in document["deletions"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise OutputError(
            f"{journal} is damaged ({exc}): an interrupted build could not be completed; "
            "check the output with `perfdash build --check`, then delete the journal"
        ) from exc
    with _signals_held():
        _finish(root, renames, deletions)
    return True


def _finish(root: Path, renames: list[tuple[str, str]], deletions: list[tuple[str, str]]) -> None:
    """Step 3; safe to repeat (a rename already done, a file already gone, are skipped)."""
    base = str(root)
    try:
        for staged, target in renames:
            with contextlib.suppress(FileNotFoundError):
                # Plain strings: Path objects for 20,000 paths were most of a large commit.
                os.replace(os.path.join(base, staged), os.path.join(base, target))
        for path, sha in deletions:
            old = root / path
            with contextlib.suppress(FileNotFoundError):
                if not old.is_symlink() and digest(old.read_bytes()) == sha:
                    old.unlink()
                    _remove_empty_folders(root, old.parent)
        (root / JOURNAL_PATH).unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot finish writing {root}: {exc.strerror} ({exc.filename}); fix that and run "
            "perfdash build again: it completes the interrupted write first"
        ) from exc


def _write_journal(
    root: Path, renames: list[tuple[str, str]], deletions: list[tuple[str, str]]
) -> None:
    journal = root / JOURNAL_PATH
    temporary = journal.with_name(f".journal.{os.getpid()}{STAGED_SUFFIX}")
    data = json.dumps({"renames": renames, "deletions": deletions}).encode("utf-8")
    _write_new(temporary, data, sync=True)
    os.replace(temporary, journal)
    descriptor = os.open(journal.parent, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_new(path: str | Path, data: bytes, *, sync: bool = False) -> None:
    try:
        # "x": never follow or reuse something already there; mode 0666 minus umask.
        with open(path, "xb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException as exc:  # a signal too: this file is not listed anywhere yet
        if not isinstance(exc, FileExistsError):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {exc.filename or path}: {exc.strerror}") from exc
        raise


def _remove_empty_folders(root: Path, folder: Path) -> None:
    """Remove ``folder`` and its parents below ``root`` while they are empty."""
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the duration: their handlers run when it ends.

    Python runs signal handlers in the main thread, between bytecodes, whichever thread
    the signal reached: so the handlers themselves are swapped for ones that only note
    the signal (blocking it in this thread alone would not do)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, _noting(arrived)) for number in held}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for signum in arrived:
            signal.raise_signal(signum)  # now handled as it would have been


def _noting(arrived: list[int]) -> Callable[[int, FrameType | None], None]:
    def note(number: int, frame: FrameType | None) -> None:
        arrived.append(number)

    return note


def write_file(target: Path, text: str) -> None:
    """Write one file atomically (temporary file next to it, then rename)."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {target.parent}: {exc.strerror}") from exc
    temporary = target.with_name(f".{target.name}.{os.getpid()}{STAGED_SUFFIX}")
    try:
        _write_new(temporary, text.encode("utf-8"))
        os.replace(temporary, target)
    except OSError as exc:
        raise OutputError(f"cannot write {exc.filename or target}: {exc.strerror}") from exc
    finally:
        temporary.unlink(missing_ok=True)
