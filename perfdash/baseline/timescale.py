"""TimescaleDB for the sample store: which mode a server supports and the SQL for it. Pure.

- ``timescaledb`` (Timescale License, the community edition): sample blocks in a hypertable,
  continuous aggregates at 1 minute and 1 hour, retention policies (raw samples 7 days,
  1m aggregates 30 days, 1h aggregates 1 year) and compression of chunks older than a day.
- ``timescaledb-apache`` (``timescaledb.license = 'apache'``, or an Apache-2.0-only build):
  hypertables and ``drop_chunks`` exist; compression, continuous aggregates and the
  background policies do not. perfdash creates the hypertable and drops raw-sample chunks
  older than 7 days itself at each ingest, so raw samples live as long as in the community
  edition.
- ``postgresql``: no extension, or one the server does not preload; plain tables with BRIN
  on time and b-tree on (benchmark, run). Raw samples are kept until deleted.

Per-run summaries are computed at ingest in every mode: comparisons and dashboards read
them, so neither the mode nor retention of raw samples changes a verdict.

``perfdash.baseline.store`` asks the server what ``Extension`` says and runs the
statements; every one is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Mode = Literal["postgresql", "timescaledb-apache", "timescaledb"]
SCHEMA = "perfdash"

RAW_RETENTION = "7 days"
MINUTE_RETENTION = "30 days"
HOUR_RETENTION = "1 year"
COMPRESS_AFTER = "1 day"
PRELOAD = "shared_preload_libraries = 'timescaledb'"
PRELOAD_ADVICE = (
    f"add {PRELOAD} to postgresql.conf (SHOW config_file names it; keep any libraries "
    "already listed) and restart PostgreSQL"
)

# What the server says, asked without superuser rights: the loader defines its settings
# (timescaledb.*) only when preloaded; a placeholder from postgresql.conf is not listed.
EXTENSION_QUERY = """SELECT
  (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'),
  (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'),
  EXISTS (SELECT 1 FROM pg_settings WHERE name LIKE 'timescaledb.%')"""


@dataclass(frozen=True)
class Extension:
    """TimescaleDB as one database sees it."""

    available: str | None  # the version the server could create (None: not installed)
    installed: str | None  # the version created in this database (None: not created)
    preloaded: bool  # the server loads it at start (shared_preload_libraries)

    @property
    def can_create(self) -> bool:
        return self.available is not None and self.installed is None and self.preloaded

    def problem(self) -> str | None:
        """Why this database cannot be used at all, if so: created here but not preloaded
        (every use of its hypertable would end the session)."""
        if self.installed is not None and not self.preloaded:
            return (
                f"this database uses TimescaleDB {self.installed}, but the server does not "
                f"preload it: {PRELOAD_ADVICE}"
            )
        return None

    def why_plain(self) -> str:
        """Why the store runs in plain PostgreSQL mode (for ``init``'s report)."""
        if self.available is None:
            return "the timescaledb extension is not installed on the server"
        if not self.preloaded:
            return (
                f"TimescaleDB {self.available} is installed on the server but not preloaded: "
                f"to use it, {PRELOAD_ADVICE}, then run `perfdash baseline init` again"
            )
        return ""


def storage_mode(extension_version: str | None, license_name: str | None) -> Mode:
    """The mode for a server with the extension at ``extension_version`` (None: not
    installed) whose ``SHOW timescaledb.license`` said ``license_name``."""
    if extension_version is None:
        return "postgresql"
    if (license_name or "").strip().lower() == "timescale":
        return "timescaledb"
    return "timescaledb-apache"


def describe(mode: Mode) -> str:
    return {
        "postgresql": "PostgreSQL (no TimescaleDB): plain tables, BRIN on time, b-tree on "
        "(benchmark, run); raw samples are kept until deleted",
        "timescaledb-apache": "TimescaleDB, Apache-2.0 edition: samples in a hypertable, raw "
        f"samples older than {RAW_RETENTION} dropped at each ingest (drop_chunks); this "
        "edition has no compression, continuous aggregates or retention policies",
        "timescaledb": f"TimescaleDB: samples in a hypertable, continuous aggregates at 1m "
        f"and 1h, retention (raw {RAW_RETENTION}, 1m {MINUTE_RETENTION}, 1h {HOUR_RETENTION}), "
        f"compression after {COMPRESS_AFTER}",
    }[mode]


def timescale_statements(mode: Mode) -> list[str]:
    """SQL that sets the sample store up for ``mode`` (nothing for plain PostgreSQL)."""
    if mode == "postgresql":
        return []
    blocks = f"{SCHEMA}.sample_blocks"
    statements = [
        f"SELECT create_hypertable('{blocks}', 'ts', chunk_time_interval => INTERVAL '1 day', "
        "if_not_exists => TRUE, migrate_data => TRUE)",
    ]
    if mode == "timescaledb-apache":
        return statements
    minute, hour = f"{SCHEMA}.samples_1m", f"{SCHEMA}.samples_1h"
    # A block never spans two minutes, so summing blocks by minute is exact.
    statements += [
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {minute} WITH (timescaledb.continuous) AS "
        "SELECT time_bucket(INTERVAL '1 minute', ts) AS bucket, run_id, series, "
        "sum(n) AS n, sum(total) / sum(n) AS mean, min(min) AS min, max(max) AS max "
        f"FROM {blocks} GROUP BY bucket, run_id, series WITH NO DATA",
        f"SELECT add_continuous_aggregate_policy('{minute}', start_offset => INTERVAL '6 days', "
        "end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '5 minutes', "
        "if_not_exists => TRUE)",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {hour} WITH (timescaledb.continuous) AS "
        "SELECT time_bucket(INTERVAL '1 hour', bucket) AS bucket, run_id, series, "
        "sum(n) AS n, sum(mean * n) / sum(n) AS mean, min(min) AS min, max(max) AS max "
        f"FROM {minute} GROUP BY 1, run_id, series WITH NO DATA",
        f"SELECT add_continuous_aggregate_policy('{hour}', start_offset => INTERVAL '29 days', "
        "end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour', "
        "if_not_exists => TRUE)",
        f"SELECT add_retention_policy('{blocks}', INTERVAL '{RAW_RETENTION}', if_not_exists => TRUE)",
        f"SELECT add_retention_policy('{minute}', INTERVAL '{MINUTE_RETENTION}', if_not_exists => TRUE)",
        f"SELECT add_retention_policy('{hour}', INTERVAL '{HOUR_RETENTION}', if_not_exists => TRUE)",
        f"ALTER TABLE {blocks} SET (timescaledb.compress, "
        "timescaledb.compress_segmentby = 'run_id, series', timescaledb.compress_orderby = 'ts')",
        f"SELECT add_compression_policy('{blocks}', INTERVAL '{COMPRESS_AFTER}', if_not_exists => TRUE)",
    ]
    return statements


def retention_statements(mode: Mode) -> list[str]:
    """SQL perfdash runs after each ingest: the Apache edition's stand-in for the retention
    policy it lacks (the community edition's policy runs in the background)."""
    if mode != "timescaledb-apache":
        return []
    return [
        f"SELECT count(*) FROM drop_chunks('{SCHEMA}.sample_blocks', "
        f"older_than => INTERVAL '{RAW_RETENTION}')"
    ]
