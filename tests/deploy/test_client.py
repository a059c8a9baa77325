"""perfdash's Grafana client: auth headers, paging, retries with backoff and
Retry-After, timeouts and dropped connections, bounded concurrency, TLS, the one error
mapping (401/403/412/missing folder), and secrets kept out of every message and log."""

from __future__ import annotations

import email.utils
import json
import logging
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from perfdash.deploy.grafana_client import GrafanaClient
from perfdash.deploy.http import Limits, RetryPolicy, tls_verify
from perfdash.deploy.ruler import RulerClient
from perfdash.deploy.settings import RulerSettings, Secret
from perfdash.errors import (
    ConfigError,
    GrafanaAuthError,
    GrafanaConflict,
    GrafanaError,
    GrafanaFolderNotFound,
    PerfdashError,
)
from testing.doubles.grafana import GrafanaDouble
from testing.doubles.server import Fault
from tests.conftest import IN_CI

FAST = RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05)
TOKEN = "glsa_double_token_0123456789"


def client_for(double: GrafanaDouble, **options: Any) -> GrafanaClient:
    options.setdefault("retry", FAST)
    return GrafanaClient(double.url, token=Secret(double.token or ""), **options)


def mock(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> GrafanaClient:
    options.setdefault("retry", FAST)
    return GrafanaClient(
        "https://grafana.example.com",
        token=Secret(TOKEN),
        transport=httpx.MockTransport(handler),
        **options,
    )


def test_requests_carry_the_bearer_token_org_and_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[])

    mock(handler, org_id=3).folders()
    assert seen[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert seen[0].headers["X-Grafana-Org-Id"] == "3"
    assert seen[0].headers["User-Agent"].startswith("perfdash/")
    assert seen[0].url == "https://grafana.example.com/api/folders?limit=1000&page=1"


def test_basic_auth_is_sent_when_a_user_and_password_are_given(
    grafana_double: GrafanaDouble,
) -> None:
    client = GrafanaClient(
        grafana_double.url, user="admin", password=Secret("admin-password"), retry=FAST
    )
    assert client.folders() == []
    assert grafana_double.requests()[0].headers["authorization"].startswith("Basic ")


def test_search_reads_every_page_of_5000() -> None:
    pages: list[httpx.QueryParams] = []

    def handler(request: httpx.Request) -> httpx.Response:
        pages.append(request.url.params)
        count = 5000 if request.url.params["page"] == "1" else 3
        return httpx.Response(200, json=[{"uid": f"u{i}"} for i in range(count)])

    hits = mock(handler).search(tags=["perfdash", "team:x"], folder_uids=["f1"])
    assert len(hits) == 5003
    assert [p["page"] for p in pages] == ["1", "2"]
    assert pages[0].get_list("tag") == ["perfdash", "team:x"]
    assert (pages[0]["limit"], pages[0]["type"], pages[0]["folderUIDs"]) == (
        "5000",
        "dash-db",
        "f1",
    )


def test_search_uids_asks_in_chunks_of_100(grafana_double: GrafanaDouble) -> None:
    for index in range(250):
        grafana_double.put({"uid": f"u{index:03d}", "title": f"u{index:03d}"})
    hits = client_for(grafana_double).search_uids([f"u{i:03d}" for i in range(250)])
    assert len(hits) == 250
    assert len(grafana_double.requests("GET", "/api/search")) == 3


@pytest.mark.parametrize("wrapped", [False, True])
def test_versions_are_read_from_the_list_or_grafana_11s_object(wrapped: bool) -> None:
    entries = [{"version": 1, "message": "a"}, {"version": 2, "message": "b"}]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"versions": entries} if wrapped else entries)

    assert [v.version for v in mock(handler).versions("x")] == [2, 1]


def test_a_missing_dashboard_is_none(grafana_double: GrafanaDouble) -> None:
    assert client_for(grafana_double).dashboard("nope") is None


def test_5xx_is_retried_with_backoff_until_it_succeeds(grafana_double: GrafanaDouble) -> None:
    grafana_double.inject(Fault(path="/api/folders", status=503, times=2))
    assert client_for(grafana_double).folders() == []
    assert [r.status for r in grafana_double.requests(path="/api/folders")] == [503, 503, 200]


def test_429_waits_as_long_as_retry_after_says(grafana_double: GrafanaDouble) -> None:
    grafana_double.inject(Fault(path="/api/folders", status=429, retry_after="1"))
    started = time.monotonic()
    client_for(grafana_double).folders()
    assert time.monotonic() - started >= 0.95


