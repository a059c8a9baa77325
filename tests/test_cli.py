"""The command line: output, exit codes, atomic writes, --check."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from perfdash.cli import COMMANDS
from tests.helpers import MINIMAL_SERVICE, run_cli, write_declaration


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder with one valid declaration under slos/."""
    write_declaration(tmp_path / "slos", "checkout.yaml", MINIMAL_SERVICE)
    return tmp_path


def test_usage_errors_exit_2(project: Path) -> None:
    result = run_cli(["build", "--no-such-option"], cwd=project)
    assert result.exit_code == 2
    assert "Error: No such option '--no-such-option'." in result.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help_with_an_example_and_the_exit_codes(command: str) -> None:
    result = run_cli([command, "-h"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert "Exit status:" in result.stdout


def _run_main_with(
    body: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run perfdash's real entry point in a child Python with one extra command."""
    program = textwrap.dedent(
        f"""
        import sys
        from perfdash.cli import cli, main

        @cli.command()
        def boom():
            {body}

        main(["boom"])
        """
    )
    return subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_an_unexpected_exception_is_reported_as_a_bug_with_exit_70() -> None:
    done = _run_main_with("raise RuntimeError('kaboom')")
    assert done.returncode == 70
    assert "RuntimeError: kaboom" in done.stderr
    assert "this is a bug" in done.stderr


def test_a_bugs_traceback_shows_no_secret_and_no_control_character() -> None:
    """Where a URL with credentials reaches an exception (here: a '/' in its password),
    the exit-70 traceback still redacts it, and the environment's secrets besides."""
    done = _run_main_with(
        "raise ValueError('bad port in http://admin:S3cret/Pw99@host:1 and ' + "
        "__import__('os').environ['SOME_API_TOKEN'] + ' \x1b]0;owned\x07')",
        env={"SOME_API_TOKEN": "tok-3a9f7c"},
    )
    assert done.returncode == 70
    assert "ValueError: bad port in http://admin:***@host:1 and *** \\x1b]0;owned\\x07" in (
        done.stderr
    )
    for shown in ("S3cret", "Pw99", "tok-3a9f7c", "\x1b", "\x07"):
        assert shown not in done.stderr


def test_an_error_message_has_its_control_characters_escaped(tmp_path: Path) -> None:
    """A declaration file named with escape sequences: the error quoting it is inert."""
    name = "checkout\x1b]0;owned\x07.yaml"
    write_declaration(tmp_path / "slos", name, "apiVersion: perfdash/v1\nkind: [")
    result = run_cli(["validate"], cwd=tmp_path)
    assert result.exit_code == 1
    assert "checkout\\x1b]0;owned\\x07.yaml" in result.stderr
    assert "\x1b" not in result.stderr


def test_ctrl_c_exits_130() -> None:
    done = _run_main_with("raise KeyboardInterrupt")
    assert done.returncode == 130


def test_the_entry_point_exits_1_on_bad_input_and_2_on_usage(tmp_path: Path) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "perfdash", "validate", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: ")
    usage = subprocess.run(
        [sys.executable, "-m", "perfdash", "frobnicate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert usage.returncode == 2


def test_building_loads_no_network_database_or_deploy_code_until_needed() -> None:
    # Start-up time: what `perfdash build` imports but never uses is time in every run.
    program = (
        "import sys, perfdash.spec, perfdash.build, perfdash.cli; "
        "print(sorted(m for m in ('httpx', 'psycopg', 'grafana_client', 'jsonschema', "
        "'perfdash.commands.baseline', 'perfdash.commands.apply') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
