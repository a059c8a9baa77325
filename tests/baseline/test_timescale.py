"""The TimescaleDB path, on a real TimescaleDB 2.28.3 in both editions and on servers that
have it installed but not preloaded: mode detection, the SQL each mode runs, continuous
aggregates, retention and compression doing what the docs say.

Runs are synthetic k6 files (``tests.baseline.synthetic``) dated where each test needs
them: real runs cannot be ten days old. Policies run through ``CALL run_job`` (the test
servers start no scheduler), exactly the job the scheduler would run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from perfdash.baseline.store import Store
from perfdash.baseline.timescale import (
    Extension,
    describe,
    retention_statements,
    storage_mode,
    timescale_statements,
)
from perfdash.baseline.workflow import Selection, compare_benchmark, ingest_files
from perfdash.errors import StoreSchemaError
from testing.postgres import TIMESCALEDB, PostgresMissing, Server, restart, throwaway_postgres
from tests.baseline.conftest import FIXTURES, NO_JOBS, PG_PASSWORD, fresh_database, missing
from tests.baseline.older_schema import create_store_at
from tests.baseline.synthetic import k6_runs
from tests.helpers import run_cli

# -- pure: which mode, which SQL ------------------------------------------------------------
K6_RUN = FIXTURES / "k6" / "run.json"  # a real k6 1.1.0 run


def test_no_extension_means_plain_postgresql() -> None:
    assert storage_mode(None, None) == "postgresql"
    assert timescale_statements("postgresql") == []
    assert retention_statements("postgresql") == []
    assert Extension(None, None, False).why_plain() == (
        "the timescaledb extension is not installed on the server"
    )


def test_the_licence_decides_between_community_and_apache_editions() -> None:
    assert storage_mode("2.28.3", "timescale") == "timescaledb"
    assert storage_mode("2.28.3", "apache") == "timescaledb-apache"
    assert storage_mode("2.28.3", None) == "timescaledb-apache"


def test_installed_but_not_preloaded_is_plain_postgresql_with_the_fix() -> None:
    found = Extension("2.28.3", None, preloaded=False)
    assert not found.can_create and found.problem() is None
    assert found.why_plain() == (
        "TimescaleDB 2.28.3 is installed on the server but not preloaded: to use it, add "
        "shared_preload_libraries = 'timescaledb' to postgresql.conf (SHOW config_file names "
        "it; keep any libraries already listed) and restart PostgreSQL, then run "
        "`perfdash baseline init` again"
    )
    assert Extension("2.28.3", None, preloaded=True).can_create
    used = Extension("2.28.3", "2.28.3", preloaded=False).problem()
    assert used is not None and used.startswith(
        "this database uses TimescaleDB 2.28.3, but the server does not preload it: add "
        "shared_preload_libraries = 'timescaledb'"
    )


def test_the_apache_edition_gets_a_hypertable_and_nothing_it_lacks() -> None:
    statements = timescale_statements("timescaledb-apache")
    assert len(statements) == 1
    assert statements[0].startswith("SELECT create_hypertable('perfdash.sample_blocks', 'ts'")
    joined = " ".join(statements)
    for missing_feature in ("compress", "continuous", "retention"):
        assert missing_feature not in joined
    assert retention_statements("timescaledb-apache") == [
        "SELECT count(*) FROM drop_chunks('perfdash.sample_blocks', older_than => INTERVAL '7 days')"
    ]
    assert "no compression, continuous aggregates or retention policies" in describe(
        "timescaledb-apache"
    )


def test_the_community_edition_gets_aggregates_retention_and_compression() -> None:
    sql = "\n".join(timescale_statements("timescaledb"))
    assert "create_hypertable('perfdash.sample_blocks', 'ts'" in sql
    assert "time_bucket(INTERVAL '1 minute', ts)" in sql
    assert "add_retention_policy('perfdash.sample_blocks', INTERVAL '7 days'" in sql
    assert "timescaledb.compress_segmentby = 'run_id, series'" in sql
    assert retention_statements("timescaledb") == []  # its policy runs in the background


# -- the real TimescaleDB ---------------------------------------------------------------------


def rows(dsn: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return list(conn.execute(sql.encode(), params or None).fetchall())


def run_policy(dsn: str, proc: str, relation: str) -> None:
    """Run the policy job ``proc`` of ``relation`` now, as the scheduler would."""
    found = rows(
        dsn,
        "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = %s "
        "AND hypertable_schema = 'perfdash' AND hypertable_name = %s",
        (proc, relation),
    )
    assert len(found) == 1, (proc, relation, found)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CALL run_job({found[0][0]})".encode())


def ingest(dsn: str, paths: list[Path], *, branch: str, benchmark: str = "api") -> list[int]:
    with Store.open(dsn) as store:
        return [
            ingest_files(store, benchmark=benchmark, paths=[path], branch=branch).run_id
            for path in paths
        ]


@pytest.fixture
def community_dsn(timescale_server: Server) -> str:
    dsn = fresh_database(timescale_server)
    with Store.open(dsn) as store:
        assert store.init().mode == "timescaledb"
    return dsn


@pytest.fixture
def apache_dsn(timescale_apache_server: Server) -> str:
    dsn = fresh_database(timescale_apache_server)
    with Store.open(dsn) as store:
        assert store.init().mode == "timescaledb-apache"
    return dsn


@pytest.mark.integration
def test_init_on_the_community_edition_sets_up_every_feature(community_dsn: str) -> None:
    assert rows(community_dsn, "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    assert rows(
        community_dsn,
        "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables "
        "WHERE hypertable_schema = 'perfdash' ORDER BY 1",
    ) == [("sample_blocks", True)]
    aggregates = rows(
        community_dsn,
        "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates "
        "ORDER BY 1",
    )
    assert [name for name, _ in aggregates] == ["samples_1h", "samples_1m"]
    jobs = rows(
        community_dsn,
        "SELECT proc_name, hypertable_name, schedule_interval::text, config->>'drop_after', "
        "config->>'compress_after', config->>'start_offset', config->>'end_offset' "
        "FROM timescaledb_information.jobs WHERE hypertable_schema = 'perfdash' ORDER BY 1, 2",
    )
    assert jobs == [
        ("policy_compression", "sample_blocks", "12:00:00", None, "1 day", None, None),
        ("policy_refresh_continuous_aggregate", "samples_1h", "01:00:00", None, None, "29 days",
         "01:00:00"),
        ("policy_refresh_continuous_aggregate", "samples_1m", "00:05:00", None, None, "6 days",
         "00:01:00"),
        ("policy_retention", "sample_blocks", "1 day", "7 days", None, None, None),
        ("policy_retention", "samples_1h", "1 day", "1 year", None, None, None),
        ("policy_retention", "samples_1m", "1 day", "30 days", None, None, None),
    ]  # fmt: skip
    segment = rows(
        community_dsn,
        "SELECT attname FROM timescaledb_information.compression_settings "
        "WHERE hypertable_name = 'sample_blocks' AND segmentby_column_index IS NOT NULL ORDER BY 1",
    )
    assert segment == [("run_id",), ("series",)]
    with Store.open(community_dsn) as store:  # init again: nothing to do, nothing fails
        again = store.init()
    assert again.applied == () and again.mode == "timescaledb"


@pytest.mark.integration
def test_continuous_aggregates_equal_the_raw_samples(community_dsn: str, tmp_path: Path) -> None:
    runs = k6_runs(tmp_path, "main", count=3, seed=7, requests=500, hours_ago=30)
    ingest(community_dsn, runs, branch="main")
    with psycopg.connect(community_dsn, autocommit=True) as conn:
        for view in ("perfdash.samples_1m", "perfdash.samples_1h"):
            conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)".encode())
    for view, width in (("samples_1m", "1 minute"), ("samples_1h", "1 hour")):
        raw = rows(
            community_dsn,
            f"SELECT time_bucket(INTERVAL '{width}', ts), run_id, series, count(*), "
            "round(avg(value)::numeric, 6), min(value), max(value) FROM perfdash.samples "
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        )
        aggregated = rows(
            community_dsn,
            f"SELECT bucket, run_id, series, n, round(mean::numeric, 6), min, max "
            f"FROM perfdash.{view} ORDER BY 1, 2, 3",
        )
        assert len(raw) > 3 and aggregated == raw, view


@pytest.mark.integration
def test_retention_drops_old_raw_samples_and_keeps_every_summary(
    community_dsn: str, tmp_path: Path
) -> None:
    old = k6_runs(tmp_path / "old", "old", count=3, seed=1, requests=200, hours_ago=24 * 10)
    new = k6_runs(tmp_path / "new", "new", count=3, seed=2, requests=200, hours_ago=6)
    old_ids = ingest(community_dsn, old, branch="main")
    new_ids = ingest(community_dsn, new, branch="feature")
    run_policy(community_dsn, "policy_retention", "sample_blocks")
    kept = dict(rows(community_dsn, "SELECT run_id, count(*) FROM perfdash.samples GROUP BY 1"))
    assert set(kept) == set(new_ids) and all(n == 400 for n in kept.values())
    summaries = rows(community_dsn, "SELECT DISTINCT run_id FROM perfdash.run_summary ORDER BY 1")
    assert [r[0] for r in summaries] == old_ids + new_ids
    with Store.open(community_dsn) as store:  # verdicts never needed the raw samples
        report = compare_benchmark(
            store,
            Selection(
                "api", branch="feature", window=timedelta(days=30), baseline_run_ids=tuple(old_ids)
            ),
            now=datetime.now(UTC),
        )
    assert len(report.baseline.runs) == 3 and len(report.candidate.runs) == 3
    assert {v.test.metric for v in report.verdicts} >= {"p95", "error_rate"}


@pytest.mark.integration
def test_compression_keeps_every_value_and_takes_new_runs(
    community_dsn: str, tmp_path: Path
) -> None:
    runs = k6_runs(tmp_path / "a", "a", count=2, seed=3, requests=300, hours_ago=72)
    ingest(community_dsn, runs, branch="main")
    totals = "SELECT run_id, series, ts, value FROM perfdash.samples ORDER BY 1, 2, 3, 4"
    before = rows(community_dsn, totals)
    run_policy(community_dsn, "policy_compression", "sample_blocks")
    chunks = rows(
        community_dsn,
        "SELECT is_compressed FROM timescaledb_information.chunks "
        "WHERE hypertable_name = 'sample_blocks'",
    )
    assert chunks and all(compressed for (compressed,) in chunks)
    assert rows(community_dsn, totals) == before and len(before) == 1200  # every sample
    late = k6_runs(tmp_path / "b", "b", count=1, seed=4, requests=300, hours_ago=71.5)
    (late_id,) = ingest(community_dsn, late, branch="main")  # into a compressed chunk
    stored = rows(
        community_dsn, "SELECT count(*) FROM perfdash.samples WHERE run_id = %s", (late_id,)
    )
    assert stored == [(600,)]


@pytest.mark.integration
def test_the_apache_edition_degrades_to_a_hypertable_and_drops_old_chunks_itself(
    apache_dsn: str, tmp_path: Path
) -> None:
    with Store.open(apache_dsn) as store:
        report = store.init()
    assert report.mode_note == describe("timescaledb-apache")
    assert rows(apache_dsn, "SHOW timescaledb.license") == [("apache",)]
    assert rows(
        apache_dsn,
        "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables",
    ) == [("sample_blocks", False)]
    assert rows(
        apache_dsn, "SELECT count(*) FROM timescaledb_information.continuous_aggregates"
    ) == [(0,)]
    assert rows(
        apache_dsn,
        "SELECT count(*) FROM timescaledb_information.jobs WHERE hypertable_schema = 'perfdash'",
    ) == [(0,)]
    old = k6_runs(tmp_path / "old", "old", count=2, seed=5, requests=100, hours_ago=24 * 9)
    new = k6_runs(tmp_path / "new", "new", count=1, seed=6, requests=100, hours_ago=2)
    old_ids = ingest(apache_dsn, old, branch="main")
    (new_id,) = ingest(apache_dsn, new, branch="main")
    kept = rows(apache_dsn, "SELECT DISTINCT run_id FROM perfdash.samples")
    assert kept == [(new_id,)]  # the old runs' chunks went at the next ingest
    summaries = rows(apache_dsn, "SELECT count(DISTINCT run_id) FROM perfdash.run_summary")
    assert summaries == [(len(old_ids) + 1,)]


@pytest.mark.integration
def test_installed_but_not_preloaded_carries_on_in_plain_postgresql(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    available = rows(pg_dsn, "SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    if not available:
        missing("TimescaleDB is not installed (../shared/timescaledb/install.sh)")
    monkeypatch.setenv("PERFDASH_DSN", pg_dsn)
    result = run_cli(["baseline", "init"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "storage: PostgreSQL (no TimescaleDB): plain tables, BRIN on time, b-tree on (benchmark, "
        "run); raw samples are kept until deleted (TimescaleDB 2.28.3 is installed on the server "
        "but not preloaded: to use it, add shared_preload_libraries = 'timescaledb' to "
        "postgresql.conf (SHOW config_file names it; keep any libraries already listed) and "
        "restart PostgreSQL, then run `perfdash baseline init` again)"
    ]
    stored = run_cli(["baseline", "ingest", "--benchmark", "api", str(K6_RUN)])
    assert stored.exit_code == 0, stored.output
    assert rows(pg_dsn, "SELECT count(*) FROM perfdash.runs") == [(1,)]
    assert PG_PASSWORD not in result.output + stored.output


@pytest.fixture
def own_server() -> Any:
    """A server of the test's own (it restarts it), TimescaleDB not preloaded at first."""
    try:
        with throwaway_postgres(password=PG_PASSWORD, config=(NO_JOBS,)) as server:
            yield server
    except PostgresMissing as exc:
        missing(str(exc))


