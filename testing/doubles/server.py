"""A threaded HTTP/1.1 server on 127.0.0.1 that hands each request to an app function,
with per-request latency, injectable faults and a log of every request answered.

An answer may also misbehave as a hostile server would: a body sent in pieces with a
pause before each (``chunks``, ``pause``: a slow drip, or an endless stream, generated
lazily), or raw bytes instead of a well-formed answer (``raw``: headers sent a byte at a
time, a malformed status line).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))


@dataclass
class Response:
    """``body`` with a Content-Length; or ``chunks`` (the body ends when the connection
    closes, unless ``headers`` give a length), each after ``pause`` seconds; or ``raw``
    bytes written as they are, each piece after ``pause`` seconds."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    chunks: Iterable[bytes] | None = None
    raw: Iterable[bytes] | None = None
    pause: float = 0.0

    @classmethod
    def json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Response:
        return cls(
            status,
            json.dumps(value).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain") -> Response:
        return cls(status, text.encode(), {"Content-Type": f"{content_type}; charset=utf-8"})


@dataclass
class Fault:
    """Answer matching requests with ``status`` (and ``body``, ``retry_after``), or
    ``drop`` the connection, after waiting ``delay`` seconds; ``after``: let the app
    handle the request first (so a write lands) and then fail the answer. Applies
    ``times`` times (None: always)."""

    method: str | None = None
    path: str = ".*"  # regular expression, matched against the whole path
    body_contains: str | None = None
    status: int | None = None
    body: Any = None
    retry_after: str | None = None
    drop: bool = False
    delay: float = 0.0
    after: bool = False
    times: int | None = 1
    hits: int = 0

    def matches(self, request: Request) -> bool:
        return (
            (self.times is None or self.hits < self.times)
            and (self.method is None or self.method == request.method)
            and re.fullmatch(self.path, request.path) is not None
            and (self.body_contains is None or self.body_contains.encode() in request.body)
        )

    def response(self) -> Response:
        assert self.status is not None
        headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
        body = self.body if self.body is not None else {"message": "injected fault"}
        return Response.json(self.status, body, headers)


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    status: int  # 0: connection dropped
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body or b"null")


App = Callable[[Request], Response]


class DoubleServer:
    """Serve ``app`` on 127.0.0.1 (a free port) until ``stop``."""

    def __init__(self, app: App, *, latency: float = 0.0) -> None:
        self.app = app
        self.latency = latency
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.in_flight = 0
        self.max_in_flight = 0  # most requests being answered at the same time
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DoubleServer:
        handler = type("Handler", (_Handler,), {"double": self})
        httpd = _Server(("127.0.0.1", 0), handler)
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, name="double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def take_fault(self, request: Request) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(request):
                    fault.hits += 1
                    return fault
        return None

    def record(self, request: Request, status: int) -> None:
        with self._lock:
            self.log.append(
                Logged(
                    request.method,
                    request.path,
                    request.query,
                    request.headers,
                    status,
                    request.body,
                )
            )

    def requests(self, method: str | None = None, path: str = ".*") -> list[Logged]:
        with self._lock:
            return [
                entry
                for entry in self.log
                if (method is None or entry.method == method) and re.fullmatch(path, entry.path)
            ]

    def reset_log(self) -> None:
        with self._lock:
            self.log.clear()
            self.max_in_flight = self.in_flight


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    double: DoubleServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm
        # and the client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            self.command,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        double = self.double
        double.enter()
        try:
            self._answer(request)
        finally:
            double.leave()

    def _answer(self, request: Request) -> None:
        double = self.double
        if double.latency:
            time.sleep(double.latency)
        fault = double.take_fault(request)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and not fault.after and (fault.drop or fault.status is not None):
            self._answer_fault(request, fault)
            return
        response = double.app(request)
        if fault is not None and fault.after and (fault.drop or fault.status is not None):
            self._answer_fault(request, fault)
            return
        self._send(request, response)

    def _answer_fault(self, request: Request, fault: Fault) -> None:
        if fault.drop:
            self.double.record(request, 0)
            self.close_connection = True  # nothing written: the client sees EOF
            return
        self._send(request, fault.response())

    def _send(self, request: Request, response: Response) -> None:
        self.double.record(request, response.status)
        try:
            if response.raw is not None:
                self.close_connection = True
                self._drip(response.raw, response.pause)
                return
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.chunks is None:
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
                return
            self.close_connection = True
            if "Content-Length" not in response.headers:
                self.send_header("Connection", "close")
            self.end_headers()
            self._drip(response.chunks, response.pause)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            self.close_connection = True

    def _drip(self, pieces: Iterable[bytes], pause: float) -> None:
        self.wfile.flush()
        for piece in pieces:
            if pause:
                time.sleep(pause)
            self.wfile.write(piece)
            self.wfile.flush()


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ServedDouble:
    """What every double of an HTTP API shares: its server's lifecycle, URL, faults and log.

    Subclasses set ``self.server = DoubleServer(self.handle, ...)`` in ``__init__``.
    """

    server: DoubleServer

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return self.server.url

    def inject(self, fault: Fault) -> Fault:
        return self.server.inject(fault)

    def requests(self, method: str | None = None, path: str = ".*") -> list[Logged]:
        return self.server.requests(method, path)

    def writes(self) -> list[Logged]:
        return [r for r in self.server.requests() if r.method in WRITE_METHODS]