def test_retry_after_may_be_an_http_date() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            return httpx.Response(503, headers={"Retry-After": when})
        return httpx.Response(200, json=[])

    mock(handler).folders()
    assert calls[1] - calls[0] >= 0.9  # the date has one-second resolution


def test_retries_stop_after_the_last_attempt_with_the_servers_answer(
    grafana_double: GrafanaDouble,
) -> None:
    grafana_double.inject(
        Fault(path="/api/folders", status=502, body={"message": "bad gateway"}, times=None)
    )
    with pytest.raises(GrafanaError) as caught:
        client_for(grafana_double).folders()
    assert caught.value.status == 502
    assert caught.value.attempts == 4
    assert str(caught.value) == (
        f"GET {grafana_double.url}/api/folders?limit=1000&page=1: bad gateway (HTTP 502)"
    )
    assert caught.value.body == '{"message": "bad gateway"}'


def test_an_answer_without_a_message_shows_an_excerpt_of_the_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html><body>Bad Gateway</body></html>" + " x" * 500)

    with pytest.raises(GrafanaError) as caught:
        mock(handler).folders()
    text = str(caught.value)
    assert text.startswith(
        "GET https://grafana.example.com/api/folders?limit=1000&page=1: HTTP 502\n"
        "  response: <html><body>Bad Gateway</body></html> x x"
    )
    assert text.endswith("...") and len(caught.value.body) == 300


def test_client_errors_are_not_retried(grafana_double: GrafanaDouble) -> None:
    with pytest.raises(GrafanaError) as caught:
        client_for(grafana_double).save_dashboard({"title": ""}, folder_uid="", message="m")
    assert (caught.value.status, caught.value.attempts) == (400, 1)
    assert "Dashboard title cannot be empty" in str(caught.value)


def test_timeouts_and_dropped_connections_are_retried(grafana_double: GrafanaDouble) -> None:
    slow = grafana_double.inject(Fault(path="/api/folders", delay=0.5))
    dropped = grafana_double.inject(Fault(path="/api/folders", drop=True))
    assert client_for(grafana_double, limits=Limits(timeout=0.2)).folders() == []
    assert (slow.hits, dropped.hits) == (1, 1)


def test_a_server_that_never_answers_is_reported_without_a_status(
    grafana_double: GrafanaDouble,
) -> None:
    grafana_double.inject(Fault(path="/api/folders", drop=True, times=None))
    with pytest.raises(GrafanaError) as caught:
        client_for(grafana_double).folders()
    assert caught.value.status is None
    assert "cannot reach Grafana: connection dropped" in str(caught.value)


def test_a_refused_connection_names_the_url() -> None:
    client = GrafanaClient("http://127.0.0.1:9", retry=RetryPolicy(attempts=2, base_delay=0.01))
    with pytest.raises(GrafanaError, match=r"GET http://127.0.0.1:9/api/folders.*cannot connect"):
        client.folders()


def test_requests_run_concurrently_but_never_more_than_the_bound(
    grafana_double: GrafanaDouble,
) -> None:
    grafana_double.server.latency = 0.05
    client = client_for(grafana_double, concurrency=4)
    started = time.monotonic()
    results = client.map(lambda _: client.folders(), range(16))
    assert results == [[]] * 16
    assert grafana_double.server.max_in_flight == 4
    assert time.monotonic() - started < 16 * 0.05  # not one at a time


def test_401_is_one_message_naming_the_url_and_what_to_set(
    grafana_double: GrafanaDouble,
) -> None:
    client = GrafanaClient(grafana_double.url, token=Secret("glsa_wrong_token_value"), retry=FAST)
    with pytest.raises(GrafanaAuthError) as caught:
        client.folders()
    assert str(caught.value) == (
        f"GET {grafana_double.url}/api/folders?limit=1000&page=1: Grafana at "
        f"{grafana_double.url} rejected the credentials (invalid API key): set GRAFANA_TOKEN "
        "to a valid service-account token (or GRAFANA_USER and GRAFANA_PASSWORD), and "
        "GRAFANA_ORG_ID to an org it belongs to (HTTP 401)"
    )


def test_403_names_the_permission_grafana_says_is_missing() -> None:
    double = GrafanaDouble(permissions={"dashboards:read", "folders:read"})
    with double, pytest.raises(GrafanaAuthError) as caught:
        client_for(double).save_dashboard({"uid": "a", "title": "A"}, folder_uid="", message="")
    assert "lacks the permission dashboards:create, dashboards:write" in str(caught.value)
    assert "denied POST /api/dashboards/db" in str(caught.value)


