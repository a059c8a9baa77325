"""A small HTTP service on 127.0.0.1 for real load tools to hit (k6, Locust, JMeter, wrk).

Every ``GET`` waits ``latency_ms`` and answers ``200 ok``, except every ``fail_every``-th
request (counted over the whole service), which answers ``503``: a known error rate
whatever the tool's concurrency. HTTP/1.1 keep-alive, one thread per connection.

    with load_target(latency_ms=20, fail_every=50) as target:
        subprocess.run(["k6", "run", "-e", f"TARGET={target.url}", "script.js"])

``python -m testing.load_target --latency-ms 20`` serves until interrupted.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class TargetSettings:
    """What the next requests do; change it while the service runs."""

    latency_ms: float = 20.0
    fail_every: int = 0  # 0: never fail


class LoadTarget:
    """The running service: its ``url`` and its mutable ``settings``."""

    def __init__(self, server: ThreadingHTTPServer, settings: TargetSettings) -> None:
        self._server = server
        self.settings = settings
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def next_request_fails(self) -> bool:
        with self._lock:
            number = next(self._counter)
        every = self.settings.fail_every
        return every > 0 and number % every == 0


def _handler(target_ref: list[LoadTarget]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real services answer load tools
        disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms ACK wait)

        def do_GET(self) -> None:
            target = target_ref[0]
            time.sleep(target.settings.latency_ms / 1000)
            failed = target.next_request_fails()
            body = b"unavailable\n" if failed else b"ok\n"
            self.send_response(503 if failed else 200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # a load test makes thousands of requests: no access log

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Load tools close their connections when they stop, mid-answer: not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def load_target(*, latency_ms: float = 20.0, fail_every: int = 0) -> Iterator[LoadTarget]:
    """Serve on a free 127.0.0.1 port until the block ends."""
    ref: list[LoadTarget] = []
    server = _Server(("127.0.0.1", 0), _handler(ref))
    target = LoadTarget(server, TargetSettings(latency_ms, fail_every))
    ref.append(target)
    thread = threading.Thread(target=server.serve_forever, name="load-target", daemon=True)
    thread.start()
    try:
        yield target
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--fail-every", type=int, default=0)
    args = parser.parse_args()
    with load_target(latency_ms=args.latency_ms, fail_every=args.fail_every) as target:
        print(target.url, flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
