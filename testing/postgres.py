"""A throwaway PostgreSQL server (initdb + pg_ctl) for tests and benchmarks.

The cluster lives in a fresh temporary folder (its Unix socket too), listens on a free
127.0.0.1 port with fsync off, and is stopped and deleted on exit. As root the server
runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from testing.processes import free_port

USER = "perfdash"


class PostgresMissing(RuntimeError):
    """initdb/pg_ctl are not installed (Debian: apt-get install postgresql)."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str

    def dsn(self, database: str = "postgres", *, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return f"postgresql://{self.user}:{secret}@{self.host}:{self.port}/{database}"


def find_binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise PostgresMissing(f"{name} is not installed (Debian: apt-get install postgresql)")
    return found


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise PostgresMissing("running as root needs runuser to start PostgreSQL as 'postgres'")
    return [runuser, "-u", "postgres", "--"]


@contextmanager
def throwaway_postgres(*, password: str, settings: tuple[str, ...] = ()) -> Iterator[Server]:
    """Start a server; yield how to reach it; stop it and delete its files afterwards."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    prefix = _as_server_user()
    root = Path(tempfile.mkdtemp(prefix="perfdash-pg-"))
    try:
        data, log, pwfile = root / "data", root / "server.log", root / "pw"
        pwfile.write_text(password + "\n")
        if prefix:
            for path in (root, pwfile):
                shutil.chown(path, "postgres", "postgres")
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-U", USER, f"--pwfile={pwfile}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        port = free_port()
        options = " ".join(
            (f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off",
             "-c synchronous_commit=off -c full_page_writes=off", *settings)
        )  # fmt: skip
        started = subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60",
             "start"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if started.returncode != 0:
            detail = log.read_text() if log.exists() else ""
            raise RuntimeError(
                f"PostgreSQL did not start: {started.stdout}{started.stderr}{detail}"
            )
        try:
            yield Server("127.0.0.1", port, USER, password)
        finally:
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
