"""What Prometheus says of an alert label or annotation before it ever runs: Go
``text/template`` parsing, as ``promtool check rules`` does it.

Prometheus parses every label and annotation of an alerting rule as a Go template,
with ``$labels``, ``$externalLabels``, ``$externalURL`` and ``$value`` declared and its
own functions added to Go's. A syntax error, an unknown function (``{{ service }}``)
or an undefined variable makes the whole rule file fail to load. perfdash's own
templating happens first (``[[ ]]``, Jinja2); this checks what it produced, at
validation time, so the mistake is reported at the declaration instead of in
``perfdash test`` against a generated file.

The parser follows Go's ``text/template/parse/parse.go`` rule for rule, down to the
error messages; ``tests/spec/test_go_template.py`` compares its verdicts with the real
``promtool``. Only parse-time errors exist: what fails at run time
(``{{ index $labels }}``) fails in Prometheus too, and only when the alert fires.
"""

from __future__ import annotations

from perfdash.spec.go_literals import number_problem, string_value
from perfdash.spec.go_template_lexer import (
    BOOL,
    CHAR,
    CHAR_CONSTANT,
    COMPLEX,
    DOT,
    EOF,
    ERROR,
    FIELD,
    IDENTIFIER,
    LEFT_DELIM,
    LEFT_PAREN,
    NUMBER,
    OPERAND_START,
    PIPE,
    RAW_STRING,
    RIGHT_DELIM,
    RIGHT_PAREN,
    SPACE,
    STRING,
    TEXT,
    VARIABLE,
    Item,
    Lexer,
    go_quote,
)

# Go's builtins, then Prometheus' (template/template.go). Prometheus 3 added toDuration,
# now and urlQueryEscape; they are accepted: Prometheus 3 users may rely on them.
_GO_BUILTINS = (
    "and or not len index slice print printf println html js urlquery call eq ne lt le gt ge"
)
_PROMETHEUS = (
    "query first label value strvalue args reReplaceAll safeHtml match title toUpper toLower "
    "graphLink tableLink sortByLabel humanize humanize1024 humanizeDuration humanizePercentage "
    "humanizeTimestamp toTime pathPrefix externalURL parseDuration stripPort stripDomain "
    "toDuration now urlQueryEscape"
)
FUNCTIONS = frozenset(f"{_GO_BUILTINS} {_PROMETHEUS}".split(" "))
# Prometheus declares these ahead of the text of every alert label and annotation.
ALERT_VARIABLES = ("$", "$labels", "$externalLabels", "$externalURL", "$value")
_CONSTANTS = {"bool", "dot", "nil", "number", "string"}  # kinds of term
_MAIN = "\0main"  # the name of the template being checked: no {{define}} can take it


