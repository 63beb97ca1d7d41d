from decimal import ROUND_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hummingbot.connector.exchange.stellar.stellar_amounts import (
    STROOP,
    StellarAmountError,
    from_stroops,
    price_to_rational,
    quantize_price,
    stroops_str,
    to_stroops,
)
from hummingbot.connector.exchange.stellar.stellar_constants import DECIMALS, INT32_MAX, INT64_MAX

stroops_values = st.integers(min_value=0, max_value=INT64_MAX)


@given(stroops_values)
def test_stroops_round_trip_for_every_7_decimal_amount(stroops):
    amount = from_stroops(stroops)
    assert to_stroops(amount) == stroops
    assert Decimal(stroops_str(stroops)) == amount


@given(stroops_values)
def test_stroops_str_has_exactly_7_decimals(stroops):
    text = stroops_str(stroops)
    whole, frac = text.split(".")
    assert len(frac) == 7 and whole.isdigit()


def test_one_stroop():
    assert STROOP == Decimal("0.0000001") == from_stroops(1)
    assert STROOP.as_tuple().exponent == -DECIMALS
    assert to_stroops(STROOP) == 1


def test_to_stroops_examples():
    assert to_stroops(Decimal("1")) == 10_000_000
    assert to_stroops(Decimal("0.0000001")) == 1
    assert to_stroops(Decimal("100.50")) == 1_005_000_000
    assert to_stroops(Decimal("-0")) == 0
    assert to_stroops("2.5") == 25_000_000
    assert stroops_str(to_stroops(Decimal("100"))) == "100.0000000"
    assert stroops_str(1) == "0.0000001"


@pytest.mark.parametrize("amount, rule", [
    (Decimal("0.00000001"), "more than 7 decimal places"),
    (Decimal("1.000000000000000000000000000001"), "more than 7 decimal places"),
    (Decimal("-1"), "negative"),
    (Decimal("NaN"), "not a finite"),
    (Decimal("Infinity"), "not a finite"),
    (Decimal("922337203685.4775808"), "maximum"),
    (Decimal("1E+30"), "maximum"),
])
def test_to_stroops_rejects_with_the_amount_and_the_rule(amount, rule):
    with pytest.raises(StellarAmountError) as info:
        to_stroops(amount)
    assert rule in str(info.value)
    assert str(amount) in str(info.value)


def test_to_stroops_rejects_non_numbers():
    with pytest.raises(StellarAmountError, match="not a number"):
        to_stroops("ten")
    with pytest.raises(StellarAmountError):
        to_stroops(None)


def test_largest_amount_is_accepted():
    assert to_stroops(Decimal("922337203685.4775807")) == INT64_MAX


def test_quantize_price_rounds_to_nearest_stroop_or_as_asked():
    assert quantize_price(Decimal("1.23456789")) == Decimal("1.2345679")
    assert quantize_price(Decimal("1.23456785")) == Decimal("1.2345678")     # half to even
    assert quantize_price(Decimal("1.23456781"), ROUND_UP) == Decimal("1.2345679")
    assert to_stroops(quantize_price(Decimal("3.141592653589793"))) == 31_415_927


@given(st.integers(min_value=1, max_value=INT32_MAX * 10_000_000))
def test_price_to_rational_is_within_int32(stroops):
    # Any 7-decimal price from 1e-7 up to INT32_MAX (the largest a rational of int32s can be)
    n, d = price_to_rational(from_stroops(stroops))
    assert 0 < n <= INT32_MAX and 0 < d <= INT32_MAX


@given(st.integers(min_value=1, max_value=INT32_MAX))
def test_price_to_rational_is_exact_when_representable(stroops):
    # Every 7-decimal price up to INT32_MAX / 1e7 has the exact form stroops / 1e7 within int32.
    price = from_stroops(stroops)
    n, d = price_to_rational(price)
    assert Decimal(n) / Decimal(d) == price


@given(st.integers(min_value=1, max_value=INT32_MAX), st.integers(min_value=1, max_value=INT32_MAX))
def test_price_to_rational_approximates_closely(n, d):
    price = Decimal(n) / Decimal(d)
    got_n, got_d = price_to_rational(price)
    assert 0 < got_n <= INT32_MAX and 0 < got_d <= INT32_MAX
    approx = Decimal(got_n) / Decimal(got_d)
    assert abs(approx - price) <= price * Decimal("1e-6") + Decimal("1e-9")


def test_price_to_rational_examples():
    assert price_to_rational(Decimal("0.5")) == (1, 2)
    assert price_to_rational(Decimal("2")) == (2, 1)
    assert price_to_rational(Decimal("0.0000001")) == (1, 10_000_000)
    assert price_to_rational(Decimal("300000.0000001")) != (3_000_000_000_001, 10_000_000)


@pytest.mark.parametrize("price", [Decimal("0"), Decimal("-1"), Decimal("NaN"), Decimal("Infinity")])
def test_price_to_rational_rejects_non_positive(price):
    with pytest.raises(StellarAmountError, match="positive"):
        price_to_rational(price)


def test_price_to_rational_rejects_prices_outside_int32():
    with pytest.raises(StellarAmountError, match="int32"):
        price_to_rational(Decimal(INT32_MAX) * 2)
    with pytest.raises(StellarAmountError, match="int32"):
        price_to_rational(Decimal("1e-12"))
