"""The store against a real PostgreSQL: schema, ingest of every format, atomicity, secrets."""

from __future__ import annotations

import hashlib
import shutil
import statistics
import threading
from pathlib import Path

import psycopg
import pytest
import xxhash

from perfdash.baseline.formats import parse_file
from perfdash.baseline.records import FAILED, LATENCY, each_sample
from perfdash.baseline.store import Store
from perfdash.baseline.workflow import content_hash, ingest_files
from perfdash.errors import ResultFileError, StoreSchemaError, StoreUnavailable
from testing.postgres import Server
from tests.baseline.conftest import FIXTURES, PG_PASSWORD, dsn_for
from tests.baseline.older_schema import create_store_at

pytestmark = pytest.mark.integration
K6_RUN = FIXTURES / "k6" / "run.json"  # a real k6 1.1.0 run (testing/baseline_fixtures.py)
PYTEST_BENCHMARK = FIXTURES / "pytest-benchmark" / "pytest-benchmark.json"


def counts(dsn: str) -> tuple[int, int, int]:
    with psycopg.connect(dsn) as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT count(*) FROM perfdash.{table}").fetchone()[0]  # type: ignore[index]
            for table in ("runs", "samples", "run_summary")
        )


def summary(dsn: str, run_id: int) -> dict[str, float]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT metric, value FROM perfdash.run_summary WHERE run_id = %s", (run_id,)
        ).fetchall()
    return dict(rows)


def test_init_creates_the_schema_once_and_reports_the_storage_mode(
    edition: str, edition_dsn: str
) -> None:
    with Store.open(edition_dsn) as store:
        first = store.init()
        again = store.init()
    assert first.applied == (1, 2, 3) and first.version == 3
    assert again.applied == ()
    assert first.mode == again.mode == edition
    assert first.mode_note == again.mode_note
    with psycopg.connect(edition_dsn) as conn:
        indexes = {
            row[0]: row[1]
            for row in conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'perfdash'"
            )
        }
        mode = conn.execute("SELECT value FROM perfdash.settings").fetchall()
    assert "USING brin (ts)" in indexes["sample_blocks_ts_brin"]
    assert "(run_id, series)" in indexes["sample_blocks_run_series"]
    assert "(benchmark, id)" in indexes["runs_benchmark_run"]
    assert mode == [(edition,)]


def test_plain_postgresql_says_why_it_has_no_timescaledb(pg_dsn: str) -> None:
    with Store.open(pg_dsn) as store:
        report = store.init()
        available = store.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
        )
    assert report.mode == "postgresql"
    assert report.mode_note.startswith(
        "PostgreSQL (no TimescaleDB): plain tables, BRIN on time, b-tree on (benchmark, run); "
        "raw samples are kept until deleted ("
    )
    if available == [(0,)]:
        assert report.mode_note.endswith(
            "(the timescaledb extension is not installed on the server)"
        )
    else:  # this server has TimescaleDB installed but does not preload it
        assert "installed on the server but not preloaded" in report.mode_note


def test_a_store_without_schema_says_to_run_init(pg_dsn: str) -> None:
    with (
        Store.open(pg_dsn) as store,
        pytest.raises(StoreSchemaError, match="perfdash baseline init"),
    ):
        ingest_files(store, benchmark="api", paths=[K6_RUN])


def test_k6_run_summary_is_exact_over_the_run_s_requests(edition_store_dsn: str) -> None:
    with Store.open(edition_store_dsn) as store:
        result = ingest_files(store, benchmark="api", paths=[K6_RUN], branch="main",
                              git_sha="abc123", env={"region": "eu"})  # fmt: skip
    samples = list(each_sample(parse_file(K6_RUN, "k6")))
    latencies = [s.value for s in samples if s.series == LATENCY]
    failed = [s.value for s in samples if s.series == FAILED]
    times = [s.ts for s in samples if s.ts is not None]
    assert not result.duplicate and result.samples == len(samples) == 240
    got = summary(edition_store_dsn, result.run_id)
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    assert got["p50"] == pytest.approx(statistics.median(latencies))
    assert got["p90"] == pytest.approx(quantiles[89])
    assert got["p95"] == pytest.approx(quantiles[94])
    assert got["mean"] == pytest.approx(statistics.mean(latencies))
    assert got["max"] == max(latencies)
    assert got["requests"] == 120
    assert got["error_rate"] == pytest.approx(sum(failed) / 120)
    assert got["rps"] == pytest.approx(120 / (max(times) - min(times)))
    with psycopg.connect(edition_store_dsn) as conn:
        row = conn.execute(
            "SELECT branch, git_sha, env, tool, format, files, "
            "extract(epoch FROM started_at) FROM perfdash.runs"
        ).fetchone()
    assert row is not None
    assert row[:6] == ("main", "abc123", {"region": "eu"}, "k6", "k6", ["run.json"])
    assert float(row[6]) == pytest.approx(min(times), abs=1e-6)


