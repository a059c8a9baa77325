"""A tiny HTTP service for real load-test runs: every request waits a set delay, and fails
(HTTP 500) with a set probability.

k6 (or any load tool) runs against it on 127.0.0.1, so the results are the real tool's
output for a service whose "true" latency and error rate are known: a branch that adds
6 ms to a 20 ms handler is +30%, one that fails 3.1% of requests instead of 0.1% is +3
points. HTTP/1.1 keep-alive, a thread per connection. Errors are drawn from a seeded
generator, so a run's failures are Binomial(requests, error_rate), as independent
failures are.

    python -m testing.latency_service --delay-ms 20 --error-rate 0.001 --port 8099
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OK_BODY = b'{"ok":true}\n'
ERROR_BODY = b'{"ok":false}\n'


@dataclass(frozen=True)
class Behaviour:
    delay_ms: float = 20.0
    error_rate: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as load tools expect
    # Headers and body are two writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK (40 ms on Linux) and every request is 40 ms slower.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        behaviour = self.server.behaviour
        time.sleep(behaviour.delay_ms / 1000)
        failed = self.server.draw() < behaviour.error_rate
        body = ERROR_BODY if failed else OK_BODY
        self.send_response(500 if failed else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a load test makes thousands of requests."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], behaviour: Behaviour, seed: int) -> None:
        super().__init__(address, _Handler)
        self.behaviour = behaviour
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def draw(self) -> float:
        with self._lock:
            return self._rng.random()


@contextmanager
def latency_service(behaviour: Behaviour, *, seed: int = 0, port: int = 0) -> Iterator[str]:
    """Serve ``behaviour`` on 127.0.0.1 (a free port unless given); yields the base URL."""
    server = _Server(("127.0.0.1", port), behaviour, seed)
    thread = threading.Thread(target=server.serve_forever, name="latency-service", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay-ms", type=float, default=20.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with latency_service(
        Behaviour(args.delay_ms, args.error_rate), seed=args.seed, port=args.port
    ) as url:
        print(f"serving {url} (Ctrl-C stops)", flush=True)
        with suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
