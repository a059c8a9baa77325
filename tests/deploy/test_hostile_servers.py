"""A corpus of hostile servers: what a broken, malicious or merely odd Grafana, ruler or
Prometheus can answer, and what `perfdash` does about it.

Each case starts from a Grafana that already holds what perfdash would deploy (so a
correct perfdash has nothing to write), reached through a URL whose password holds a
``/`` (percent-encoded), then turns one part of the server hostile and runs the real
CLI (``apply --prune -v`` with tight limits). Every case asserts the exit status and
the message; that neither the password (raw, encoded or in the basic-auth header) nor a
raw control character shows in anything printed; that the server saw no write; and that
no file changed. A bug would surface as an exception through ``CliRunner`` (exit 70 in
the real entry point): none may.
"""

from __future__ import annotations

import base64
import copy
import gzip
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from perfdash.cli import cli
from testing.doubles.grafana import GrafanaDouble
from testing.doubles.ruler import RulerDouble
from testing.doubles.server import DoubleServer, Request, Response, ServedDouble
from tests.helpers import MINIMAL_SERVICE, write_declaration

SECRET = "S3cret/Pw99"
ENCODED = "S3cret%2FPw99"
BASIC = base64.b64encode(f"admin:{SECRET}".encode()).decode()
SEARCH_SERVICE = MINIMAL_SERVICE.replace("checkout", "search").replace("payments", "discovery")
LIMITS = ("--timeout", "1", "--retries", "2", "--max-response-mb", "1", "--max-pages", "3")
HUGE = 500 * 1024 * 1024
Answer = Callable[[Request], Response]


@dataclass(frozen=True)
class Extend:
    """An answer made from the server's normal one (``normal(request)``)."""

    answer: Callable[[Request, Answer], Response]


@dataclass(frozen=True)
class Case:
    """One hostile behaviour: ``answers`` replace the server's for requests matching
    (method, path regex); ``message`` must be in what perfdash prints."""

    name: str
    answers: Sequence[tuple[str, str, Answer | Extend]]
    message: str
    exit_code: int = 1
    target: str = "grafana"  # or ruler
    check: Callable[[ServedDouble], None] | None = field(default=None, compare=False)


def json_answer(value: Any, status: int = 200) -> Answer:
    return lambda request: Response.json(status, value)


def raw_answer(body: bytes, status: int = 200, **headers: str) -> Answer:
    return lambda request: Response(status, body, {"Content-Type": "application/json", **headers})


def endless(piece: bytes) -> Iterator[bytes]:
    return itertools.repeat(piece)


def folders_page(request: Request, *, distinct: bool = True) -> Response:
    page = request.arg("page") if distinct else "1"
    limit = int(request.arg("limit") or 1000)
    return Response.json(
        200, [{"uid": f"f{page}-{i}", "title": f"t{page}-{i}"} for i in range(limit)]
    )


def search_page(request: Request) -> Response:
    page, limit = request.arg("page"), int(request.arg("limit") or 1000)
    return Response.json(200, [{"uid": f"d{page}-{i}", "type": "dash-db"} for i in range(limit)])


def dripping(request: Request) -> Response:
    """A valid empty list, one byte every 0.3 s for about 30 s: only a deadline on the
    request as a whole stops waiting for it (each read gets its byte in time)."""
    body = b"[" + b" " * 100 + b"]"
    return Response(200, chunks=(bytes([b]) for b in body), pause=0.3,
                    headers={"Content-Length": str(len(body))})  # fmt: skip


def dripping_headers(request: Request) -> Response:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: " + b"a" * 100
    return Response(200, raw=(bytes([b]) for b in head), pause=0.3)


def gzip_bomb(request: Request) -> Response:
    return Response(200, _bomb(), {"Content-Type": "application/json", "Content-Encoding": "gzip"})


_BOMBS: list[bytes] = []


def _bomb() -> bytes:
    """64 MiB of spaces in a list, gzipped to about 64 KiB."""
    if not _BOMBS:
        _BOMBS.append(gzip.compress(b"[" + b" " * (64 * 1024 * 1024) + b"]", compresslevel=9))
    return _BOMBS[0]


