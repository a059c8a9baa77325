"""Exact numbers and the one way perfdash prints them: never float noise."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction

import promql_parser
import pytest
from hypothesis import given
from hypothesis import strategies as st

from perfdash.numbers import (
    format_decimal,
    fraction_to_decimal,
    human_number,
    is_terminating,
    promql_number,
)

FLOAT_NOISE = re.compile(r"0{6,}|9{6,}")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("99.9"), "99.9"),
        (Decimal("99.90"), "99.9"),
        (Decimal("1E+2"), "100"),
        (Decimal("100.000"), "100"),
        (Decimal("0.0010"), "0.001"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("-0.5"), "-0.5"),
        (Decimal("0"), "0"),
        (42, "42"),
    ],
)
def test_format_decimal_prints_the_shortest_exact_positional_form(
    value: Decimal | int, text: str
) -> None:
    assert format_decimal(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(72, 5), "14.4"),
        (Fraction(6), "6"),
        (Fraction(1, 1000), "0.001"),
        (Fraction(336, 25), "13.44"),
        (Fraction(9, 625), "0.0144"),
        (Fraction(1, 1024), "0.0009765625"),
        (Fraction(14, 15), "(14 / 15)"),
        (Fraction(1, 3), "(1 / 3)"),
        (Fraction(-2, 3), "(-2 / 3)"),
        (Decimal("0.001"), "0.001"),
        (3, "3"),
    ],
)
def test_promql_number_is_a_decimal_when_it_ends_and_a_division_when_not(
    value: Fraction | Decimal | int, text: str
) -> None:
    assert promql_number(value) == text


def test_the_workbook_threshold_of_a_999_slo_prints_without_noise() -> None:
    factor = Fraction(Decimal("0.02")) * (30 * 86400) / 3600
    budget = (Decimal(100) - Decimal("99.9")) / 100
    assert f"{promql_number(factor)} * {promql_number(budget)}" == "14.4 * 0.001"
    assert promql_number(factor * Fraction(budget)) == "0.0144"


@pytest.mark.parametrize(
    ("value", "terminating"),
    [(Fraction(1, 8), True), (Fraction(7, 20), True), (Fraction(1, 3), False), (Fraction(5), True)],
)
def test_is_terminating_knows_which_fractions_end(value: Fraction, terminating: bool) -> None:
    assert is_terminating(value) is terminating


def test_fraction_to_decimal_refuses_a_fraction_that_never_ends() -> None:
    with pytest.raises(ValueError, match=r"^14/15 has no finite decimal expansion$"):
        fraction_to_decimal(Fraction(14, 15))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Fraction(14, 15), "0.9333"),
        (Fraction(2, 3), "0.6667"),
        (Fraction(72, 5), "14.4"),
        (Decimal("99.95"), "99.95"),
        (Decimal("0.000123456"), "0.0001235"),
        (0.1 + 0.2, "0.3"),
        (180000.0, "180000"),
        (0, "0"),
        (1234, "1234"),
    ],
)
def test_human_number_rounds_to_four_significant_digits(
    value: Fraction | Decimal | int | float, text: str
) -> None:
    assert human_number(value) == text


def test_human_number_takes_the_digits_it_is_asked_for() -> None:
    assert human_number(Fraction(14, 15), digits=2) == "0.93"


def _value_of(text: str) -> Fraction:
    """Read back what promql_number printed: ``(n / d)`` or a decimal literal."""
    division = re.fullmatch(r"\((-?\d+) / (\d+)\)", text)
    if division:
        return Fraction(int(division[1]), int(division[2]))
    return Fraction(Decimal(text))


@given(
    st.builds(
        Fraction,
        st.integers(min_value=-10_000, max_value=10_000),
        st.integers(min_value=1, max_value=1_000),
    )
)
def test_promql_number_reads_back_as_the_same_value_and_has_no_float_noise(
    value: Fraction,
) -> None:
    text = promql_number(value)
    assert _value_of(text) == value
    assert not FLOAT_NOISE.search(text), text
    assert "e" not in text.lower()
    promql_parser.parse(text)  # and Prometheus can read it


@given(st.decimals(allow_nan=False, allow_infinity=False, places=6))
def test_format_decimal_reads_back_as_the_same_decimal(value: Decimal) -> None:
    text = format_decimal(value)
    assert Decimal(text) == value
    assert "e" not in text.lower()
