"""The baseline store: the only module that speaks SQL (PostgreSQL via psycopg 3).

Tables live in the ``perfdash`` schema. ``runs`` holds one row per ingested run and its
context; ``samples`` the raw observations (COPY in, BRIN on time; a hypertable under
TimescaleDB); ``run_summary`` the exact per-run statistics computed at ingest (what
compare and the dashboards read); ``comparisons``/``comparison_metrics`` every verdict
with the run ids it used. Migrations are versioned and idempotent (``init``).

Every psycopg error is translated here into a ``StoreError`` whose text never carries
the DSN's password.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from perfdash.baseline.records import FAILED, LATENCY, Meta, Record, Sample, SeriesInfo, Value
from perfdash.baseline.summaries import QUANTILES, RunSummary, SeriesAggregate, summary_rows
from perfdash.baseline.timescale import SCHEMA, Mode, describe, storage_mode, timescale_statements
from perfdash.errors import StoreError, StoreSchemaError, StoreUnavailable, redact

DSN_ENV = "PERFDASH_DSN"


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "runs, samples, per-run summaries, comparisons",
        (
            f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
            f"""CREATE TABLE {SCHEMA}.runs (
                id bigserial PRIMARY KEY,
                benchmark text NOT NULL,
                started_at timestamptz NOT NULL,
                ingested_at timestamptz NOT NULL DEFAULT now(),
                branch text,
                git_sha text,
                env jsonb NOT NULL DEFAULT '{{}}',
                tool text,
                tool_version text,
                format text NOT NULL,
                files text[] NOT NULL,
                config_hash text,
                content_hash text NOT NULL,
                samples bigint NOT NULL DEFAULT 0,
                resolution_ms double precision,
                notes text[] NOT NULL DEFAULT '{{}}',
                UNIQUE (benchmark, content_hash)
            )""",
            f"CREATE INDEX runs_benchmark_run ON {SCHEMA}.runs (benchmark, id)",
            f"CREATE INDEX runs_benchmark_branch_time ON {SCHEMA}.runs "
            "(benchmark, branch, started_at DESC)",
            f"""CREATE TABLE {SCHEMA}.samples (
                run_id bigint NOT NULL,
                ts timestamptz NOT NULL,
                series text NOT NULL,
                value double precision NOT NULL
            )""",
            f"CREATE INDEX samples_ts_brin ON {SCHEMA}.samples USING brin (ts)",
            f"CREATE INDEX samples_run_series ON {SCHEMA}.samples (run_id, series)",
            f"""CREATE TABLE {SCHEMA}.run_summary (
                run_id bigint NOT NULL REFERENCES {SCHEMA}.runs (id) ON DELETE CASCADE,
                benchmark text NOT NULL,
                branch text,
                started_at timestamptz NOT NULL,
                metric text NOT NULL,
                value double precision NOT NULL,
                n bigint,
                unit text NOT NULL DEFAULT '',
                better text NOT NULL CHECK (better IN ('lower', 'higher')),
                PRIMARY KEY (run_id, metric)
            )""",
            f"CREATE INDEX run_summary_benchmark_run ON {SCHEMA}.run_summary (benchmark, run_id)",
            f"CREATE INDEX run_summary_benchmark_metric_time ON {SCHEMA}.run_summary "
            "(benchmark, metric, started_at)",
            f"""CREATE TABLE {SCHEMA}.comparisons (
                id bigserial PRIMARY KEY,
                benchmark text NOT NULL,
                compared_at timestamptz NOT NULL DEFAULT now(),
                candidate text NOT NULL,
                candidate_runs bigint[] NOT NULL,
                baseline_runs bigint[] NOT NULL,
                regression boolean NOT NULL,
                report jsonb NOT NULL
            )""",
            f"""CREATE TABLE {SCHEMA}.comparison_metrics (
                comparison_id bigint NOT NULL REFERENCES {SCHEMA}.comparisons (id)
                    ON DELETE CASCADE,
                benchmark text NOT NULL,
                compared_at timestamptz NOT NULL,
                candidate text NOT NULL,
                metric text NOT NULL,
                baseline double precision,
                candidate_value double precision,
                change_pct double precision,
                p_value double precision,
                verdict text NOT NULL,
                reason text NOT NULL,
                PRIMARY KEY (comparison_id, metric)
            )""",
            f"CREATE INDEX comparison_metrics_benchmark_time ON {SCHEMA}.comparison_metrics "
            "(benchmark, compared_at DESC)",
            f"""CREATE TABLE {SCHEMA}.settings (
                key text PRIMARY KEY,
                value text NOT NULL
            )""",
        ),
    ),
)
LATEST_VERSION = MIGRATIONS[-1].version


@dataclass(frozen=True)
class InitReport:
    applied: tuple[int, ...]  # versions applied now (empty: already up to date)
    version: int
    mode: Mode
    mode_note: str


@dataclass(frozen=True)
class NewRun:
    """What a run's row says besides its samples (from the command line and the files)."""

    benchmark: str
    format: str
    files: tuple[str, ...]
    content_hash: str
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


