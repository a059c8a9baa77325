"""The one HTTP layer behind every deploy target (Grafana, Prometheus, a Mimir ruler).

``HttpClient`` wraps a single ``httpx.Client``: base URL, auth, TLS, bounded
concurrency (``map``) and retries with exponential backoff and full jitter, honouring
``Retry-After``, for 429, 5xx, timeouts and dropped connections. Every failure, an
httpx exception as much as a non-2xx answer, is turned into a ``RemoteError`` by the
one ``error`` function its caller passes (Grafana's is
``perfdash.deploy.grafana_client.grafana_error``), so each target has exactly one mapping.

Every server is bounded (``Limits``): each request as a whole, connect to last byte,
has a deadline (``perfdash.deploy.deadline``; httpx's own timeouts are per socket
read), an answer may be at most ``max_response_bytes`` (refused as soon as it is
known to be larger, never read whole), and an error answer is read only as far as its
excerpt needs. ``decode`` checks the shape of a JSON answer against the type the caller
expects (msgspec), so a wrong-shaped answer is the target's error, not a crash.

Secrets never reach a log record or an exception: request logs carry method, URL,
status and time, never headers; URLs carry no credentials (``perfdash.deploy.settings``
takes them out); and the secrets the client was given are registered with
``perfdash.errors.redact``, which scrubs them from every excerpt, error and log line.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import random
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import msgspec
import orjson

from perfdash.deploy.deadline import DeadlineTransport, deadline
from perfdash.errors import ConfigError, PerfdashError, RemoteError, redact, register_secret

T = TypeVar("T")
R = TypeVar("R")
LOG = logging.getLogger("perfdash.http")
RETRY_STATUSES = frozenset({429, *range(500, 600)}) - {501}
MIB = 1024 * 1024
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 32 * MIB
DEFAULT_MAX_PAGES = 100
ERROR_BODY_BYTES = 64 * 1024  # of an error answer: enough for its message and excerpt


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


@dataclass(frozen=True)
class Limits:
    """What perfdash allows any server: ``timeout`` seconds for each request as a whole
    (per attempt), answers of at most ``max_response_bytes``, and lists of at most
    ``max_pages`` pages (``perfdash.deploy.grafana_client``)."""

    timeout: float = DEFAULT_TIMEOUT
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_pages: int = DEFAULT_MAX_PAGES


@dataclass(frozen=True)
class Answer:
    """A server's answer, read whole (within the limits). ``url`` has no credentials."""

    method: str
    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes = field(repr=False)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def path_segment(value: str) -> str:
    """``value`` quoted as one path segment: a uid or name from a server never adds a
    segment, a query or a fragment, and ``.`` or ``..`` never climb (httpx would
    resolve them)."""
    if value.strip(".") == "":
        return "%2E" * len(value)
    return quote(value, safe="")


