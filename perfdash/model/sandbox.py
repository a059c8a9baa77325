"""A Jinja2 sandbox for templates that declarations supply, bounded in time and size.

``ImmutableSandboxedEnvironment`` keeps a template away from Python's internals, not
from the machine: ``[[ 'x' * 2000000000 ]]``, ``[[ 9**99999 ]]`` or two nested loops
over ``range(100000)`` ran until memory (3.7 GB) or the interpreter gave out. Here:

- every operation that can make a value bigger (``*``, ``**``, ``+``, ``%``, ``~``, the
  filters and string methods that pad, repeat or join) checks the size of its result
  *before* making it: no value may be larger than ``MAX_VALUE_CHARS`` characters (an
  integer: ``MAX_INT_BITS`` bits);
- every loop iteration, call and attribute or item lookup takes a step from a budget of
  ``MAX_STEPS``, and the clock is checked as they go (``MAX_SECONDS``);
- the output is measured as it is produced: at most ``MAX_OUTPUT_CHARS``;
- only filters and methods whose cost is known are available (``random`` and ``lipsum``,
  which would make builds differ, are not), and templates cannot include others.

What exceeds a limit raises ``TemplateLimitError``. Realistic annotation templates use
a few dozen steps; the limits are far above them and far below harm.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from jinja2 import TemplateError, TemplateSyntaxError, nodes
from jinja2.environment import Template
from jinja2.filters import FILTERS
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_VALUE_CHARS = 16_384
MAX_OUTPUT_CHARS = 16_384
MAX_INT_BITS = 8_192  # about 2,500 digits, below Python's 4,300-digit str() limit
MAX_STEPS = 10_000
MAX_SECONDS = 5.0  # a backstop: the step budget ends runaway templates well before


class TemplateLimitError(TemplateError):
    """A template went past one of the limits above (or asked for what is not offered)."""


@dataclass
class _Budget:
    steps: int
    deadline: float


_BUDGET: ContextVar[_Budget | None] = ContextVar("perfdash_template_budget", default=None)


def _step() -> None:
    budget = _BUDGET.get()
    if budget is None:  # compile-time constant folding: sizes are still checked
        return
    budget.steps -= 1
    if budget.steps < 0:
        raise TemplateLimitError(
            f"stopped after {MAX_STEPS} steps (loop iterations, calls and lookups): "
            "annotation templates must stay small"
        )
    if budget.steps % 64 == 0 and time.monotonic() > budget.deadline:
        raise TemplateLimitError(f"stopped after {MAX_SECONDS:g} s: the template runs too long")


def _size(value: Any) -> int:
    """About ``len(str(value))``, computed without making it; stops once past the limit."""
    total = 0
    pending = [value]
    while pending and total <= MAX_VALUE_CHARS:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, bool) or item is None:
            total += 5
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            pending.extend(item)
        else:
            total += 24  # numbers, macros, namespaces...: small when printed
    return total


def _check(size: int, what: str = "a value") -> None:
    if size > MAX_VALUE_CHARS:
        raise TemplateLimitError(
            f"{what} would be larger than {MAX_VALUE_CHARS} characters; refused"
        )


def _checked(value: Any, what: str = "a value") -> Any:
    _check(_size(value), what)
    return value


# -- operators ------------------------------------------------------------------------


def _binop(operator: str, left: Any, right: Any) -> Any:
    if operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0:
            bits = right * max(abs(left), 1).bit_length()
            if bits > MAX_INT_BITS:
                raise TemplateLimitError(f"{left} ** {right} is too large a number; refused")
        return left**right
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                _check(_size(sequence) * max(times, 0), "a repeated value")
        both_ints = isinstance(left, int) and isinstance(right, int)
        if both_ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TemplateLimitError("a product too large a number; refused")
        return left * right
    if operator == "+":
        if isinstance(left, str | list | tuple):
            _check(_size(left) + _size(right), "a concatenation")
        return left + right
    if operator == "%":
        if isinstance(left, str):
            _check_format(left)
            _check(len(left) + _size(right), "a formatted string")
        return left % right
    raise AssertionError(operator)


_FORMAT_SPEC = re.compile(r"%[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_format(text: str) -> None:
    for width, precision in _FORMAT_SPEC.findall(text):
        for number in (width, precision):
            if number == "*" or (number and int(number) > MAX_VALUE_CHARS):
                raise TemplateLimitError(f"format width or precision {number!r} refused")


def _concat(*parts: Any) -> str:
    """``a ~ b``: joined only once the result is known to be small enough."""
    _check(sum(_size(part) for part in parts), "a concatenation")
    return "".join(map(str, parts))


class _Range:
    """``range()`` whose iteration takes steps from the budget."""

    def __init__(self, *args: int) -> None:
        self._range = range(*args)
        if len(self._range) > MAX_STEPS:
            raise TemplateLimitError(
                f"{self._range!r} has more than {MAX_STEPS} numbers: more steps than allowed"
            )

    def __iter__(self) -> Iterator[int]:
        for number in self._range:
            _step()
            yield number

    def __len__(self) -> int:
        return len(self._range)

    def __getitem__(self, index: int) -> int:
        return self._range[index]

    def __contains__(self, number: object) -> bool:
        return number in self._range

    def __repr__(self) -> str:
        return repr(self._range)


def _steps(iterable: Any) -> Iterator[Any]:
    """What every ``for`` loop iterates over: one step per item."""
    for item in iterable:
        _step()
        yield item


# -- filters and methods ----------------------------------------------------------------


# Filters whose cost grows only with their input; the others offered have a check of
# their own below. Not offered: random (builds must not differ), format of objects...
def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_PLAIN_FILTERS = _names(
    "abs attr capitalize count d default dictsort e escape filesizeformat first float "
    "forceescape groupby int items last length list lower map max min pprint reject "
    "rejectattr reverse round safe select selectattr sort string striptags sum title trim "
    "truncate unique upper urlencode urlize wordcount xmlattr"
)


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _width_check(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> None:
    width = _arg(args, kwargs, index, name)
    if isinstance(width, int) and abs(width) > MAX_VALUE_CHARS:
        raise TemplateLimitError(f"{name} {width} is too large; refused")


def _before(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse the arguments that would make an oversized result."""
    first = args[0] if args else ""
    if name in ("center", "wordwrap"):
        _width_check(args, kwargs, 1, "width")
    if name == "wordwrap":
        wrap = _arg(args, kwargs, 3, "wrapstring") or "\n"
        _check(_size(first) * (1 + len(str(wrap))), "a wrapped text")
    if name == "indent":
        width = _arg(args, kwargs, 1, "width")
        width = len(width) if isinstance(width, str) else (width or 4)
        _check(_size(first) + (str(first).count("\n") + 1) * abs(width), "an indented text")
    if name in ("batch", "slice"):
        _width_check(args, kwargs, 1, "linecount" if name == "batch" else "slices")
    if name == "tojson":
        _width_check(args, kwargs, 1, "indent")
    if name == "format":
        _check_format(str(first))
    if name == "replace":
        _check_replace(str(first), *(str(a) for a in args[1:3]))
    if name == "join":
        items = list(first)
        separator = str(_arg(args, kwargs, 2, "d") or "")
        total = sum(_size(item) for item in items) + len(separator) * max(len(items) - 1, 0)
        _check(total, "a joined text")


