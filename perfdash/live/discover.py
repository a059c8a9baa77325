"""SLIs proposed from a job's live metrics (``perfdash init --prometheus-url``).

The job's request counter (a ``*_total`` with a status code label, ``request`` in its
name preferred) gives an availability SLI, bad = 5xx (gRPC: the server-fault codes); its
request-duration histogram (``*_bucket``) a latency SLI at the bucket boundary closest to
300 ms. Runtime metrics (``go_``, ``process_``, ``python_``...) are never proposed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from perfdash.errors import NotFoundError
from perfdash.live.prometheus import PrometheusAPI
from perfdash.model.fleet import quote_label_value

_RUNTIME = (
    "go_",
    "process_",
    "python_",
    "promhttp_",
    "scrape_",
    "prometheus_",
    "jvm_",
    "net_conntrack_",
)
_CODE_LABELS = ("code", "status", "status_code", "http_status", "response_code", "grpc_code")
_GRPC_SERVER_FAULTS = "Unknown|DeadlineExceeded|Internal|Unavailable|DataLoss"
_TARGET_SECONDS = Decimal("0.3")


@dataclass(frozen=True)
class Discovered:
    job: str
    metrics: tuple[str, ...]
    requests: str | None = None
    error_label: str | None = None
    error_pattern: str | None = None
    histogram: str | None = None
    threshold: Decimal | None = None
    boundaries: tuple[str, ...] = ()


def discover(api: PrometheusAPI, job: str) -> Discovered:
    selector = f"{{job={quote_label_value(job)}}}"
    names = [n for n in api.label_values("__name__", [selector]) if not n.startswith(_RUNTIME)]
    if not names:
        jobs = ", ".join(api.label_values("job")[:20]) or "none"
        raise NotFoundError(f"{api.url} has no series with job={job!r} (jobs: {jobs})")
    requests, label, pattern = _counter(api, job, names)
    histogram, threshold, boundaries = _histogram(api, job, names)
    return Discovered(job, tuple(names), requests, label, pattern, histogram, threshold, boundaries)


def _ranked(names: Sequence[str], suffix: str, words: Sequence[str]) -> list[str]:
    found = [n for n in names if n.endswith(suffix)]
    return sorted(found, key=lambda n: (-sum(w in n for w in words), len(n), n))


def _counter(
    api: PrometheusAPI, job: str, names: Sequence[str]
) -> tuple[str | None, str | None, str | None]:
    for name in _ranked(names, "_total", ("request", "http", "grpc")):
        selector = f"{name}{{job={quote_label_value(job)}}}"
        labels = {key for series in api.series([selector])[:200] for key in series}
        for label in _CODE_LABELS:
            if label in labels:
                values = api.label_values(label, [selector])
                pattern = _GRPC_SERVER_FAULTS if label == "grpc_code" or "OK" in values else "5.."
                return name, label, pattern
    return None, None, None


def _histogram(
    api: PrometheusAPI, job: str, names: Sequence[str]
) -> tuple[str | None, Decimal | None, tuple[str, ...]]:
    for bucket in _ranked(names, "_bucket", ("request", "duration", "latency", "seconds")):
        base = bucket.removesuffix("_bucket")
        if base + "_count" not in names:
            continue
        boundaries = api.label_values("le", [f"{bucket}{{job={quote_label_value(job)}}}"])
        target = _TARGET_SECONDS * (1000 if base.endswith("_milliseconds") else 1)
        numbers = [(value, text) for text in boundaries if (value := _finite(text)) is not None]
        if not numbers:
            continue
        threshold = min(numbers, key=lambda item: (abs(item[0] - target), item[0]))[0]
        return base, threshold, tuple(text for _, text in sorted(numbers))
    return None, None, ()


def _finite(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None
