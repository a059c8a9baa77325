"""The two things users do with a store, start to finish: ingest files, compare runs.

These tie the pure parts (formats, compare) to the store; the CLI calls one each.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import xxhash

from perfdash.baseline.compare import Report, RunSet, compare_runs
from perfdash.baseline.formats import FORMATS, detect_format, parse_file
from perfdash.baseline.records import MinuteBatch, Record, Sample, SampleBatch, Value
from perfdash.baseline.store import (
    HASH_ALGORITHM,
    LEGACY_HASH_ALGORITHM,
    IngestResult,
    NewRun,
    Store,
)
from perfdash.errors import NoBaselineError, ResultFileError

_HASH_CHUNK = 1 << 20


def _hasher(algorithm: str) -> Any:
    """A new hash object: XXH3-128 (the identity since schema 3: 0.1 s of CPU a GB, where
    sha256 took 0.7 s, the sixth of a big ingest) or sha256 (earlier runs' identity)."""
    if algorithm == HASH_ALGORITHM:
        return xxhash.xxh3_128()
    if algorithm == LEGACY_HASH_ALGORITHM:
        return hashlib.sha256()
    raise ValueError(f"unknown content hash algorithm {algorithm!r}")


def content_hash(
    format_name: str,
    paths: Sequence[Path],
    stop: threading.Event | None = None,
    *,
    algorithm: str = HASH_ALGORITHM,
) -> str:
    """The hash (``algorithm``) over the format and every file's hash, in order: the run's
    identity. ``stop`` set: give up (returns "")."""
    digest = _hasher(algorithm)
    digest.update(format_name.encode() + b"\0")
    buffer = bytearray(_HASH_CHUNK)
    view = memoryview(buffer)
    for path in paths:
        inner = _hasher(algorithm)
        try:
            with path.open("rb") as handle:
                while read := handle.readinto(buffer):
                    inner.update(view[:read])
                    if stop is not None and stop.is_set():
                        return ""
        except OSError as exc:
            raise ResultFileError(str(path), 0, f"cannot read: {exc.strerror}") from exc
        digest.update(inner.digest())
    return str(digest.hexdigest())


class BackgroundHash:
    """``content_hash`` computed in a thread while the files are parsed (it reads the
    files a second time, from the page cache)."""

    def __init__(self, format_name: str, paths: Sequence[Path]) -> None:
        self._stop = threading.Event()
        self._digest = ""
        self._error: ResultFileError | None = None
        self._thread = threading.Thread(
            target=self._run, args=(format_name, paths), name="content-hash", daemon=True
        )
        self._thread.start()

    def _run(self, format_name: str, paths: Sequence[Path]) -> None:
        try:
            self._digest = content_hash(format_name, paths, self._stop)
        except ResultFileError as exc:
            self._error = exc

    def __call__(self) -> str:
        """The digest (waits for it)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digest

    def cancel(self) -> None:
        self._stop.set()


def choose_format(paths: Sequence[Path], format_name: str | None) -> str:
    """``format_name``, or the one format every file is detected as."""
    if format_name is not None:
        return format_name
    found = {path: detect_format(path) for path in paths}
    kinds = sorted(set(found.values()))
    if len(kinds) > 1:
        listed = ", ".join(f"{p} is {k}" for p, k in found.items())
        raise ResultFileError(str(paths[0]), 0, f"the files of one run differ in format ({listed})")
    return kinds[0]


def ingest_files(
    store: Store,
    *,
    benchmark: str,
    paths: Sequence[Path],
    format_name: str | None = None,
    branch: str | None = None,
    git_sha: str | None = None,
    env: Mapping[str, str] | None = None,
    config: Path | None = None,
) -> IngestResult:
    """Parse ``paths`` (one run) and store them; re-ingesting the same content is a no-op
    (found when the content hash, computed meanwhile, is known: the transaction is undone)."""
    fmt = choose_format(paths, format_name)
    store.check_schema()
    digest = BackgroundHash(fmt, paths)
    try:
        run = NewRun(
            benchmark=benchmark,
            format=fmt,
            files=tuple(path.name for path in paths),
            content_hash=digest,
            legacy_content_hash=lambda: content_hash(fmt, paths, algorithm=LEGACY_HASH_ALGORITHM),
            branch=branch,
            git_sha=git_sha,
            env=dict(env or {}),
            config_hash=(
                content_hash("config", [config], algorithm=LEGACY_HASH_ALGORITHM)
                if config
                else None
            ),
        )
        return store.ingest(run, _records(paths, fmt))
    finally:
        digest.cancel()


def _records(paths: Sequence[Path], fmt: str) -> Iterator[Record]:
    """Every file's records; a run without one measurement is an error, raised before the
    store commits (so nothing is stored)."""
    measured = False
    for path in paths:
        for record in parse_file(path, fmt):
            if not measured and isinstance(record, Sample | SampleBatch | MinuteBatch | Value):
                measured = True
            yield record
    if not measured:
        names = ", ".join(str(p) for p in paths)
        hint = getattr(FORMATS[fmt], "HINT_WHEN_EMPTY", "")
        raise ResultFileError(names, 0, f"no measurements to store{': ' + hint if hint else ''}")


@dataclass(frozen=True)
class Selection:
    """Which runs a comparison uses (see ``perfdash baseline compare --help``)."""

    benchmark: str
    branch: str | None = None
    run_ids: tuple[int, ...] = ()
    baseline_branch: str = "main"
    baseline_run_ids: tuple[int, ...] = ()
    window: timedelta = timedelta(days=7)
    baseline_runs: int = 20
    candidate_runs: int = 10
    metrics: tuple[str, ...] = ()
    thresholds: dict[str, Decimal] = field(default_factory=dict)


def compare_benchmark(store: Store, selection: Selection, *, now: datetime) -> Report:
    """Load the candidate and baseline runs the selection names and compare them."""
    s = selection
    since = now - s.window
    window = _window_words(s.window)
    if s.run_ids:
        runs = store.runs(s.benchmark, run_ids=s.run_ids)
        missing = sorted(set(s.run_ids) - {r.id for r in runs})
        if missing:
            raise NoBaselineError(
                f"no run {', '.join(map(str, missing))} of {s.benchmark!r} in the store"
            )
        candidate = RunSet(f"runs {', '.join(map(str, sorted(s.run_ids)))}", tuple(runs))
    elif s.branch is not None and s.branch != s.baseline_branch:
        runs = store.runs(s.benchmark, branch=s.branch, since=since, limit=s.candidate_runs)
        candidate = RunSet(f"branch {s.branch} (last {window})", tuple(runs))
    else:
        runs = store.runs(s.benchmark, branch=s.baseline_branch, since=since, limit=1)
        candidate = RunSet(f"latest run of {s.baseline_branch}", tuple(runs))
    exclude = [r.id for r in candidate.runs]
    if s.baseline_run_ids:
        pinned = store.runs(s.benchmark, run_ids=s.baseline_run_ids, exclude=exclude)
        baseline = RunSet(
            f"pinned runs {', '.join(map(str, sorted(s.baseline_run_ids)))}", tuple(pinned)
        )
    else:
        found = store.runs(
            s.benchmark,
            branch=s.baseline_branch,
            since=since,
            limit=s.baseline_runs,
            exclude=exclude,
        )
        baseline = RunSet(f"branch {s.baseline_branch} (last {window})", tuple(found))
    return compare_runs(
        s.benchmark, candidate, baseline, metrics=s.metrics, thresholds=s.thresholds
    )


def _window_words(window: timedelta) -> str:
    days, seconds = window.days, window.seconds
    if seconds == 0:
        return f"{days}d"
    return f"{window.total_seconds() / 3600:g}h"


__all__ = [
    "FORMATS",
    "Selection",
    "choose_format",
    "compare_benchmark",
    "content_hash",
    "ingest_files",
]


def record_report(store: Store, report: Report) -> int:
    """Keep the report in the store (the dashboards' verdict table reads it)."""
    return store.record_comparison(
        benchmark=report.benchmark,
        candidate=report.candidate.label,
        candidate_runs=report.candidate.ids,
        baseline_runs=report.baseline.ids,
        regression=bool(report.regressions),
        report=report.to_dict(),
        metrics=report.metric_dicts(),
    )
