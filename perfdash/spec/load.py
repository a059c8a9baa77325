"""Read declaration files into plain documents that remember where every value came from.

PyYAML composes a node graph with line/column marks; we walk it ourselves so that
each value keeps its position, numbers keep their exact text (``99.9`` becomes
``Decimal('99.9')``), duplicate keys are an error instead of a silent overwrite, and
alias expansion is bounded (a "billion laughs" document is refused after a fixed
number of nodes, in bounded memory, instead of exhausting it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from perfdash.errors import Problem, SpecError

# Bound on the values built from one document, counting each alias expansion: a real
# declaration has a few hundred; 1000 services in one multi-document file stay far below.
MAX_NODES_PER_DOCUMENT = 100_000
MAX_DEPTH = 64
YAML_SUFFIXES = (".yaml", ".yml")

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALARS = yaml.SafeLoader(b"")  # only for its constructors of ints, bools and nulls

PathKey = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Position:
    line: int
    column: int


@dataclass
class Document:
    """One YAML document: its data, and the position of every value and mapping key."""

    file: str
    index: int
    start: Position
    data: Any
    positions: dict[PathKey, Position] = field(default_factory=dict)
    key_positions: dict[PathKey, Position] = field(default_factory=dict)

    def position(self, path: Iterable[str | int], *, key: bool = False) -> Position:
        """Where ``path`` is written; the nearest enclosing value when it is absent."""
        current: PathKey = tuple(path)
        if key and current in self.key_positions:
            return self.key_positions[current]
        while current:
            if current in self.positions:
                return self.positions[current]
            current = current[:-1]
        return self.positions.get((), self.start)

    def problem(self, path: Iterable[str | int], message: str, *, key: bool = False) -> Problem:
        path = tuple(path)
        where = self.position(path, key=key)
        return Problem(self.file, where.line, where.column, format_path(path), message)


def format_path(path: Iterable[str | int]) -> str:
    """``('spec', 'slos', 1, 'objective')`` -> ``spec.slos[1].objective``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def find_declaration_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and folder trees into a sorted, de-duplicated list of YAML files."""
    found: dict[Path, None] = {}
    problems = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.suffix in YAML_SUFFIXES and child.is_file():
                    found[child] = None
        elif path.is_file():
            found[path] = None
        else:
            problems.append(Problem(str(path), 0, 0, "", "no such file or directory"))
    if problems:
        raise SpecError(problems)
    return sorted(found)


def load_file(path: Path, *, display_name: str | None = None) -> list[Document]:
    """Parse every document of one file. Raises SpecError on YAML errors."""
    name = display_name or str(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise SpecError([Problem(name, 0, 0, "", f"cannot read: {exc.strerror}")]) from exc
    return load_text(text, name)


def load_text(text: str | bytes, file: str) -> list[Document]:
    """Parse YAML ``text`` (one or more documents) named ``file`` in messages."""
    documents: list[Document] = []
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=_Loader)):
            if node is None:
                continue
            documents.append(_Builder(file, index).document(node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        raise SpecError([Problem(file, line, column, "", f"YAML syntax error: {message}")]) from exc
    except yaml.YAMLError as exc:
        raise SpecError([Problem(file, 0, 0, "", f"YAML error: {exc}")]) from exc
    except RecursionError as exc:
        raise SpecError([Problem(file, 0, 0, "", "YAML nesting is too deep")]) from exc
    return documents


class _TooBig(Exception):
    def __init__(self, node: yaml.Node, reason: str) -> None:
        self.node = node
        self.reason = reason


class _Builder:
    """Turns one composed node graph into Python values plus a position index."""

    def __init__(self, file: str, index: int) -> None:
        self.file = file
        self.index = index
        self.budget = MAX_NODES_PER_DOCUMENT
        self.problems: list[Problem] = []
        self.positions: dict[PathKey, Position] = {}
        self.key_positions: dict[PathKey, Position] = {}

    def document(self, root: yaml.Node) -> Document:
        start = _position(root)
        try:
            data = self._value(root, ())
        except _TooBig as exc:
            where = _position(exc.node)
            raise SpecError(
                [Problem(self.file, where.line, where.column, "", exc.reason)]
            ) from None
        if self.problems:
            raise SpecError(self.problems)
        return Document(self.file, self.index, start, data, self.positions, self.key_positions)

    def _value(self, node: yaml.Node, path: PathKey) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooBig(
                node,
                f"document expands to more than {MAX_NODES_PER_DOCUMENT} values "
                "(YAML aliases nested too deeply?); refused",
            )
        if len(path) > MAX_DEPTH:
            raise _TooBig(node, f"YAML nesting deeper than {MAX_DEPTH} levels; refused")
        self.positions[path] = _position(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item, (*path, i)) for i, item in enumerate(node.value)]
        return _scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        merged: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = (
                    value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                )
                merged.extend(s for s in sources if isinstance(s, yaml.MappingNode))
                continue
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
            key_at = _position(key_node)
            if key in first_seen:
                earlier = first_seen[key]
                self.problems.append(
                    Problem(
                        self.file,
                        key_at.line,
                        key_at.column,
                        format_path((*path, key)),
                        f"duplicate key {key!r} (first written at line {earlier.line})",
                    )
                )
                continue
            first_seen[key] = key_at
            self.key_positions[(*path, key)] = key_at
            result[key] = self._value(value_node, (*path, key))
        # YAML merge keys (<<: *defaults): explicit keys win over merged ones.
        for source in merged:
            for key, value in self._mapping(source, path).items():
                result.setdefault(key, value)
        return result


def _position(node: yaml.Node) -> Position:
    mark = node.start_mark
    return Position(mark.line + 1, mark.column + 1)


def _scalar(node: yaml.ScalarNode) -> Any:
    tag = node.tag
    if tag == "tag:yaml.org,2002:str":
        return node.value
    if tag == "tag:yaml.org,2002:float":
        # Keep the digits the user wrote: 99.9 must not become 99.90000000000000568.
        try:
            return Decimal(node.value.replace("_", ""))
        except InvalidOperation:
            return Decimal(str(_SCALARS.construct_yaml_float(node)))
    if tag == "tag:yaml.org,2002:int":
        return _SCALARS.construct_yaml_int(node)
    if tag == "tag:yaml.org,2002:bool":
        return _SCALARS.construct_yaml_bool(node)
    if tag == "tag:yaml.org,2002:null":
        return None
    return node.value


def load_documents(paths: Iterable[Path], *, root: Path | None = None) -> list[Document]:
    """Load every document of every file, reporting the problems of all files at once."""
    problems: list[Problem] = []
    documents: list[Document] = []
    for path in paths:
        name = _display_name(path, root)
        try:
            documents.extend(load_file(path, display_name=name))
        except SpecError as exc:
            problems.extend(exc.problems)
    if problems:
        raise SpecError(problems)
    return documents


def _display_name(path: Path, root: Path | None) -> str:
    base = root or Path.cwd()
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)
