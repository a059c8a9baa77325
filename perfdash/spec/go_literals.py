"""Go's literals as ``strconv`` reads them (Unquote, UnquoteChar, ParseInt, ParseFloat),
for the template parser in ``perfdash.spec.go_template``: which strings, characters and
numbers Go's ``text/template`` accepts, and its message for the others.
"""

from __future__ import annotations

import math
import re

from perfdash.spec.go_template_lexer import CHAR_CONSTANT, COMPLEX, go_quote

_SIMPLE_ESCAPES = set("abfnrtv\\")
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|[0-7]{3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)


def string_value(text: str, *, raw: bool) -> str | None:
    """strconv.Unquote of a "..." or `...` literal: its value, None if invalid."""
    if raw:
        return text[1:-1].replace("\r", "")
    return _unescape(text[1:-1], quote='"')


def _unescape(body: str, *, quote: str) -> str | None:
    out = []
    position = 0
    for match in _ESCAPE.finditer(body):
        out.append(body[position : match.start()])
        position = match.end()
        escape = match.group()[1:]
        if len(escape) == 1:
            if escape in _SIMPLE_ESCAPES:
                out.append("\a\b\f\n\r\t\v\\"["abfnrtv\\".index(escape)])
            elif escape == quote:
                out.append(quote)
            else:
                return None
            continue
        code = int(escape, 8) if escape[0] in "01234567" else int(escape[1:], 16)
        if code > 0x10FFFF or (escape[0] in "uU" and 0xD800 <= code <= 0xDFFF):
            return None
        if escape[0] in "01234567" and code > 255:
            return None
        out.append(chr(code))
    rest = body[position:]
    if quote in rest:
        return None
    out.append(rest)
    return "".join(out)


_INT = re.compile(
    r"(?P<sign>[+-]?)(?:0[xX](?:_?[0-9a-fA-F])+|0[oO](?:_?[0-7])+|0[bB](?:_?[01])+"
    r"|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)"
)
_DECIMAL = r"[0-9](?:_?[0-9])*"
_HEX = r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"
_FLOAT = re.compile(
    rf"[+-]?(?:(?:{_DECIMAL}(?:\.(?:{_DECIMAL})?)?|\.{_DECIMAL})(?:[eE][+-]?{_DECIMAL})?"
    rf"|0[xX]_?(?:{_HEX}(?:\.(?:{_HEX})?)?|\.{_HEX})[pP][+-]?{_DECIMAL})"
)


def _int_ok(text: str) -> bool:
    match = _INT.fullmatch(text)
    if not match:
        return False
    digits = text.replace("_", "").lstrip("+-")
    if len(digits) > 1 and digits[0] == "0" and digits[1] not in "xXoObB":
        digits = "0o" + digits[1:]
    value = int(digits, 0)
    if match["sign"] == "-":
        return value <= 2**63
    return value < 2**64  # ParseUint, or ParseInt for "+..."


def _float(text: str) -> float | None:
    if not _FLOAT.fullmatch(text):
        return None
    plain = text.replace("_", "")
    try:
        value = float.fromhex(plain) if plain.lstrip("+-")[:2] in ("0x", "0X") else float(plain)
    except (OverflowError, ValueError):
        return None
    return None if math.isinf(value) else value


def number_problem(text: str, typ: str) -> str | None:
    """Go's newNumber: None if the literal is valid, else its error."""
    if typ == CHAR_CONSTANT:
        value = _unescape(text[1:-1], quote="'")
        if value is None or text[1:2] == "'":
            return "invalid syntax"
        if len(value) != 1:
            return f"malformed character constant: {text}"
        return None
    if typ == COMPLEX:
        split = max(text.rfind("+"), text.rfind("-"))
        if _float(text[:split]) is None or _float(text[split:-1]) is None:
            return f"illegal number syntax: {go_quote(text)}"
        return None
    if text.endswith("i") and _float(text[:-1]) is not None:
        return None
    if _int_ok(text):
        return None
    if _float(text) is not None:
        if not re.search("[.eEpP]", text):
            return f"integer overflow: {go_quote(text)}"
        return None
    return f"illegal number syntax: {go_quote(text)}"