def test_pytest_benchmark_files_name_their_tool_version(store_dsn: str) -> None:
    with Store.open(store_dsn) as store:
        ingest_files(store, benchmark="codec", paths=[PYTEST_BENCHMARK])
    with psycopg.connect(store_dsn) as conn:
        row = conn.execute("SELECT branch, git_sha, tool_version FROM perfdash.runs").fetchone()
    # Written outside a git checkout: pytest-benchmark's "(unknown)"/"unversioned" are no branch
    assert row == (None, None, "5.3.1")


def test_ingesting_the_same_file_again_is_a_no_op(store_dsn: str, tmp_path: Path) -> None:
    copy = tmp_path / "renamed.json"
    shutil.copy(K6_RUN, copy)
    with Store.open(store_dsn) as store:
        first = ingest_files(store, benchmark="api", paths=[K6_RUN])
        before = counts(store_dsn)
        again = ingest_files(store, benchmark="api", paths=[copy])  # same content, other name
        other = ingest_files(store, benchmark="other-api", paths=[copy])
    assert again.duplicate and again.run_id == first.run_id
    assert not other.duplicate
    assert before == (1, 240, counts(store_dsn)[2] // 2)
    assert counts(store_dsn)[:2] == (2, 480)  # the duplicate's samples were undone


def test_a_run_is_identified_by_the_xxh3_of_its_content(store_dsn: str) -> None:
    # The hash is computed while the file is parsed and set at the end, with its algorithm.
    expected = xxhash.xxh3_128(b"k6\0" + xxhash.xxh3_128(K6_RUN.read_bytes()).digest())
    with Store.open(store_dsn) as store:
        ingest_files(store, benchmark="api", paths=[K6_RUN])
    with psycopg.connect(store_dsn) as conn:
        stored = conn.execute(
            "SELECT content_hash, content_hash_algorithm FROM perfdash.runs"
        ).fetchall()
    assert stored == [(expected.hexdigest(), "xxh3-128")]


def legacy_identity(path: Path) -> str:
    """The sha256 identity perfdash stored before schema 3."""
    return hashlib.sha256(b"k6\0" + hashlib.sha256(path.read_bytes()).digest()).hexdigest()


def test_a_run_stored_before_schema_3_under_its_sha256_is_still_a_duplicate(
    pg_dsn: str, tmp_path: Path
) -> None:
    # A store of schema 2 holding the run as earlier versions wrote it (sha256, no
    # algorithm column); init upgrades it, and ingesting the same content again is a no-op.
    with psycopg.connect(pg_dsn, autocommit=True) as conn, conn.transaction():
        create_store_at(conn, 2)
        conn.execute(
            "INSERT INTO perfdash.runs (id, benchmark, started_at, format, files, content_hash, "
            "samples) VALUES (7, 'api', now(), 'k6', '{run.json}', %s, 240)",
            (legacy_identity(K6_RUN),),
        )
    copy = tmp_path / "renamed.json"
    shutil.copy(K6_RUN, copy)
    with Store.open(pg_dsn) as store:
        assert store.init().applied == (3,)
        again = ingest_files(store, benchmark="api", paths=[copy])
        other = ingest_files(store, benchmark="other-api", paths=[copy])
    assert again.duplicate and again.run_id == 7
    assert not other.duplicate
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            "SELECT id, benchmark, content_hash_algorithm FROM perfdash.runs ORDER BY benchmark"
        ).fetchall()
        samples = conn.execute("SELECT count(*) FROM perfdash.samples").fetchone()
    assert rows == [(7, "api", "sha256"), (other.run_id, "other-api", "xxh3-128")]
    assert samples == (240,)  # the duplicate's samples were undone