def echo_credentials(request: Request) -> Response:
    said = request.headers.get("authorization", "")
    return Response.json(401, {"message": f"bad login {said} (password {SECRET})"})


def no_versions(request: Request) -> Response:
    return Response.json(200, [])


def other_dashboard(request: Request) -> Response:
    return Response.json(200, {"dashboard": {"uid": "pd-search", "title": "x"}, "meta": {}})


def escape_sequences(request: Request) -> Response:
    return Response.json(500, {"message": "\x1b[2J\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07 boom"})


def forged_lines(request: Request) -> Response:
    return Response.json(400, {"message": "boom\nError: none\n  dashboard pd-checkout: fine"})


def hostile_folder_uid(request: Request) -> Response:
    return Response.json(
        200,
        [
            {"uid": "perfdash", "title": "perfdash"},
            {"uid": "perfdash-discovery", "title": "discovery"},
            {"uid": "team\x1b]52;c;ZXZpbA==\x07\x1b[2J", "title": "payments"},
        ],
    )


def climbing_uids(request: Request, normal: Answer) -> Response:
    """Grafana's hits, and in perfdash's folders three whose uids would climb out of the
    URL path, add a query or resolve as a dot segment if not quoted."""
    hits = json.loads(normal(request).body)
    if request.args("folderUIDs"):
        hits += [{"uid": uid, "folderUid": "perfdash-payments", "type": "dash-db"}
                 for uid in ("../../api/admin/users", "..", "a?b#c")]  # fmt: skip
    return Response.json(200, hits)


def never_climbed(server: ServedDouble) -> None:
    paths = [r.path for r in server.requests()]
    assert not [p for p in paths if p.startswith("/api/admin") or p == "/api/dashboards"]
    assert "/api/dashboards/uid/..%2F..%2Fapi%2Fadmin%2Fusers/versions" in paths
    assert "/api/dashboards/uid/%2E%2E/versions" in paths
    assert "/api/dashboards/uid/a%3Fb%23c/versions" in paths


CUT_SHORT = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n[]"
LAUGHS = (
    b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nperfdash: [*c, *c, *c, *c, *c, *c]\n"
)
FOLDERS = r"/api/folders"
SEARCH = r"/api/search"
VERSIONS = r"/api/dashboards/uid/[^/]+/versions"
DASHBOARD = r"/api/dashboards/uid/[^/]+"
RULES = r"/prometheus/config/v1/rules/perfdash"

