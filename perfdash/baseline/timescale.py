"""TimescaleDB for the sample store: which mode a server supports and the SQL for it. Pure.

- ``timescaledb`` (Timescale License, the community edition): samples in a hypertable,
  continuous aggregates at 1 minute and 1 hour, retention (raw samples 7 days, 1m
  aggregates 30 days, 1h aggregates 1 year) and compression of chunks older than a day.
- ``timescaledb-apache`` (Apache-2.0-only builds): hypertables exist, but compression,
  continuous aggregates and retention policies do not: only the hypertable is created.
- ``postgresql``: no extension; plain tables with BRIN on time and b-tree on (benchmark,
  run) serve everything (per-run summaries are computed at ingest either way).

``perfdash.baseline.store`` runs the statements; every one is idempotent.
"""

from __future__ import annotations

from typing import Literal

Mode = Literal["postgresql", "timescaledb-apache", "timescaledb"]
SCHEMA = "perfdash"

RAW_RETENTION = "7 days"
MINUTE_RETENTION = "30 days"
HOUR_RETENTION = "1 year"
COMPRESS_AFTER = "1 day"


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
        "(benchmark, run)",
        "timescaledb-apache": "TimescaleDB, Apache-2.0 edition: samples in a hypertable; no "
        "compression, continuous aggregates or retention policies in this edition",
        "timescaledb": f"TimescaleDB: samples in a hypertable, continuous aggregates at 1m "
        f"and 1h, retention (raw {RAW_RETENTION}, 1m {MINUTE_RETENTION}, 1h {HOUR_RETENTION}), "
        f"compression after {COMPRESS_AFTER}",
    }[mode]


def timescale_statements(mode: Mode) -> list[str]:
    """SQL that sets the sample store up for ``mode`` (nothing for plain PostgreSQL)."""
    if mode == "postgresql":
        return []
    samples = f"{SCHEMA}.samples"
    statements = [
        f"SELECT create_hypertable('{samples}', 'ts', chunk_time_interval => INTERVAL '1 day', "
        "if_not_exists => TRUE, migrate_data => TRUE)",
    ]
    if mode == "timescaledb-apache":
        return statements
    minute, hour = f"{SCHEMA}.samples_1m", f"{SCHEMA}.samples_1h"
    statements += [
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {minute} WITH (timescaledb.continuous) AS "
        "SELECT time_bucket(INTERVAL '1 minute', ts) AS bucket, run_id, series, "
        "count(*) AS n, avg(value) AS mean, min(value) AS min, max(value) AS max "
        f"FROM {samples} GROUP BY bucket, run_id, series WITH NO DATA",
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
        f"SELECT add_retention_policy('{samples}', INTERVAL '{RAW_RETENTION}', if_not_exists => TRUE)",
        f"SELECT add_retention_policy('{minute}', INTERVAL '{MINUTE_RETENTION}', if_not_exists => TRUE)",
        f"SELECT add_retention_policy('{hour}', INTERVAL '{HOUR_RETENTION}', if_not_exists => TRUE)",
        f"ALTER TABLE {samples} SET (timescaledb.compress, "
        "timescaledb.compress_segmentby = 'run_id, series', timescaledb.compress_orderby = 'ts')",
        f"SELECT add_compression_policy('{samples}', INTERVAL '{COMPRESS_AFTER}', if_not_exists => TRUE)",
    ]
    return statements
