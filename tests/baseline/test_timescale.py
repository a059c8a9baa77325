"""The TimescaleDB path: mode detection from the licence, and the SQL each mode runs."""

from __future__ import annotations

from perfdash.baseline.timescale import describe, storage_mode, timescale_statements


def test_no_extension_means_plain_postgresql() -> None:
    assert storage_mode(None, None) == "postgresql"
    assert timescale_statements("postgresql") == []


def test_the_licence_decides_between_community_and_apache_editions() -> None:
    assert storage_mode("2.14.2", "timescale") == "timescaledb"
    assert storage_mode("2.14.2", "apache") == "timescaledb-apache"
    assert storage_mode("2.14.2", None) == "timescaledb-apache"


def test_the_apache_edition_gets_a_hypertable_and_nothing_it_lacks() -> None:
    statements = timescale_statements("timescaledb-apache")
    assert len(statements) == 1
    assert statements[0].startswith("SELECT create_hypertable('perfdash.samples', 'ts'")
    joined = " ".join(statements)
    for missing in ("compress", "continuous", "retention"):
        assert missing not in joined
    assert "no compression, continuous aggregates or retention" in describe("timescaledb-apache")


def test_the_community_edition_gets_aggregates_retention_and_compression() -> None:
    sql = "\n".join(timescale_statements("timescaledb"))
    assert "create_hypertable('perfdash.samples', 'ts'" in sql
    assert (
        "CREATE MATERIALIZED VIEW IF NOT EXISTS perfdash.samples_1m WITH (timescaledb.continuous)"
        in sql
    )
    assert "time_bucket(INTERVAL '1 minute', ts)" in sql
    assert (
        "CREATE MATERIALIZED VIEW IF NOT EXISTS perfdash.samples_1h WITH (timescaledb.continuous)"
        in sql
    )
    assert "add_retention_policy('perfdash.samples', INTERVAL '7 days'" in sql
    assert "add_retention_policy('perfdash.samples_1m', INTERVAL '30 days'" in sql
    assert "add_retention_policy('perfdash.samples_1h', INTERVAL '1 year'" in sql
    assert "timescaledb.compress_segmentby = 'run_id, series'" in sql
    assert "add_compression_policy('perfdash.samples', INTERVAL '1 day'" in sql
    # every statement can run again without error
    for statement in timescale_statements("timescaledb"):
        assert (
            "if_not_exists => TRUE" in statement
            or "IF NOT EXISTS" in statement
            or (statement.startswith("ALTER TABLE"))
        )
