"""Reading a Prometheus over its HTTP API (``/api/v1/query``, ``query_range``, labels).

The one place the preview talks to Prometheus: every transport error and every error
answer becomes a ``PrometheusError`` naming the request (credentials in the URL are
redacted by the error itself).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from perfdash.errors import PrometheusError

TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Series:
    """A result series: its labels (``__name__`` included when Prometheus returns it)
    and ``(unix seconds, value)`` points; an instant result has one point."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


class PrometheusApi:
    """A client of one Prometheus; use as a context manager (it holds a connection pool)."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.url, timeout=TIMEOUT_SECONDS, transport=transport, headers=headers
        )

    def __enter__(self) -> PrometheusApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def query(self, expr: str, *, at: float) -> list[Series]:
        """An instant query evaluated at ``at`` (a scalar comes back as one series)."""
        data = self._get("/api/v1/query", {"query": expr, "time": _seconds(at)})
        return _series(data)

    def query_range(self, expr: str, *, start: float, end: float, step: float) -> list[Series]:
        data = self._get(
            "/api/v1/query_range",
            {"query": expr, "start": _seconds(start), "end": _seconds(end), "step": _seconds(step)},
        )
        return _series(data)

    def label_values(
        self, label: str, *, match: Sequence[str] = (), start: float, end: float
    ) -> list[str]:
        params: dict[str, Any] = {"start": _seconds(start), "end": _seconds(end)}
        if match:
            params["match[]"] = list(match)
        return [str(v) for v in self._get(f"/api/v1/label/{label}/values", params)]

    def ready(self) -> bool:
        try:
            return self._client.get("/-/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def _get(self, path: str, params: Mapping[str, Any]) -> Any:
        url = self.url + path
        try:
            response = self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise PrometheusError(
                "GET", url, status=None, detail=f"{type(exc).__name__}: {exc}"
            ) from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        if (
            response.status_code != 200
            or not isinstance(body, dict)
            or body.get("status") != "success"
        ):
            detail = ""
            if isinstance(body, dict) and body.get("error"):
                detail = f"{body.get('errorType', 'error')}: {body['error']}"
            raise PrometheusError(
                "GET", url, status=response.status_code, body=response.text, detail=detail
            )
        return body["data"]


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _series(data: Any) -> list[Series]:
    kind = data.get("resultType")
    result = data.get("result")
    if kind in ("scalar", "string"):
        return [Series({}, ((float(result[0]), _value(result[1])),))]
    out = []
    for item in result or []:
        if "values" in item:
            points = tuple((float(t), _value(v)) for t, v in item["values"])
        else:
            points = ((float(item["value"][0]), _value(item["value"][1])),)
        out.append(Series(dict(item.get("metric", {})), points))
    return out


def _value(text: Any) -> float:
    return float(text)  # "NaN", "+Inf" and "-Inf" parse as floats