def _check_replace(text: str, old: str = "", new: str = "") -> None:
    count = len(text) + 1 if old == "" else text.count(old)
    _check(len(text) + count * max(len(new) - len(old), 0), "a replaced text")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    # Jinja passes the context, eval context or environment first to filters marked so.
    passed = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @wraps(function)  # keeps that mark
    def bounded(*args: Any, **kwargs: Any) -> Any:
        _step()
        head, values = args[:passed], args[passed:]
        for value in (*values, *kwargs.values()):
            _checked(value)
        if name == "join" and values and not isinstance(values[0], str):
            values = (list(values[0]), *values[1:])  # consumed once, by the check and the join
        _before(name, values, kwargs)
        return _checked(function(*head, *values, **kwargs))

    return bounded


def _filters() -> dict[str, Callable[..., Any]]:
    offered = (*_PLAIN_FILTERS, "batch", "center", "format", "indent", "join", "replace")
    offered += ("slice", "tojson", "wordwrap")
    return {name: _bounded_filter(name, FILTERS[name]) for name in offered}


# Methods of built-in values a template may call; others (ljust, zfill, to_bytes,
# format...) could make huge values or are not needed.
_METHODS: dict[type, frozenset[str]] = {
    str: frozenset(
        _names(
            "capitalize casefold count endswith find index isalnum isalpha isdecimal isdigit "
            "islower isnumeric isspace istitle isupper join lower lstrip partition "
            "removeprefix removesuffix replace rfind rindex rpartition rsplit rstrip split "
            "splitlines startswith strip swapcase title upper"
        )
    ),
    dict: frozenset(["get", "items", "keys", "values"]),
    list: frozenset(["count", "index"]),
    tuple: frozenset(["count", "index"]),
    int: frozenset(["bit_length", "real", "imag", "numerator", "denominator"]),
    float: frozenset(["is_integer", "real", "imag"]),
}


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with the limits above; compile templates with ``compile_bounded``."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=lambda value: _checked(value, "a printed value"), **options)
        self.filters = _filters()
        self.globals = {
            "range": _Range,
            "dict": dict,
            "namespace": self.globals["namespace"],
            "cycler": self.globals["cycler"],
            "joiner": self.globals["joiner"],
            "__pd_steps": _steps,
            "__pd_concat": _concat,
        }

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _step()
        return _binop(operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _step()
        allowed = next((names for kind, names in _METHODS.items() if isinstance(obj, kind)), None)
        if allowed is not None and attribute not in allowed and hasattr(obj, attribute):
            raise TemplateLimitError(
                f"{type(obj).__name__}.{attribute} is not available in annotation templates"
            )
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _step()
        return super().getitem(obj, argument)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _step()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str) and getattr(__obj, "__name__", "") == "replace":
            _check_replace(owner, *(str(a) for a in args[:2]))
        if isinstance(owner, str) and getattr(__obj, "__name__", "") == "join":
            items = list(args[0]) if args else []
            _check(sum(map(_size, items)) + len(owner) * len(items), "a joined text")
            args = (items, *args[1:])
        for value in (*args, *kwargs.values()):
            _checked(value)
        return _checked(super().call(__context, __obj, *args, **kwargs))


