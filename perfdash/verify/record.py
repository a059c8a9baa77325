"""The record of tests that passed, so ``perfdash test`` runs again only what changed.

Keys are content addresses (``Unit.key``: the rule text, the test text, promtool's
version), so an entry can only ever match the exact test that passed: a change to any
of them is a new key, and runs. Each entry is signed (HMAC-SHA256) with a random key
kept beside the record, readable only by its owner: an entry that does not verify
(edited by hand, copied from elsewhere, damaged) is ignored, never read as a pass.
Only passes are recorded.

Beside the passes, what each service model generates (``generated``): its model
fingerprint (``verify.fingerprint``: the model, perfdash's source, the rendering
libraries) to its files' digests and its tests' content digests, signed the same way.
A service whose fingerprint and files on disk match an entry needs no regenerating to
be known fresh and to find its tests' keys; anything else is regenerated. Only the
entries of one perfdash (its code fingerprint) are kept: a new perfdash starts afresh.

The record lives in ``$XDG_CACHE_HOME/perfdash/tests`` (or
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
from typing import TypeVar

from perfdash.errors import OutputError

V = TypeVar("V")
RECORD_FILE = "passed.json"
KEY_FILE = "key"
MAX_ENTRIES = 200_000  # the oldest are dropped beyond this
MAX_GENERATED = 20_000  # service models remembered (of one perfdash)


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
        self._code = ""  # the code fingerprint of the generated entries
        self._generated: dict[str, tuple[str, str]] = {}  # fingerprint -> (payload, signature)
        self._generated_added: dict[str, tuple[str, str]] = {}
        if directory is not None:
            self._key = _read_or_make_key(directory)
            self._entries, self._code, self._generated = self._read()

    def passed(self, key: str) -> bool:
        signature = self._entries.get(key) or self._added.get(key)
        return signature is not None and hmac.compare_digest(signature, self._sign(key))

    def add(self, keys: Iterable[str]) -> None:
        if self.directory is not None:
            self._added.update((key, self._sign(key)) for key in keys)

    def generated(self, code: str, fingerprint: str) -> str | None:
        """The payload remembered for a model ``fingerprint`` under the perfdash whose
        code fingerprint is ``code``, if its signature verifies."""
        found = self._generated.get(fingerprint) or self._generated_added.get(fingerprint)
        if found is None or code != self._code:
            return None
        payload, signature = found
        expected = self._sign_generated(code, fingerprint, payload)
        return payload if hmac.compare_digest(signature, expected) else None

    def remember(self, code: str, fingerprint: str, payload: str) -> None:
        if self.directory is None:
            return
        if code != self._code:  # another perfdash: its entries can never match again
            self._code, self._generated, self._generated_added = code, {}, {}
        signature = self._sign_generated(code, fingerprint, payload)
        self._generated_added[fingerprint] = (payload, signature)

    def save(self) -> None:
        if self.directory is None or not (self._added or self._generated_added):
            return
        entries = _newest({**self._entries}, self._added, MAX_ENTRIES)
        generated = _newest({**self._generated}, self._generated_added, MAX_GENERATED)
        document = {
            "version": 1,
            "passed": entries,
            "generated": {
                "code": self._code,
                "models": {k: list(v) for k, v in generated.items()},
            },
        }
        target = self.directory / RECORD_FILE
        temporary = target.with_name(f".{RECORD_FILE}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps(document), encoding="utf-8")
            os.replace(temporary, target)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise OutputError(f"cannot save the test record {target}: {exc.strerror}") from exc
        self._entries, self._added = entries, {}
        self._generated, self._generated_added = generated, {}

    def _sign(self, key: str) -> str:
        return hmac.new(self._key, f"passed:{key}".encode(), hashlib.sha256).hexdigest()

    def _sign_generated(self, code: str, fingerprint: str, payload: str) -> str:
        message = f"generated:{code}\0{fingerprint}\0{payload}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _read(self) -> tuple[dict[str, str], str, dict[str, tuple[str, str]]]:
        assert self.directory is not None
        path = self.directory / RECORD_FILE
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            entries = document["passed"]
            generated = document.get("generated") or {"code": "", "models": {}}
            if document.get("version") != 1 or not isinstance(entries, dict):
                raise ValueError("not a perfdash test record")
            return (
                {str(k): str(v) for k, v in entries.items()},
                str(generated["code"]),
                {str(k): (str(p), str(s)) for k, (p, s) in generated["models"].items()},
            )
        except FileNotFoundError:
            return {}, "", {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self.problem = f"ignored the test record {path} ({exc}): every test runs"
            return {}, "", {}


def _newest(entries: dict[str, V], added: dict[str, V], limit: int) -> dict[str, V]:
    """``entries`` updated with ``added`` (moved to the end), the newest ``limit`` kept."""
    for key in added:
        entries.pop(key, None)
    entries.update(added)
    return dict(list(entries.items())[-limit:])


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
