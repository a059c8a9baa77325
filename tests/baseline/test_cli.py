"""``perfdash baseline`` through the real CLI: output, exit codes, secrets, Pushgateway."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.baseline.conftest import FIXTURES, PG_PASSWORD
from tests.baseline.synthetic import k6_runs
from tests.helpers import run_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def dsn_env(store_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PERFDASH_DSN", store_dsn)
    return store_dsn


def no_secret(*texts: str) -> None:
    for text in texts:
        assert PG_PASSWORD not in text


def test_init_reports_the_schema_and_storage_mode(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFDASH_DSN", pg_dsn)
    first = run_cli(["baseline", "init"])
    again = run_cli(["baseline", "init"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == "schema version 3: applied 1, 2, 3"
    assert lines[1].startswith(  # and why: see tests/baseline/test_timescale.py
        "storage: PostgreSQL (no TimescaleDB): plain tables, BRIN on time, b-tree on (benchmark, "
        "run); raw samples are kept until deleted ("
    )
    assert len(lines) == 2
    assert again.stdout.splitlines()[0] == "schema version 3: up to date"
    no_secret(first.output, again.output)


def test_a_wrong_password_on_the_command_line_is_never_echoed(pg_dsn: str) -> None:
    wrong = pg_dsn.replace(PG_PASSWORD, "Cmd-Line-Secret")
    result = run_cli(["baseline", "init", "--dsn", wrong])
    assert result.exit_code == 1
    assert "password authentication failed" in result.stderr
    assert "Cmd-Line-Secret" not in result.output


def test_ingest_stores_a_run_once(dsn_env: str) -> None:
    args = ["baseline", "ingest", "--benchmark", "api", "--branch", "main", "--env", "region=eu",
            str(FIXTURES / "k6" / "run.json")]  # fmt: skip
    first = run_cli(args)
    again = run_cli(args)
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("stored run 1 of api: 240 samples, 13 metrics, started 2026-")
    assert again.exit_code == 0
    assert again.stdout == "already ingested as run 1 of api: nothing stored\n"


def test_ingest_of_a_malformed_file_exits_1_naming_file_and_line(
    dsn_env: str, tmp_path: Path
) -> None:
    bad = tmp_path / "results.jtl"
    lines = (FIXTURES / "jmeter" / "results-header.jtl").read_text().splitlines(keepends=True)
    stamp, _, rest = lines[4].split(",", 2)
    lines[4] = f"{stamp},x,{rest}"
    bad.write_text("".join(lines))
    result = run_cli(["baseline", "ingest", "--benchmark", "api", str(bad)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {bad}:5: elapsed: expected a number, got 'x'\n"


def test_ingest_notes_go_to_stderr(dsn_env: str) -> None:
    result = run_cli(
        ["baseline", "ingest", "--benchmark", "load", str(FIXTURES / "k6" / "summary-export.json")]
    )
    assert result.exit_code == 0
    assert result.stderr == "note: k6 threshold failed: http_req_duration p(95)<15\n"


def test_ingest_usage_errors_exit_2(dsn_env: str) -> None:
    result = run_cli(
        [
            "baseline",
            "ingest",
            "--benchmark",
            "api",
            "--env",
            "novalue",
            str(FIXTURES / "k6" / "run.json"),
        ]
    )
    assert result.exit_code == 2
    assert "expected KEY=VALUE" in result.stderr


def _load(tmp_path: Path, *, slowdown: float) -> None:
    for branch, count, seed, factor, ago in (
        ("main", 10, 1, 1.0, 40),
        ("feature", 3, 9, slowdown, 5),
    ):
        for path in k6_runs(
            tmp_path, branch, count=count, seed=seed, slowdown=factor, hours_ago=ago
        ):
            assert run_cli(["baseline", "ingest", "--benchmark", "checkout-api", "--branch", branch,
                            str(path)]).exit_code == 0  # fmt: skip


def test_compare_fails_on_a_regression_only_when_asked(dsn_env: str, tmp_path: Path) -> None:
    _load(tmp_path, slowdown=1.3)
    table = run_cli(["baseline", "compare", "--benchmark", "checkout-api", "--branch", "feature"])
    assert table.exit_code == 0
    assert table.stdout.startswith(
        "checkout-api: branch feature (last 7d): 3 runs, 11, 12, 13 vs baseline branch main (last 7d): "
        "10 runs, 1, 2, 3 ... 10\n"
    )
    assert any(
        line.startswith("p95 ") and line.endswith("regression")
        for line in table.stdout.splitlines()
    )
    gate = run_cli(["baseline", "compare", "--benchmark", "checkout-api", "--branch", "feature",
                    "--fail-on-regression", "--format", "json"])  # fmt: skip
    assert gate.exit_code == 1
    # slos/payments/checkout.yaml declares checkout-api with metrics [p95, p99, rps, error_rate]
    assert gate.stderr == "Error: regression in p95, p99 of checkout-api\n"
    report = json.loads(gate.stdout)
    assert report["benchmark"] == "checkout-api"
    assert report["candidate"]["runs"] == [11, 12, 13]
    assert report["baseline"]["runs"] == list(range(1, 11))
    p95 = next(m for m in report["metrics"] if m["metric"] == "p95")
    assert p95["verdict"] == "regression"
    assert {"baseline", "candidate", "change_pct", "p_value", "reason"} <= set(p95)
    no_secret(table.output, gate.output)


def test_compare_passes_the_gate_on_an_a_a_comparison(dsn_env: str, tmp_path: Path) -> None:
    _load(tmp_path, slowdown=1.0)
    result = run_cli(["baseline", "compare", "--benchmark", "checkout-api", "--branch", "feature",
                      "--fail-on-regression", "--format", "markdown"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("### checkout-api: branch feature")
    assert "| p95 |" in result.stdout


def test_declared_thresholds_and_command_line_overrides(dsn_env: str, tmp_path: Path) -> None:
    _load(tmp_path, slowdown=1.3)
    slos = tmp_path / "slos.yaml"
    slos.write_text(
        (Path(__file__).parents[2] / "slos" / "payments" / "checkout.yaml")
        .read_text()
        .replace(
            "metrics: [p95, p99, rps, error_rate]",
            "metrics: [p95, rps]\n      thresholds: {p95: 50}",
        )
    )
    declared = run_cli(["baseline", "compare", "--benchmark", "checkout-api", "--branch", "feature",
                        "--slos", str(slos), "--format", "json"])  # fmt: skip
    report = json.loads(declared.stdout)
    metrics = {m["metric"]: m for m in report["metrics"]}
    assert report["gates"] == ["p95", "rps"]
    assert [name for name, m in metrics.items() if m["gate"]] == ["p95", "rps"]
    assert metrics["p50"]["gate"] is False  # measured, so reported, but informative
    assert metrics["p95"]["threshold_pct"] == 50
    assert metrics["p95"]["verdict"] != "regression"
    override = run_cli(["baseline", "compare", "--benchmark", "checkout-api", "--branch", "feature",
                        "--slos", str(slos), "--threshold", "p95=10", "--format", "json"])  # fmt: skip
    assert {m["metric"]: m for m in json.loads(override.stdout)["metrics"]}["p95"][
        "verdict"
    ] == "regression"


def test_compare_without_baseline_runs_exits_1(dsn_env: str) -> None:
    result = run_cli(["baseline", "compare", "--benchmark", "nothing", "--branch", "x"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no candidate runs of 'nothing'")


@pytest.fixture
def pushgateway() -> Iterator[tuple[str, list[tuple[str, str, str]]]]:
    """A local HTTP server that records what a Pushgateway would receive."""
    received: list[tuple[str, str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            received.append((self.command, self.path, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()
        server.server_close()


def test_compare_pushes_the_verdict_to_a_pushgateway(
    dsn_env: str, tmp_path: Path, pushgateway: tuple[str, list[tuple[str, str, str]]]
) -> None:
    url, received = pushgateway
    _load(tmp_path, slowdown=1.3)
    result = run_cli(["baseline", "compare", "--benchmark", "checkout-api", "--branch", "feature",
                      "--pushgateway", url])  # fmt: skip
    assert result.exit_code == 0, result.output
    [(method, path, body)] = received
    assert (method, path) == ("PUT", "/metrics/job/perfdash_baseline/benchmark/checkout-api")
    assert 'perfdash_baseline_regression{benchmark="checkout-api",metric="p95"} 1.0' in body
    assert 'perfdash_baseline_regression{benchmark="checkout-api",metric="error_rate"} 0.0' in body
    assert 'perfdash_baseline_change_ratio{benchmark="checkout-api",metric="p95"} 0.' in body


def test_an_unreachable_pushgateway_exits_1(dsn_env: str, tmp_path: Path) -> None:
    _load(tmp_path, slowdown=1.0)
    result = run_cli(["baseline", "compare", "--benchmark", "checkout-api", "--branch", "feature",
                      "--pushgateway", "http://127.0.0.1:1"])  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot push the verdict to http://127.0.0.1:1")


@pytest.mark.parametrize("command", ["init", "ingest", "compare"])
def test_every_baseline_command_has_help_with_an_example_and_the_exit_codes(command: str) -> None:
    result = run_cli(["baseline", command, "-h"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    assert "Exit status:" in result.stdout


def test_the_cli_loads_no_database_client_until_a_baseline_command_runs() -> None:
    import subprocess
    import sys

    program = (
        "import sys, perfdash.cli, perfdash.baseline, perfdash.grafana.service; "
        "print(sorted(m for m in ('psycopg', 'prometheus_client', 'scipy') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_names_from_the_store_and_files_are_printed_terminal_safe(
    dsn_env: str, tmp_path: Path
) -> None:
    # A branch name is whatever CI passes, a benchmark name whatever the file or the user
    # gave: an ESC in one must not clear the reviewer's screen or retitle the terminal.
    branch, benchmark = "feat\x1b[2J", "api\x1b]0;pwned\x07"
    main = k6_runs(tmp_path / "main", "main", count=3, seed=1, requests=150, hours_ago=8)
    candidate = k6_runs(tmp_path / "feat", "feat", count=2, seed=2, requests=150, hours_ago=2)
    for paths, name in ((main, "main"), (candidate, branch)):
        for path in paths:
            stored = run_cli(["baseline", "ingest", "--benchmark", benchmark, "--branch", name,
                              str(path)])  # fmt: skip
            assert stored.exit_code == 0, stored.output
            assert stored.stdout.startswith("stored run ")
            assert "\x1b" not in stored.stdout and "api\\x1b]0;pwned\\x07:" in stored.stdout
    table = run_cli(["baseline", "compare", "--benchmark", benchmark, "--branch", branch])
    assert table.exit_code == 0, table.output
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert table.stdout.startswith("api\\x1b]0;pwned\\x07: branch feat\\x1b[2J (last 7d)")
    machine = run_cli(["baseline", "compare", "--benchmark", benchmark, "--branch", branch,
                       "--format", "json", "--no-record"])  # fmt: skip
    assert machine.exit_code == 0, machine.output
    report = json.loads(machine.stdout)  # exact JSON: the names as they are
    assert report["benchmark"] == benchmark
    assert report["candidate"]["branches"] == [branch]
