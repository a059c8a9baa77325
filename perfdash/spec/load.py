"""Read declaration files into documents that remember where every value came from.

libyaml's parser gives events with line/column marks; we compose them into a light
node graph ourselves and walk it, so that each value keeps its position, numbers keep
their exact text (``99.9`` becomes ``Decimal('99.9')``), duplicate keys are an error
instead of a silent overwrite, and nothing grows without bound:

- the text is checked before parsing: UTF-8, and no character YAML forbids (a NUL
  byte is reported at its line and column, not at 0:0);
- composing stops past ``MAX_VALUES_PER_DOCUMENT`` nodes, or ``MAX_VALUES_PER_FILE`` in
  a file, or ``MAX_DEPTH`` levels, before the rest of the file is even parsed;
- alias expansion counts against the same budget (a "billion laughs" is refused in
  bounded memory);
- numbers must be finite and of sensible size (``.nan``, ``1e999999``).

Problems of one value (a duplicate key, a bad number) stay on the document and its
other values are still checked; problems that stop a file (a syntax error) are returned
with the documents that came before them.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from perfdash.errors import Problem, SpecError
from perfdash.spec.document import Document, PathKey, Position, format_path
from perfdash.spec.files import (
    Candidate,
    declaration_candidates,
    display_name,
    is_generated,
    read_declaration,
)

# Bound on the values built from one document, counting each alias expansion: a real
# declaration has a few hundred; a file of 1000 services has about 150,000 in all.
MAX_VALUES_PER_DOCUMENT = 100_000
MAX_VALUES_PER_FILE = 300_000
MAX_DEPTH = 64
MAX_DIGITS = 20  # significant digits of a number; its magnitude stays within 1e-15..1e15
MAX_EXPONENT = 15

_Parser: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALARS = yaml.SafeLoader(b"")  # only for its constructors of ints and bools
_RESOLVER = yaml.resolver.Resolver()
# YAML 1.1's printable characters (what PyYAML's reader accepts).
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
_STR, _INT, _FLOAT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_BOOL, _NULL, _MERGE = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:merge"


# Composed nodes. A scalar is a tuple (line, column, text, tag, value, problem): there
# are tens of thousands, and a tuple costs a fraction of an object.
_ScalarNode = tuple[int, int, str, str, Any, "str | None"]


class _Sequence:
    __slots__ = ("column", "items", "line")

    def __init__(self, mark: Any) -> None:
        self.line = mark.line + 1
        self.column = mark.column + 1
        self.items: list[_Node] = []


class _Mapping:
    __slots__ = ("column", "line", "pairs")

    def __init__(self, mark: Any) -> None:
        self.line = mark.line + 1
        self.column = mark.column + 1
        self.pairs: list[tuple[_Node, _Node]] = []


_Node = _ScalarNode | _Sequence | _Mapping


def _line_column(node: _Node) -> tuple[int, int]:
    if isinstance(node, tuple):
        return node[0], node[1]
    return node.line, node.column


class _Refused(Exception):
    def __init__(self, line: int, column: int, reason: str) -> None:
        self.line, self.column, self.reason = line, column, reason


# -- reading files --------------------------------------------------------------------


def load_file(
    path: Path, *, display_name: str | None = None, resolved: bool = False
) -> list[Document]:
    """Parse every document of one file (``resolved``: ``path`` is absolute, without
    symbolic links already). Raises SpecError when the file cannot be read or parsed."""
    name = display_name or str(path)
    documents = load_text(read_declaration(path, name), name)
    directory = (path if resolved else path.resolve()).parent
    for document in documents:
        document.directory = directory
    return documents


def load_documents(paths: Iterable[Path], *, root: Path | None = None) -> list[Document]:
    """Load every document of every file, reporting the problems of all files at once."""
    documents, problems = load_candidates([(path, False) for path in paths], root=root)
    if problems:
        raise SpecError(problems)
    return documents


def load_paths(
    paths: Iterable[str | os.PathLike[str]], *, root: Path | None = None
) -> list[Document]:
    """Every document of the YAML files in ``paths`` (files and folder trees). Raises
    SpecError with the problems of every file at once."""
    found = declaration_candidates(paths, root=root)
    documents, problems = load_candidates(found.candidates, root=root)
    if found.problems or problems:
        raise SpecError([*found.problems, *problems])
    return documents


def load_candidates(
    candidates: Iterable[Candidate], *, root: Path | None = None
) -> tuple[list[Document], list[Problem]]:
    """Every document of every readable file, and the problems that stopped files.
    Files found in folders that perfdash generated are skipped."""
    documents: list[Document] = []
    problems: list[Problem] = []
    for path, in_folder in candidates:
        resolved = path.resolve()  # once per file: a large fleet has thousands
        name = display_name(path, resolved, root)
        try:
            data = read_declaration(resolved, name)
        except SpecError as exc:
            problems.extend(exc.problems)
            continue
        if in_folder and is_generated(data):
            continue
        parsed, stopped = parse_documents(data, name)
        for document in parsed:
            document.directory = resolved.parent
        documents.extend(parsed)
        problems.extend(stopped)
    return documents, problems


def load_text(text: str | bytes, file: str) -> list[Document]:
    """Parse YAML ``text`` (one or more documents) named ``file`` in messages. Raises
    SpecError when the text cannot be parsed; documents carry their own problems."""
    documents, problems = parse_documents(text, file)
    if problems:
        raise SpecError(problems)
    return documents


def parse_documents(text: str | bytes, file: str) -> tuple[list[Document], list[Problem]]:
    """The documents of ``text``, and the problem that stopped it (at most one)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        _check_text(data)
        roots = _compose(data)
    except _Refused as exc:
        return [], [Problem(file, exc.line, exc.column, "", exc.reason)]
    documents = []
    stopped: list[Problem] = []
    for index, root in enumerate(roots.documents):
        if root is None:
            continue
        try:
            documents.append(_Builder(file, index).document(root))
        except _Refused as exc:
            stopped.append(Problem(file, exc.line, exc.column, "", exc.reason))
            break
    if roots.stopped is not None and not stopped:
        stopped.append(Problem(file, *roots.stopped))
    return documents, stopped


