"""Exact numbers and the one way perfdash prints them.

Objectives, thresholds and burn factors are ``Decimal`` or ``Fraction`` values
parsed from the YAML text, never floats, so generated PromQL reads ``14.4 * 0.001``
and not ``14.4 * 0.0009999999999999432``.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from functools import lru_cache


# The printers are pure and a fleet prints the same few numbers thousands of times.
# typed=True: 1 and Decimal(1) are equal keys, but only values of one type share a result.
@lru_cache(maxsize=4096, typed=True)
def format_decimal(value: Decimal | int) -> str:
    """Shortest exact positional form: ``Decimal('99.90')`` -> ``99.9``, ``1E+2`` -> ``100``."""
    number = Decimal(value)
    if number == number.to_integral_value():
        return str(int(number))
    # Strip trailing zeros by hand: normalize() would round to the context's 28 digits.
    return format(number, "f").rstrip("0")


def is_terminating(value: Fraction) -> bool:
    """True when ``value`` has a finite decimal expansion (denominator 2^a * 5^b)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def fraction_to_decimal(value: Fraction) -> Decimal:
    """Exact conversion; only for terminating fractions."""
    if not is_terminating(value):
        raise ValueError(f"{value} has no finite decimal expansion")
    # Scale the denominator up to a power of ten, then divide exactly.
    denominator = value.denominator
    power = 0
    while (10**power) % denominator:
        power += 1
    return Decimal(value.numerator * (10**power // denominator)).scaleb(-power)


def promql_number(value: Fraction | Decimal | int) -> str:
    """An exact PromQL literal: a decimal, or ``(n / d)`` when the decimal never ends."""
    if isinstance(value, Fraction):
        if is_terminating(value):
            return format_decimal(fraction_to_decimal(value))
        return f"({value.numerator} / {value.denominator})"
    return format_decimal(value)


@lru_cache(maxsize=4096, typed=True)
def human_number(value: Fraction | Decimal | int | float, *, digits: int = 4) -> str:
    """Rounded for people (tables, annotations): at most ``digits`` significant digits."""
    if isinstance(value, Fraction) and is_terminating(value):
        value = fraction_to_decimal(value)
    if isinstance(value, Fraction):
        number = Decimal(value.numerator) / Decimal(value.denominator)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        number = Decimal(value)
    if number == 0:
        return "0"
    rounded = round(number, max(0, digits - number.adjusted() - 1))
    return format_decimal(rounded)
