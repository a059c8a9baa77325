"""Samples in blocks (``perfdash.baseline.blocks``): grouping, the binary arrays COPY sends,
the ``perfdash.samples`` view giving every sample back, and the migration from one row a
sample (schema 1) to blocks (schema 2), on a real PostgreSQL."""

from __future__ import annotations

import math
import random
from array import array
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from perfdash.baseline import store as store_module
from perfdash.baseline.blocks import MAX_BLOCK, MINUTE_US, Block, BlockBuilder, float8_array
from perfdash.baseline.formats import parse_file
from perfdash.baseline.records import each_sample
from perfdash.baseline.store import Store
from perfdash.baseline.workflow import ingest_files
from tests.baseline.conftest import FIXTURES
from tests.baseline.older_schema import create_store_at

K6_RUN = FIXTURES / "k6" / "run.json"
MINUTE = datetime(2026, 11, 1, 9, 30, tzinfo=UTC).timestamp()


def test_a_block_holds_one_series_within_one_minute() -> None:
    builder = BlockBuilder(default_time=MINUTE)
    full = builder.add_batch(
        "latency", array("d", [1.0, 2.0]), array("d", [MINUTE + 1, MINUTE + 59.5])
    )
    full += builder.add_batch("failed", array("d", [0.0]), array("d", [MINUTE + 2]))
    assert full == []  # still open
    # The next minute starts a new latency block; a batch across the boundary is split.
    full = builder.add_batch(
        "latency", array("d", [3.0, 4.0]), array("d", [MINUTE + 59.75, MINUTE + 60.25])
    )
    blocks = full + builder.flush()
    shapes = sorted(
        (b.series, (b.minute / 1e6 - MINUTE) / 60, list(b.values), list(b.offsets)) for b in blocks
    )
    assert shapes == [
        ("failed", 0, [0.0], [2_000_000]),
        ("latency", 0, [1.0, 2.0, 3.0], [1_000_000, 59_500_000, 59_750_000]),
        ("latency", 1, [4.0], [250_000]),
    ]
    assert all(0 <= o < MINUTE_US for b in blocks for o in b.offsets)


def test_blocks_are_capped_and_samples_without_a_time_take_the_default() -> None:
    builder = BlockBuilder(default_time=MINUTE + 7.5)
    count = MAX_BLOCK + 10
    blocks = builder.add_batch("x", array("d", range(count)), None) + builder.flush()
    assert [len(b.values) for b in blocks] == [MAX_BLOCK, 10]
    assert {o for b in blocks for o in b.offsets} == {7_500_000}
    assert [v for b in blocks for v in b.values] == list(range(count))


def test_minute_batches_join_the_open_block_of_their_minute_and_are_capped() -> None:
    # What the k6 reader's workers hand over: a series' samples of one UTC minute.
    minute = round(MINUTE * 1e6)
    builder = BlockBuilder(default_time=MINUTE)
    full = builder.add_minute("latency", minute, array("d", [1.0, 2.0]), array("i", [5, 6]))
    full += builder.add_minute("latency", minute, array("d", [3.0]), array("i", [7]))
    assert full == []  # one open block for the minute
    count = MAX_BLOCK + 3
    values, offsets = array("d", range(count)), array("i", range(count))
    full = builder.add_minute("latency", minute + MINUTE_US, values, offsets)
    blocks = full + builder.flush()
    assert [(b.minute - minute, len(b.values)) for b in blocks] == [
        (0, 3),
        (MINUTE_US, MAX_BLOCK),
        (MINUTE_US, 3),
    ]
    assert list(blocks[0].values) == [1.0, 2.0, 3.0] and list(blocks[0].offsets) == [5, 6, 7]
    assert [v for b in blocks[1:] for v in b.values] == list(values)
    assert [o for b in blocks[1:] for o in b.offsets] == list(offsets)


def test_late_samples_of_an_earlier_minute_go_into_another_block() -> None:
    builder = BlockBuilder(default_time=MINUTE)
    blocks = [
        *builder.add("latency", 1.0, MINUTE + 10),
        *builder.add("latency", 2.0, MINUTE + 61),
        *builder.add("latency", 3.0, MINUTE + 59),  # k6 writes points a little out of order
        *builder.flush(),
    ]
    by_minute: dict[int, list[float]] = {}
    for block in blocks:
        by_minute.setdefault(block.minute, []).extend(block.values)
    assert sorted(by_minute.values()) == [[1.0, 3.0], [2.0]]