def _check_text(data: bytes) -> None:
    """UTF-8, and only characters YAML allows: checked here to report where they are."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _where(data[: exc.start].decode("utf-8", errors="replace"))
        raise _Refused(
            line,
            column,
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot start or continue a "
            "character (declarations must be UTF-8)",
        ) from None
    bad = _NOT_PRINTABLE.search(text)
    if bad:
        line, column = _where(text[: bad.start()])
        raise _Refused(
            line,
            column,
            f"character U+{ord(bad.group()):04X} is not allowed in YAML (a binary file?)",
        )


def _where(before: str) -> tuple[int, int]:
    line = before.count("\n") + 1
    return line, len(before) - (before.rfind("\n") + 1) + 1


# -- composing events into nodes ----------------------------------------------------------


class _Composed:
    def __init__(self) -> None:
        self.documents: list[_Node | None] = []
        self.stopped: tuple[int, int, str, str] | None = None  # line, column, field, message


def _compose(data: bytes) -> _Composed:
    """libyaml's events -> one light node graph per document (aliases share nodes)."""
    composed = _Composed()
    anchors: dict[str, _Node] = {}
    stack: list[_Sequence | _Mapping] = []
    keys: list[_Node | None] = []  # per open mapping: its key waiting for a value
    root: _Node | None = None
    in_document = in_file = 0
    scalar, alias = yaml.ScalarEvent, yaml.AliasEvent
    try:
        events: Iterator[Any] = yaml.parse(data, Loader=_Parser)
        for event in events:
            kind = type(event)
            node: _Node
            if kind is scalar:
                mark = event.start_mark
                tag = event.tag
                plain = bool(event.implicit[0]) if tag is None or tag == "!" else None
                node = (
                    mark.line + 1,
                    mark.column + 1,
                    event.value,
                    *_scalar(event.value, tag, plain),
                )
            elif kind is alias:
                if event.anchor not in anchors:
                    mark = event.start_mark
                    raise _Refused(
                        mark.line + 1, mark.column + 1, f"undefined alias {event.anchor!r}"
                    )
                node = anchors[event.anchor]
            elif kind is yaml.MappingStartEvent:
                node = _Mapping(event.start_mark)
            elif kind is yaml.SequenceStartEvent:
                node = _Sequence(event.start_mark)
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                stack.pop()
                keys.pop()
                continue
            elif kind is yaml.DocumentStartEvent:
                anchors, root, in_document = {}, None, 0
                continue
            elif kind is yaml.DocumentEndEvent:
                composed.documents.append(None if _is_empty(root) else root)
                continue
            else:
                continue  # stream start and end
            in_document += 1
            in_file += 1
            if in_document > MAX_VALUES_PER_DOCUMENT or in_file > MAX_VALUES_PER_FILE:
                in_one = in_document > MAX_VALUES_PER_DOCUMENT
                most = MAX_VALUES_PER_DOCUMENT if in_one else MAX_VALUES_PER_FILE
                raise _Refused(
                    *_line_column(node),
                    f"the {'document' if in_one else 'file'} has more than {most} values; refused",
                )
            if kind is not alias and event.anchor is not None:
                anchors[event.anchor] = node
            if not stack:
                root = node
            else:
                parent = stack[-1]
                if isinstance(parent, _Sequence):
                    parent.items.append(node)
                elif keys[-1] is None:
                    keys[-1] = node
                else:
                    parent.pairs.append((keys[-1], node))
                    keys[-1] = None
            if kind is not alias and isinstance(node, _Sequence | _Mapping):
                if len(stack) > MAX_DEPTH:
                    raise _Refused(
                        *_line_column(node), f"YAML nesting deeper than {MAX_DEPTH} levels; refused"
                    )
                stack.append(node)
                keys.append(None)
    except _Refused as exc:
        composed.stopped = (exc.line, exc.column, "", exc.reason)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        composed.stopped = (line, column, "", f"YAML syntax error: {message}")
    except yaml.YAMLError as exc:
        composed.stopped = (1, 1, "", f"YAML error: {exc}")
    return composed


