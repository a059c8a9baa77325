"""Text from servers and declarations is printed with its control characters escaped."""

from __future__ import annotations

import pytest

from perfdash.terminal import one_line, terminal_safe


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),  # set the window title
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),  # clear the screen
        ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),  # write the clipboard
        ("\x9b31m", "\\x9b31m"),  # C1 control sequence introducer
        ("ok\rforged", "ok\\rforged"),  # overwrite the line
        ("a\x00b\x7fc", "a\\x00b\\x7fc"),
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override
        ("\u2066x\u2069", "\\u2066x\\u2069"),
    ],
)
def test_control_characters_are_shown_escaped(raw: str, shown: str) -> None:
    assert terminal_safe(raw) == shown


def test_text_newlines_tabs_and_unicode_stay() -> None:
    text = "Error: GET /api/folders: HTTP 500\n  response:\tcafé ✓ 日本"
    assert terminal_safe(text) == text


def test_one_line_also_escapes_line_breaks() -> None:
    assert one_line("boom\nError: all good\t\x1b[2J") == "boom\\nError: all good\\t\\x1b[2J"
