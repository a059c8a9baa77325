"""Every error perfdash raises on purpose.

    PerfdashError                 exit status 1; the base callers catch
    ├── SpecError                 declarations are invalid: a list of Problems
    ├── OutputError               generated output cannot be written or is stale
    ├── NotFoundError             a named service or SLO does not exist
    ├── ToolError                 an external program failed: command, status, output
    │   ├── ToolNotFound          it is not installed (the hint says how to install it)
    │   │   └── PromtoolNotFound  no promtool binary (hint: apt-get install prometheus)
    │   └── PromtoolError         promtool ran and failed (or timed out)
    ├── ConfigError               perfdash.yaml or connection settings are invalid
    ├── RemoteError               a server perfdash deploys to failed: method, URL, status, body
    │   ├── GrafanaError          Grafana's HTTP API refused a request or could not be reached
    │   │   ├── GrafanaAuthError      401/403: bad credentials or a missing permission
    │   │   ├── GrafanaConflict       412: changed by someone else, or the uid/name is taken
    │   │   └── GrafanaFolderNotFound 400/404 "folder not found" when saving a dashboard
    │   └── PrometheusError       Prometheus (reload, loaded rules) or a Mimir/Cortex ruler
    ├── ApplyError                apply finished, but some objects failed: every one is listed
    ├── ResultFileError           a benchmark result file is malformed: file, line
    ├── StoreError                the baseline store (PostgreSQL) failed or refused
    │   ├── StoreUnavailable      cannot connect (no DSN, server down, bad credentials)
    │   └── StoreSchemaError      the store is not initialised, or newer than perfdash
    ├── NoBaselineError           nothing to compare against (never a silent pass)
    ├── PushError                 the Prometheus Pushgateway refused the verdict
    └── RegressionFound           `baseline compare --fail-on-regression` found one

Library code raises these and nothing else on purpose; it never prints, exits or
raises click exceptions. ``perfdash.cli`` is the one place that maps them to output
and exit codes. Messages never contain secrets: ``redact`` scrubs tokens and DSN
passwords from any text an error may carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

_SECRET_PATTERNS = (
    # Authorization headers and bearer tokens
    (re.compile(r"(?P<head>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\g<head>***"),
    # key=value pairs whose key says secret (also PGPASSWORD=, GRAFANA_TOKEN=, access_token=)
    (
        re.compile(
            r"(?P<head>\b[\w-]*?(?:password|passwd|token|secret|api[_-]?key)\s*[=:]\s*)"
            r"(?:'[^']*'|\"[^\"]*\"|[^\s,;&]+)",
            re.I,
        ),
        r"\g<head>***",
    ),
)
# scheme://user:password@host: the password may hold anything but whitespace (a "/" or
# an "@" that should have been percent-encoded included), so the userinfo runs to the
# last "@" of the word; a user alone (no ":") is not a secret.
_URL = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<rest>\S*)", re.I)
MIN_SECRET_CHARS = 4
_known_secrets: set[str] = set()
_SECRET_VARIABLE = re.compile(r"(?:TOKEN|PASSWORD|PASSWD|SECRET|API_?KEY)$", re.I)


def register_secret(value: str) -> None:
    """Scrub ``value`` from every text ``redact`` sees from now on (this process)."""
    if len(value) >= MIN_SECRET_CHARS:
        _known_secrets.add(value)


def register_environment_secrets(environ: Mapping[str, str]) -> None:
    """Register the values of ``*_TOKEN``/``*_PASSWORD``/``*_SECRET``/``*_API_KEY``
    variables and the passwords inside URLs of the environment, so that even a
    traceback never shows them."""
    for name, value in environ.items():
        if _SECRET_VARIABLE.search(name):
            register_secret(value)
        for found in _URL.finditer(value):
            password = _url_password(found["rest"])
            if password:
                register_secret(password)
                register_secret(unquote(password))


def _url_password(rest: str) -> str | None:
    at = rest.rfind("@")
    if at < 0:
        return None
    user, colon, password = rest[:at].partition(":")
    if not colon or "/" in user:
        return None
    return password


def _redact_url(found: re.Match[str]) -> str:
    rest = found["rest"]
    password = _url_password(rest)
    if password is None:
        return found[0]
    user = rest.partition(":")[0]
    return f"{found['scheme']}{user}:***{rest[rest.rfind('@') :]}"


def redact(text: str) -> str:
    """Replace passwords and tokens in ``text`` by ``***``: the secrets registered with
    ``register_secret``, passwords in URLs, credentials in headers and key=value pairs."""
    for secret in sorted(_known_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    text = _URL.sub(_redact_url, text)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class PerfdashError(Exception):
    """Base of every expected failure. ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __str__(self) -> str:
        return redact(super().__str__())

    def __reduce__(self) -> tuple[Any, ...]:
        # Worker processes send their errors to the parent pickled. Subclasses' __init__
        # take other arguments than the message in ``args``: rebuild from the state instead.
        return (_rebuild_error, (type(self), self.args, self.__dict__))