def test_403_without_grafanas_explanation_infers_the_permission() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"message": "Permission denied"})

    with pytest.raises(GrafanaAuthError, match="lacks the permission dashboards:delete"):
        mock(handler).delete_dashboard("a")
    with pytest.raises(GrafanaAuthError, match=r"dashboards:write \(to read version history\)"):
        mock(handler).versions("a")


def test_412_is_a_conflict_with_grafanas_reason(grafana_double: GrafanaDouble) -> None:
    client = client_for(grafana_double)
    client.save_dashboard({"uid": "a", "title": "A"}, folder_uid="", message="")
    with pytest.raises(GrafanaConflict) as caught:
        client.save_dashboard({"uid": "a", "title": "A"}, folder_uid="", message="")
    assert caught.value.reason == "version-mismatch"
    assert "changed in Grafana since perfdash read it" in str(caught.value)


@pytest.mark.parametrize("status", [400, 404])
def test_a_missing_folder_is_recognised_whatever_the_status(status: int) -> None:
    with (
        GrafanaDouble(missing_folder_status=status) as double,
        pytest.raises(GrafanaFolderNotFound),
    ):
        client_for(double).save_dashboard({"uid": "a", "title": "A"}, folder_uid="gone", message="")


def test_the_token_never_shows_in_errors_reprs_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Even when a (misbehaving) server echoes the Authorization header back."""

    def handler(request: httpx.Request) -> httpx.Response:
        echo = {"message": f"bad request {request.headers['Authorization']}", "token": TOKEN}
        return httpx.Response(400, json=echo)

    caplog.set_level(logging.DEBUG)
    client = mock(handler)
    with pytest.raises(GrafanaError) as caught:
        client.folders()
    shown = [str(caught.value), repr(caught.value), caught.value.body, caplog.text]
    shown += [repr(client), repr(client.http), repr(Secret(TOKEN))]
    for text in shown:
        assert TOKEN not in text
    assert "***" in str(caught.value)


PASSWORD = "hunter2-but-longer"


def _grafana_folders(transport: httpx.MockTransport, retry: RetryPolicy) -> None:
    client = GrafanaClient(
        "https://grafana.example.com",
        user="admin",
        password=Secret(PASSWORD),
        transport=transport,
        retry=retry,
    )
    client.folders()


def _ruler_groups(transport: httpx.MockTransport, retry: RetryPolicy) -> None:
    settings = RulerSettings("https://mimir.example.com", user="admin", password=Secret(PASSWORD))
    RulerClient(settings, transport=transport, retry=retry).groups("perfdash")


@pytest.mark.parametrize("call", [_grafana_folders, _ruler_groups], ids=["grafana", "ruler"])
def test_the_password_never_shows_either(
    call: Callable[[httpx.MockTransport, RetryPolicy], None], caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"boom {request.headers['Authorization']} {PASSWORD}")

    caplog.set_level(logging.DEBUG)
    with pytest.raises(PerfdashError) as caught:
        call(httpx.MockTransport(handler), RetryPolicy(attempts=2, base_delay=0.01))
    assert "boom Basic *** ***" in str(caught.value)
    for text in (str(caught.value), caplog.text):
        assert PASSWORD not in text
        assert "YWRtaW4" not in text  # base64 of "admin:..."


def test_tls_is_verified_unless_insecure(tmp_path: Path) -> None:
    assert tls_verify(ca_cert=None, insecure=False) is True
    assert tls_verify(ca_cert=None, insecure=True) is False
    with pytest.raises(ConfigError, match="cannot load CA certificates"):
        tls_verify(ca_cert=tmp_path / "missing.pem", insecure=False)


@pytest.fixture
def https_grafana(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A TLS server with a self-signed certificate for 127.0.0.1: (URL, its cert)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if IN_CI:
            pytest.fail("openssl is not installed; CI must provide it", pytrace=False)
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps([]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()


def test_an_unknown_certificate_fails_at_once_with_a_hint(https_grafana: tuple[str, Path]) -> None:
    url, cert = https_grafana
    client = GrafanaClient(url, retry=RetryPolicy(attempts=5, base_delay=1.0))
    started = time.monotonic()
    with pytest.raises(GrafanaError, match=r"TLS certificate verification failed.*--ca-cert"):
        client.folders()
    assert time.monotonic() - started < 1.0  # not retried
    trusted = GrafanaClient(url, verify=tls_verify(ca_cert=cert, insecure=False))
    assert trusted.folders() == []
    assert GrafanaClient(url, verify=tls_verify(ca_cert=None, insecure=True)).folders() == []
