"""perfdash/v1 YAML the way people write it: small mappings inline
(``selector: {job: checkout}``), PromQL as literal blocks, comments above the fields
they explain, exact numbers as written.

``render`` reads its own output back and compares it with the document, so a quoting
mistake is a bug report, never a declaration that means something else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from perfdash.numbers import format_decimal
from perfdash.spec.document import PathKey
from perfdash.spec.importers.draft import Assembled
from perfdash.spec.load import load_text
from perfdash.yamlout import dump

WIDTH = 100
# Written in block style whatever their size: the outline a reader scans.
_BLOCK_KEYS = frozenset({"metadata", "spec", "sli", "alerting", "raw", "slos", "windows"})
_FLOW_UNSAFE = re.compile(r"[,\[\]{}#&*!|>'\"%@`]|: |^[-?:]|^\s|\s$")
# Quoted although plain would do: regular expressions read better as strings ("5..").
_REGEX_LOOKING = re.compile(r"[.*+?()|^$\\]")


class EmitError(RuntimeError):
    """The rendered YAML does not read back as the document (a bug in this module)."""


def render(assembled: Assembled, *, modeline: str | None = None) -> str:
    lines: list[str] = []
    if modeline:
        lines.append(f"# yaml-language-server: $schema={modeline}")
    lines += [f"# {line}" for line in assembled.header]
    _mapping(assembled.data, (), 0, lines, assembled.comments)
    text = "\n".join(lines) + "\n"
    (document,) = load_text(text, f"<{assembled.name}>")
    if document.data != assembled.data:
        raise EmitError(f"rendered YAML of {assembled.name} does not read back as written")
    return text


def _comment(path: PathKey, indent: int, out: list[str], comments: Mapping[PathKey, Any]) -> None:
    for text in comments.get(path, ()):
        out.extend(f"{' ' * indent}# {line}".rstrip() for line in str(text).splitlines())


def _mapping(
    value: Mapping[str, Any],
    path: PathKey,
    indent: int,
    out: list[str],
    comments: Mapping[PathKey, Any],
    *,
    first_prefix: str | None = None,
) -> None:
    """Block mapping at ``indent``; ``first_prefix`` replaces the first key's indentation
    (a list item's ``- ``)."""
    for position, (key, item) in enumerate(value.items()):
        key_path = (*path, key)
        lead = " " * indent
        if position == 0 and first_prefix is not None:
            lead = first_prefix
        else:
            _comment(key_path, indent, out, comments)
        head = f"{lead}{_plain_key(key)}:"
        _entry(head, item, key_path, indent, out, comments)


def _entry(
    head: str,
    item: Any,
    path: PathKey,
    indent: int,
    out: list[str],
    comments: Mapping[PathKey, Any],
) -> None:
    key = path[-1]
    if isinstance(item, Mapping) and item:
        inline = None if key in _BLOCK_KEYS else _flow(item)
        if (
            inline is not None
            and len(head) + 1 + len(inline) <= WIDTH
            and not _has_comments(path, comments)
        ):
            out.append(f"{head} {inline}")
            return
        out.append(head)
        _mapping(item, path, indent + 2, out, comments)
    elif isinstance(item, list) and item:
        inline = None if key in _BLOCK_KEYS else _flow(item)
        if inline is not None and len(head) + 1 + len(inline) <= WIDTH:
            out.append(f"{head} {inline}")
            return
        out.append(head)
        for index, element in enumerate(item):
            element_path = (*path, index)
            _comment(element_path, indent + 2, out, comments)
            inline = _flow(element) if _flat(element) else None
            if inline is not None and indent + 4 + len(inline) <= WIDTH:
                out.append(f"{' ' * (indent + 2)}- {inline}")
            elif isinstance(element, Mapping) and element:
                _mapping(
                    element,
                    element_path,
                    indent + 4,
                    out,
                    comments,
                    first_prefix=" " * (indent + 2) + "- ",
                )
            else:
                out.append(f"{' ' * (indent + 2)}- {_block_scalar(element, indent + 4)}")
    else:
        out.append(f"{head} {_block_scalar(item, indent + 2)}")


def _flat(value: Any) -> bool:
    """A mapping of scalars only (a window of the policy): one line reads best."""
    return isinstance(value, Mapping) and all(
        not isinstance(item, Mapping | list) for item in value.values()
    )


def _has_comments(path: PathKey, comments: Mapping[PathKey, Any]) -> bool:
    return any(key[: len(path)] == path and len(key) > len(path) for key in comments)


def _flow(value: Any) -> str | None:
    """Flow style text of ``value``, or None when it holds something flow cannot show well."""
    if isinstance(value, Mapping):
        parts = []
        for key, item in value.items():
            text = _flow(item)
            if text is None:
                return None
            parts.append(f"{flow_string(str(key))}: {text}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = [_flow(item) for item in value]
        if any(text is None for text in items):
            return None
        return "[" + ", ".join(text for text in items if text is not None) + "]"
    if isinstance(value, str):
        return None if "\n" in value else flow_string(value)
    return _number_or_bool(value)


def flow_string(text: str) -> str:
    plain = dump(text).rstrip("\n")
    if plain == text and not _FLOW_UNSAFE.search(text) and not _REGEX_LOOKING.search(text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _plain_key(key: str) -> str:
    return dump(key).rstrip("\n")


def _block_scalar(value: Any, indent: int) -> str:
    if isinstance(value, Mapping | list) and not value:
        return "{}" if isinstance(value, Mapping) else "[]"
    if isinstance(value, str):
        if "\n" in value:
            return _literal(value, indent)
        return dump(value).rstrip("\n")
    return _number_or_bool(value)


def _literal(text: str, indent: int) -> str:
    lines = text.rstrip("\n").split("\n")
    if lines[0][:1] in (" ", "\t") or any(line != line.rstrip() for line in lines):
        return json.dumps(text, ensure_ascii=False)
    pad = " " * indent
    return "|-\n" + "\n".join(pad + line if line else "" for line in lines)


def _number_or_bool(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        text = format_decimal(value)
        # A whole number stays a number in YAML; keep a decimal point where one was meant.
        return text
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} in a declaration")
