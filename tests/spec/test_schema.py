"""The compiled (fastjsonschema) validator and jsonschema agree on what is valid.

perfdash asks the compiled validator first and skips jsonschema when it says a document
is valid, so it must never accept what jsonschema rejects. Documents here are the example
fleet's, mutated at random: a field removed, replaced by a value of another type, or an
unknown field added.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import fastjsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfdash.spec.load import load_documents
from perfdash.spec.schema import _is_valid, _validator
from tests.conftest import REPO

EXAMPLES = [d.data for d in load_documents(sorted((REPO / "slos").rglob("*.yaml")), root=REPO)]

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.decimals(min_value=Decimal("-1"), max_value=Decimal("200"), places=2),
    st.sampled_from(
        [
            *["", "x", "99.9", "30d", "5m", "page", "ticket", "a b", "5..", "[", "{{ window }}"],
            *["checkout\n", "30d\n", "route\n", "x\x1b[2J", "https://x\n"],
        ]
    ),
    st.lists(st.sampled_from(["route", "x", ""]), max_size=2),
    st.dictionaries(st.sampled_from(["total", "bad", "x", "job"]), st.just("x"), max_size=2),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _mutate(document: dict[str, Any], path: tuple[Any, ...], action: str, value: Any) -> Any:
    mutated = copy.deepcopy(document)
    parent = mutated
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "remove" and isinstance(parent, dict):
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent["unexpected_field"] = value
    else:
        parent[last] = value
    return mutated


def _fast_accepts(data: Any) -> bool:
    try:
        _is_valid()(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def test_every_example_document_is_valid_for_both() -> None:
    assert EXAMPLES
    for data in EXAMPLES:
        assert _fast_accepts(data)
        assert not list(_validator().iter_errors(data))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_compiled_validator_never_accepts_what_jsonschema_rejects(data: st.DataObject) -> None:
    document = data.draw(st.sampled_from(EXAMPLES))
    path = data.draw(st.sampled_from(_paths(document)))
    action = data.draw(st.sampled_from(["remove", "replace", "add"]))
    mutated = _mutate(document, path, action, data.draw(VALUES))
    full = not list(_validator().iter_errors(mutated))
    assert _fast_accepts(mutated) == full, (path, action)


def test_a_dollar_ends_the_text_for_both_validators() -> None:
    """JSON Schema patterns are ECMA-262: ``$`` does not match before a final newline."""
    document = copy.deepcopy(EXAMPLES[0])
    document["metadata"]["name"] = "checkout\n"
    assert not _fast_accepts(document)
    assert [e.validator for e in _validator().iter_errors(document)] == ["pattern"]
    document["metadata"]["name"] = "checkout"
    assert _fast_accepts(document)
    assert not list(_validator().iter_errors(document))
