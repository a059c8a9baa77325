"""A throwaway PostgreSQL server (initdb + pg_ctl) for tests and benchmarks.

The cluster lives in a fresh temporary folder (its Unix socket too), listens on a free
127.0.0.1 port with fsync off, and is stopped and deleted on exit. As root the server
runs as the ``postgres`` user, since PostgreSQL refuses to run as root.

``config`` lines go to ``perfdash.conf``, included by the cluster's ``postgresql.conf``
(as an administrator would write them: ``shared_preload_libraries = 'timescaledb'``);
``restart`` rewrites them and restarts the server on the same port.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from testing.processes import free_port

USER = "perfdash"
TIMESCALEDB = (
    "shared_preload_libraries = 'timescaledb'",
    "timescaledb.telemetry_level = off",  # no phoning home from tests
)
TIMESCALEDB_APACHE = (*TIMESCALEDB, "timescaledb.license = 'apache'")
_LIBRARY_PROBLEM = re.compile(
    r'FATAL:\s+(could not (?:access file|load library) "(?P<library>[^"]+)".*)'
)


class PostgresMissing(RuntimeError):
    """initdb/pg_ctl are not installed (Debian: apt-get install postgresql)."""


class LibraryMissing(PostgresMissing):
    """A library the configuration preloads is not installed, or does not load."""


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    password: str
    data: Path | None = None  # the cluster's folder, for ``restart``

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


def _write_config(data: Path, config: Sequence[str]) -> None:
    path = data / "perfdash.conf"
    path.write_text("".join(f"{line}\n" for line in config))
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _start_failure(output: str, log: Path) -> Exception:
    detail = log.read_text() if log.exists() else ""
    problem = _LIBRARY_PROBLEM.search(detail)
    if problem is not None:
        library = Path(problem["library"]).name.removesuffix(".so")
        hint = (
            " (install it: ../shared/timescaledb/install.sh; it needs Debian's current "
            "postgresql-15 from bookworm-security)"
            if library.startswith("timescaledb")
            else ""
        )
        return LibraryMissing(f"PostgreSQL cannot preload {library}: {problem[1]}{hint}")
    return RuntimeError(f"PostgreSQL did not start: {output}{detail}")


@contextmanager
def throwaway_postgres(
    *, password: str, settings: tuple[str, ...] = (), config: Sequence[str] = ()
) -> Iterator[Server]:
    """Start a server; yield how to reach it; stop it and delete its files afterwards.

    ``settings`` are extra ``postgres`` command-line options; ``config`` lines go to
    the configuration file. A preloaded library that is missing raises ``LibraryMissing``."""
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
        with (data / "postgresql.conf").open("a") as conf:
            conf.write("include_if_exists = 'perfdash.conf'\n")
        _write_config(data, config)
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
            raise _start_failure(started.stdout + started.stderr, log)
        try:
            yield Server("127.0.0.1", port, USER, password, data)
        finally:
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True, timeout=60, check=False,
            )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)


def restart(server: Server, *, config: Sequence[str]) -> None:
    """Replace the configuration lines of a ``throwaway_postgres`` server and restart it
    (same port, same data): what an administrator does to change preloaded libraries."""
    assert server.data is not None, "only throwaway_postgres servers can be restarted"
    _write_config(server.data, config)
    log = server.data.parent / "server.log"
    done = subprocess.run(
        [*_as_server_user(), find_binary("pg_ctl"), "-D", str(server.data), "-l", str(log),
         "-m", "fast", "-w", "-t", "60", "restart"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise _start_failure(done.stdout + done.stderr, log)