def test_a_sha256_run_of_other_content_is_no_duplicate(store_dsn: str, tmp_path: Path) -> None:
    # Same benchmark, format and sample count (so the sha256 is computed and compared),
    # other content: stored.
    edited = tmp_path / "edited.json"
    edited.write_bytes(K6_RUN.read_bytes().replace(b'"thresholds":[]', b'"thresholds": []', 1))
    with psycopg.connect(store_dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO perfdash.runs (benchmark, started_at, format, files, content_hash, "
            "content_hash_algorithm, samples) VALUES ('api', now(), 'k6', '{}', %s, 'sha256', "
            "240)",
            (legacy_identity(K6_RUN),),
        )
    assert legacy_identity(edited) != legacy_identity(K6_RUN)
    with Store.open(store_dsn) as store:
        result = ingest_files(store, benchmark="api", paths=[edited])
    assert not result.duplicate and result.samples == 240


def test_a_malformed_file_stores_nothing(edition_store_dsn: str, tmp_path: Path) -> None:
    lines = K6_RUN.read_text().splitlines(keepends=True)
    bad = max(i for i, line in enumerate(lines) if '"metric":"http_req_duration"' in line)
    lines[bad] = lines[bad].replace('"value":', '"value":"oops",', 1)
    broken = tmp_path / "broken.json"
    broken.write_text("".join(lines))
    with Store.open(edition_store_dsn) as store, pytest.raises(ResultFileError) as caught:
        ingest_files(store, benchmark="api", paths=[broken], format_name="k6")
    assert caught.value.line == bad + 1
    assert counts(edition_store_dsn) == (0, 0, 0)


def test_a_refused_file_stops_its_content_hash(store_dsn: str, tmp_path: Path) -> None:
    # 64 MiB whose first line is broken: the parse stops at once, and so does the hash
    # computed meanwhile (no thread left reading the file).
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.write(b'{"metric": oops}\n')
        handle.truncate(64 << 20)
    with Store.open(store_dsn) as store, pytest.raises(ResultFileError):
        ingest_files(store, benchmark="api", paths=[big], format_name="k6")
    for thread in threading.enumerate():
        if thread.name == "content-hash":
            thread.join(timeout=10)
            assert not thread.is_alive()
    assert counts(store_dsn) == (0, 0, 0)


def test_the_password_never_appears_in_connection_errors(pg_server: Server) -> None:
    wrong = dsn_for(pg_server, "postgres", password="Wr0ngPa55word")
    with pytest.raises(StoreUnavailable) as caught, Store.open(wrong):
        pass
    assert "password authentication failed" in str(caught.value)
    assert "Wr0ngPa55word" not in str(caught.value)
    nobody = f"postgresql://perfdash:{PG_PASSWORD}@127.0.0.1:1/none"
    with pytest.raises(StoreUnavailable) as refused, Store.open(nobody, connect_timeout=2):
        pass
    assert PG_PASSWORD not in str(refused.value)
    keyword = f"host=127.0.0.1 port=1 user=perfdash password={PG_PASSWORD} dbname=none"
    with pytest.raises(StoreUnavailable) as by_keyword, Store.open(keyword, connect_timeout=2):
        pass
    assert PG_PASSWORD not in str(by_keyword.value)


def test_the_content_hash_stops_when_asked() -> None:
    stop = threading.Event()
    assert (
        content_hash("k6", [K6_RUN], stop)
        == xxhash.xxh3_128(b"k6\0" + xxhash.xxh3_128(K6_RUN.read_bytes()).digest()).hexdigest()
    )
    assert content_hash("k6", [K6_RUN], stop, algorithm="sha256") == legacy_identity(K6_RUN)
    stop.set()
    assert content_hash("k6", [K6_RUN], stop) == ""
