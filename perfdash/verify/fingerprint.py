"""Content fingerprints of what generated rule files and tests are a function of.

A service's rules and promtool tests depend on nothing but its model, perfdash's own
source and the libraries that render them (``GENERATION_LIBRARIES``) under this Python.
``model_fingerprint`` hashes all of those, so two equal fingerprints mean the generator
would write the same bytes; ``perfdash test`` uses that to skip regenerating a service
it has seen before (``verify.record``). Anything the fingerprint cannot encode exactly
gives None: that service is regenerated, never guessed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.metadata
import sys
from decimal import Decimal
from functools import cache
from pathlib import Path

from perfdash.model.fleet import Service

# Third-party modules the rule and test generators import, and their distributions (a
# test keeps this list complete): their versions are part of the fingerprint.
GENERATION_LIBRARIES = {
    "yaml": "PyYAML",
    "jinja2": "Jinja2",
    "markupsafe": "MarkupSafe",
    "promql_parser": "promql-parser",
}
_PACKAGE = Path(__file__).resolve().parent.parent  # perfdash/


@cache
def code_fingerprint() -> str:
    """SHA-256 of perfdash's source files, the generation libraries' versions and Python's."""
    digest = hashlib.sha256()
    digest.update(f"python {sys.version} {sys.implementation.cache_tag}\0".encode())
    for module, distribution in GENERATION_LIBRARIES.items():
        digest.update(f"{module} {_version(module, distribution)}\0".encode())
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(_PACKAGE).as_posix()}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def _version(module: str, distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        # Not installed as a distribution (vendored, on PYTHONPATH): its own attribute.
        return str(getattr(importlib.import_module(module), "__version__", "unknown"))


def model_fingerprint(service: Service, code: str) -> str | None:
    """SHA-256 of ``service``'s whole model under ``code`` (``code_fingerprint()``), or
    None when the model holds a value this encoding does not know."""
    parts: list[str] = [code]
    try:
        _encode(service, parts)
    except _Unknown:
        return None
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


class _Unknown(Exception):
    pass


def _encode(value: object, parts: list[str]) -> None:
    """Append an exact, type-tagged encoding of ``value``: different values (or types)
    never encode alike."""
    if value is None or isinstance(value, bool | int | str | Decimal):
        parts.append(f"{type(value).__name__}:{value!r}")
    elif isinstance(value, tuple):
        parts.append(f"tuple:{len(value)}")
        for item in value:
            _encode(item, parts)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        parts.append(f"{type(value).__qualname__}:{len(fields)}")
        for field in fields:
            parts.append(field.name)
            _encode(getattr(value, field.name), parts)
    else:  # floats, dicts, sets, ...: not in today's model; regenerate rather than guess
        raise _Unknown(type(value).__name__)