@pytest.mark.integration
def test_preloading_later_moves_the_samples_into_a_hypertable_and_unloading_is_an_error(
    own_server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dsn = fresh_database(own_server)
    runs = k6_runs(tmp_path, "main", count=2, seed=8, requests=100, hours_ago=3)
    with Store.open(dsn) as store:
        assert store.init().mode == "postgresql"
    ingest(dsn, runs[:1], branch="main")
    try:
        restart(own_server, config=(*TIMESCALEDB, NO_JOBS))
    except PostgresMissing as exc:
        missing(str(exc))
    with Store.open(dsn) as store:
        upgraded = store.init()
    assert upgraded.mode == "timescaledb" and upgraded.applied == ()
    assert rows(dsn, "SELECT count(*) FROM perfdash.samples") == [(200,)]  # migrated
    assert rows(
        dsn,
        "SELECT count(*) FROM timescaledb_information.hypertables "
        "WHERE hypertable_name = 'sample_blocks'",
    ) == [(1,)]
    ingest(dsn, runs[1:], branch="main")
    restart(own_server, config=(NO_JOBS,))  # the administrator stops preloading it
    monkeypatch.setenv("PERFDASH_DSN", dsn)
    result = run_cli(["baseline", "init"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: this database uses TimescaleDB 2.28.3, but the server does not preload it: add "
        "shared_preload_libraries = 'timescaledb' to postgresql.conf"
    )
    with Store.open(dsn) as store, pytest.raises(StoreSchemaError):
        store.init()
    more = k6_runs(tmp_path / "more", "more", count=1, seed=9, requests=10, hours_ago=1)
    refused = run_cli(["baseline", "ingest", "--benchmark", "api", str(more[0])])
    assert refused.exit_code == 1
    assert refused.stderr == result.stderr  # nothing stored where TimescaleDB never looks
    assert rows(dsn, "SELECT count(*) FROM perfdash.runs") == [(2,)]


# What schema 1 set up on TimescaleDB's community edition: one row a sample in a hypertable.
SCHEMA_1_TIMESCALEDB = (
    "CREATE EXTENSION IF NOT EXISTS timescaledb",
    "SELECT create_hypertable('perfdash.samples', 'ts', chunk_time_interval => INTERVAL '1 day', "
    "if_not_exists => TRUE, migrate_data => TRUE)",
    "CREATE MATERIALIZED VIEW perfdash.samples_1m WITH (timescaledb.continuous) AS SELECT "
    "time_bucket(INTERVAL '1 minute', ts) AS bucket, run_id, series, count(*) AS n, avg(value) "
    "AS mean, min(value) AS min, max(value) AS max FROM perfdash.samples "
    "GROUP BY bucket, run_id, series WITH NO DATA",
    "SELECT add_continuous_aggregate_policy('perfdash.samples_1m', start_offset => INTERVAL "
    "'6 days', end_offset => INTERVAL '1 minute', schedule_interval => INTERVAL '5 minutes')",
    "CREATE MATERIALIZED VIEW perfdash.samples_1h WITH (timescaledb.continuous) AS SELECT "
    "time_bucket(INTERVAL '1 hour', bucket) AS bucket, run_id, series, sum(n) AS n, "
    "sum(mean * n) / sum(n) AS mean, min(min) AS min, max(max) AS max FROM perfdash.samples_1m "
    "GROUP BY 1, run_id, series WITH NO DATA",
    "SELECT add_retention_policy('perfdash.samples', INTERVAL '7 days')",
    "ALTER TABLE perfdash.samples SET (timescaledb.compress, timescaledb.compress_segmentby = "
    "'run_id, series', timescaledb.compress_orderby = 'ts')",
    "SELECT add_compression_policy('perfdash.samples', INTERVAL '1 day')",
    "INSERT INTO perfdash.settings (key, value) VALUES ('storage_mode', 'timescaledb')",
)


@pytest.mark.integration
def test_a_schema_1_store_on_timescaledb_moves_its_samples_into_blocks(
    timescale_server: Server,
) -> None:
    dsn = fresh_database(timescale_server)
    start = datetime.now(UTC).replace(microsecond=123456) - timedelta(hours=30)
    samples = [
        (run, "latency" if i % 4 else "failed", start + timedelta(microseconds=i * 777_777), v)
        for run in (1, 2)
        for i, v in enumerate([3.5, 0.0, 12.25, 1e-6, 7.0] * 30)
    ]
    with psycopg.connect(dsn, autocommit=True) as conn:
        with conn.transaction():
            create_store_at(conn, 1)
        for statement in SCHEMA_1_TIMESCALEDB:
            conn.execute(statement.encode())
        for run in (1, 2):
            conn.execute(
                "INSERT INTO perfdash.runs (id, benchmark, started_at, format, files, "
                "content_hash) VALUES (%s, 'api', %s, 'k6', '{}', %s)",
                (run, start, f"hash-{run}"),
            )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO perfdash.samples (run_id, series, ts, value) VALUES (%s, %s, %s, %s)",
                samples,
            )
        conn.execute("CALL refresh_continuous_aggregate('perfdash.samples_1m', NULL, NULL)")
    run_policy(dsn, "policy_compression", "samples")
    with Store.open(dsn) as store:
        report = store.init()
    assert report.applied == (2, 3) and report.mode == "timescaledb"
    back = rows(dsn, "SELECT run_id, series, ts, value FROM perfdash.samples ORDER BY 1, 3, 2")
    assert back == sorted(samples, key=lambda s: (s[0], s[2], s[1]))
    assert rows(
        dsn,
        "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables "
        "WHERE hypertable_schema = 'perfdash'",
    ) == [("sample_blocks", True)]
    jobs = rows(
        dsn,
        "SELECT proc_name, hypertable_name FROM timescaledb_information.jobs "
        "WHERE hypertable_schema = 'perfdash' ORDER BY 1, 2",
    )
    assert jobs == [
        ("policy_compression", "sample_blocks"),
        ("policy_refresh_continuous_aggregate", "samples_1h"),
        ("policy_refresh_continuous_aggregate", "samples_1m"),
        ("policy_retention", "sample_blocks"),
        ("policy_retention", "samples_1h"),
        ("policy_retention", "samples_1m"),
    ]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CALL refresh_continuous_aggregate('perfdash.samples_1m', NULL, NULL)")
    assert rows(dsn, "SELECT run_id, sum(n) FROM perfdash.samples_1m GROUP BY 1 ORDER BY 1") == [
        (1, 150),
        (2, 150),
    ]
