"""A baseline store as an earlier perfdash left it, to test what `init` upgrades."""

from __future__ import annotations

import psycopg

from perfdash.baseline.schema import MIGRATIONS


def create_store_at(conn: psycopg.Connection[object], version: int) -> None:
    """Migrations 1 to ``version`` applied and recorded as perfdash recorded them then
    (run it inside a transaction)."""
    for migration in MIGRATIONS[:version]:
        for statement in migration.statements:
            conn.execute(statement.encode())
    conn.execute(
        "CREATE TABLE perfdash.schema_migrations (version integer PRIMARY KEY, "
        "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    for applied in range(1, version + 1):
        conn.execute(
            "INSERT INTO perfdash.schema_migrations (version, name) VALUES (%s, %s)",
            (applied, f"v{applied}"),
        )
