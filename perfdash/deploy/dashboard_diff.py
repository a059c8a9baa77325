"""A readable structural diff of two dashboards, one line per changed value.

    ~ panels[id=4 "Error budget"].targets[refId=A].expr: "old" -> "new"
    + panels[id=9 "Latency"]
    - templating.list[name=route]

Lists of objects are matched by a key they all carry uniquely (``id``, ``refId``,
``name``, ``uid``, ``title``), so inserting a panel shows one added panel rather than
every later panel changed; other lists are compared position by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

LIST_KEYS = ("id", "refId", "name", "uid", "title")
VALUE_CHARS = 80
CONTEXT_CHARS = 20  # of a long string, kept before its first difference
DEFAULT_LIMIT = 30


def structural_diff(old: Any, new: Any, *, limit: int = DEFAULT_LIMIT) -> tuple[str, ...]:
    """Lines describing how ``old`` becomes ``new`` (at most ``limit``, then a count)."""
    lines: list[str] = []
    _walk(old, new, "", lines)
    if len(lines) > limit:
        hidden = len(lines) - limit
        lines = [*lines[:limit], f"... and {hidden} more change{'s' if hidden > 1 else ''}"]
    return tuple(lines)


def _walk(old: Any, new: Any, path: str, out: list[str]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            child = f"{path}.{key}" if path else str(key)
            if key not in old:
                out.append(f"+ {child}: {_show(new[key])}")
            elif key not in new:
                out.append(f"- {child}: {_show(old[key])}")
            else:
                _walk(old[key], new[key], child, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        key = _list_key(old, new)
        if key is None:
            _walk_positions(old, new, path, out)
        else:
            _walk_keyed(old, new, key, path, out)
        return
    if old != new:
        if isinstance(old, str) and isinstance(new, str):
            old, new = _around_difference(old, new)
        out.append(f"~ {path}: {_show(old)} -> {_show(new)}")


def _around_difference(old: str, new: str) -> tuple[str, str]:
    """Long strings cut to where they differ (``...`` marks what was cut)."""
    if max(len(old), len(new)) <= VALUE_CHARS - 2:
        return old, new
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    start = max(0, start - CONTEXT_CHARS)
    return (("..." if start else "") + old[start:], ("..." if start else "") + new[start:])


def _walk_positions(old: list[Any], new: list[Any], path: str, out: list[str]) -> None:
    for index in range(max(len(old), len(new))):
        child = f"{path}[{index}]"
        if index >= len(old):
            out.append(f"+ {child}: {_show(new[index])}")
        elif index >= len(new):
            out.append(f"- {child}: {_show(old[index])}")
        else:
            _walk(old[index], new[index], child, out)


def _walk_keyed(old: list[Any], new: list[Any], key: str, path: str, out: list[str]) -> None:
    before = {item[key]: item for item in old}
    after = {item[key]: item for item in new}
    for item in new:
        label = f"{path}{_label(item, key)}"
        if item[key] not in before:
            out.append(f"+ {label}")
        else:
            _walk(before[item[key]], item, label, out)
    for item in old:
        if item[key] not in after:
            out.append(f"- {path}{_label(item, key)}")
    old_order = [item[key] for item in old if item[key] in after]
    new_order = [item[key] for item in new if item[key] in before]
    if old_order != new_order:
        out.append(f"~ {path}: order changed")


def _list_key(old: Sequence[Any], new: Sequence[Any]) -> str | None:
    items = [*old, *new]
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in LIST_KEYS:
        if all(_hashable(item.get(key)) for item in items) and all(
            len({item[key] for item in side}) == len(side) for side in (old, new)
        ):
            return key
    return None


def _hashable(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _label(item: dict[str, Any], key: str) -> str:
    value = item[key]
    text = (
        f"{key}={value}" if not isinstance(value, str) or " " not in value else f"{key}={value!r}"
    )
    title = item.get("title")
    if key != "title" and isinstance(title, str) and title:
        text += f" {_short(title)}"
    return f"[{text}]"


def _short(value: str) -> str:
    return orjson.dumps(value).decode()


def _show(value: Any) -> str:
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    if len(text) > VALUE_CHARS:
        text = text[: VALUE_CHARS - 3] + "..."
    return text