def _is_empty(node: _Node | None) -> bool:
    """A document with nothing but comments (``---`` then nothing): ignored, like no document."""
    return node is None or (isinstance(node, tuple) and node[3] == _NULL and node[2] == "")


@lru_cache(maxsize=65536)
def _scalar(text: str, tag: str | None, plain: bool | None) -> tuple[str, Any, str | None]:
    """A scalar's tag (resolved as PyYAML does, YAML 1.1, when ``plain`` is not None),
    value, and what is wrong with it (None: nothing). Cached: fleets repeat values."""
    if plain is not None:
        tag = str(_RESOLVER.resolve(yaml.ScalarNode, text, (plain, False)))  # type: ignore[no-untyped-call]
    assert tag is not None
    return (tag, *_construct(tag, text))


def _construct(tag: str, text: str) -> tuple[Any, str | None]:
    if tag == _STR:
        return text, None
    if tag == _FLOAT:
        return _number(text)
    if tag == _INT:
        digits = text.replace("_", "").lstrip("+-")
        if len(digits) > MAX_DIGITS:
            return 0, _out_of_range(text)
        value = _SCALARS.construct_yaml_int(yaml.ScalarNode(tag, text))
        return value, (_out_of_range(text) if abs(value) >= 10**MAX_EXPONENT else None)
    if tag == _BOOL:
        return _SCALARS.construct_yaml_bool(yaml.ScalarNode(tag, text)), None
    if tag == _NULL:
        return None, None
    return text, None  # timestamps, binary and unknown tags stay text


