"""The baseline store's schema: versioned migrations and the storage mode (``init``).

Tables live in the ``perfdash`` schema. ``runs`` holds one row per ingested run and its
context; ``sample_blocks`` the raw observations in blocks of one series and minute
(``perfdash.baseline.blocks``; COPY in, BRIN on time; a hypertable under TimescaleDB),
which the view ``samples`` gives back one a row; ``run_summary`` the exact per-run
statistics computed at ingest (what compare and the dashboards read);
``comparisons``/``comparison_metrics`` every verdict with the run ids it used;
``settings`` the storage mode set up. Migrations are versioned, run under an advisory
lock, and idempotent.

Called by ``perfdash.baseline.store.Store`` (which translates psycopg errors); the
TimescaleDB decisions and SQL are ``perfdash.baseline.timescale``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from perfdash.baseline.timescale import (
    EXTENSION_QUERY,
    SCHEMA,
    Extension,
    Mode,
    describe,
    storage_mode,
    timescale_statements,
)
from perfdash.errors import StoreSchemaError, redact

# The samples one a row, as they were read (for your own queries; compare and the dashboards
# read the per-run summaries).
SAMPLES_VIEW = f"""CREATE VIEW {SCHEMA}.samples AS
    SELECT b.run_id, b.ts + make_interval(secs => s.offset_us / 1000000.0) AS ts, b.series,
           s.value
    FROM {SCHEMA}.sample_blocks AS b,
         unnest(b.sample_values, b.offsets_us) AS s (value, offset_us)"""


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
    Migration(
        2,
        "samples in blocks of one series and minute (perfdash.sample_blocks)",
        (
            # The aggregates read the old table; the storage set-up makes them again.
            f"DROP MATERIALIZED VIEW IF EXISTS {SCHEMA}.samples_1h",
            f"DROP MATERIALIZED VIEW IF EXISTS {SCHEMA}.samples_1m",
            f"""CREATE TABLE {SCHEMA}.sample_blocks (
                run_id bigint NOT NULL,
                series text NOT NULL,
                ts timestamptz NOT NULL,
                n integer NOT NULL CHECK (n > 0),
                total double precision NOT NULL,
                min double precision NOT NULL,
                max double precision NOT NULL,
                sample_values double precision[] NOT NULL,
                offsets_us integer[] NOT NULL,
                CHECK (cardinality(sample_values) = n AND cardinality(offsets_us) = n)
            )""",
            f"""INSERT INTO {SCHEMA}.sample_blocks
                SELECT run_id, series, minute, count(*), sum(value), min(value), max(value),
                       array_agg(value ORDER BY ts, value),
                       array_agg(((extract(epoch FROM ts) - extract(epoch FROM minute))
                                  * 1000000)::integer ORDER BY ts, value)
                FROM (SELECT *, to_timestamp(floor(extract(epoch FROM ts) / 60) * 60) AS minute
                      FROM {SCHEMA}.samples) AS old
                GROUP BY run_id, series, minute""",
            f"DROP TABLE {SCHEMA}.samples",
            f"CREATE INDEX sample_blocks_ts_brin ON {SCHEMA}.sample_blocks USING brin (ts)",
            f"CREATE INDEX sample_blocks_run_series ON {SCHEMA}.sample_blocks (run_id, series)",
            SAMPLES_VIEW,
            # Set the storage mode up again on the new table (hypertable, aggregates...).
            f"DELETE FROM {SCHEMA}.settings WHERE key = 'storage_mode'",
        ),
    ),
    Migration(
        3,
        "the content hash's algorithm beside it (runs.content_hash_algorithm)",
        (
            # The runs stored so far carry a sha256; new runs an XXH3-128 (the store says so).
            f"ALTER TABLE {SCHEMA}.runs ADD COLUMN content_hash_algorithm text NOT NULL "
            "DEFAULT 'sha256'",
            f"CREATE INDEX runs_benchmark_legacy_hash ON {SCHEMA}.runs (benchmark, samples) "
            "WHERE content_hash_algorithm = 'sha256'",
        ),
    ),
)
LATEST_VERSION = MIGRATIONS[-1].version

Connection = psycopg.Connection[Any]


@dataclass(frozen=True)
class InitReport:
    applied: tuple[int, ...]  # versions applied now (empty: already up to date)
    version: int
    mode: Mode
    mode_note: str


def migrate(conn: Connection) -> list[int]:
    """Apply the migrations this database lacks, in one transaction; their versions."""
    applied: list[int] = []
    with conn.transaction(), conn.cursor() as cur:
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


def extension(conn: Connection) -> Extension:
    row = conn.execute(EXTENSION_QUERY).fetchone()
    assert row is not None
    return Extension(row[0], row[1], bool(row[2]))


def check_extension(conn: Connection) -> Extension:
    """What the server has of TimescaleDB; ``StoreSchemaError`` if this database cannot be
    used as it is. Runs before any DDL: the extension's event triggers end the session of
    a DDL statement when the server does not preload it."""
    found = extension(conn)
    problem = found.problem()
    if problem is not None:
        raise StoreSchemaError(problem)
    return found


def set_up_storage(conn: Connection, reconnect: Callable[[], Connection]) -> tuple[Mode, str]:
    """Use TimescaleDB where the server can (creating the extension if it is preloaded but
    not yet created here), else plain PostgreSQL; returns the mode and why.

    Creating the extension can fail in ways that end the session (a FATAL from the
    extension): ``reconnect`` gives a fresh connection to carry on with."""
    found = check_extension(conn)
    why = found.why_plain()
    version = found.installed
    if found.can_create:
        try:
            with conn.transaction():
                conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            version = extension(conn).installed
        except psycopg.Error as exc:
            message = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
            why = f"CREATE EXTENSION timescaledb failed: {message or type(exc).__name__}"
            if conn.broken or conn.closed:
                conn = reconnect()
    license_name = None
    if version is not None:
        license_name = str(_scalar(conn.execute("SHOW timescaledb.license").fetchone()))
    mode = storage_mode(version, license_name)
    done = conn.execute(f"SELECT value FROM {SCHEMA}.settings WHERE key = 'storage_mode'")
    previous = done.fetchone()
    if previous is None or previous[0] != mode:
        with conn.transaction(), conn.cursor() as cur:
            for statement in timescale_statements(mode):
                cur.execute(statement.encode())
            cur.execute(
                f"INSERT INTO {SCHEMA}.settings (key, value) VALUES ('storage_mode', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (mode,),
            )
    note = describe(mode)
    return mode, f"{note} ({why})" if why and mode == "postgresql" else note


def stored_mode(conn: Connection) -> Mode:
    """The storage mode ``init`` set up (plain PostgreSQL before any)."""
    row = conn.execute(f"SELECT value FROM {SCHEMA}.settings WHERE key = 'storage_mode'").fetchone()
    value = row[0] if row else None
    if value == "timescaledb":
        return "timescaledb"
    return "timescaledb-apache" if value == "timescaledb-apache" else "postgresql"


def schema_version(conn: Connection) -> int:
    """Raise ``StoreSchemaError`` unless the schema is initialised and current."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.schema_migrations",))
        if _scalar(cur.fetchone()) is None:
            raise StoreSchemaError("the store has no perfdash schema: run `perfdash baseline init`")
        cur.execute(f"SELECT coalesce(max(version), 0) FROM {SCHEMA}.schema_migrations")
        version = int(_scalar(cur.fetchone()))
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
    return version


def _scalar(row: tuple[Any, ...] | None) -> Any:
    assert row is not None
    return row[0]
