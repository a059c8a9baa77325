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
Pure apart from reading the folder: nothing is written here.
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


@dataclass(frozen=True)
class Conflict:
    path: str
    reason: str


@dataclass(frozen=True)
class OutputPlan:
    root: Path
    writes: Mapping[str, bytes] = field(repr=False)  # created and updated files
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    deleted: tuple[str, ...]
    conflicts: tuple[Conflict, ...]
    foreign: tuple[str, ...]  # files in the output folders that perfdash did not write
    manifest: Manifest
    manifest_changed: bool
    leftovers: tuple[str, ...] = ()  # staged files of an interrupted build, to remove

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
    digests: Mapping[str, str] | None = None,
    in_scope: Callable[[str, Entry], bool] | None = None,
    force: bool = False,
    folders: Iterable[str] = (),
) -> OutputPlan:
    """What writing ``files`` (relative path -> text) into ``root`` takes.

    ``in_scope(path, entry)`` tells which files already listed in the manifest this build
    answers for (default: all): a build of some declarations never deletes what others
    generated. ``folders`` are searched for files perfdash did not write (reported only).
    """
    manifest = read_manifest(root) or Manifest()
    digests = digests or {}
    writes: dict[str, bytes] = {}
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    deleted: list[str] = []
    conflicts: list[Conflict] = []
    entries: dict[str, Entry] = {}
    checked: set[str] = set()  # folders found to be real folders (10,000 files share ~300)
    for path, text in files.items():
        _check_folders(root, path, checked)
        data = text.encode("utf-8")
        sha = digests.get(path) or digest(data)
        entries[path] = Entry(sha, sources.get(path))
        state, current = _read(os.path.join(root, path))
        listed = manifest.files.get(path)
        owner = listed.source if listed is not None else None
        if (
            owner is not None
            and owner != sources.get(path)
            and in_scope is not None
            and not in_scope(path, listed)  # type: ignore[arg-type]  # listed is set
        ):
            conflicts.append(
                Conflict(path, f"generated from {owner}, which this build did not read")
            )
            entries[path] = listed  # type: ignore[assignment]
            continue
        if state == "missing":
            created.append(path)
            writes[path] = data
        elif state == "file" and current == data:
            unchanged.append(path)
        elif state == "file" and listed is not None and digest(current) == listed.sha256:
            updated.append(path)
            writes[path] = data
        else:
            reason = _why_not_ours(state, listed)
            if force and state == "file":
                updated.append(path)
                writes[path] = data
            else:
                conflicts.append(Conflict(path, reason))
                if listed is not None:
                    entries[path] = listed
                else:
                    del entries[path]
    for path, entry in manifest.files.items():
        if path in files:
            continue
        if in_scope is not None and not in_scope(path, entry):
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
    return OutputPlan(
        root=root,
        writes=writes,
        created=tuple(sorted(created)),
        updated=tuple(sorted(updated)),
        unchanged=tuple(sorted(unchanged)),
        deleted=tuple(sorted(deleted)),
        conflicts=tuple(sorted(conflicts, key=lambda c: c.path)),
        foreign=tuple(_foreign(root, folders, {*files, *manifest.files})),
        manifest=new_manifest,
        manifest_changed=new_manifest != manifest,
        leftovers=tuple(_leftovers(root, {*files, *manifest.files})),
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
                f"{root / name} is a symbolic link (to {os.readlink(folder)}): perfdash writes only "
                f"into real folders under {root}; replace the link with a folder, or point "
                "--out at the target"
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


def _leftovers(root: Path, paths: set[str]) -> list[str]:
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
            if name.startswith(".") and name.endswith(STAGED_SUFFIX):
                found.append(f"{folder}/{name}" if folder else name)
    return sorted(found)
