"""The perfdash/v1 JSON Schema, and schema errors turned into located Problems.

Patterns are ECMA-262 regular expressions, as JSON Schema says: ``$`` matches only at
the very end. Python's ``$`` also matches before a final newline, which let
``name: "checkout\n"`` through (and wrote ``alerts/rules/checkout\n.yaml``); both
validators here read ``$`` as the end of the text.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import fastjsonschema

from perfdash.errors import Problem
from perfdash.spec.document import MAX_PROBLEMS_PER_DOCUMENT, Document, PathKey

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

    validator = jsonschema.validators.extend(
        jsonschema.Draft202012Validator, {"pattern": _ecma_pattern}
    )
    return validator(schema())


_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    # As fastjsonschema does: every unescaped $ becomes \Z (the schema has none in a set).
    return re.compile(_UNESCAPED_DOLLAR.sub(r"\\Z", pattern))


def _ecma_pattern(
    validator: jsonschema.Validator, pattern: str, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and not _pattern(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


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
    """Every schema violation of ``document``, one Problem each, located in the file;
    the values concerned are tainted, so later checks leave them alone.

    A document of unknown kind gets only that complaint: checking it against the
    Service schema would bury it under errors that do not apply. Values already
    reported while loading (a number that is not finite) are not reported again.
    """
    try:
        _is_valid()(document.data)
        return []
    except (fastjsonschema.JsonSchemaException, TypeError, ValueError, ArithmeticError):
        pass  # invalid, or data the compiled code did not expect: jsonschema decides
    known_kind = isinstance(document.data, dict) and document.data.get("kind") in KINDS
    already = set(document.tainted)
    problems: list[Problem] = []
    for error in _validator().iter_errors(document.data):
        if not known_kind and error.schema_path and error.schema_path[0] in ("then", "else"):
            continue
        for path in _offending_paths(error):
            if not any(path[: len(t)] == t for t in already):
                document.taint(path)
                if len(problems) < MAX_PROBLEMS_PER_DOCUMENT:
                    problems.extend(_to_problems(document, error, path))
                else:
                    document.unlisted += 1
    return problems


def _offending_paths(error: ValidationError) -> list[PathKey]:
    """The values an error is about: a missing or unknown field's own path, else the value's."""
    path = tuple(error.absolute_path)
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        return [(*path, name) for name in error.validator_value if name not in instance]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = error.schema.get("properties", {})
        return [(*path, key) for key in instance if key not in allowed]
    return [path]


def _to_problems(document: Document, error: ValidationError, offending: PathKey) -> list[Problem]:
    path = tuple(error.absolute_path)
    instance = error.instance
    kind = error.validator
    custom = error.schema.get("x-error") if isinstance(error.schema, dict) else None

    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        key = offending[-1]
        return [document.problem(offending, _unknown_field(str(key), allowed), key=True)]
    if kind == "required":
        return [document.problem(path, f"missing required field {offending[-1]!r}")]
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
    if kind == "maxLength":
        return [document.problem(path, f"must be at most {error.validator_value} characters long")]
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


SHOWN_CHARS = 60  # of a value quoted in a message: enough to recognise it


def _show(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return repr(value[:SHOWN_CHARS]) + f"... ({len(value)} characters)"
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