CASES = [
    Case("folders: not JSON", [("GET", FOLDERS, raw_answer(b"<html>Sign in</html>"))],
         "unexpected answer: folders expected, got something that is not JSON"),
    Case("folders: an object, not a list", [("GET", FOLDERS, json_answer({"folders": []}))],
         "unexpected answer: folders expected (Expected `array`, got `object`)"),
    Case("folders: a uid that is a number", [("GET", FOLDERS, json_answer([{"uid": 7, "title": "x"}]))],
         "(Expected `str`, got `int` - at `$[0].uid`)"),
    Case("folders: JSON nested 100,000 deep", [("GET", FOLDERS, raw_answer(b"[" * 100_000))],
         "unexpected answer: folders expected (Expected `object`, got `array` - at `$[0]`)"),
    Case("folders: pages without end", [("GET", FOLDERS, folders_page)],
         "more than 3 pages of 1000 folders: stopped (raise --max-pages"),
    Case("folders: the same page again and again",
         [("GET", FOLDERS, lambda r: folders_page(r, distinct=False))],
         "unexpected answer: page 2 repeats page 1: Grafana ignores 'page'"),
    Case("folders: more than a page holds",
         [("GET", FOLDERS, json_answer([{"uid": f"u{i}", "title": "t"} for i in range(1500)]))],
         "unexpected answer: 1500 folders on a page of at most 1000"),
    Case("folders: 500 MB announced",
         [("GET", FOLDERS, lambda r: Response(200, chunks=endless(b" " * 65536),
                                              headers={"Content-Length": str(HUGE)}))],
         "the answer says it has 524,288,000 bytes, more than the limit of 1,048,576 bytes "
         "(1 MiB): refused; raise --max-response-mb"),
    Case("folders: a body without end",
         [("GET", FOLDERS, lambda r: Response(200, chunks=endless(b"[" * 65536)))],
         "the answer has more bytes, more than the limit of 1,048,576 bytes (1 MiB): refused"),
    Case("folders: a gzip bomb", [("GET", FOLDERS, gzip_bomb)],
         "the answer has more bytes, more than the limit of 1,048,576 bytes"),
    Case("folders: one byte every 0.3 s", [("GET", FOLDERS, dripping)],
         "no complete answer within 1s, the limit for each request as a whole (--timeout)"),
    Case("folders: headers one byte every 0.3 s", [("GET", FOLDERS, dripping_headers)],
         "no complete answer within 1s, the limit for each request as a whole (--timeout)"),
    Case("folders: a redirect to another host, with the credentials",
         [("GET", FOLDERS, lambda r: Response(302, headers={
             "Location": f"http://admin:{ENCODED}@evil.example/api/folders"}))],
         "redirected to http://admin:***@evil.example/api/folders: perfdash follows no "
         "redirects (a token must not travel to another address)"),
    Case("folders: 401 echoing the credentials", [("GET", FOLDERS, echo_credentials)],
         "rejected the credentials (bad login Basic *** (password ***))"),
    Case("folders: 500 every time, the password in the body",
         [("GET", FOLDERS, lambda r: Response.text(500, f"db down; dsn=postgres://u:{SECRET}@db"))],
         "HTTP 500\n  response: db down; dsn=postgres://u:***@db"),
    Case("folders: the connection dropped every time",
         [("GET", FOLDERS, lambda r: Response(200, raw=[b""]))],
         "cannot reach Grafana: connection dropped"),
    Case("folders: an answer cut short",
         [("GET", FOLDERS, lambda r: Response(200, raw=[CUT_SHORT]))],
         "cannot reach Grafana: connection dropped"),
    Case("folders: a status line that is not HTTP",
         [("GET", FOLDERS, lambda r: Response(200, raw=[b"HTTP/9 banana\r\n\r\n"]))],
         "cannot reach Grafana: connection dropped"),
    Case("folders: an error that clears the screen and writes the clipboard",
         [("GET", FOLDERS, escape_sequences)],
         "\\x1b[2J\\x1b]0;owned\\x07\\x1b]52;c;ZXZpbA==\\x07 boom (HTTP 500)"),
    Case("folders: an error that forges lines", [("GET", FOLDERS, forged_lines)],
         "boom Error: none dashboard pd-checkout: fine (HTTP 400)"),
    Case("folders: an error that is not UTF-8",
         [("GET", FOLDERS, lambda r: Response(502, b"\xff\xfe\xfa bad gateway \xc3"))],
         "HTTP 502\n  response: \ufffd\ufffd\ufffd bad gateway \ufffd"),
    Case("folders: a folder uid that sets the title and writes the clipboard",
         [("GET", FOLDERS, hostile_folder_uid)],
         "folder payments: a folder titled 'payments' exists (uid team\\x1b]52;c;ZXZpbA==\\x07"
         "\\x1b[2J) that perfdash did not create"),
    Case("search: a hit without a uid", [("GET", SEARCH, json_answer([{"title": "x"}]))],
         "unexpected answer: search hits expected (Object missing required field `uid` - at `$[0]`)"),
    Case("search: pages without end", [("GET", SEARCH, search_page)],
         "more than 3 pages of 5000 search hits: stopped"),
    Case("search: uids that climb out of their path", [("GET", SEARCH, Extend(climbing_uids))],
         "No changes: the targets match the declarations.", exit_code=0, check=never_climbed),
    Case("dashboard: another dashboard than the one asked for",
         [("GET", VERSIONS, no_versions), ("GET", DASHBOARD, other_dashboard)],
         "unexpected answer: asked for dashboard 'pd-checkout', got another one"),
    Case("dashboard: JSON nested 100,000 deep",
         [("GET", VERSIONS, no_versions),
          ("GET", DASHBOARD, raw_answer(b'{"dashboard": {"uid": "pd-checkout", "x": ' + b"[" * 100_000))],
         "a dashboard with its meta expected, got something that is not JSON (maximum "
         "recursion depth exceeded"),
    Case("dashboard: not an object",
         [("GET", VERSIONS, no_versions), ("GET", DASHBOARD, json_answer({"dashboard": "x"}))],
         "unexpected answer: a dashboard with its meta expected (Expected `object`, got `str` "
         "- at `$.dashboard`)"),
    Case("versions: an object of the wrong shape",
         [("GET", VERSIONS, json_answer({"versions": "all of them"}))],
         "unexpected answer: a list of versions expected (Expected `array`, got `str` - at "
         "`$.versions`)"),
    Case("versions: numbered with words",
         [("GET", VERSIONS, json_answer([{"version": "seven", "message": "x"}]))],
         "(Expected `int`, got `str` - at `$[0].version`)"),
    Case("versions: null", [("GET", VERSIONS, json_answer(None))],
         "unexpected answer: a list of versions expected (Expected `object | array`, got `null`)"),
    Case("ruler: YAML aliases (a billion laughs)", [("GET", RULES, raw_answer(LAUGHS))],
         "unexpected answer: YAML rule groups expected (aliases are not accepted from a server)",
         target="ruler"),
    Case("ruler: groups of the wrong shape",
         [("GET", RULES, raw_answer(b"perfdash:\n  - name: 5\n    rules: nope\n"))],
         "unexpected answer: rule groups (each a mapping with a name and rules) expected",
         target="ruler"),
    Case("ruler: 500 MB announced",
         [("GET", RULES, lambda r: Response(200, chunks=endless(b"#" * 65536),
                                            headers={"Content-Length": str(HUGE)}))],
         "the answer says it has 524,288,000 bytes", target="ruler"),
]  # fmt: skip


