"""A throwaway PostgreSQL for the baseline tests (``testing.postgres``: initdb + pg_ctl on
a free 127.0.0.1 port, socket and data in a temporary folder, fsync off).

Missing server binaries skip locally and fail in CI (CI=true). Each test gets a fresh database.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from testing.postgres import PostgresMissing, Server, throwaway_postgres
from tests.conftest import IN_CI

FIXTURES = Path(__file__).parent / "fixtures"
PG_PASSWORD = "s3cret-Pa55"  # tests assert it never shows in output
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Server]:
    """A running PostgreSQL (initdb + pg_ctl, free 127.0.0.1 port), stopped afterwards."""
    try:
        with throwaway_postgres(password=PG_PASSWORD) as server:
            yield server
    except PostgresMissing as exc:
        if IN_CI:
            pytest.fail(f"{exc}; CI must provide it", pytrace=False)
        pytest.skip(str(exc))


def dsn_for(server: Server, database: str, *, password: str | None = None) -> str:
    return server.dsn(database, password=password)


@pytest.fixture
def pg_dsn(pg_server: Server) -> str:
    """DSN of a fresh, empty database (with the password in it, as users write DSNs)."""
    name = f"perfdash_test_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(dsn_for(pg_server, "postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}".encode())
    return dsn_for(pg_server, name)


@pytest.fixture
def store_dsn(pg_dsn: str) -> str:
    """DSN of a fresh database with the perfdash schema initialised."""
    from perfdash.baseline.store import Store

    with Store.open(pg_dsn) as store:
        store.init()
    return pg_dsn
