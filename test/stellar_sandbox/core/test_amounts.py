from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stellar_sandbox.core.amounts import (
    INT64_MAX,
    ROUND_NORMAL,
    ROUND_PATH_STRICT_RECEIVE,
    ROUND_PATH_STRICT_SEND,
    adjust_offer,
    big_divide,
    buy_offer_liabilities,
    check_price_error_bound,
    exchange_v10,
    exchange_v10_without_thresholds,
    format_amount,
    offer_liabilities,
    price_lt,
    price_to_str,
    to_stroops,
)


def test_format_amount_always_has_seven_decimals():
    assert format_amount(0) == "0.0000000"
    assert format_amount(1) == "0.0000001"
    assert format_amount(123_456_789) == "12.3456789"
    assert format_amount(-5) == "-0.0000005"
    assert format_amount(INT64_MAX) == "922337203685.4775807"


def test_to_stroops_parses_exact_amounts_and_rejects_finer():
    assert to_stroops("12.3456789") == 123_456_789
    assert to_stroops(Decimal("1")) == 10_000_000
    assert to_stroops(2) == 20_000_000
    with pytest.raises(ValueError, match="more than 7 decimals"):
        to_stroops("0.00000001")
    with pytest.raises(ValueError, match="not an amount"):
        to_stroops("abc")


def test_price_to_str_rounds_half_away_from_zero_like_horizon():
    assert price_to_str(1, 3) == "0.3333333"
    assert price_to_str(2, 3) == "0.6666667"
    assert price_to_str(5, 1) == "5.0000000"
    assert price_to_str(1, 20_000_000) == "0.0000001"  # exactly half a unit of the last digit rounds up
    with pytest.raises(ValueError):
        price_to_str(1, 0)


def test_price_lt_is_exact():
    assert price_lt(1, 3, 333_333_334, 1_000_000_000)
    assert not price_lt(2, 4, 1, 2)


def test_big_divide_rounding_and_overflow():
    assert big_divide(7, 3, 2, round_up=False) == 10
    assert big_divide(7, 3, 2, round_up=True) == 11
    assert big_divide(INT64_MAX, 2, 1, round_up=False) is None


def test_exchange_wheat_more_valuable_rounds_in_favour_of_the_resting_offer():
    # maker sells 100 wheat at 3/2 sheep per wheat; taker brings 10 sheep
    wheat, sheep, wheat_stays = exchange_v10(3, 2, 100, INT64_MAX, 10, INT64_MAX)
    assert wheat_stays
    assert (wheat, sheep) == (6, 9)  # 6 wheat would cost exactly 9 sheep; the 10th sheep buys nothing


def test_exchange_that_would_be_more_than_one_percent_off_does_not_trade():
    # 11 sheep: floor(22/3)=7 wheat for ceil(21/2)=11 sheep, 4.8% above the price: no trade
    assert exchange_v10(3, 2, 100, INT64_MAX, 11, INT64_MAX)[:2] == (0, 0)
    # path payments accept the maker-favouring error
    wheat, sheep, _ = exchange_v10(3, 2, 100, INT64_MAX, 11, INT64_MAX, ROUND_PATH_STRICT_SEND)
    assert (wheat, sheep) == (7, 11)


def test_exchange_taker_larger_takes_the_whole_offer():
    wheat, sheep, wheat_stays = exchange_v10(1, 2, 100, INT64_MAX, 1_000, INT64_MAX)
    assert not wheat_stays
    assert (wheat, sheep) == (100, 50)


def test_strict_receive_rounding_delivers_exactly_the_wanted_wheat():
    wheat, sheep, wheat_stays = exchange_v10(2, 3, 150, 101, INT64_MAX, INT64_MAX, ROUND_PATH_STRICT_RECEIVE)
    assert wheat_stays and wheat == 101 and sheep == 68  # ceil(101*2/3)


def test_offer_liabilities_match_stellar_core():
    assert offer_liabilities(1, 1, 100) == (100, 100)
    assert offer_liabilities(3, 2, 100) == (100, 150)
    # n <= d: buying side rounds down, selling side is what that buys back (rounded up)
    assert offer_liabilities(1, 3, 100) == (99, 33)
    assert buy_offer_liabilities(2, 1, 50) == (25, 50)


def test_adjust_offer_is_idempotent():
    amount = adjust_offer(1, 3, 100, INT64_MAX)
    assert amount == 99
    assert adjust_offer(1, 3, amount, INT64_MAX) == amount


def test_check_price_error_bound():
    assert check_price_error_bound(1, 1, 100, 100, False)
    assert check_price_error_bound(1, 1, 100, 101, False)
    assert not check_price_error_bound(1, 1, 100, 102, False)
    assert check_price_error_bound(1, 1, 100, 150, True)


prices = st.integers(min_value=1, max_value=2**31 - 1)
amounts = st.integers(min_value=1, max_value=10**15)


@settings(max_examples=300, deadline=None)
@given(n=prices, d=prices, wheat_send=amounts, wheat_recv=amounts, sheep_send=amounts, sheep_recv=amounts)
def test_exchange_never_favours_the_smaller_side_and_respects_limits(
    n, d, wheat_send, wheat_recv, sheep_send, sheep_recv
):
    wheat, sheep, wheat_stays = exchange_v10_without_thresholds(n, d, wheat_send, wheat_recv, sheep_send, sheep_recv)
    assert 0 <= wheat <= min(wheat_send, wheat_recv)
    assert 0 <= sheep <= min(sheep_send, sheep_recv)
    if wheat_stays:
        assert sheep * d >= wheat * n  # the resting wheat offer gets at least its price
    else:
        assert sheep * d <= wheat * n  # the resting sheep side gets at least its price
    wheat2, sheep2, _ = exchange_v10(n, d, wheat_send, wheat_recv, sheep_send, sheep_recv, ROUND_NORMAL)
    assert (wheat2, sheep2) in ((wheat, sheep), (0, 0))
