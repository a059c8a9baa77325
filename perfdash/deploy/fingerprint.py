"""What plan compares, and how perfdash recognises what it wrote in Grafana.

Grafana bumps a dashboard's version on every save, even of identical content, and
adds ``id`` and ``version`` to what it stores; it may also migrate ``schemaVersion``
when it reads a dashboard. ``normalize`` drops those (and null values) so equal
content compares equal (``same_content``). ``content_hash`` is a short SHA-256 of the
content without those three keys.

Every save perfdash makes carries a version message ending in ``sha256:<hash>`` of
the content it sent (``change_message``). That message is perfdash's mark of
provenance: a dashboard with one in its history was written by perfdash (only a
message of exactly that form counts, which no one types by accident). A dashboard
whose live content hashes to the hash in the newest message perfdash wrote is as
perfdash left it; any other content was edited in Grafana since: that is drift (see
``perfdash.deploy.grafana_plan``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from perfdash import __version__

IGNORED_KEYS = frozenset({"id", "version", "schemaVersion"})
HASH_CHARS = 16
MESSAGE_PREFIX = "perfdash "
MESSAGE_MAX = 255  # Grafana stores version messages in a varchar(255)
# What change_message writes, and nothing else: version, commit and run, then the hash.
_WRITTEN = re.compile(
    rf"{MESSAGE_PREFIX}[0-9A-Za-z.+_-]+(?:, commit [0-9A-Za-z]+)?(?:, run \S+)?"
    rf" sha256:(?P<hash>[0-9a-f]{{{HASH_CHARS}}})"
)


def normalize(dashboard: Mapping[str, Any]) -> dict[str, Any]:
    """The dashboard without ``id``, ``version``, ``schemaVersion`` and null values."""
    return {
        key: _clean(value)
        for key, value in dashboard.items()
        if key not in IGNORED_KEYS and value is not None
    }


def same_content(live: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """``normalize(live) == normalize(desired)``, answered without normalising in the
    usual case: content stored exactly as sent compares equal in C."""
    return _top(live) == _top(desired) or normalize(live) == normalize(desired)


def _top(dashboard: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dashboard.items() if k not in IGNORED_KEYS}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def content_hash(dashboard: Mapping[str, Any]) -> str:
    """Short SHA-256 of the dashboard without ``id``, ``version``, ``schemaVersion``, as
    canonical JSON (sorted keys), computed in C. Grafana stores what it is sent, so the
    content perfdash saved hashes the same when read back."""
    canonical = orjson.dumps(_top(dashboard), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()[:HASH_CHARS]


@dataclass(frozen=True)
class ChangeContext:
    """Who is applying: perfdash's version, the git commit and CI run, when known."""

    version: str = __version__
    git_sha: str | None = None
    run_url: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ChangeContext:
        """GitHub Actions' ``GITHUB_SHA`` and run URL (server/repository/run id)."""
        run_url = None
        if all(environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")):
            run_url = (
                f"{environ['GITHUB_SERVER_URL']}/{environ['GITHUB_REPOSITORY']}"
                f"/actions/runs/{environ['GITHUB_RUN_ID']}"
            )
        return cls(git_sha=environ.get("GITHUB_SHA") or None, run_url=run_url)


def change_message(context: ChangeContext, digest: str) -> str:
    """``perfdash 0.1.0, commit 1a2b3c4d5e6f, run <url> sha256:<digest>`` (<= 255 chars)."""
    parts = [f"{MESSAGE_PREFIX}{context.version}"]
    if context.git_sha:
        parts.append(f"commit {context.git_sha[:12]}")
    tail = f" sha256:{digest}"
    head = ", ".join(parts)
    if context.run_url:
        room = MESSAGE_MAX - len(head) - len(tail) - len(", run ")
        if room >= len(context.run_url):
            head += f", run {context.run_url}"
    return head + tail


def written_hash(messages: Iterable[str]) -> str | None:
    """The content hash of the newest message perfdash wrote (messages newest first);
    None when no message is one perfdash writes."""
    for message in messages:
        found = _WRITTEN.fullmatch(message)
        if found:
            return found.group("hash")
    return None
