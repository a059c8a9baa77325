"""Every error perfdash raises on purpose.

    PerfdashError                 exit status 1; the base callers catch
    ├── SpecError                 declarations are invalid: a list of Problems
    ├── OutputError               generated output cannot be written or is stale
    ├── NotFoundError             a named service or SLO does not exist
    ├── PromtoolNotFound          no promtool binary (hint: apt-get install prometheus)
    ├── PromtoolError             promtool ran and failed: command, status, output
    └── ExternalToolError         another helper program failed or is missing

Library code raises these and nothing else on purpose; it never prints, exits or
raises click exceptions. ``perfdash.cli`` is the one place that maps them to output
and exit codes. Messages never contain secrets: ``redact`` scrubs tokens and DSN
passwords from any text an error may carry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_SECRET_PATTERNS = (
    # scheme://user:password@host -> scheme://user:***@host
    (re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(?=@)", re.I), r"\g<head>***"),
    # Authorization headers and bearer tokens
    (re.compile(r"(?P<head>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+", re.I), r"\g<head>***"),
    # key=value pairs whose key says secret
    (
        re.compile(
            r"(?P<head>\b(?:password|passwd|token|secret|api[_-]?key)\s*[=:]\s*)[^\s,;&]+", re.I
        ),
        r"\g<head>***",
    ),
)


def redact(text: str) -> str:
    """Replace passwords and tokens in ``text`` by ``***``."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class PerfdashError(Exception):
    """Base of every expected failure. ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __str__(self) -> str:
        return redact(super().__str__())


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a declaration, located as precisely as we know."""

    file: str
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
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


class PromtoolNotFound(PerfdashError):
    """No promtool executable: neither ``$PERFDASH_PROMTOOL`` nor one on ``PATH``."""


class PromtoolError(PerfdashError):
    """promtool ran and reported failure (or timed out)."""

    def __init__(self, command: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.command = tuple(command)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        output = "\n".join(part for part in (stdout.rstrip(), stderr.rstrip()) if part)
        indented = "\n".join("    " + line for line in output.splitlines()) or "    (no output)"
        super().__init__(
            f"command failed: {' '.join(self.command)}\n  exit status: {returncode}\n  output:\n{indented}"
        )


class ExternalToolError(PerfdashError):
    """A helper program other than promtool is missing or failed."""
