"""Deterministic, readable YAML for generated files.

Generated files hold only mappings, lists, strings, integers and booleans, so a small
emitter writes them directly. PyYAML's emitter (even with libyaml) spent more time
building its node graph than perfdash spent generating rules: about 60% of a
1000-service build. Keys keep the order generators build them in (itself
deterministic); multi-line strings use literal block style so PromQL reads as
written; a string is written plain only when PyYAML's resolver reads it back as the
same string, else double-quoted. ``tests/test_yamlout.py`` round-trips arbitrary
values through ``yaml.safe_load`` to hold this to YAML's rules.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

import yaml

_RESOLVER = yaml.resolver.Resolver()
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
# Characters YAML cannot hold as written (non-printable) or reads as line breaks.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ufeff\u2028\u2029\ufffe\uffff\ud800-\udfff]")
# A literal block holds any printable text; tabs and the line breaks between lines too.
_BLOCK_TEXT_OK = re.compile(
    r"[^\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff\u2028\u2029\ufffe\uffff\ud800-\udfff]*"
)
_TRAILING_SPACE = re.compile(r"[^\S\n](?:\n|\Z)")  # white space ending a line
# What json.dumps leaves as is but a YAML double-quoted scalar must escape.
_UNESCAPED = re.compile(r"[\x7f-\x9f\ufeff\u2028\u2029\ufffe\uffff\ud800-\udfff]")


def dump(data: Any, *, header: str = "") -> str:
    """YAML text for ``data``, preceded by ``header`` lines as comments."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    _emit(data, 0, lines, in_list=False)
    return "\n".join(lines) + "\n"


def _emit(value: Any, indent: int, out: list[str], *, in_list: bool) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            out.append(pad + "{}")
            return
        for key, item in value.items():
            if type(item) is str and "\n" not in item:  # the common case, kept fast
                out.append(f"{pad}{_key(key)}: {_string(item)}")
            else:
                _emit_entry(pad + _key(key) + ":", item, indent, out)
    elif isinstance(value, list):
        if not value:
            out.append(pad + "[]")
            return
        for item in value:
            _emit_list_item(item, indent, out)
    else:
        out.append(pad + _scalar(value, indent))


def _emit_entry(prefix: str, item: Any, indent: int, out: list[str]) -> None:
    if isinstance(item, dict) and item:
        out.append(prefix)
        _emit(item, indent + 2, out, in_list=False)
    elif isinstance(item, list) and item:
        out.append(prefix)
        _emit(item, indent, out, in_list=True)
    elif isinstance(item, str) and "\n" in item:
        out.append(prefix + " " + _block(item, indent + 2))
    else:
        out.append(prefix + " " + _scalar(item, indent + 2))


def _emit_list_item(item: Any, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if (type(item) is dict or isinstance(item, dict)) and item:
        lead = pad + "- "  # the first key's line starts the item, the others line up
        for key, value in item.items():
            kind = type(value)
            if kind is str and "\n" not in value:
                out.append(f"{lead}{_key(key)}: {_string(value)}")
            elif kind is dict and value:
                # Inlined _emit_entry -> _emit for the common nested mapping (labels,
                # annotations): generated files have hundreds of thousands of them.
                out.append(f"{lead}{_key(key)}:")
                inner = pad + "    "
                for name, text in value.items():
                    if type(text) is str and "\n" not in text:
                        out.append(f"{inner}{_key(name)}: {_string(text)}")
                    else:
                        _emit_entry(inner + _key(name) + ":", text, indent + 4, out)
            elif kind is str:  # with line breaks: PromQL expressions
                out.append(f"{lead}{_key(key)}: {_block(value, indent + 4)}")
            elif kind is list and value:
                out.append(f"{lead}{_key(key)}:")  # inlined too: lists of rules, series
                for element in value:
                    _emit_list_item(element, indent + 2, out)
            else:
                _emit_entry(f"{lead}{_key(key)}:", value, indent + 2, out)
            lead = pad + "  "
    elif isinstance(item, list) and item:
        out.append(pad + "-")
        _emit(item, indent + 2, out, in_list=True)
    elif isinstance(item, str) and "\n" in item:
        out.append(pad + "- " + _block(item, indent + 2))
    else:
        out.append(pad + "- " + _scalar(item, indent + 2))


def _block(text: str, indent: int) -> str:
    """A literal block scalar, or a quoted string when block style cannot hold ``text``."""
    lines = text.split("\n")
    first = next((line for line in lines if line), "")
    if (
        # The first non-empty line sets the block's indentation: it cannot start blank.
        first[:1] in (" ", "\t")
        or text.endswith("\n")
        or not _BLOCK_TEXT_OK.fullmatch(text)
        or _TRAILING_SPACE.search(text)  # block lines keep no trailing white space
    ):
        return _quoted(text)
    pad = " " * indent
    return "|-\n" + "\n".join(pad + line if line else "" for line in lines)


@lru_cache(maxsize=4096)
def _key(key: Any) -> str:
    return _string(key if type(key) is str else str(key))


def _scalar(value: Any, indent: int) -> str:
    if type(value) is str:
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, list | dict):
        assert not value, "non-empty collections are emitted in block style"
        return "[]" if isinstance(value, list) else "{}"
    return _string(str(value))


def _float(value: float) -> str:
    """A float YAML reads back as that float: ``.inf``, ``.nan``, ``1.0e+16`` (not ``1e+16``,
    which YAML 1.1 reads as a string)."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _plain_ok(text: str) -> bool:
    return bool(
        text
        and text[0] not in _INDICATORS
        and not text.startswith("...")  # a document end marker at column 0
        and text == text.strip()
        and not text.endswith(":")
        and ": " not in text
        and " #" not in text
        and not _CONTROL.search(text)
        and _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
        == "tag:yaml.org,2002:str"
    )


@lru_cache(maxsize=65536)
def _string(text: str) -> str:
    if _plain_ok(text):
        return text
    if not text:
        return "''"
    if text and "'" not in text and not _CONTROL.search(text) and text == text.strip():
        # Single quotes read best for label values like '1' or 'true'.
        return "'" + text + "'"
    return _quoted(text)


def _quoted(text: str) -> str:
    # JSON strings are YAML double-quoted scalars, once the characters JSON keeps raw
    # but YAML refuses or reads as line breaks are escaped too.
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNESCAPED.sub(lambda match: f"\\u{ord(match.group()):04x}", quoted)