class _TooLarge(Exception):
    pass


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
        limits: Limits | None = None,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.concurrency = max(1, concurrency)
        self.retry = retry or RetryPolicy()
        self.limits = limits or Limits()
        self.timeout = self.limits.timeout
        self._error = error
        if isinstance(auth, tuple):  # basic auth: the password, and as the header carries it
            user, password = auth
            secrets = (*secrets, password, base64.b64encode(f"{user}:{password}".encode()).decode())
        for secret in secrets:
            register_secret(secret)
        self._rng = random.Random()
        self._rng_lock = threading.Lock()
        pool = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=dict(headers or {}),
            auth=auth,
            timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
            transport=transport
            or DeadlineTransport(verify=verify, limits=pool, proxy=_proxy_for(self.base_url)),
            follow_redirects=False,
            trust_env=False,  # proxies: _proxy_for, so that they get the deadline too
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
    ) -> Answer:
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
                with deadline(self.timeout):
                    answer = self._exchange(method, path, url, params, content, headers, accepted)
            except httpx.HTTPError as exc:
                cause = _describe(exc, self.timeout)
                if not _retryable(exc) or attempt == policy.attempts:
                    raise self._fail(method, url, None, "", cause, attempt) from exc
                self._wait(method, url, attempt, cause, None)
                continue
            except _TooLarge as exc:
                status, detail = exc.args
                raise self._fail(method, url, status, "", detail, attempt) from None
            status = answer.status_code
            LOG.debug(
                "%s %s -> %d in %.0f ms%s",
                method,
                url,
                status,
                (time.monotonic() - started) * 1000,
                f" (attempt {attempt})" if attempt > 1 else "",
            )
            if 200 <= status < 300 or status in accepted:
                return answer
            body = answer.text
            if status in RETRY_STATUSES and attempt < policy.attempts:
                retry_after = _retry_after(answer.headers.get("Retry-After"))
                self._wait(method, url, attempt, f"HTTP {status}", retry_after)
                continue
            cause = _redirect(answer) if 300 <= status < 400 else ""
            raise self._fail(method, url, status, body, cause, attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _exchange(
        self,
        method: str,
        path: str,
        url: str,
        params: Mapping[str, Any] | None,
        content: str | bytes | None,
        headers: Mapping[str, str] | None,
        accepted: frozenset[int],
    ) -> Answer:
        """One attempt, its answer read within the size limit (an error answer only as
        far as its excerpt needs)."""
        with self._client.stream(
            method, path, params=params, content=content, headers=headers
        ) as response:
            status = response.status_code
            wanted = 200 <= status < 300 or status in accepted
            limit = self.limits.max_response_bytes if wanted else ERROR_BODY_BYTES
            declared = _content_length(response.headers)
            if wanted and declared is not None and declared > limit:
                raise _TooLarge(status, self._too_large(f"says it has {declared:,} bytes"))
            body = bytearray()
            for chunk in response.iter_bytes():
                if len(body) + len(chunk) > limit:
                    if wanted:
                        raise _TooLarge(status, self._too_large("has more bytes"))
                    body += chunk[: limit - len(body)]
                    break
                body += chunk
        return Answer(method, url, status, response.headers, bytes(body))

    def _too_large(self, found: str) -> str:
        limit = self.limits.max_response_bytes
        return (
            f"the answer {found}, more than the limit of {limit:,} bytes ({limit / MIB:g} "
            "MiB): refused; raise --max-response-mb if this server's answers are that large"
        )

    def decode(self, answer: Answer, kind: Any, what: str) -> Any:
        """The JSON body as ``kind`` (a msgspec type); anything else, including JSON of
        another shape, is the target's error naming ``what`` was expected."""
        try:
            return msgspec.json.decode(answer.content, type=kind)
        except msgspec.ValidationError as exc:
            cause = f"unexpected answer: {what} expected ({exc})"
        except (msgspec.DecodeError, RecursionError) as exc:
            cause = f"unexpected answer: {what} expected, got something that is not JSON ({exc})"
        excerpt = answer.content[:ERROR_BODY_BYTES].decode("utf-8", errors="replace")
        raise self._fail(answer.method, answer.url, answer.status_code, excerpt, cause, 1) from None

    def json(self, answer: Answer) -> Any:
        """The decoded body, of any shape; a body that is not JSON is the target's error."""
        return self.decode(answer, Any, "JSON")

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
        error = self._error(method, url, status, redact(body), redact(cause))
        error.attempts = attempts
        return error


def _proxy_for(url: str) -> str | None:
    """The HTTP(S) proxy the environment names for ``url`` (``HTTPS_PROXY``,
    ``NO_PROXY``...), as httpx would pick it."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    if urlsplit(proxy).scheme not in ("http", "https"):
        raise ConfigError(
            f"the proxy the environment names for {parts.scheme} URLs is not an http(s) "
            "proxy: perfdash supports HTTP proxies only (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)"
        )
    return proxy


def _content_length(headers: httpx.Headers) -> int | None:
    try:
        return int(headers.get("Content-Length", ""))
    except ValueError:
        return None


def _redirect(answer: Answer) -> str:
    location = answer.headers.get("Location", "")
    where = f" to {location}" if location else ""
    return (
        f"redirected{where}: perfdash follows no redirects (a token must not travel to "
        "another address); give the URL the server redirects to"
    )


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
        return (
            f"no complete answer within {timeout:g}s, the limit for each request as a "
            f"whole (--timeout) ({type(exc).__name__})"
        )
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
