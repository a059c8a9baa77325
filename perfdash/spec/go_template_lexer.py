"""Go ``text/template``'s lexer (text/template/parse/lex.go), rule for rule.

Items come one at a time (``Lexer.next_item``): text outside actions, tokens inside
them, trim markers (``{{- `` and `` -}}``) applied, comments dropped. The parser in
``perfdash.spec.go_template`` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass

_KEYWORD_NAMES = "block break continue define else end if range nil template with"
KEYWORDS = frozenset(_KEYWORD_NAMES.split(" "))

# Item types (Go's itemType), as short strings.
ERROR, BOOL, CHAR, CHAR_CONSTANT, COMPLEX, ASSIGN, DECLARE, EOF = (
    "error", "bool", "char", "charconst", "complex", "assign", "declare", "eof"
)  # fmt: skip
FIELD, IDENTIFIER, LEFT_DELIM, LEFT_PAREN, NUMBER, PIPE = (
    "field", "identifier", "leftdelim", "leftparen", "number", "pipe"
)  # fmt: skip
RAW_STRING, RIGHT_DELIM, RIGHT_PAREN, SPACE, STRING, TEXT, VARIABLE, DOT = (
    "rawstring", "rightdelim", "rightparen", "space", "string", "text", "variable", "dot"
)  # fmt: skip
_SPACE = " \t\r\n"
OPERAND_START = {
    BOOL, CHAR_CONSTANT, COMPLEX, DOT, FIELD, IDENTIFIER, NUMBER, "nil", RAW_STRING, STRING,
    VARIABLE, LEFT_PAREN,
}  # fmt: skip


@dataclass(frozen=True)
class Item:
    typ: str
    val: str
    line: int

    def __str__(self) -> str:
        if self.typ == EOF:
            return "EOF"
        if self.typ == ERROR:
            return self.val
        if self.typ in KEYWORDS or self.typ == DOT:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def go_quote(text: str) -> str:
    """Go's ``%q`` of a string (strconv.Quote), enough for messages."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif char in "\a\b\f\n\r\t\v":
            out.append("\\" + "abfnrtv"["\a\b\f\n\r\t\v".index(char)])
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x10000:
            out.append(f"\\x{ord(char):02x}" if ord(char) < 0x80 else f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    return '"' + "".join(out) + '"'


def _rune(char: str) -> str:
    """Go's ``%#U``: ``U+002D '-'``."""
    return f"U+{ord(char):04X} '{char}'" if char.isprintable() else f"U+{ord(char):04X}"


def _alphanumeric(char: str) -> bool:
    return char == "_" or char.isalpha() or char.isdecimal()


class Lexer:
    """Go's lexer: items one at a time, text outside actions, tokens inside."""

    def __init__(self, text: str) -> None:
        self.input = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.paren_depth = 0
        self.inside_action = False

    # -- primitives -------------------------------------------------------------------
    def _next(self) -> str:
        if self.pos >= len(self.input):
            self.pos = len(self.input) + 1  # remember that EOF was read: backup undoes it
            return ""
        char = self.input[self.pos]
        self.pos += 1
        if char == "\n":
            self.line += 1
        return char

    def _backup(self) -> None:
        if self.pos > len(self.input):
            self.pos = len(self.input)
            return
        if self.pos > 0:
            self.pos -= 1
            if self.input[self.pos] == "\n":
                self.line -= 1

    def _peek(self) -> str:
        char = self._next()
        self._backup()
        return char

    def _item(self, typ: str) -> Item:
        item = Item(typ, self.input[self.start : self.pos], self.start_line)
        self.start = self.pos
        self.start_line = self.line
        return item

    def _ignore(self) -> None:
        self.line += self.input.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def _error(self, message: str) -> Item:
        item = Item(ERROR, message, self.start_line)
        self.input = self.input[:0]
        self.pos = self.start = 0
        return item

    def _at_right_delim(self) -> tuple[bool, bool]:
        rest = self.input[self.pos :]
        if len(rest) >= 2 and rest[0] in _SPACE and rest[1] == "-" and rest[2:].startswith("}}"):
            return True, True
        return rest.startswith("}}"), False

    # -- states -----------------------------------------------------------------------
    def next_item(self) -> Item:
        if self.inside_action:
            return self._inside_action()
        return self._text()

    def _text(self) -> Item:
        found = self.input.find("{{", self.pos)
        if found >= 0:
            if found > self.pos:
                self.pos = found
                trim = 0
                after = self.input[found + 2 : found + 4]
                if len(after) == 2 and after[0] == "-" and after[1] in _SPACE:
                    text = self.input[self.start : self.pos]
                    trim = len(text) - len(text.rstrip(_SPACE))
                self.pos -= trim
                self.line += self.input.count("\n", self.start, self.pos)
                item = self._item(TEXT)
                self.pos += trim
                self._ignore()
                if item.val:
                    return item
            return self._left_delim()
        self.pos = len(self.input)
        if self.pos > self.start:
            self.line += self.input.count("\n", self.start, self.pos)
            return self._item(TEXT)
        return self._item(EOF)

    def _left_delim(self) -> Item:
        self.pos += 2
        rest = self.input[self.pos : self.pos + 2]
        marker = 2 if len(rest) == 2 and rest[0] == "-" and rest[1] in _SPACE else 0
        if self.input.startswith("/*", self.pos + marker):
            self.pos += marker
            self._ignore()
            return self._comment()
        item = self._item(LEFT_DELIM)
        self.inside_action = True
        self.pos += marker
        self._ignore()
        self.paren_depth = 0
        return item

    def _comment(self) -> Item:
        self.pos += 2
        end = self.input.find("*/", self.pos)
        if end < 0:
            return self._error("unclosed comment")
        self.pos = end + 2
        delim, trim = self._at_right_delim()
        if not delim:
            return self._error("comment ends before closing delimiter")
        self.line += self.input.count("\n", self.start, self.pos)
        self._item(TEXT)  # the comment itself: dropped, as Go does unless asked
        self.pos += (2 if trim else 0) + 2
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE))
        self._ignore()
        return self._text()

    def _right_delim(self) -> Item:
        _, trim = self._at_right_delim()
        if trim:
            self.pos += 2
            self._ignore()
        self.pos += 2
        item = self._item(RIGHT_DELIM)
        if trim:
            rest = self.input[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE))
            self._ignore()
        self.inside_action = False
        return item

    def _inside_action(self) -> Item:
        delim, _ = self._at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self._right_delim()
            return self._error("unclosed left paren")
        char = self._next()
        if char == "":
            return self._error("unclosed action")
        if char in _SPACE:
            self._backup()
            return self._space()
        if char == "=":
            return self._item(ASSIGN)
        if char == ":":
            if self._next() != "=":
                return self._error("expected :=")
            return self._item(DECLARE)
        if char == "|":
            return self._item(PIPE)
        if char == '"':
            return self._quote('"', STRING, "unterminated quoted string")
        if char == "`":
            return self._raw_quote()
        if char == "$":
            return self._variable()
        if char == "'":
            return self._quote("'", CHAR_CONSTANT, "unterminated character constant")
        if char == "." and self.pos < len(self.input) and not "0" <= self.input[self.pos] <= "9":
            return self._field_or_variable(FIELD)
        if char in "+-." or "0" <= char <= "9":
            self._backup()
            return self._number()
        if _alphanumeric(char):
            self._backup()
            return self._identifier()
        if char == "(":
            self.paren_depth += 1
            return self._item(LEFT_PAREN)
        if char == ")":
            # Go 1.19 emits the paren before noticing it closes nothing; the parser then
            # reports 'unexpected ")"' (newer Go: "unexpected right paren").
            self.paren_depth -= 1
            return self._item(RIGHT_PAREN)
        if ord(char) < 0x80 and char.isprintable():
            return self._item(CHAR)
        return self._error(f"unrecognized character in action: {_rune(char)}")

    def _space(self) -> Item:
        spaces = 0
        while (char := self._peek()) and char in _SPACE:
            self._next()
            spaces += 1
        rest = self.input[self.pos - 1 :]
        if len(rest) >= 2 and rest[0] in _SPACE and rest[1] == "-" and rest[2:].startswith("}}"):
            self._backup()
            if spaces == 1:
                return self._right_delim()
        return self._item(SPACE)

    def _at_terminator(self) -> bool:
        char = self._peek()
        if char == "" or char in _SPACE or char in ".,|:)(":
            return True
        return self.input.startswith("}}", self.pos)

    def _identifier(self) -> Item:
        while True:
            char = self._next()
            if _alphanumeric(char):
                continue
            self._backup()
            word = self.input[self.start : self.pos]
            if not self._at_terminator():
                return self._error(f"bad character {_rune(char)}")
            if word in KEYWORDS:
                return self._item(word)
            if word in ("true", "false"):
                return self._item(BOOL)
            return self._item(IDENTIFIER)

    def _variable(self) -> Item:
        if self._at_terminator():
            return self._item(VARIABLE)
        return self._field_or_variable(VARIABLE)

    def _field_or_variable(self, typ: str) -> Item:
        if self._at_terminator():
            return self._item(VARIABLE if typ == VARIABLE else DOT)
        char = ""
        while True:
            char = self._next()
            if not _alphanumeric(char):
                self._backup()
                break
        if not self._at_terminator():
            return self._error(f"bad character {_rune(char)}")
        return self._item(typ)

    def _quote(self, close: str, typ: str, unterminated: str) -> Item:
        while True:
            char = self._next()
            if char == "\\":
                char = self._next()
                if char not in ("", "\n"):
                    continue
            if char in ("", "\n"):
                return self._error(unterminated)
            if char == close:
                return self._item(typ)

    def _raw_quote(self) -> Item:
        while True:
            char = self._next()
            if char == "":
                return self._error("unterminated raw quoted string")
            if char == "`":
                return self._item(RAW_STRING)

    def _number(self) -> Item:
        if not self._scan_number():
            return self._error(f"bad number syntax: {go_quote(self.input[self.start : self.pos])}")
        if self._peek() in ("+", "-"):
            if not self._scan_number() or self.input[self.pos - 1] != "i":
                bad = go_quote(self.input[self.start : self.pos])
                return self._error(f"bad number syntax: {bad}")
            return self._item(COMPLEX)
        return self._item(NUMBER)

    def _accept(self, valid: str) -> bool:
        char = self._next()
        if char and char in valid:
            return True
        self._backup()
        return False

    def _accept_run(self, valid: str) -> None:
        while (char := self._next()) and char in valid:
            pass
        self._backup()

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if _alphanumeric(self._peek() or " "):
            self._next()
            return False
        return True