def _rebuild_error(
    kind: type[PerfdashError], args: tuple[Any, ...], state: dict[str, Any]
) -> PerfdashError:
    error = kind.__new__(kind, *args)
    error.args = args
    error.__dict__.update(state)
    return error


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a declaration, located as precisely as we know."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        # Line 0: the problem is the whole file (missing, too large, a link leaving the
        # folder): no position to give, and none made up.
        where = f"{self.file}:{self.line}:{self.column}" if self.line > 0 else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class SpecError(PerfdashError):
    """The declarations are invalid. Carries every problem found, sorted by position."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(sorted(set(problems), key=_problem_order))
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(problem: Problem) -> tuple[str, int, int, str, str]:
    return (problem.file, problem.line, problem.column, problem.field, problem.message)


class OutputError(PerfdashError):
    """Generated output cannot be written, or (``--check``) differs from what is on disk."""

    def __init__(self, message: str, *, paths: Sequence[str] = ()) -> None:
        self.paths = tuple(paths)
        super().__init__(message)


class NotFoundError(PerfdashError):
    """A service or SLO named on the command line is not declared."""


class ToolError(PerfdashError):
    """An external program (promtool, amtool) failed, timed out or could not start:
    the command, its exit status (-1 when it did not finish) and its output."""

    def __init__(
        self, command: Sequence[str] | str, returncode: int = -1, stdout: str = "", stderr: str = ""
    ) -> None:
        if isinstance(command, str):  # a message alone (the program is missing)
            self.command: tuple[str, ...] = ()
            self.returncode, self.stdout, self.stderr = returncode, stdout, stderr
            super().__init__(command)
            return
        self.command = tuple(command)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        output = "\n".join(part for part in (stdout.rstrip(), stderr.rstrip()) if part)
        indented = "\n".join("    " + line for line in output.splitlines()) or "    (no output)"
        super().__init__(
            f"command failed: {' '.join(self.command)}\n  exit status: {returncode}\n"
            f"  output:\n{indented}"
        )


class ToolNotFound(ToolError):
    """The program is not installed (the message says how to install or point at it)."""


class PromtoolNotFound(ToolNotFound):
    """No promtool executable: neither ``$PERFDASH_PROMTOOL`` nor one on ``PATH``."""


class PromtoolError(ToolError):
    """promtool ran and reported failure (or timed out)."""


class ConfigError(PerfdashError):
    """``perfdash.yaml``, an environment variable or an option has an invalid value."""


BODY_EXCERPT_CHARS = 300


class RemoteError(PerfdashError):
    """A server perfdash deploys to answered with an error, or could not be reached.

    ``status`` is None when no response arrived (timeout, refused or dropped
    connection). ``body`` is an excerpt of the response, with secrets scrubbed.
    ``attempts`` is how many times the request was sent (retries included).
    """

    attempts = 1
    show_body = True  # in the message; a subclass whose detail says it all turns it off

    def __init__(
        self, method: str, url: str, *, status: int | None, body: str = "", detail: str = ""
    ) -> None:
        self.method = method
        self.url = redact(url)
        self.status = status
        self.body = redact(_excerpt(body))
        self.detail = detail
        super().__init__(self._message())

    def _message(self) -> str:
        where = f"{self.method} {self.url}"
        status = f"HTTP {self.status}" if self.status is not None else "no response"
        text = f"{where}: {self.detail or status}"
        if self.detail and self.status is not None:
            text += f" (HTTP {self.status})"
        if self.show_body and self.body and not self.detail:
            text += f"\n  response: {self.body}"
        return text


def _excerpt(body: str) -> str:
    flat = " ".join(body.split())
    if len(flat) <= BODY_EXCERPT_CHARS:
        return flat
    return flat[: BODY_EXCERPT_CHARS - 3] + "..."


class GrafanaError(RemoteError):
    """Grafana's HTTP API refused a request (non-2xx) or could not be reached."""


class GrafanaAuthError(GrafanaError):
    """401 (credentials missing or rejected) or 403 (a permission is missing)."""

    show_body = False


class GrafanaConflict(GrafanaError):
    """412: the dashboard changed since it was read (``version-mismatch``), or its uid or
    title is taken (``name-exists``). perfdash never overwrites it."""

    def __init__(
        self,
        method: str,
        url: str,
        *,
        status: int | None,
        body: str = "",
        detail: str = "",
        reason: str = "",
    ) -> None:
        self.reason = reason
        super().__init__(method, url, status=status, body=body, detail=detail)


class GrafanaFolderNotFound(GrafanaError):
    """A dashboard was saved into a folder that does not exist (400 or 404, by version)."""


class PrometheusError(RemoteError):
    """Prometheus (reload, ``/api/v1/rules``) or a Mimir/Cortex ruler refused a request,
    or the rules did not load."""


class ApplyError(PerfdashError):
    """``perfdash apply`` applied what it could; these objects failed (one line each)."""

    def __init__(self, failures: Sequence[str], *, applied: int) -> None:
        self.failures = tuple(failures)
        self.applied = applied
        lines = "\n".join("  " + failure.replace("\n", "\n    ") for failure in self.failures)
        super().__init__(
            f"{len(self.failures)} change(s) failed ({applied} applied); a re-run retries "
            f"only what is still different:\n{lines}"
        )


class ResultFileError(PerfdashError):
    """A benchmark result file cannot be read as its format: names the file and line."""

    def __init__(self, file: str, line: int, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


class StoreError(PerfdashError):
    """The baseline store failed or refused a statement. Never carries the DSN password."""


class StoreUnavailable(StoreError):
    """No DSN was given, or the PostgreSQL server cannot be reached or refused the login."""


class StoreSchemaError(StoreError):
    """The store has no perfdash schema yet (run ``perfdash baseline init``), or a newer one."""


class NoBaselineError(PerfdashError):
    """A comparison found no baseline (or no candidate) runs: never a silent pass."""


class PushError(PerfdashError):
    """The Prometheus Pushgateway could not be reached or refused the pushed verdict."""


class RegressionFound(PerfdashError):
    """``baseline compare --fail-on-regression`` found at least one regression (exit 1)."""
