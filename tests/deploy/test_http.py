"""The one HTTP layer: values from servers quoted into paths, proxies chosen as httpx
would, error answers read only as far as needed, and the deadline of a request."""

from __future__ import annotations

import itertools

import httpx
import pytest

from perfdash.deploy.deadline import deadline
from perfdash.deploy.grafana_client import grafana_error
from perfdash.deploy.http import (
    ERROR_BODY_BYTES,
    HttpClient,
    Limits,
    RetryPolicy,
    _proxy_for,
    path_segment,
)
from perfdash.errors import ConfigError, GrafanaError
from testing.doubles.server import DoubleServer, Request, Response


@pytest.mark.parametrize(
    ("value", "segment"),
    [
        ("pd-checkout", "pd-checkout"),
        ("../../api/admin/users", "..%2F..%2Fapi%2Fadmin%2Fusers"),
        ("..", "%2E%2E"),
        (".", "%2E"),
        ("a?b#c d", "a%3Fb%23c%20d"),
        ("ünï", "%C3%BCn%C3%AF"),
    ],
)
def test_a_value_from_a_server_is_one_path_segment(value: str, segment: str) -> None:
    assert path_segment(value) == segment
    url = httpx.URL("http://grafana/api/dashboards/uid/" + segment)
    assert url.path.startswith("/api/dashboards/uid/")
    assert url.raw_path.decode().count("/") == 4 and not url.query


def test_proxies_come_from_the_environment_like_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "grafana.internal")
    assert _proxy_for("https://grafana.example.com") == "http://proxy.internal:3128"
    assert _proxy_for("https://grafana.internal") is None
    assert _proxy_for("http://grafana.example.com") is None
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy.internal:1080")
    with pytest.raises(ConfigError, match="perfdash supports HTTP proxies only"):
        _proxy_for("https://grafana.example.com")


def client(url: str, **limits: float) -> HttpClient:
    return HttpClient(
        url,
        error=grafana_error,
        limits=Limits(**limits),  # type: ignore[arg-type]
        retry=RetryPolicy(attempts=1),
    )


def test_an_error_answer_is_read_only_as_far_as_its_excerpt_needs() -> None:
    """A 500 with an endless body is reported at once, not read to its end."""
    server = DoubleServer(
        lambda request: Response(500, chunks=itertools.repeat(b"x" * 65536))
    ).start()
    try:
        with pytest.raises(GrafanaError) as caught:
            client(server.url).request("GET", "/api/folders")
    finally:
        server.stop()
    assert caught.value.status == 500
    assert caught.value.body == "x" * 297 + "..."
    assert ERROR_BODY_BYTES < 1024 * 1024


def test_the_deadline_covers_the_request_as_a_whole() -> None:
    """Each read arrives within the per-read timeout; the request as a whole does not."""

    def drip(request: Request) -> Response:
        return Response(200, chunks=(b" " for _ in range(40)), pause=0.1,
                        headers={"Content-Length": "40"})  # fmt: skip

    server = DoubleServer(drip).start()
    try:
        with pytest.raises(GrafanaError, match=r"no complete answer within 0\.5s"):
            client(server.url, timeout=0.5).request("GET", "/api/folders")
        answer = client(server.url, timeout=10).request("GET", "/api/folders")
    finally:
        server.stop()
    assert answer.content == b" " * 40  # the same answer, given the time, is fine


def test_deadlines_nest_and_are_restored() -> None:
    from perfdash.deploy import deadline as module

    with deadline(10):
        outer = module._current.at
        with deadline(1):
            assert module._current.at < outer
        assert module._current.at == outer
    assert module._current.at is None