@dataclass
class Applied:
    """A project and what perfdash deployed of it: Grafana's and the ruler's state."""

    project: Path
    folders: dict[str, Any]
    dashboards: dict[str, Any]
    ruler: dict[str, Any]


def invoke(args: Sequence[str], project: Path, env: dict[str, str]) -> Result:
    """The real CLI in an empty folder beside the project (no perfdash.yaml there)."""
    empty = project.parent / "cwd"
    empty.mkdir(exist_ok=True)
    previous = Path.cwd()
    os.chdir(empty)
    try:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(previous)


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Applied:
    project = tmp_path_factory.mktemp("hostile") / "project"
    write_declaration(project / "slos", "checkout.yaml", MINIMAL_SERVICE)
    write_declaration(project / "slos", "search.yaml", SEARCH_SERVICE)
    slos = str(project / "slos")
    _bomb()  # made once, before any deadline runs
    with GrafanaDouble() as grafana, RulerDouble() as ruler:
        env = {"GRAFANA_URL": grafana.url, "GRAFANA_TOKEN": grafana.token or ""}
        done = invoke(["apply", slos, "--ruler-url", ruler.url, "--tenant", "t1"], project, env)
        assert done.exit_code == 0, done.stderr
        return Applied(project, copy.deepcopy(grafana.folders),
                       copy.deepcopy(grafana.dashboards), copy.deepcopy(ruler.tenants))  # fmt: skip


def tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def hostile(server: ServedDouble, answers: Sequence[tuple[str, str, Answer | Extend]]) -> None:
    """The server answers these requests its hostile way, the rest as it normally does."""
    normal = server.server.app

    def app(request: Request) -> Response:
        for method, path, answer in answers:
            if request.method == method and re.fullmatch(path, request.path):
                if isinstance(answer, Extend):
                    return answer.answer(request, normal)
                return answer(request)
        return normal(request)

    server.server.app = app


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_server_gets_a_clear_error_and_nothing_else(case: Case, applied: Applied) -> None:
    project, slos = applied.project, str(applied.project / "slos")
    grafana = GrafanaDouble(token=None, users={"admin": SECRET})
    grafana.folders, grafana.dashboards = (
        copy.deepcopy(applied.folders),
        copy.deepcopy(applied.dashboards),
    )
    ruler = RulerDouble()
    ruler.tenants = copy.deepcopy(applied.ruler)
    target: ServedDouble = grafana if case.target == "grafana" else ruler
    hostile(target, case.answers)
    before = tree(project)
    with grafana, ruler:
        address = grafana.url.replace("http://", f"http://admin:{ENCODED}@")
        env = {"GRAFANA_URL": address}
        args = ["apply", slos, "--prune", "-v", *LIMITS]
        if case.target == "ruler":
            ruler_address = ruler.url.replace("http://", f"http://admin:{ENCODED}@")
            env = {}
            args += ["--ruler-url", ruler_address, "--tenant", "t1"]
        result = invoke(args, project, env)
        writes = grafana.writes() + ruler.writes()
    shown = result.stdout + result.stderr
    assert result.exit_code == case.exit_code, shown
    assert case.message in shown
    for secret in (SECRET, ENCODED, BASIC):
        assert secret not in shown
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown), "a raw control character"
    assert writes == []
    assert tree(project) == before
    if case.check is not None:
        case.check(target)


