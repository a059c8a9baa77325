"""Compare what a build generates with an output folder and its manifest: what to
create, update and delete, and what perfdash must not touch.

Rules (the manifest is the record, see ``perfdash.output.manifest``):
- a generated file is written where nothing is, or over a file the manifest lists that
  still holds what perfdash wrote, or over identical bytes (adopted);
- a listed file that is no longer generated is deleted, if it still holds what
  perfdash wrote;
- anything else in the way (a file edited since perfdash wrote it, a file perfdash did
  not write, a symbolic link or a folder) is a conflict: kept, and the build refused,
  unless ``force`` (then generated paths are overwritten and edited files deleted);
- no path is ever followed through a symbolic link: a link among the folders of a
  generated path is an error.

A large output is planned in parts (``plan_part``), each where it was generated, and
may be staged there at once (``stage``): only small records travel back, which
``finish_plan`` puts together with what is to be deleted. Only reading the folder and
staging new files happen here; ``perfdash.output.commit`` changes what is in place.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from perfdash.errors import OutputError
from perfdash.output.manifest import STATE_DIR, Entry, Manifest, digest, read_manifest

STAGED_SUFFIX = ".perfdash-new"
# Files of these types in the output folders are reported when perfdash did not write them.
_OUTPUT_SUFFIXES = (".yaml", ".yml", ".json")
Stage = Callable[[str, bytes], str]  # (relative path, bytes) -> the staged file, relative


@dataclass(frozen=True)
class Conflict:
    path: str
    reason: str


@dataclass(frozen=True)
class Scope:
    """Which files the manifest lists a build answers for: all (a complete build), or
    only those generated from the declarations it read (a build of some of them)."""

    complete: bool = True
    declarations: frozenset[str] = frozenset()

    def covers(self, entry: Entry) -> bool:
        return self.complete or entry.source in self.declarations


@dataclass(frozen=True)
class PartPlan:
    """One part of the output, decided (and perhaps staged) where it was generated."""

    paths: tuple[str, ...]
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    conflicts: tuple[Conflict, ...]
    entries: dict[str, Entry]  # the manifest's entries for these paths from now on
    writes: dict[str, bytes] = field(repr=False)  # files to write, when not staged
    staged: dict[str, str] = field(default_factory=dict)  # path -> its staged file


@dataclass(frozen=True)
class OutputPlan:
    root: Path
    writes: Mapping[str, bytes] = field(repr=False)  # created and updated files, not staged
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    deleted: tuple[str, ...]
    conflicts: tuple[Conflict, ...]
    foreign: tuple[str, ...]  # files in the output folders that perfdash did not write
    manifest: Manifest
    manifest_changed: bool
    leftovers: tuple[str, ...] = ()  # staged files of a build killed before it committed
    staged: Mapping[str, str] = field(default_factory=dict)  # path -> staged file, relative

    @property
    def clean(self) -> bool:
        """The folder holds exactly what was generated (``build --check``)."""
        return not (
            self.created or self.updated or self.deleted or self.conflicts or self.manifest_changed
        )


def plan_output(
    root: Path,
    files: Mapping[str, str],
    *,
    sources: Mapping[str, str],
    kinds: Iterable[str],
    scope: Scope = Scope(),
    force: bool = False,
    folders: Iterable[str] = (),
) -> OutputPlan:
    """What writing ``files`` (relative path -> text) into ``root`` takes, in one part.
    ``folders`` are searched for files perfdash did not write (reported only)."""
    manifest = read_manifest(root) or Manifest()
    part = plan_part(root, files, sources=sources, manifest=manifest, scope=scope, force=force)
    return finish_plan(
        root, [part], manifest=manifest, kinds=kinds, scope=scope, force=force, folders=folders
    )


def plan_part(
    root: Path,
    files: Mapping[str, str],
    *,
    sources: Mapping[str, str],
    manifest: Manifest,
    scope: Scope,
    force: bool = False,
    stage: Stage | None = None,
) -> PartPlan:
    """Decide each of ``files``; with ``stage``, write the ones to write as staged files
    (``perfdash.output.commit`` renames them into place, or removes them)."""
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    conflicts: list[Conflict] = []
    entries: dict[str, Entry] = {}
    writes: dict[str, bytes] = {}
    checked: set[str] = set()  # folders found to be real folders (10,000 files share ~300)
    for path, text in files.items():
        _check_folders(root, path, checked)
        data = text.encode("utf-8")
        listed = manifest.files.get(path)
        source = sources.get(path)
        if listed is not None and listed.source not in (None, source) and not scope.covers(listed):
            conflicts.append(
                Conflict(path, f"generated from {listed.source}, which this build did not read")
            )
            entries[path] = listed
            continue
        state, current = _read(os.path.join(root, path))
        if state == "missing" or (state == "file" and current != data):
            if state == "missing" or (listed and digest(current) == listed.sha256) or force:
                (created if state == "missing" else updated).append(path)
                writes[path] = data
            else:
                conflicts.append(Conflict(path, _why_not_ours(state, listed)))
                if listed is not None:
                    entries[path] = listed
                continue
        elif state != "file":
            conflicts.append(Conflict(path, _why_not_ours(state, listed)))
            if listed is not None:
                entries[path] = listed
            continue
        else:
            unchanged.append(path)
        entries[path] = Entry(digest(data), source)
    staged = {}
    if stage is not None:
        staged = {path: stage(path, data) for path, data in writes.items()}
        writes = {}
    return PartPlan(
        tuple(files),
        tuple(created),
        tuple(updated),
        tuple(unchanged),
        tuple(conflicts),
        entries,
        writes,
        staged,
    )


def finish_plan(
    root: Path,
    parts: Iterable[PartPlan],
    *,
    manifest: Manifest,
    kinds: Iterable[str],
    scope: Scope,
    force: bool = False,
    folders: Iterable[str] = (),
) -> OutputPlan:
    """Put the parts together, and decide what the manifest lists that is not generated
    any more: deleted if it still holds what perfdash wrote, else a conflict."""
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    conflicts: list[Conflict] = []
    entries: dict[str, Entry] = {}
    writes: dict[str, bytes] = {}
    staged: dict[str, str] = {}
    paths: set[str] = set()
    for part in parts:
        paths.update(part.paths)
        created += part.created
        updated += part.updated
        unchanged += part.unchanged
        conflicts += part.conflicts
        entries.update(part.entries)
        writes.update(part.writes)
        staged.update(part.staged)
    deleted = []
    checked: set[str] = set()
    for path, entry in manifest.files.items():
        if path in paths:
            continue
        if not scope.covers(entry):
            entries[path] = entry
            continue
        _check_folders(root, path, checked)
        state, current = _read(os.path.join(root, path))
        if state == "missing":
            continue  # gone already: drop it from the record
        if state == "file" and (force or digest(current) == entry.sha256):
            deleted.append(path)
        else:
            conflicts.append(Conflict(path, _why_not_ours(state, entry) + " (no longer generated)"))
            entries[path] = entry
    new_manifest = Manifest(entries, tuple(sorted(set(kinds))))
    known = paths | set(manifest.files)
    return OutputPlan(
        root=root,
        writes=writes,
        created=tuple(sorted(created)),
        updated=tuple(sorted(updated)),
        unchanged=tuple(sorted(unchanged)),
        deleted=tuple(sorted(deleted)),
        conflicts=tuple(sorted(conflicts, key=lambda c: c.path)),
        foreign=tuple(_foreign(root, folders, known)),
        manifest=new_manifest,
        manifest_changed=new_manifest != manifest,
        leftovers=tuple(_leftovers(root, known, set(staged.values()))),
        staged=staged,
    )


def _why_not_ours(state: str, listed: Entry | None) -> str:
    if state == "link":
        return "a symbolic link is in the way (perfdash never writes through links)"
    if state == "other":
        return "a folder or special file is in the way"
    if listed is None:
        return "a file perfdash did not write is in the way"
    return "edited since perfdash wrote it"


def _read(path: str) -> tuple[str, bytes]:
    """("missing" | "file" | "link" | "other", the file's bytes)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "missing", b""
    except NotADirectoryError:
        return "other", b""
    if stat.S_ISLNK(mode):
        return "link", b""
    if not stat.S_ISREG(mode):
        return "other", b""
    try:
        with open(path, "rb") as handle:
            return "file", handle.read()
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror}") from exc