class GoTemplateError(ValueError):
    """Prometheus would refuse the template: ``message``, at ``line`` (1-based) of it."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def check_alert_template(text: str) -> None:
    """Raise GoTemplateError when Prometheus would refuse ``text`` as an alert label or
    annotation (``promtool check rules`` would fail)."""
    if "{{" in text:  # without an action there is nothing to parse
        _Parser(text, ALERT_VARIABLES).parse()


class _Parser:
    """Go's ``parse.Tree``: three tokens of look-ahead, variables in scope, range depth."""

    def __init__(self, text: str, variables: tuple[str, ...]) -> None:
        self.lexer = Lexer(text)
        self.token: list[Item] = [Item(EOF, "", 1)] * 3
        self.peek_count = 0
        self.vars = list(variables)
        self.range_depth = 0
        self.defined: dict[str, bool] = {}  # template name -> has content

    # -- tokens ---------------------------------------------------------------------
    def next(self) -> Item:
        if self.peek_count > 0:
            self.peek_count -= 1
        else:
            self.token[0] = self.lexer.next_item()
        return self.token[self.peek_count]

    def backup(self) -> None:
        self.peek_count += 1

    def backup2(self, first: Item) -> None:
        self.token[1] = first
        self.peek_count = 2

    def backup3(self, second: Item, first: Item) -> None:
        self.token[1] = first
        self.token[2] = second
        self.peek_count = 3

    def peek(self) -> Item:
        if self.peek_count > 0:
            return self.token[self.peek_count - 1]
        self.peek_count = 1
        self.token[0] = self.lexer.next_item()
        return self.token[0]

    def next_non_space(self) -> Item:
        while (token := self.next()).typ == SPACE:
            pass
        return token

    def peek_non_space(self) -> Item:
        token = self.next_non_space()
        self.backup()
        return token

    def error(self, message: str) -> GoTemplateError:
        return GoTemplateError(message, self.token[0].line)

    def unquote(self, token: Item) -> str:
        """The value of a string literal, or Go's "invalid syntax" for a bad escape."""
        value = string_value(token.val, raw=token.typ == RAW_STRING)
        if value is None:
            raise self.error("invalid syntax")
        return value

    def expect(self, typ: str, context: str, other: str | None = None) -> Item:
        token = self.next_non_space()
        if token.typ != typ and token.typ != other:
            raise self.unexpected(token, context)
        return token

    def unexpected(self, token: Item, context: str) -> GoTemplateError:
        if token.typ == ERROR:
            return self.error(token.val)
        return self.error(f"unexpected {token} in {context}")

    # -- structure --------------------------------------------------------------------
    def parse(self) -> None:
        content = False
        while self.peek().typ != EOF:
            if self.peek().typ == LEFT_DELIM:
                delim = self.next()
                if self.next_non_space().typ == "define":
                    self.definition()
                    continue
                self.backup2(delim)
            node = self.text_or_action()
            if node in ("end", "else"):
                raise self.error(f"unexpected {{{{{node}}}}}")
            content = content or node != "blank"
        self.add(_MAIN, content)

    def add(self, name: str, content: bool) -> None:
        if self.defined.get(name) and content:
            raise self.error(f"template: multiple definition of template {go_quote(name)}")
        self.defined[name] = self.defined.get(name, False) or content

    def definition(self) -> None:
        context = "define clause"
        name = self.unquote(self.expect(STRING, context, RAW_STRING))
        self.expect(RIGHT_DELIM, context)
        self.add(name, self.sub_template(context))

    def sub_template(self, context: str) -> bool:
        """The body of a define or block: a tree of its own, with only ``$`` in scope."""
        saved, self.vars, depth, self.range_depth = self.vars, ["$"], self.range_depth, 0
        content, end = self.item_list()
        if end != "end":
            raise self.error(f"unexpected {{{{{end}}}}} in {context}")
        self.vars, self.range_depth = saved, depth
        return content

    def item_list(self) -> tuple[bool, str]:
        content = False
        while self.peek_non_space().typ != EOF:
            node = self.text_or_action()
            if node in ("end", "else"):
                return content, node
            content = content or node != "blank"
        raise self.error("unexpected EOF")

    def text_or_action(self) -> str:
        token = self.next_non_space()
        if token.typ == TEXT:
            return "text" if token.val.strip() else "blank"
        if token.typ == LEFT_DELIM:
            return self.action()
        raise self.unexpected(token, "input")

    def action(self) -> str:
        token = self.next_non_space()
        if token.typ in ("if", "range", "with"):
            return self.control(token.typ == "if", token.typ)
        simple = {
            "block": self.block_control,
            "else": self.else_control,
            "end": self.end_control,
            "template": self.template_control,
        }.get(token.typ)
        if simple is not None:
            return simple()
        if token.typ in ("break", "continue"):
            after = self.next_non_space()
            if after.typ != RIGHT_DELIM:
                raise self.unexpected(after, f"{{{{{token.typ}}}}}")
            if self.range_depth == 0:
                raise self.error(f"{{{{{token.typ}}}}} outside {{{{range}}}}")
            return token.typ
        self.backup()
        self.pipeline("command", RIGHT_DELIM)
        return "action"

    def control(self, allow_else_if: bool, context: str) -> str:
        scope = len(self.vars)
        self.pipeline(context, RIGHT_DELIM)
        if context == "range":
            self.range_depth += 1
        _, end = self.item_list()
        if context == "range":
            self.range_depth -= 1
        if end == "else":
            if allow_else_if and self.peek().typ == "if":
                self.next()
                self.control(True, "if")  # {{else if}} shares the {{end}} of its if
            else:
                _, end = self.item_list()
                if end != "end":
                    raise self.error(f"expected end; found {{{{{end}}}}}")
        del self.vars[scope:]
        return context

    def end_control(self) -> str:
        self.expect(RIGHT_DELIM, "end")
        return "end"

    def else_control(self) -> str:
        if self.peek_non_space().typ != "if":  # {{else if ...}}: the if is parsed next
            self.expect(RIGHT_DELIM, "else")
        return "else"

    def block_control(self) -> str:
        context = "block clause"
        name = self.template_name(self.next_non_space(), context)
        self.pipeline(context, RIGHT_DELIM)
        self.add(name, self.sub_template(context))
        return "template"

    def template_control(self) -> str:
        context = "template clause"
        self.template_name(self.next_non_space(), context)
        if self.next_non_space().typ != RIGHT_DELIM:
            self.backup()
            self.pipeline(context, RIGHT_DELIM)
        return "template"

    def template_name(self, token: Item, context: str) -> str:
        if token.typ not in (STRING, RAW_STRING):
            raise self.unexpected(token, context)
        return self.unquote(token)

    # -- pipelines --------------------------------------------------------------------
    def pipeline(self, context: str, end: str) -> None:
        declared = 0
        while (variable := self.peek_non_space()).typ == VARIABLE:
            self.next()
            after = self.peek()
            following = self.peek_non_space()
            if following.typ in ("assign", "declare"):
                self.next_non_space()
                self.vars.append(variable.val)
            elif following.typ == CHAR and following.val == ",":
                self.next_non_space()
                self.vars.append(variable.val)
                declared += 1
                if context == "range" and declared < 2:
                    if self.peek_non_space().typ in (VARIABLE, RIGHT_DELIM, RIGHT_PAREN):
                        continue  # the second variable of {{range $i, $e := ...}}
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            elif after.typ == SPACE:
                self.backup3(variable, after)
            else:
                self.backup2(variable)
            break
        commands: list[str] = []
        while True:
            token = self.next_non_space()
            if token.typ == end:
                if not commands:
                    raise self.error(f"missing value for {context}")
                for stage, first in enumerate(commands[1:], start=2):
                    if first in _CONSTANTS:
                        raise self.error(f"non executable command in pipeline stage {stage}")
                return
            if token.typ not in OPERAND_START:
                raise self.unexpected(token, context)
            self.backup()
            commands.append(self.command())

    def command(self) -> str:
        """The kind of the command's first operand."""
        operands: list[str] = []
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                operands.append(operand)
            token = self.next()
            if token.typ == SPACE:
                continue
            if token.typ in (RIGHT_DELIM, RIGHT_PAREN):
                self.backup()
            elif token.typ != PIPE:
                raise self.unexpected(token, "operand")
            break
        if not operands:
            raise self.error("empty command")
        return operands[0]

    def operand(self) -> str | None:
        term = self.term()
        if term is None:
            return None
        kind, text = term
        if self.peek().typ == FIELD:
            while self.peek().typ == FIELD:
                self.next()
            if kind in _CONSTANTS:
                raise self.error(f"unexpected . after term {go_quote(text)}")
            if kind not in ("field", "variable"):
                kind = "chain"
        return kind

    def term(self) -> tuple[str, str] | None:
        token = self.next_non_space()
        typ, value = token.typ, token.val
        if typ == ERROR:
            raise self.error(value)
        if typ == IDENTIFIER:
            if value not in FUNCTIONS:
                raise self.error(f"function {go_quote(value)} not defined")
            return "identifier", value
        if typ == VARIABLE:
            name = value.split(".")[0]
            if name not in self.vars:
                raise self.error(f"undefined variable {go_quote(name)}")
            return "variable", value
        if typ in (CHAR_CONSTANT, COMPLEX, NUMBER):
            problem = number_problem(value, typ)
            if problem:
                raise self.error(problem)
            return "number", value
        if typ == LEFT_PAREN:
            self.pipeline("parenthesized pipeline", RIGHT_PAREN)
            return "pipe", "(...)"
        if typ in (STRING, RAW_STRING):
            self.unquote(token)
            return "string", value
        kinds = {DOT: "dot", "nil": "nil", FIELD: "field", BOOL: "bool"}
        if typ in kinds:
            return kinds[typ], value
        self.backup()
        return None
