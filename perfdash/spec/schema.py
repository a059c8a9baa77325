"""The perfdash/v1 JSON Schema, and schema errors turned into located Problems."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import fastjsonschema

from perfdash.errors import Problem
from perfdash.spec.load import Document

if TYPE_CHECKING:  # jsonschema is imported only to report problems: most runs have none
    import jsonschema
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "perfdash-v1.schema.json"
_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    Decimal: "a number",
    type(None): "empty (null)",
}


def schema_text() -> str:
    """The schema exactly as shipped (``perfdash schema`` prints this)."""
    return resources.files("perfdash.spec").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text())
    return loaded


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


@cache
def _is_valid() -> Callable[[Any], Any]:
    """The schema compiled to Python by fastjsonschema: about 15x faster than jsonschema,
    but it stops at the first error and says less. Most documents are valid, so this
    answers first and jsonschema reports every problem of the others. The schema uses
    only keywords that draft-07 (fastjsonschema's newest) defines the same way."""
    return fastjsonschema.compile(schema(), use_default=False)


KINDS = ("Service", "Team")
LABEL_NAME_PATTERN = "^[a-zA-Z_][a-zA-Z0-9_]*$"


def schema_problems(document: Document) -> list[Problem]:
    """Every schema violation of ``document``, one Problem each, located in the file.

    A document of unknown kind gets only that complaint: checking it against the
    Service schema would bury it under errors that do not apply.
    """
    try:
        _is_valid()(document.data)
        return []
    except (fastjsonschema.JsonSchemaException, TypeError, ValueError):
        pass  # invalid, or data the compiled code did not expect: jsonschema decides
    known_kind = isinstance(document.data, dict) and document.data.get("kind") in KINDS
    problems: list[Problem] = []
    for error in _validator().iter_errors(document.data):
        if not known_kind and error.schema_path and error.schema_path[0] in ("then", "else"):
            continue
        problems.extend(_to_problems(document, error))
    return problems


def _to_problems(document: Document, error: ValidationError) -> list[Problem]:
    path = tuple(error.absolute_path)
    instance = error.instance
    kind = error.validator
    custom = error.schema.get("x-error") if isinstance(error.schema, dict) else None

    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        extras = [key for key in instance if key not in allowed]
        return [
            document.problem((*path, key), _unknown_field(key, allowed), key=True) for key in extras
        ]
    if kind == "required":
        missing = [name for name in error.validator_value if name not in instance]
        return [document.problem(path, f"missing required field {name!r}") for name in missing]
    if kind == "pattern" and error.validator_value == LABEL_NAME_PATTERN:
        # propertyNames errors come back as the key's own pattern error, located at the
        # mapping: point at the key itself. Grouping entries are label names too.
        in_keys = list(error.relative_schema_path)[-2:-1] == ["propertyNames"]
        return [
            document.problem(
                (*path, instance) if in_keys else path,
                f"{instance!r} is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)",
                key=in_keys,
            )
        ]
    if kind == "type":
        expected = error.validator_value
        expected_text = " or ".join(expected) if isinstance(expected, list) else expected
        message = f"must be {_article(expected_text)}, got {_describe(instance)}"
        if expected_text == "string" and isinstance(instance, bool | int | Decimal):
            message += " (quote it: YAML reads yes/no/on/off as booleans and digits as numbers)"
        return [document.problem(path, message)]
    if kind == "const":
        return [document.problem(path, f"must be {error.validator_value!r}, got {instance!r}")]
    if kind == "enum":
        options = ", ".join(str(v) for v in error.validator_value)
        return [document.problem(path, f"must be one of {options}, got {instance!r}")]
    if custom:
        return [document.problem(path, f"{custom}, got {_show(instance)}")]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        relation = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }[kind]
        return [
            document.problem(
                path, f"must be {relation} {error.validator_value}, got {_show(instance)}"
            )
        ]
    if kind == "uniqueItems":
        return [document.problem(path, "must not list the same value twice")]
    if kind == "minItems":
        return [document.problem(path, f"must list at least {error.validator_value} item(s)")]
    if kind == "minProperties":
        return [document.problem(path, f"must have at least {error.validator_value} entry")]
    if kind == "pattern":
        return [document.problem(path, f"{_show(instance)} does not match {error.validator_value}")]
    return [document.problem(path, error.message)]


def _unknown_field(key: str, allowed: list[str]) -> str:
    message = f"unknown field {key!r}"
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"{message}: did you mean {close[0]!r}?"
    if allowed:
        return f"{message} (allowed: {', '.join(allowed)})"
    return message


def _describe(value: Any) -> str:
    for python_type, name in _TYPE_NAMES.items():
        if type(value) is python_type:
            return f"{name} {_show(value)}" if python_type not in (dict, list, type(None)) else name
    return type(value).__name__


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _article(noun: str) -> str:
    words = {
        "object": "a mapping",
        "array": "a list",
        "integer": "an integer",
        "number": "a number",
    }
    if noun in words:
        return words[noun]
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"
