"""The read side of Prometheus' HTTP API (``/api/v1/query``, ``/api/v1/series``),
over the one HTTP layer of deploy targets (retries, redacted errors)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from perfdash.deploy.http import Limits, RetryPolicy
from perfdash.deploy.rules_dir import prometheus_client
from perfdash.deploy.settings import parse_url
from perfdash.errors import ConfigError, PrometheusError


class PrometheusAPI:
    """Instant queries and series lookups against one Prometheus (or compatible API:
    VictoriaMetrics, Thanos Query, Mimir's ``/prometheus``)."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        endpoint = parse_url(url, "--prometheus-url")
        if endpoint is None:
            raise ConfigError("--prometheus-url: give the URL of Prometheus")
        self.url = endpoint.url  # without credentials: printed in messages
        self.http = prometheus_client(
            endpoint, transport=transport, retry=retry, limits=Limits(timeout=timeout)
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PrometheusAPI:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _data(self, path: str, params: Any) -> Any:
        response = self.http.request("GET", path, params=params)
        body = self.http.json(response)
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else None
            raise PrometheusError(
                "GET",
                response.url,
                status=response.status_code,
                detail=f"the query failed: {error or 'no data in the answer'}",
            )
        return body.get("data")

    def query(self, promql: str) -> list[dict[str, Any]]:
        """The instant vector ``promql`` evaluates to now: ``[{"metric": {...}, "value": [t, v]}]``."""
        data = self._data("/api/v1/query", {"query": promql})
        if not isinstance(data, dict) or data.get("resultType") not in ("vector", "scalar"):
            raise PrometheusError(
                "GET",
                f"{self.url}/api/v1/query",
                status=200,
                detail=f"{promql!r} does not return an instant vector",
            )
        result = data.get("result") or []
        return result if isinstance(result, list) else []

    def series(self, matchers: Sequence[str]) -> list[dict[str, str]]:
        """Label sets of the series matching any of ``matchers`` (``{job="x"}``)."""
        data = self._data("/api/v1/series", {"match[]": list(matchers)})
        return [s for s in data or [] if isinstance(s, dict)]

    def label_values(self, label: str, matchers: Sequence[str] = ()) -> list[str]:
        """Values of ``label`` on the series matching ``matchers`` (all series without)."""
        params = {"match[]": list(matchers)} if matchers else None
        data = self._data(f"/api/v1/label/{label}/values", params)
        return sorted(str(v) for v in data or [])

    def count(self, selector: str) -> int:
        """How many series ``selector`` matches now."""
        result = self.query(f"count({selector})")
        return int(float(result[0]["value"][1])) if result else 0
