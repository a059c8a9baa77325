"""The baseline store: runs in, summaries out (PostgreSQL via psycopg 3).

``sample_blocks`` takes the raw observations in blocks (``perfdash.baseline.blocks``; COPY
in one transaction with the run's row and summary); ``run_summary`` the exact per-run
statistics computed at ingest, which compare and the dashboards read; ``comparisons``
every verdict. The tables, their migrations and the storage mode (plain PostgreSQL or
TimescaleDB) are ``perfdash.baseline.schema``'s.

Every psycopg error is translated here into a ``StoreError`` whose text never carries
the DSN's password.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
import psycopg.errors
from psycopg import pq
from psycopg.adapt import Dumper
from psycopg.rows import dict_row

from perfdash.baseline.blocks import Block, float8_array, int4_array
from perfdash.baseline.collect import Collected
from perfdash.baseline.records import FAILED, Record
from perfdash.baseline.schema import (
    LATEST_VERSION,
    InitReport,
    check_extension,
    migrate,
    schema_version,
    set_up_storage,
    stored_mode,
)
from perfdash.baseline.summaries import QUANTILES, RunSummary, SeriesAggregate, summary_rows
from perfdash.baseline.timescale import SCHEMA, retention_statements
from perfdash.errors import StoreError, StoreUnavailable, redact

DSN_ENV = "PERFDASH_DSN"
FLOAT8_ARRAY_OID, INT4_ARRAY_OID = 1022, 1007
# A run's identity: XXH3-128 since schema 3; the runs stored before are sha256 (the column
# ``runs.content_hash_algorithm`` says which), and a new run is checked against them too.
HASH_ALGORITHM = "xxh3-128"
LEGACY_HASH_ALGORITHM = "sha256"
__all__ = ["DSN_ENV", "HASH_ALGORITHM", "IngestResult", "InitReport", "NewRun", "Store"]


@dataclass(frozen=True)
class NewRun:
    """What a run's row says besides its samples (from the command line and the files)."""

    benchmark: str
    format: str
    files: tuple[str, ...]
    # The run's identity; a callable is asked once the samples are copied (the hash of a big
    # file is computed while it is parsed), and the run is undone if it was stored before.
    content_hash: str | Callable[[], str]
    # The same content's sha256 identity, asked only when a run stored before schema 3 may
    # be this one (same benchmark, format and sample count): such a run makes this a duplicate.
    legacy_content_hash: Callable[[], str] | None = None
    branch: str | None = None
    git_sha: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    config_hash: str | None = None


@dataclass(frozen=True)
class IngestResult:
    run_id: int
    duplicate: bool  # the same content was ingested before: nothing was written
    samples: int
    metrics: int
    started_at: datetime | None
    notes: tuple[str, ...] = ()


def _translate(exc: psycopg.Error, what: str) -> StoreError:
    message = redact(str(exc).strip()) or type(exc).__name__
    if isinstance(exc, psycopg.OperationalError) and not isinstance(
        exc, psycopg.errors.QueryCanceled
    ):
        return StoreUnavailable(f"{what}: {message}")
    return StoreError(f"{what}: {message}")


def _connect(dsn: str, connect_timeout: int) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(dsn, connect_timeout=connect_timeout, autocommit=True)
    except psycopg.Error as exc:
        raise _translate(exc, "cannot connect to the baseline store") from exc
    except Exception as exc:  # malformed DSNs raise ProgrammingError subclasses of Error
        raise StoreUnavailable(f"invalid DSN: {redact(str(exc))}") from exc


class _Float8ArrayDumper(Dumper):
    format = pq.Format.BINARY
    oid = FLOAT8_ARRAY_OID

    def dump(self, obj: Any) -> bytes:
        return float8_array(obj)


class _Int4ArrayDumper(Dumper):
    format = pq.Format.BINARY
    oid = INT4_ARRAY_OID

    def dump(self, obj: Any) -> bytes:
        return int4_array(obj)