def _number(text: str) -> tuple[Any, str | None]:
    # Keep the digits the user wrote: 99.9 must not become 99.90000000000000568.
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        # .inf, .nan (and YAML 1.1's sexagesimal 1:30.5, which is finite)
        number = float(_SCALARS.construct_yaml_float(yaml.ScalarNode(_FLOAT, text)))
        if not math.isfinite(number):
            return number, f"must be a finite number, got {text}"
        value = Decimal(str(number))
    digits = value.as_tuple().digits
    too_precise = len(digits) > MAX_DIGITS
    too_big = value != 0 and abs(value.adjusted()) > MAX_EXPONENT
    return value, (_out_of_range(text) if too_precise or too_big else None)


def _out_of_range(text: str) -> str:
    return (
        f"number {text[:40]} is out of range: at most {MAX_DIGITS} significant digits, "
        f"between 1e-{MAX_EXPONENT} and 1e{MAX_EXPONENT}"
    )


# -- nodes -> values ------------------------------------------------------------------


class _Builder:
    """Turns one composed node graph into Python values plus a position index."""

    def __init__(self, file: str, index: int) -> None:
        self.file = file
        self.index = index
        self.budget = MAX_VALUES_PER_DOCUMENT
        self.out = Document(file, index, Position(1, 1), None)
        # Problems already reported: an alias repeats its node's values, not their problems.
        self.reported: set[int] = set()
        self.reported_keys: set[tuple[int, str]] = set()
        self.positions = self.out.positions

    def document(self, root: _Node) -> Document:
        document = self.out  # the document being built
        document.start = Position(*_line_column(root))
        document.data = self._value(root, ())
        return document

    def _value(self, node: _Node, path: PathKey) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _Refused(
                *_line_column(node),
                f"document expands to more than {MAX_VALUES_PER_DOCUMENT} values "
                "(YAML aliases nested too deeply?); refused",
            )
        if len(path) > MAX_DEPTH:
            raise _Refused(
                *_line_column(node), f"YAML nesting deeper than {MAX_DEPTH} levels; refused"
            )
        if isinstance(node, tuple):
            self.positions[path] = Position(node[0], node[1])
            if node[5] is not None:
                self._value_problem(node, path)
            return node[4]
        self.positions[path] = Position(node.line, node.column)
        if isinstance(node, _Mapping):
            return self._mapping(node, path)
        return [self._value(item, (*path, i)) for i, item in enumerate(node.items)]

    def _value_problem(self, node: _ScalarNode, path: PathKey) -> None:
        self.out.taint(path)
        if self.out.problems_full():
            self.out.unlisted += 1
        elif id(node) not in self.reported:
            self.reported.add(id(node))
            assert node[5] is not None
            self.out.problems.append(self.out.problem(path, node[5]))

    def _mapping(
        self, node: _Mapping, path: PathKey, *, skip: frozenset[str] = frozenset()
    ) -> dict[str, Any]:
        """The mapping's values; keys in ``skip`` (already written explicitly) are not built,
        so a merged-in value never takes the position of the one that overrides it."""
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        merged: list[_Mapping] = []
        for key_node, value_node in node.pairs:
            if isinstance(key_node, tuple) and key_node[3] == _MERGE:
                sources = value_node.items if isinstance(value_node, _Sequence) else [value_node]
                merged.extend(s for s in sources if isinstance(s, _Mapping))
                continue
            key = key_node[2] if isinstance(key_node, tuple) else "[a complex key]"
            key_at = Position(*_line_column(key_node))
            if key in first_seen:
                if self.out.problems_full():
                    self.out.unlisted += 1
                elif (id(node), key) not in self.reported_keys:
                    self.reported_keys.add((id(node), key))
                    self.out.problems.append(
                        Problem(
                            self.file,
                            key_at.line,
                            key_at.column,
                            format_path((*path, key)),
                            f"duplicate key {key!r} (first written at line {first_seen[key].line})",
                        )
                    )
                self.out.taint((*path, key))
                continue
            first_seen[key] = key_at
            if key in skip:
                continue
            self.out.key_positions[(*path, key)] = key_at
            result[key] = self._value(value_node, (*path, key))
        # YAML merge keys (<<: *defaults): explicit keys win over merged ones, and an
        # earlier merged mapping over a later one.
        for source in merged:
            result.update(self._mapping(source, path, skip=skip | frozenset(result)))
        return result
