"""The webhook receiver of the live alerting stack: it records every notification
Alertmanager posts (``/<receiver>``, with ``send_resolved``) and when it arrived."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedAlert:
    status: str  # firing or resolved
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: float  # unix time: when Prometheus' rule first saw the condition
    ends_at: float | None  # for a resolved alert: when Prometheus saw it end


@dataclass(frozen=True)
class Notification:
    arrived_at: float  # unix time the webhook received it
    path: str  # the receiver named in the URL Alertmanager posted to
    receiver: str  # the receiver named in the payload
    status: str  # firing when any alert of the group fires
    alerts: tuple[ReceivedAlert, ...]

    def matching(self, **labels: str) -> list[ReceivedAlert]:
        return [a for a in self.alerts if all(a.labels.get(k) == v for k, v in labels.items())]

    def summary(self) -> str:
        alerts = ", ".join(
            f"{a.status}:{a.labels.get('service')}/{a.labels.get('slo')}/"
            f"{a.labels.get('severity')}/{a.labels.get('long', '-')}"
            for a in self.alerts
        )
        return f"{self.arrived_at:.3f} {self.path} ({self.status}) [{alerts}]"


def unix_time(text: str | None) -> float | None:
    """An RFC 3339 timestamp from Alertmanager or Prometheus as unix time (None: unset)."""
    if not text or text.startswith("0001-"):
        return None
    return datetime.fromisoformat(text).timestamp()


def _notification(path: str, body: Mapping[str, Any], arrived_at: float) -> Notification:
    alerts = tuple(
        ReceivedAlert(
            status=a["status"],
            labels=dict(a.get("labels") or {}),
            annotations=dict(a.get("annotations") or {}),
            starts_at=unix_time(a.get("startsAt")) or 0.0,
            ends_at=unix_time(a.get("endsAt")) if a["status"] == "resolved" else None,
        )
        for a in body.get("alerts") or []
    )
    return Notification(arrived_at, path, body.get("receiver", ""), body.get("status", ""), alerts)


class Webhook:
    """Records every POST from Alertmanager: ``/<receiver>`` with its JSON payload."""

    def __init__(self) -> None:
        self._notifications: list[Notification] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook")
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        webhook = self

        class Receive(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived_at = time.time()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                webhook._record(_notification(self.path.strip("/"), body, arrived_at))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Receive

    def _record(self, notification: Notification) -> None:
        with self._changed:
            self._notifications.append(notification)
            self._changed.notify_all()

    @property
    def notifications(self) -> list[Notification]:
        with self._changed:
            return list(self._notifications)

    def wait_for(
        self, predicate: Callable[[Notification], bool], *, deadline: float
    ) -> Notification | None:
        """The first recorded notification matching ``predicate`` (waiting until ``deadline``,
        a ``time.time()``), or None."""
        with self._changed:
            while True:
                for notification in self._notifications:
                    if predicate(notification):
                        return notification
                remaining = deadline - time.time()
                if remaining <= 0:
                    return None
                self._changed.wait(min(remaining, 1.0))

    def __enter__(self) -> Webhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