def _check_folders(root: Path, relative: str, checked: set[str]) -> None:
    """Refuse a path whose folders below ``root`` include a symbolic link. ``checked``
    holds the folders already found to be real ones (plain strings: a large fleet's
    10,000 paths share a few hundred folders, and Path objects for each part of each
    path were most of a no-op build's planning time)."""
    parts = relative.split("/")
    if relative.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise OutputError(f"refusing to write {relative!r}: not a plain path inside {root}")
    for end in range(1, len(parts)):
        name = "/".join(parts[:end])
        if name in checked:
            continue
        folder = os.path.join(root, name)
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            return
        if stat.S_ISLNK(mode):
            raise OutputError(
                f"{root / name} is a symbolic link (to {os.readlink(folder)}): perfdash writes "
                f"only into real folders under {root}; replace the link with a folder, or "
                "point --out at the target"
            )
        if not stat.S_ISDIR(mode):
            raise OutputError(f"{root / name} is in the way of {relative}: it is not a folder")
        checked.add(name)


def _foreign(root: Path, folders: Iterable[str], known: set[str]) -> list[str]:
    found = []
    for folder in folders:
        top = root / folder
        if top.is_symlink():
            continue
        for directory, subdirs, names in os.walk(top):
            relative_dir = Path(directory).relative_to(root).as_posix()
            subdirs[:] = sorted(d for d in subdirs if not (Path(directory) / d).is_symlink())
            for name in sorted(names):
                relative = f"{relative_dir}/{name}"
                if relative not in known and name.endswith(_OUTPUT_SUFFIXES):
                    found.append(relative)
    return sorted(found)


def _leftovers(root: Path, paths: set[str], ours: set[str]) -> list[str]:
    """Staged files of a build that was killed before it committed (no journal)."""
    folders = {path.rsplit("/", 1)[0] if "/" in path else "" for path in paths}
    folders.add(STATE_DIR)
    found = []
    for folder in sorted(folders):
        directory = root / folder
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for name in names:
            relative = f"{folder}/{name}" if folder else name
            if name.startswith(".") and name.endswith(STAGED_SUFFIX) and relative not in ours:
                found.append(relative)
    return sorted(found)