@pytest.mark.integration
def test_the_binary_arrays_copy_sends_read_back_exactly(store_dsn: str) -> None:
    rng = random.Random(3)
    values = array("d", [0.0, 5e-324, 1e-300, 0.1, 21.723502, 1e300, math.pi])
    values.extend(rng.lognormvariate(3, 1) for _ in range(1000))
    offsets = array("i", [0, 1, MINUTE_US - 1, *(rng.randrange(MINUTE_US) for _ in range(1004))])
    minute = round(MINUTE) * 1_000_000
    with psycopg.connect(store_dsn) as conn, conn.cursor() as cur:
        store_module._copy_blocks(cur, 7, [Block("x", minute, values, offsets)])
        row = cur.execute(
            "SELECT ts, n, total, min, max, sample_values, offsets_us FROM perfdash.sample_blocks"
        ).fetchone()
    assert row == (
        datetime.fromtimestamp(MINUTE, UTC), len(values), sum(values), min(values), max(values),
        list(values), list(offsets),
    )  # fmt: skip
    assert float8_array(values)[:20] == bytes.fromhex(
        "00000001 00000000 000002bd 000003ef 00000001"
    )


@pytest.mark.integration
def test_the_samples_view_gives_every_sample_back(store_dsn: str) -> None:
    with Store.open(store_dsn) as store:
        result = ingest_files(store, benchmark="api", paths=[K6_RUN])
    parsed = sorted(
        (s.series, round(s.ts * 1e6), s.value)
        for s in each_sample(parse_file(K6_RUN, "k6"))
        if s.ts is not None
    )
    with psycopg.connect(store_dsn) as conn:
        stored = conn.execute(
            "SELECT series, (extract(epoch FROM ts) * 1000000)::bigint, value "
            "FROM perfdash.samples WHERE run_id = %s ORDER BY 1, 2, 3",
            (result.run_id,),
        ).fetchall()
        blocks = conn.execute("SELECT count(*), sum(n) FROM perfdash.sample_blocks").fetchone()
    assert [(s, t, v) for s, t, v in stored] == parsed and len(parsed) == 240
    assert blocks == (2, 240)  # 0.6 s of requests: one block a series


@pytest.mark.integration
def test_migrating_a_store_of_one_row_a_sample_keeps_every_sample(pg_dsn: str) -> None:
    start = datetime(2026, 11, 1, 9, 29, 58, 123456, tzinfo=UTC)
    samples = [
        (run, "latency" if i % 3 else "failed", start + timedelta(microseconds=i * 333_337), v)
        for run in (1, 2)
        for i, v in enumerate([0.5, 7.25, 1e-9, 3.0, 0.0, 12.5] * 40)
    ]
    with psycopg.connect(pg_dsn, autocommit=True) as conn, conn.transaction():
        create_store_at(conn, 1)
        for run in (1, 2):
            conn.execute(
                "INSERT INTO perfdash.runs (id, benchmark, started_at, format, files, "
                "content_hash) VALUES (%s, 'api', now(), 'k6', '{}', %s)",
                (run, f"hash-{run}"),
            )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO perfdash.samples (run_id, series, ts, value) VALUES (%s, %s, %s, %s)",
                samples,
            )
    with Store.open(pg_dsn) as store:
        report = store.init()
    assert report.applied == (2, 3)
    with psycopg.connect(pg_dsn) as conn:
        back = conn.execute(
            "SELECT run_id, series, ts, value FROM perfdash.samples ORDER BY 1, 3, 2"
        ).fetchall()
        minutes = conn.execute(
            "SELECT DISTINCT extract(epoch FROM ts)::bigint % 60 FROM perfdash.sample_blocks"
        ).fetchall()
    assert back == sorted(samples, key=lambda s: (s[0], s[2], s[1]))
    assert minutes == [(0,)]  # every block starts on a whole minute
