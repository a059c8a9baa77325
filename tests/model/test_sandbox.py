"""Annotation templates are refused, not run to exhaustion, when they ask too much.

Each hostile template of issue 12 (and its cousins) must end in AnnotationTemplateError
with a message saying which limit it hit, using little memory; ordinary templates keep
working. Memory is measured with tracemalloc (Python allocations, which is where a
runaway template's values live).
"""

from __future__ import annotations

import tracemalloc
from typing import Any

import pytest

from perfdash.model import templates
from perfdash.model.sandbox import MAX_OUTPUT_CHARS, MAX_STEPS

CONTEXT: dict[str, Any] = {
    "service": "checkout",
    "slo": "availability",
    "grouping": ["route", "method"],
    "labels": {"env": "prod"},
    "factor": "14.4",
}
TOO_BIG = "would be larger than 16384 characters; refused"
TOO_LONG = (
    f"stopped after {MAX_STEPS} steps (loop iterations, calls and lookups): "
    "annotation templates must stay small"
)

HOSTILE = [
    ("[[ 'x' * 2000000000 ]]", f"a repeated value {TOO_BIG}"),
    ("[[ 9**99999 ]]", "9 ** 99999 is too large a number; refused"),
    ("[[ 10**4000 ]]", "10 ** 4000 is too large a number; refused"),
    (
        "[% for i in range(100000) %][% for j in range(100000) %]x[% endfor %][% endfor %]",
        "range(0, 100000) has more than 10000 numbers: more steps than allowed",
    ),
    (
        "[% for i in 'x' * 9999 %][% for j in 'x' * 9999 %]x[% endfor %][% endfor %]",
        TOO_LONG,
    ),
    (
        "[[ range(10**9)|list ]]",
        "range(0, 1000000000) has more than 10000 numbers: more steps than allowed",
    ),
    ("[% for i in range(9999) %][% for j in range(9999) %][% endfor %][% endfor %]", TOO_LONG),
    (
        "[% macro f(n) %][% if n > 0 %][[ f(n-1) ]][[ f(n-1) ]][% endif %][% endmacro %][[ f(40) ]]",
        TOO_LONG,
    ),
    (
        "[% macro f() %][[ f() ]][% endmacro %][[ f() ]]",
        "a macro or recursive loop calls itself without end (recursion too deep)",
    ),
    (
        "[% for x in 'ab' recursive %][[ loop('ab') ]][% endfor %]",
        "a macro or recursive loop calls itself without end (recursion too deep)",
    ),
    (
        "[% set ns = namespace(s='x' * 1000) %][% for i in range(40) %]"
        "[% set ns.s = ns.s ~ ns.s %][% endfor %]",
        f"a concatenation {TOO_BIG}",
    ),
    ("[[ 'x'|center(2000000000) ]]", "width 2000000000 is too large; refused"),
    ("[[ 'x'|indent(2000000000) ]]", f"an indented text {TOO_BIG}"),
    ("[[ [1]|batch(1000000000, 'x')|list ]]", "linecount 1000000000 is too large; refused"),
    ("[[ 'a b c'|replace(' ', 'y' * 10000) ]]", f"a replaced text {TOO_BIG}"),
    ("[[ ('x' * 16000)|list|join('y' * 16000) ]]", f"a value {TOO_BIG}"),
    ("[[ [('x' * 16000)] * 10000 ]]", f"a repeated value {TOO_BIG}"),
    ("[[ '%0999999999d' % 1 ]]", "format width or precision '999999999' refused"),
    ("[[ '%*d' % (5, 1) ]]", "format width or precision '*' refused"),
    ("[[ 'x'.ljust(10**9) ]]", "str.ljust is not available in annotation templates"),
    ("[[ '{:>999999999}'.format(1) ]]", "str.format is not available in annotation templates"),
    (
        "[[ (1).to_bytes(2000000000, 'big') ]]",
        "int.to_bytes is not available in annotation templates",
    ),
    ("[[ lipsum(1000000) ]]", "'lipsum' is undefined"),
    ("[[ [1, 2]|random ]]", "No filter named 'random'."),
    (
        "[% include 'other' %]",
        "annotation templates cannot extend, include or import other templates",
    ),
    ("[[ 1/0 ]]", "division by zero"),
    ("[[ service.__class__ ]]", "str.__class__ is not available in annotation templates"),
    (
        "[% for i in range(20) %]" + "x" * 1000 + "[% endfor %]",
        f"the rendered text is longer than {MAX_OUTPUT_CHARS} characters; refused",
    ),
]


@pytest.mark.parametrize(("template", "message"), HOSTILE, ids=[m for _, m in HOSTILE])
def test_a_template_asking_too_much_is_refused_in_little_memory(
    template: str, message: str
) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(templates.AnnotationTemplateError) as caught:
            templates.render(template, CONTEXT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(caught.value) == message
    assert peak < 20 * 1024 * 1024


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("[[ service ]]/[[ slo ]] burns [[ factor ]]x", "checkout/availability burns 14.4x"),
        ("[[ service|upper ]] [[ grouping|join(', ') ]]", "CHECKOUT route, method"),
        ("[% for g in grouping %][[ g ]];[% endfor %]", "route;method;"),
        (
            "[[ labels.env ]] [[ labels['env'] ]] [[ labels.items()|list ]]",
            "prod prod [('env', 'prod')]",
        ),
        ("[[ service ~ '/' ~ slo ]] [[ 'a-b'.split('-')|join('+') ]]", "checkout/availability a+b"),
        ("[[ '%.1f'|format(3.14159) ]] [[ 2**10 ]] [[ 'ab' * 2 ]]", "3.1 1024 abab"),
        ("[% if grouping %]grouped[% else %]single[% endif %]", "grouped"),
        ("[[ '{{ $labels.route }}' ]]", "{{ $labels.route }}"),
    ],
)
def test_ordinary_templates_render_as_before(template: str, expected: str) -> None:
    assert templates.render(template, CONTEXT) == expected


def test_perfdash_own_templates_render_without_the_limits_bookkeeping() -> None:
    context = {**CONTEXT, "group": "", "long": "1h", "short": "5m"}
    assert templates.render(templates.DEFAULT_SUMMARY, context) == (
        "checkout/availability is burning its error budget 14.4x too fast (1h/5m)"
    )
