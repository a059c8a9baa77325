"""Throwaway PostgreSQL servers for the baseline tests (``testing.postgres``: initdb + pg_ctl
on a free 127.0.0.1 port, socket and data in a temporary folder, fsync off).

- ``pg_server``: plain PostgreSQL, nothing preloaded (where TimescaleDB is installed, it
  is the "installed but not preloaded" server);
- ``timescale_server`` / ``timescale_apache_server``: TimescaleDB preloaded, community
  edition and ``timescaledb.license = 'apache'``. Background jobs are off
  (``max_background_workers = 0``) so that tests run each policy's job themselves
  (``CALL run_job``) instead of racing the scheduler.

A missing server, or TimescaleDB missing (CI installs it with
``../shared/timescaledb/install.sh``), skips locally and fails in CI (CI=true).
Each test gets a fresh database.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest

from testing.postgres import (
    TIMESCALEDB,
    TIMESCALEDB_APACHE,
    PostgresMissing,
    Server,
    throwaway_postgres,
)
from tests.conftest import IN_CI

FIXTURES = Path(__file__).parent / "fixtures"
PG_PASSWORD = "s3cret-Pa55"  # tests assert it never shows in output
NO_JOBS = "timescaledb.max_background_workers = 0"
EDITIONS = ("postgresql", "timescaledb", "timescaledb-apache")
_SERVERS = {
    "postgresql": "pg_server",
    "timescaledb": "timescale_server",
    "timescaledb-apache": "timescale_apache_server",
}
_databases = itertools.count(1)


def missing(reason: str) -> None:
    """Skip locally; fail in CI, which must provide every component."""
    if IN_CI:
        pytest.fail(f"{reason}; CI must provide it", pytrace=False)
    pytest.skip(reason)


def _server(config: Sequence[str] = ()) -> Iterator[Server]:
    try:
        with throwaway_postgres(password=PG_PASSWORD, config=config) as server:
            yield server
    except PostgresMissing as exc:
        missing(str(exc))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """A running PostgreSQL (initdb + pg_ctl, free 127.0.0.1 port), stopped afterwards."""
    yield from _server()


@pytest.fixture(scope="session")
def timescale_server() -> Iterator[Server]:
    """PostgreSQL preloading TimescaleDB, community edition (Timescale License)."""
    yield from _server((*TIMESCALEDB, NO_JOBS))


@pytest.fixture(scope="session")
def timescale_apache_server() -> Iterator[Server]:
    """PostgreSQL preloading TimescaleDB with ``timescaledb.license = 'apache'``."""
    yield from _server((*TIMESCALEDB_APACHE, NO_JOBS))


def dsn_for(server: Server, database: str, *, password: str | None = None) -> str:
    return server.dsn(database, password=password)


def fresh_database(server: Server) -> str:
    """DSN of a new, empty database on ``server`` (with the password in it, as users write
    DSNs)."""
    name = f"perfdash_test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(dsn_for(server, "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}".encode())
    return dsn_for(server, name)


@pytest.fixture
def pg_dsn(pg_server: Server) -> str:
    """DSN of a fresh, empty database."""
    return fresh_database(pg_server)


@pytest.fixture
def store_dsn(pg_dsn: str) -> str:
    """DSN of a fresh database with the perfdash schema initialised."""
    from perfdash.baseline.store import Store

    with Store.open(pg_dsn) as store:
        store.init()
    return pg_dsn


@pytest.fixture(params=EDITIONS)
def edition(request: pytest.FixtureRequest) -> str:
    """Each storage mode in turn: plain PostgreSQL, TimescaleDB, its Apache edition."""
    return str(request.param)


@pytest.fixture
def edition_dsn(edition: str, request: pytest.FixtureRequest) -> str:
    """DSN of a fresh, empty database on the server of ``edition``."""
    server: Server = request.getfixturevalue(_SERVERS[edition])
    return fresh_database(server)


@pytest.fixture
def edition_store_dsn(edition: str, edition_dsn: str) -> str:
    """DSN of a fresh database initialised in ``edition``'s storage mode (checked)."""
    from perfdash.baseline.store import Store

    with Store.open(edition_dsn) as store:
        report = store.init()
    assert report.mode == edition, report.mode_note
    return edition_dsn
