"""Text that is safe to print: control characters shown, never acted on by a terminal.

Folder titles, error messages and dashboard content come from servers and declarations
perfdash does not control. Printed raw, an ESC or a C1 control lets them set the window
title, clear the screen, rewrite earlier lines or write the clipboard (OSC 52), and
bidirectional overrides reorder what a reviewer reads. ``terminal_safe`` shows each such
character as an escape (``\\x1b``, ``\\u202e``); the CLI applies it at its edge to
everything it prints that carries outside text (errors, plans, reports, request logs).
``one_line`` also escapes line breaks, for a value printed where one line is expected,
so that it cannot forge lines of its own.
"""

from __future__ import annotations

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode format characters
# that reorder or hide text (bidi embeddings, overrides and isolates, line separators).
_UNSAFE = [
    *(c for c in range(0x20) if c not in (0x09, 0x0A)),
    0x7F,
    *range(0x80, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x2028,
    0x2029,
]


def _escape(code: int) -> str:
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


_NAMED = {0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t"}
_TABLE = {code: _NAMED.get(code, _escape(code)) for code in _UNSAFE}
_ONE_LINE_TABLE = {**_TABLE, 0x0A: "\\n", 0x09: "\\t"}


def terminal_safe(text: str) -> str:
    """``text`` with every control character but newline and tab escaped."""
    return text.translate(_TABLE)


def one_line(text: str) -> str:
    """``text`` escaped as by ``terminal_safe``, line breaks and tabs included."""
    return text.translate(_ONE_LINE_TABLE)