def loaded_rules(rules_dir: Path) -> Answer:
    """Prometheus' normal answer: every group of the folder's files is loaded."""

    def answer(request: Request) -> Response:
        groups = [
            {"name": group["name"], "file": str(path)}
            for path in sorted(rules_dir.glob("*.yaml"))
            for group in (yaml.safe_load(path.read_text()) or {}).get("groups") or []
        ]
        return Response.json(200, {"status": "success", "data": {"groups": groups}})

    return answer


PROMETHEUS_RULES = r"/api/v1/rules"
PROMETHEUS_CASES = [
    Case("prometheus: rules of the wrong shape",
         [("GET", PROMETHEUS_RULES, json_answer({"status": "success", "data": {"groups": "all"}}))],
         "unexpected answer: Prometheus' rules expected (Expected `array`, got `str` - at "
         "`$.data.groups`)", target="prometheus"),
    Case("prometheus: rules that are not JSON",
         [("GET", PROMETHEUS_RULES, raw_answer(b"\x1b]0;owned\x07<html>"))],
         "unexpected answer: Prometheus' rules expected, got something that is not JSON",
         target="prometheus"),
    Case("prometheus: 500 MB of rules",
         [("GET", PROMETHEUS_RULES, lambda r: Response(200, chunks=endless(b" " * 65536),
                                                       headers={"Content-Length": str(HUGE)}))],
         "the answer says it has 524,288,000 bytes", target="prometheus"),
]  # fmt: skip


@pytest.mark.parametrize("case", PROMETHEUS_CASES, ids=[c.name for c in PROMETHEUS_CASES])
def test_a_hostile_prometheus_gets_a_clear_error_and_nothing_else(
    case: Case, applied: Applied, tmp_path: Path
) -> None:
    """apply --rules-dir writes the rule files (its output), reloads Prometheus, and
    checks what loaded: the hostile answer is to that check."""
    project, slos = applied.project, str(applied.project / "slos")
    rules_dir = tmp_path / "rules"
    normal = loaded_rules(rules_dir)
    prometheus = ServedDouble()  # reloads (POST /-/reload) and lists what the folder holds
    prometheus.server = DoubleServer(
        lambda request: Response.text(200, "") if request.path == "/-/reload" else normal(request)
    )
    hostile(prometheus, case.answers)
    before = tree(project)
    with prometheus:
        address = prometheus.url.replace("http://", f"http://admin:{ENCODED}@")
        args = ["apply", slos, "-v", *LIMITS, "--rules-dir", str(rules_dir)]
        result = invoke([*args, "--prometheus-url", address], project, {})
        writes = [(r.method, r.path) for r in prometheus.writes()]
    shown = result.stdout + result.stderr
    assert result.exit_code == case.exit_code, shown
    assert case.message in shown
    for secret in (SECRET, ENCODED, BASIC):
        assert secret not in shown
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown), "a raw control character"
    assert writes == [("POST", "/-/reload")]
    assert tree(project) == before
    assert sorted(p.name for p in rules_dir.glob("*.yaml")) == ["checkout.yaml", "search.yaml"]


def test_the_corpus_has_twenty_hostile_behaviours_or_more() -> None:
    names = {c.name for c in (*CASES, *PROMETHEUS_CASES)}
    assert len(names) == len(CASES) + len(PROMETHEUS_CASES) >= 20