def compile_bounded(environment: BoundedEnvironment, source: str) -> Template:
    """``environment.from_string`` with every loop counted and every ``~`` checked."""
    tree = environment.parse(source)
    for node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)):
        raise TemplateSyntaxError(
            "annotation templates cannot extend, include or import other templates",
            node.lineno,
        )
    _rewrite(tree)
    code = environment.compile(tree)
    return environment.template_class.from_code(
        environment, code, environment.make_globals(None), None
    )


def _rewrite(node: nodes.Node) -> nodes.Node:
    for field in node.fields:
        value = getattr(node, field, None)
        if isinstance(value, nodes.Node):
            setattr(node, field, _rewrite(value))
        elif isinstance(value, list):
            setattr(node, field, [_rewrite(v) if isinstance(v, nodes.Node) else v for v in value])
    if isinstance(node, nodes.For):
        node.iter = _call("__pd_steps", [cast(nodes.Expr, node.iter)], node.lineno)
    if isinstance(node, nodes.Concat):
        return _call("__pd_concat", node.nodes, node.lineno)
    return node


def _call(name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
    call = nodes.Call(nodes.Name(name, "load"), args, [], None, None)
    call.set_lineno(lineno)
    return call


def render_bounded(template: Template, context: dict[str, Any]) -> str:
    """Render within the budget; the output is measured chunk by chunk."""
    token = _BUDGET.set(_Budget(MAX_STEPS, time.monotonic() + MAX_SECONDS))
    try:
        chunks = []
        produced = 0
        for chunk in template.generate(context):
            produced += len(chunk)
            if produced > MAX_OUTPUT_CHARS:
                raise TemplateLimitError(
                    f"the rendered text is longer than {MAX_OUTPUT_CHARS} characters; refused"
                )
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        _BUDGET.reset(token)


__all__ = [
    "MAX_OUTPUT_CHARS",
    "MAX_STEPS",
    "BoundedEnvironment",
    "TemplateLimitError",
    "compile_bounded",
    "render_bounded",
]
