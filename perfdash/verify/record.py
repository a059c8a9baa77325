"""The record of tests that passed, so ``perfdash test`` runs again only what changed.

Keys are content addresses (``Unit.key``: the rule text, the test text, promtool's
version), so an entry can only ever match the exact test that passed: a change to any
of them is a new key, and runs. Each entry is signed (HMAC-SHA256) with a random key
kept beside the record, readable only by its owner: an entry that does not verify
(edited by hand, copied from elsewhere, damaged) is ignored, never read as a pass.
Only passes are recorded. The record lives in ``$XDG_CACHE_HOME/perfdash/tests`` (or
``~/.cache/...``, or ``--record DIR``); CI can cache that folder between runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

from perfdash.errors import OutputError

RECORD_FILE = "passed.json"
KEY_FILE = "key"
MAX_ENTRIES = 200_000  # the oldest are dropped beyond this


def default_record_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "perfdash" / "tests"


class TestRecord:
    """Passed test keys, signed. ``problem`` says why an existing record was ignored."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.problem = ""
        self._key = b""
        self._entries: dict[str, str] = {}
        self._added: dict[str, str] = {}
        if directory is not None:
            self._key = _read_or_make_key(directory)
            self._entries = self._read()

    def passed(self, key: str) -> bool:
        signature = self._entries.get(key) or self._added.get(key)
        return signature is not None and hmac.compare_digest(signature, self._sign(key))

    def add(self, keys: Iterable[str]) -> None:
        if self.directory is not None:
            self._added.update((key, self._sign(key)) for key in keys)

    def save(self) -> None:
        if self.directory is None or not self._added:
            return
        entries = {k: v for k, v in self._entries.items() if k not in self._added}
        entries.update(self._added)
        kept = dict(list(entries.items())[-MAX_ENTRIES:])
        target = self.directory / RECORD_FILE
        temporary = target.with_name(f".{RECORD_FILE}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps({"version": 1, "passed": kept}), encoding="utf-8")
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise OutputError(f"cannot save the test record {target}: {exc.strerror}") from exc
        self._entries, self._added = kept, {}

    def _sign(self, key: str) -> str:
        return hmac.new(self._key, f"passed:{key}".encode(), hashlib.sha256).hexdigest()

    def _read(self) -> dict[str, str]:
        assert self.directory is not None
        path = self.directory / RECORD_FILE
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            entries = document["passed"]
            if document.get("version") != 1 or not isinstance(entries, dict):
                raise ValueError("not a perfdash test record")
            return {str(k): str(v) for k, v in entries.items()}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self.problem = f"ignored the test record {path} ({exc}): every test runs"
            return {}


def _read_or_make_key(directory: Path) -> bytes:
    path = directory / KEY_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            key = b""
        if len(key) < 32:
            key = secrets.token_bytes(32)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(key)
        return key
    except OSError as exc:
        raise OutputError(f"cannot use the test record in {directory}: {exc.strerror}") from exc
