"""The record of what perfdash generated in an output folder: ``.perfdash/manifest.json``.

Every generated file is listed with the SHA-256 of the bytes perfdash wrote and the
declaration it was generated from. perfdash deletes or overwrites a file only when it is
listed here and still holds those bytes: ownership is recorded, never guessed from a
file's content. The manifest is committed with the output, deterministic (sorted, one
file per line) and reviewable in a pull request.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfdash.errors import OutputError

STATE_DIR = ".perfdash"
MANIFEST_PATH = f"{STATE_DIR}/manifest.json"
VERSION = 1
ABOUT = (
    "Written by perfdash build: the files it generated in this folder and the SHA-256 of "
    "what it wrote. perfdash replaces or deletes only these files, and only while they "
    "hold what it wrote. Do not edit."
)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Entry:
    sha256: str
    source: str | None = None  # the declaration file; None: made from the whole fleet


@dataclass(frozen=True)
class Manifest:
    files: Mapping[str, Entry] = field(default_factory=dict)
    kinds: tuple[str, ...] = ()  # the output kinds last built here (``build --format``)

    def render(self) -> str:
        """Deterministic JSON, one file per line (small diffs in review)."""
        lines = [
            "{",
            f'  "about": {json.dumps(ABOUT)},',
            f'  "version": {VERSION},',
            f'  "kinds": {json.dumps(sorted(self.kinds))},',
            '  "files": {',
        ]
        items = sorted(self.files.items())
        for index, (path, entry) in enumerate(items):
            # What json.dumps writes for {"sha256": ..., "source": ...}, string by string
            # (a json.dumps call per file was a third of a large build's commit).
            value = f'{{"sha256": {_json_string(entry.sha256)}'
            if entry.source is not None:
                value += f', "source": {_json_string(entry.source)}'
            comma = "," if index < len(items) - 1 else ""
            lines.append(f"    {_json_string(path)}: {value}}}{comma}")
        lines += ["  }", "}", ""]
        return "\n".join(lines)


_json_string = json.encoder.encode_basestring_ascii  # json.dumps of a str


def read_manifest(root: Path) -> Manifest | None:
    """The manifest in ``root`` (None when there is none); a damaged one is an error,
    since guessing would risk deleting what is not perfdash's."""
    path = root / MANIFEST_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise OutputError(f"cannot read {path}: {exc}") from exc
    try:
        return parse_manifest(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise OutputError(
            f"{path} is not a perfdash manifest ({exc}); restore it from version control "
            "(git checkout -- it), or delete it and run `perfdash build --force` to take "
            "over the generated files again"
        ) from exc


def parse_manifest(document: Any) -> Manifest:
    if document.get("version") != VERSION:
        raise ValueError(f"version {document.get('version')!r}, expected {VERSION}")
    files: dict[str, Entry] = {}
    for path, value in document["files"].items():
        sha = value["sha256"]
        source = value.get("source")
        if not (isinstance(sha, str) and len(sha) == 64):
            raise ValueError(f"{path}: sha256 is not a SHA-256")
        if source is not None and not isinstance(source, str):
            raise ValueError(f"{path}: source is not a string")
        _check_relative(path)
        files[path] = Entry(sha, source)
    kinds = document.get("kinds", [])
    if not all(isinstance(kind, str) for kind in kinds):
        raise ValueError("kinds must be strings")
    return Manifest(files, tuple(kinds))


def _check_relative(path: str) -> None:
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{path!r} is not a plain relative path")
