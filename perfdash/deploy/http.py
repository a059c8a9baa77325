"""The one HTTP layer behind every deploy target (Grafana, Prometheus, a Mimir ruler).

``HttpClient`` wraps a single ``httpx.Client``: base URL, auth, TLS, bounded
concurrency (``map``) and retries with exponential backoff and full jitter, honouring
``Retry-After``, for 429, 5xx, timeouts and dropped connections. Every failure, an
httpx exception as much as a non-2xx answer, is turned into a ``RemoteError`` by the
one ``error`` function its caller passes (Grafana's is
``perfdash.deploy.grafana_client.grafana_error``), so each target has exactly one mapping.

Secrets never reach a log record or an exception: request logs carry method, URL,
status and time, never headers, and the literal values of the secrets the client was
given are scrubbed from every response excerpt and transport error.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import httpx
import orjson

from perfdash.errors import ConfigError, PerfdashError, RemoteError

T = TypeVar("T")
R = TypeVar("R")
LOG = logging.getLogger("perfdash.http")
RETRY_STATUSES = frozenset({429, *range(500, 600)}) - {501}
MIN_SECRET_CHARS = 4


class ErrorFactory(Protocol):
    """Builds the error for a failed request; ``status`` None means no response came."""

    def __call__(
        self, method: str, url: str, status: int | None, body: str, cause: str
    ) -> RemoteError: ...


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; waits grow as ``base_delay * 2**n`` (full jitter) up to
    ``max_delay``; a ``Retry-After`` answer waits at least that long (at most
    ``max_retry_after``)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = rng.uniform(0.0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        if retry_after is None:
            return backoff
        return max(min(retry_after, self.max_retry_after), backoff)


def tls_verify(*, ca_cert: Path | None, insecure: bool) -> bool | ssl.SSLContext:
    """What httpx's ``verify=`` gets: the system CAs, a CA bundle, or nothing (insecure)."""
    if insecure:
        return False
    if ca_cert is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_cert))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"--ca-cert {ca_cert}: cannot load CA certificates: {exc}") from exc


class HttpClient:
    """A base URL to talk to, with retries, bounded concurrency and one error mapping.

    ``transport`` replaces the network (tests pass ``httpx.MockTransport`` or nothing
    and point ``base_url`` at an in-process server).
    """

    def __init__(
        self,
        base_url: str,
        *,
        error: ErrorFactory,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        verify: bool | ssl.SSLContext = True,
        timeout: float = 30.0,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.concurrency = max(1, concurrency)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._error = error
        if isinstance(auth, tuple):  # basic auth: the password, and as the header carries it
            user, password = auth
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            secrets = (*secrets, password, basic)
        self._secrets = tuple(s for s in secrets if len(s) >= MIN_SECRET_CHARS)
        self._rng = random.Random()
        self._rng_lock = threading.Lock()
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=dict(headers or {}),
            auth=auth,
            verify=verify,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            limits=httpx.Limits(
                max_connections=self.concurrency, max_keepalive_connections=self.concurrency
            ),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        url = httpx.URL(self.base_url + path)
        return str(url.copy_merge_params(params)) if params else str(url)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        ok: Iterable[int] = (),
    ) -> httpx.Response:
        """Send, retrying what can be retried. A 2xx answer, or one whose status is in
        ``ok``, is returned; anything else raises the error of this client's target."""
        accepted = frozenset(ok)
        url = self.url(path, params)
        if json is not None:  # orjson: large dashboards encode ~10x faster than json
            content = orjson.dumps(json)
            headers = {"Content-Type": "application/json", **(headers or {})}
        policy = self.retry
        for attempt in range(1, policy.attempts + 1):
            started = time.monotonic()
            try:
                response = self._client.request(
                    method, path, params=params, content=content, headers=headers
                )
            except httpx.HTTPError as exc:
                cause = self._scrub(_describe(exc, self.timeout))
                if not _retryable(exc) or attempt == policy.attempts:
                    raise self._fail(method, url, None, "", cause, attempt) from exc
                self._wait(method, url, attempt, cause, None)
                continue
            status = response.status_code
            LOG.debug(
                "%s %s -> %d in %.0f ms%s",
                method,
                url,
                status,
                (time.monotonic() - started) * 1000,
                f" (attempt {attempt})" if attempt > 1 else "",
            )
            if 200 <= status < 300 or status in accepted:
                return response
            body = self._scrub(response.text)
            if status in RETRY_STATUSES and attempt < policy.attempts:
                retry_after = _retry_after(response.headers.get("Retry-After"))
                self._wait(method, url, attempt, f"HTTP {status}", retry_after)
                continue
            raise self._fail(method, url, status, body, "", attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def json(self, response: httpx.Response) -> Any:
        """The decoded body; a body that is not JSON is the target's error."""
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            request = response.request
            raise self._fail(
                request.method,
                str(request.url),
                response.status_code,
                self._scrub(response.text),
                "the response is not JSON",
                1,
            ) from None

    def map(self, function: Callable[[T], R], items: Iterable[T]) -> list[R | PerfdashError]:
        """``function`` over ``items``, at most ``concurrency`` at a time, in order. A
        ``PerfdashError`` is returned in the failed item's place; other exceptions (bugs)
        propagate."""
        work = list(items)
        if len(work) <= 1 or self.concurrency == 1:
            return [_capture(function, item) for item in work]
        workers = min(self.concurrency, len(work))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="perfdash-http") as pool:
            return list(pool.map(lambda item: _capture(function, item), work))

    def _wait(
        self, method: str, url: str, attempt: int, why: str, retry_after: float | None
    ) -> None:
        with self._rng_lock:
            delay = self.retry.delay(attempt, retry_after, self._rng)
        LOG.info(
            "%s %s: %s; retrying in %.2fs (attempt %d of %d)",
            method,
            url,
            why,
            delay,
            attempt + 1,
            self.retry.attempts,
        )
        time.sleep(delay)

    def _fail(
        self, method: str, url: str, status: int | None, body: str, cause: str, attempts: int
    ) -> RemoteError:
        error = self._error(method, url, status, body, cause)
        error.attempts = attempts
        return error

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _capture(function: Callable[[T], R], item: T) -> R | PerfdashError:
    try:
        return function(item)
    except PerfdashError as exc:
        return exc


def _retryable(exc: httpx.HTTPError) -> bool:
    if _tls_failure(exc):
        return False
    return isinstance(exc, httpx.TimeoutException | httpx.NetworkError | httpx.RemoteProtocolError)


def _tls_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _describe(exc: httpx.HTTPError, timeout: float) -> str:
    if _tls_failure(exc):
        return (
            f"TLS certificate verification failed ({exc}): pass your CA with --ca-cert "
            "(or ca_cert in perfdash.yaml); --insecure turns verification off"
        )
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g}s ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {exc}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return f"connection dropped: {exc or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