def _copy_blocks(cur: psycopg.Cursor[Any], run_id: int, blocks: Iterable[Block]) -> None:
    """COPY the blocks in binary, their arrays encoded by ``perfdash.baseline.blocks``."""
    cur.adapters.register_dumper(None, _Float8ArrayDumper)
    cur.adapters.register_dumper(None, _Int4ArrayDumper)
    with cur.copy(
        f"COPY {SCHEMA}.sample_blocks (run_id, series, ts, n, total, min, max, sample_values, "
        "offsets_us) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["int8", "text", "timestamptz", "int4", "float8", "float8", "float8",
                        "float8[]", "int4[]"])  # fmt: skip
        for block in blocks:
            values = block.values
            minute = datetime.fromtimestamp(block.minute // 1_000_000, UTC)
            copy.write_row((run_id, block.series, minute, len(values), block.total,
                            min(values), max(values), values, block.offsets))  # fmt: skip


class _LegacyDuplicate(Exception):
    """The run was stored before, under its sha256 (undoes the transaction)."""

    def __init__(self, run_id: int) -> None:
        super().__init__(run_id)
        self.run_id = run_id


class Store:
    """An open connection to the baseline store. Use ``Store.open(dsn)`` as a context."""

    def __init__(
        self, connection: psycopg.Connection[Any], dsn: str = "", connect_timeout: int = 10
    ) -> None:
        self._conn = connection
        self._dsn = dsn
        self._connect_timeout = connect_timeout

    @classmethod
    @contextmanager
    def open(cls, dsn: str, *, connect_timeout: int = 10) -> Iterator[Store]:
        store = cls(_connect(dsn, connect_timeout), dsn, connect_timeout)
        try:
            yield store
        finally:
            store._conn.close()

    @property
    def server_version(self) -> str:
        """The server's PostgreSQL version, e.g. ``15.20``."""
        number = self._conn.info.server_version
        return f"{number // 10000}.{number % 10000}"

    # -- schema ---------------------------------------------------------------------------

    def init(self) -> InitReport:
        """Create or upgrade the schema, then set up TimescaleDB where the server has it."""
        try:
            check_extension(self._conn)
            applied = migrate(self._conn)
            mode, note = set_up_storage(self._conn, self._reconnect)
        except psycopg.Error as exc:
            raise _translate(exc, "cannot initialise the baseline store") from exc
        return InitReport(tuple(applied), LATEST_VERSION, mode, note)

    def check_schema(self) -> None:
        """Raise ``StoreSchemaError`` unless the schema is initialised and current, and the
        server preloads TimescaleDB where this database uses it."""
        try:
            schema_version(self._conn)
            check_extension(self._conn)  # else samples would go where TimescaleDB never looks
        except psycopg.Error as exc:
            raise _translate(exc, "cannot read the baseline store") from exc

    def _reconnect(self) -> psycopg.Connection[Any]:
        """A new session after the server ended this one (an extension's FATAL)."""
        self._conn.close()
        self._conn = _connect(self._dsn, self._connect_timeout)
        return self._conn

    # -- ingest ---------------------------------------------------------------------------

    def find_run(self, benchmark: str, content_hash: str) -> int | None:
        with self._conn.cursor() as cur:
            cur.execute(
                f"SELECT id FROM {SCHEMA}.runs WHERE benchmark = %s AND content_hash = %s",
                (benchmark, content_hash),
            )
            row = cur.fetchone()
        return int(row[0]) if row else None

    def ingest(self, run: NewRun, records: Iterable[Record]) -> IngestResult:
        """Store one run in one transaction: its row, its samples (COPY, in blocks) and its
        summary.

        A parse error raised by ``records`` rolls everything back. The same content
        (``run.content_hash``) ingested twice is a no-op reporting the first run."""
        self.check_schema()
        known = run.content_hash if isinstance(run.content_hash, str) else None
        digest = known
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                run_id = self._insert_run(cur, run, known or f"pending {uuid.uuid4().hex}")
                if run_id is None:
                    existing = self.find_run(run.benchmark, known or "")
                    return IngestResult(existing or 0, True, 0, 0, None)
                collected = Collected(datetime.now(UTC))
                _copy_blocks(cur, run_id, collected.blocks(records))
                started = collected.started_at()
                aggregates = self._aggregate(cur, run_id, collected)
                rows = summary_rows(aggregates, collected.values, collected.series_info)
                self._finish_run(cur, run_id, run, collected, started)
                cur.executemany(
                    f"INSERT INTO {SCHEMA}.run_summary (run_id, benchmark, branch, started_at, "
                    "metric, value, n, unit, better) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            run_id, run.benchmark, collected.branch(run.branch), started,
                            row.metric, row.value, row.count, row.unit, row.better,
                        )
                        for row in rows
                    ],
                )  # fmt: skip
                if known is None:
                    digest = run.content_hash() if callable(run.content_hash) else ""
                    cur.execute(
                        f"UPDATE {SCHEMA}.runs SET content_hash = %s WHERE id = %s",
                        (digest, run_id),
                    )
                self._check_legacy_duplicate(cur, run, collected.samples)
        except _LegacyDuplicate as found:
            return IngestResult(found.run_id, True, 0, 0, None)  # all undone
        except psycopg.errors.UniqueViolation as exc:
            existing = self.find_run(run.benchmark, digest or "") if digest else None
            if existing is None:
                raise _translate(exc, f"cannot store the run of {run.benchmark!r}") from exc
            return IngestResult(existing, True, 0, 0, None)  # all undone
        except psycopg.Error as exc:
            raise _translate(exc, f"cannot store the run of {run.benchmark!r}") from exc
        notes = (*collected.notes, *self._expire_raw_samples())
        return IngestResult(run_id, False, collected.samples, len(rows), started, notes)

    def _check_legacy_duplicate(self, cur: psycopg.Cursor[Any], run: NewRun, samples: int) -> None:
        """Raise ``_LegacyDuplicate`` when a run stored under its sha256 (before schema 3)
        has this content. The sha256 is computed only when such a run has the same
        benchmark, format and sample count (the same content gives the same samples)."""
        if run.legacy_content_hash is None:
            return
        cur.execute(
            f"SELECT 1 FROM {SCHEMA}.runs WHERE benchmark = %s AND format = %s AND samples = %s "
            "AND content_hash_algorithm = %s LIMIT 1",
            (run.benchmark, run.format, samples, LEGACY_HASH_ALGORITHM),
        )
        if cur.fetchone() is None:
            return
        cur.execute(
            f"SELECT id FROM {SCHEMA}.runs WHERE benchmark = %s AND content_hash = %s "
            "AND content_hash_algorithm = %s",
            (run.benchmark, run.legacy_content_hash(), LEGACY_HASH_ALGORITHM),
        )
        row = cur.fetchone()
        if row is not None:
            raise _LegacyDuplicate(int(row[0]))

    def _expire_raw_samples(self) -> tuple[str, ...]:
        """Drop raw samples past retention where no background policy does (Apache edition).
        A failure is a note: the run is stored either way."""
        try:
            for statement in retention_statements(stored_mode(self._conn)):
                self._conn.execute(statement.encode())
        except psycopg.Error as exc:
            message = redact(str(exc).strip()) or type(exc).__name__
            return (f"old raw samples were not dropped: {message}",)
        return ()

    def _insert_run(self, cur: psycopg.Cursor[Any], run: NewRun, digest: str) -> int | None:
        cur.execute(
            f"INSERT INTO {SCHEMA}.runs (benchmark, started_at, branch, git_sha, env, format, "
            "files, config_hash, content_hash, content_hash_algorithm) "
            "VALUES (%s, now(), %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (benchmark, content_hash) DO NOTHING RETURNING id",
            (
                run.benchmark, run.branch, run.git_sha, json.dumps(run.env, sort_keys=True),
                run.format, list(run.files), run.config_hash, digest, HASH_ALGORITHM,
            ),
        )  # fmt: skip
        row = cur.fetchone()
        return int(row[0]) if row else None

    def _aggregate(
        self, cur: psycopg.Cursor[Any], run_id: int, collected: Collected
    ) -> list[SeriesAggregate]:
        quantiles = "ARRAY[" + ", ".join(repr(q) for q in QUANTILES) + "]::float8[]"
        # The percentiles sort each series: in memory up to ~2.5M samples a series (PostgreSQL's
        # default 4 MB sorts a big run on disk), and not for ``failed`` (its 0s and 1s give
        # an error rate: their mean).
        cur.execute("SET LOCAL work_mem = '64MB'")
        cur.execute(
            f"SELECT b.series, count(*), avg(s.value), min(s.value), max(s.value), "
            f"stddev_samp(s.value), percentile_cont({quantiles}) WITHIN GROUP (ORDER BY s.value) "
            f"FILTER (WHERE b.series <> %s) "
            f"FROM {SCHEMA}.sample_blocks AS b, unnest(b.sample_values) AS s (value) "
            "WHERE b.run_id = %s GROUP BY b.series ORDER BY b.series",
            (FAILED, run_id),
        )
        aggregates = []
        for series, count, mean, low, high, stddev, quantile_values in cur.fetchall():
            first, last = collected.span.get(series, (None, None))
            aggregates.append(
                SeriesAggregate(
                    series, int(count), float(mean), float(low), float(high),
                    None if stddev is None else float(stddev), tuple(quantile_values or ()),
                    first, last,
                )
            )  # fmt: skip
        return aggregates

    def _finish_run(
        self,
        cur: psycopg.Cursor[Any],
        run_id: int,
        run: NewRun,
        collected: Collected,
        started: datetime,
    ) -> None:
        env = {**collected.env, **run.env}
        cur.execute(
            f"UPDATE {SCHEMA}.runs SET started_at = %s, branch = %s, git_sha = %s, env = %s, "
            "tool = %s, tool_version = %s, samples = %s, resolution_ms = %s, notes = %s "
            "WHERE id = %s",
            (
                started, collected.branch(run.branch), run.git_sha or collected.meta.get("git_sha"),
                json.dumps(env, sort_keys=True), collected.meta.get("tool"),
                collected.meta.get("tool_version"), collected.samples,
                collected.resolution, list(collected.notes), run_id,
            ),
        )  # fmt: skip

    # -- compare --------------------------------------------------------------------------

    def runs(
        self,
        benchmark: str,
        *,
        run_ids: Sequence[int] = (),
        branch: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        exclude: Sequence[int] = (),
    ) -> list[RunSummary]:
        """Runs of ``benchmark`` with their summaries, newest first: the given ids, or those
        of ``branch`` since ``since`` (at most ``limit``), minus ``exclude``."""
        self.check_schema()
        where = ["benchmark = %(benchmark)s", "NOT (id = ANY(%(exclude)s))"]
        if run_ids:
            where.append("id = ANY(%(ids)s)")
        if branch is not None:
            where.append("branch = %(branch)s")
        if since is not None:
            where.append("started_at >= %(since)s")
        query = (
            f"WITH chosen AS (SELECT id, benchmark, started_at, branch, git_sha, tool, "
            f"resolution_ms, notes FROM {SCHEMA}.runs WHERE {' AND '.join(where)} "
            f"ORDER BY started_at DESC, id DESC {'LIMIT %(limit)s' if limit else ''}) "
            f"SELECT c.*, s.metric, s.value, s.n, s.unit, s.better FROM chosen c "
            f"LEFT JOIN {SCHEMA}.run_summary s ON s.run_id = c.id "
            "ORDER BY c.started_at DESC, c.id DESC, s.metric"
        )
        params = {
            "benchmark": benchmark, "exclude": list(exclude), "ids": list(run_ids),
            "branch": branch, "since": since, "limit": limit,
        }  # fmt: skip
        try:
            with self._conn.cursor(row_factory=dict_row) as cur:
                cur.execute(query.encode(), params)
                rows = cur.fetchall()
        except psycopg.Error as exc:
            raise _translate(exc, f"cannot read the runs of {benchmark!r}") from exc
        runs: dict[int, RunSummary] = {}
        for row in rows:
            run = runs.get(row["id"])
            if run is None:
                run = runs[row["id"]] = RunSummary(
                    row["id"], row["benchmark"], row["started_at"], row["branch"],
                    row["git_sha"], row["tool"], row["resolution_ms"], tuple(row["notes"]), {}, {},
                )  # fmt: skip
            metric = row["metric"]
            if metric is not None:
                run.values[metric] = row["value"]
                run.counts[metric] = row["n"]
                if row["unit"]:
                    run.units[metric] = row["unit"]
                if row["better"] in ("lower", "higher"):
                    run.directions[metric] = row["better"]
        return list(runs.values())

    def record_comparison(
        self,
        *,
        benchmark: str,
        candidate: str,
        candidate_runs: Sequence[int],
        baseline_runs: Sequence[int],
        regression: bool,
        report: dict[str, Any],
        metrics: Sequence[dict[str, Any]],
    ) -> int:
        """Keep a verdict (with the run ids it used) for the dashboards' verdict table."""
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.execute(
                    f"INSERT INTO {SCHEMA}.comparisons (benchmark, candidate, candidate_runs, "
                    "baseline_runs, regression, report) VALUES (%s, %s, %s, %s, %s, %s) "
                    "RETURNING id, compared_at",
                    (
                        benchmark, candidate, list(candidate_runs), list(baseline_runs),
                        regression, json.dumps(report, sort_keys=True),
                    ),
                )  # fmt: skip
                row = cur.fetchone()
                assert row is not None
                comparison_id, compared_at = int(row[0]), row[1]
                cur.executemany(
                    f"INSERT INTO {SCHEMA}.comparison_metrics (comparison_id, benchmark, "
                    "compared_at, candidate, metric, baseline, candidate_value, change_pct, "
                    "p_value, verdict, reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            comparison_id, benchmark, compared_at, candidate, m["metric"],
                            m["baseline"], m["candidate"], m["change_pct"], m["p_value"],
                            m["verdict"], m["reason"],
                        )
                        for m in metrics
                    ],
                )  # fmt: skip
        except psycopg.Error as exc:
            raise _translate(exc, "cannot record the comparison") from exc
        return comparison_id

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one read-only query (tests and benchmarks check dashboard SQL with it)."""
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.execute("SET TRANSACTION READ ONLY")
                cur.execute(sql.encode(), params or None)
                return list(cur.fetchall())
        except psycopg.Error as exc:
            raise _translate(exc, "query failed") from exc