def resolve_dsn(dsn: str | None, environ: dict[str, str]) -> str:
    """``--dsn`` or ``$PERFDASH_DSN``; a clear error when neither is set."""
    chosen = dsn or environ.get(DSN_ENV, "")
    if not chosen:
        raise StoreUnavailable(
            f"no database: set {DSN_ENV} (e.g. postgresql://perfdash@db.example.com/perf, "
            "password in ~/.pgpass or PGPASSWORD) or pass --dsn"
        )
    return chosen


def _translate(exc: psycopg.Error, what: str) -> StoreError:
    message = redact(str(exc).strip()) or type(exc).__name__
    if isinstance(exc, psycopg.OperationalError) and not isinstance(
        exc, psycopg.errors.QueryCanceled
    ):
        return StoreUnavailable(f"{what}: {message}")
    return StoreError(f"{what}: {message}")


class Store:
    """An open connection to the baseline store. Use ``Store.open(dsn)`` as a context."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._conn = connection

    @classmethod
    @contextmanager
    def open(cls, dsn: str, *, connect_timeout: int = 10) -> Iterator[Store]:
        try:
            connection = psycopg.connect(dsn, connect_timeout=connect_timeout, autocommit=True)
        except psycopg.Error as exc:
            raise _translate(exc, "cannot connect to the baseline store") from exc
        except Exception as exc:  # malformed DSNs raise ProgrammingError subclasses of Error
            raise StoreUnavailable(f"invalid DSN: {redact(str(exc))}") from exc
        try:
            yield cls(connection)
        finally:
            connection.close()

    # -- schema ---------------------------------------------------------------------------

    def init(self) -> InitReport:
        """Create or upgrade the schema, then set up TimescaleDB where it exists."""
        try:
            applied = self._migrate()
            mode, note = self._setup_timescale()
        except psycopg.Error as exc:
            raise _translate(exc, "cannot initialise the baseline store") from exc
        return InitReport(tuple(applied), LATEST_VERSION, mode, note)

    def _migrate(self) -> list[int]:
        applied: list[int] = []
        with self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('perfdash.migrations'))")
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_migrations (version integer "
                "PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_migrations")
            current = _scalar(cur.fetchone())
            if current > LATEST_VERSION:
                raise StoreSchemaError(
                    f"the store's schema is version {current}, newer than this perfdash "
                    f"({LATEST_VERSION}): upgrade perfdash"
                )
            for migration in MIGRATIONS:
                if migration.version <= current:
                    continue
                for statement in migration.statements:
                    cur.execute(statement.encode())
                cur.execute(
                    f"INSERT INTO {SCHEMA}.schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
        return applied

    def _setup_timescale(self) -> tuple[Mode, str]:
        with self._conn.cursor() as cur:
            cur.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
            row = cur.fetchone()
            version = row[0] if row else None
            why = ""
            if version is None:
                cur.execute(
                    "SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'"
                )
                if cur.fetchone() is not None:
                    try:
                        with self._conn.transaction():
                            cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
                        cur.execute(
                            "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
                        )
                        version = _scalar(cur.fetchone())
                    except psycopg.Error as exc:
                        why = f" (CREATE EXTENSION timescaledb failed: {redact(str(exc).strip())})"
                else:
                    why = " (the timescaledb extension is not installed on the server)"
            license_name = None
            if version is not None:
                cur.execute("SHOW timescaledb.license")
                license_name = str(_scalar(cur.fetchone()))
            mode = storage_mode(version, license_name)
            cur.execute(f"SELECT value FROM {SCHEMA}.settings WHERE key = 'storage_mode'")
            done = cur.fetchone()
            if done is None or done[0] != mode:
                with self._conn.transaction():
                    for statement in timescale_statements(mode):
                        cur.execute(statement.encode())
                    cur.execute(
                        f"INSERT INTO {SCHEMA}.settings (key, value) VALUES ('storage_mode', %s) "
                        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                        (mode,),
                    )
        return mode, describe(mode) + why

    def check_schema(self) -> None:
        """Raise ``StoreSchemaError`` unless the schema is initialised and current."""
        try:
            with self._conn.cursor() as cur:
                cur.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_migrations",))
                if _scalar(cur.fetchone()) is None:
                    raise StoreSchemaError(
                        "the store has no perfdash schema: run `perfdash baseline init`"
                    )
                cur.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_migrations")
                version = _scalar(cur.fetchone())
        except psycopg.Error as exc:
            raise _translate(exc, "cannot read the baseline store") from exc
        if version < LATEST_VERSION:
            raise StoreSchemaError(
                f"the store's schema is version {version}, older than this perfdash's "
                f"({LATEST_VERSION}): run `perfdash baseline init`"
            )
        if version > LATEST_VERSION:
            raise StoreSchemaError(
                f"the store's schema is version {version}, newer than this perfdash "
                f"({LATEST_VERSION}): upgrade perfdash"
            )

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
        """Store one run in one transaction: its row, its samples (COPY) and its summary.

        A parse error raised by ``records`` rolls everything back. The same content
        (``run.content_hash``) ingested twice is a no-op reporting the first run."""
        self.check_schema()
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                run_id = self._insert_run(cur, run)
                if run_id is None:
                    existing = self.find_run(run.benchmark, run.content_hash)
                    return IngestResult(existing or 0, True, 0, 0, None)
                collected = _Collected()
                now = datetime.now(UTC)
                with cur.copy(
                    f"COPY {SCHEMA}.samples (run_id, ts, series, value) FROM STDIN (FORMAT BINARY)"
                ) as copy:
                    copy.set_types(["int8", "timestamptz", "text", "float8"])
                    for record in collected.consume(records):
                        ts = record.ts
                        moment = now if ts is None else datetime.fromtimestamp(ts, UTC)
                        copy.write_row((run_id, moment, record.series, record.value))
                started = collected.started_at(now)
                aggregates = self._aggregate(cur, run_id, collected)
                rows = summary_rows(aggregates, collected.values, collected.series_info)
                self._finish_run(cur, run_id, run, collected, started)
                cur.executemany(
                    f"INSERT INTO {SCHEMA}.run_summary (run_id, benchmark, branch, started_at, "
                    "metric, value, n, unit, better) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            run_id, run.benchmark, collected.branch(run), started,
                            row.metric, row.value, row.count, row.unit, row.better,
                        )
                        for row in rows
                    ],
                )  # fmt: skip
        except psycopg.Error as exc:
            raise _translate(exc, f"cannot store the run of {run.benchmark!r}") from exc
        return IngestResult(
            run_id, False, collected.samples, len(rows), started, tuple(collected.notes)
        )

    def _insert_run(self, cur: psycopg.Cursor[Any], run: NewRun) -> int | None:
        cur.execute(
            f"INSERT INTO {SCHEMA}.runs (benchmark, started_at, branch, git_sha, env, format, "
            "files, config_hash, content_hash) VALUES (%s, now(), %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (benchmark, content_hash) DO NOTHING RETURNING id",
            (
                run.benchmark, run.branch, run.git_sha, json.dumps(run.env, sort_keys=True),
                run.format, list(run.files), run.config_hash, run.content_hash,
            ),
        )  # fmt: skip
        row = cur.fetchone()
        return int(row[0]) if row else None

    def _aggregate(
        self, cur: psycopg.Cursor[Any], run_id: int, collected: _Collected
    ) -> list[SeriesAggregate]:
        quantiles = "ARRAY[" + ", ".join(repr(q) for q in QUANTILES) + "]::float8[]"
        cur.execute(
            f"SELECT series, count(*), avg(value), min(value), max(value), stddev_samp(value), "
            f"percentile_cont({quantiles}) WITHIN GROUP (ORDER BY value) "
            f"FROM {SCHEMA}.samples WHERE run_id = %s GROUP BY series ORDER BY series",
            (run_id,),
        )
        aggregates = []
        for series, count, mean, low, high, stddev, quantile_values in cur.fetchall():
            first, last = collected.span.get(series, (None, None))
            aggregates.append(
                SeriesAggregate(
                    series, int(count), float(mean), float(low), float(high),
                    None if stddev is None else float(stddev), tuple(quantile_values),
                    first, last,
                )
            )  # fmt: skip
        return aggregates

    def _finish_run(
        self,
        cur: psycopg.Cursor[Any],
        run_id: int,
        run: NewRun,
        collected: _Collected,
        started: datetime,
    ) -> None:
        env = {**collected.env, **run.env}
        cur.execute(
            f"UPDATE {SCHEMA}.runs SET started_at = %s, branch = %s, git_sha = %s, env = %s, "
            "tool = %s, tool_version = %s, samples = %s, resolution_ms = %s, notes = %s "
            "WHERE id = %s",
            (
                started, collected.branch(run), run.git_sha or collected.meta.get("git_sha"),
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
            f"SELECT c.*, s.metric, s.value, s.n FROM chosen c "
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
            if row["metric"] is not None:
                run.values[row["metric"]] = row["value"]
                run.counts[row["metric"]] = row["n"]
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


class _Collected:
    """What streaming a run's records gathered besides the samples themselves."""

    def __init__(self) -> None:
        self.samples = 0
        self.values: list[Value] = []
        self.series_info: dict[str, SeriesInfo] = {}
        self.meta: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.notes: list[str] = []
        self.resolution: float | None = None
        self.span: dict[str, tuple[float, float]] = {}
        self._started: float | None = None

    def consume(self, records: Iterable[Record]) -> Iterator[Sample]:
        span = self.span
        for record in records:
            if type(record) is Sample:
                self.samples += 1
                ts = record.ts
                if ts is not None and record.series in (LATENCY, FAILED):
                    known = span.get(record.series)
                    if known is None:
                        span[record.series] = (ts, ts)
                    elif ts < known[0] or ts > known[1]:
                        span[record.series] = (min(known[0], ts), max(known[1], ts))
                yield record
            elif isinstance(record, Value):
                self.values.append(record)
            elif isinstance(record, Meta):
                self._meta(record)
            elif isinstance(record, SeriesInfo):
                self.series_info[record.series] = record

    def _meta(self, record: Meta) -> None:
        key, value = record.key, record.value
        if key == "note":
            if value not in self.notes:
                self.notes.append(str(value))
        elif key == "started_at":
            moment = float(value)
            self._started = moment if self._started is None else min(self._started, moment)
        elif key == "resolution_ms":
            self.resolution = float(value)
        elif key.startswith("env."):
            self.env[key[4:]] = str(value)
        else:
            self.meta[key] = str(value)

    def started_at(self, default: datetime) -> datetime:
        candidates = [s[0] for s in self.span.values()]
        if self._started is not None:
            candidates.append(self._started)
        return datetime.fromtimestamp(min(candidates), UTC) if candidates else default

    def branch(self, run: NewRun) -> str | None:
        return run.branch or self.meta.get("branch")


def _scalar(row: tuple[Any, ...] | None) -> Any:
    assert row is not None
    return row[0]
