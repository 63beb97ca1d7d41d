from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_row import OrderBookRow

from hummingbot.connector.exchange.stellar.stellar_order_pricing import check_maker_price, market_price_bound

PAIR = "XLM-USDC"
SLIPPAGE = Decimal("0.02")


def book(bids=((90.0, 10.0),), asks=((100.0, 4.0), (110.0, 6.0))) -> OrderBook:
    order_book = OrderBook()
    order_book.apply_snapshot([OrderBookRow(p, a, 1) for p, a in bids], [OrderBookRow(p, a, 1) for p, a in asks], 1)
    return order_book


def test_market_bound_is_the_price_for_the_size_moved_by_the_slippage():
    # 4 at 100 and 1 at 110: the volume-weighted price for 5 is Hummingbot's result price, 110 (its last level).
    assert market_price_bound(book(), PAIR, TradeType.BUY, Decimal("5"), SLIPPAGE) == Decimal("112.2")
    assert market_price_bound(book(), PAIR, TradeType.SELL, Decimal("5"), SLIPPAGE) == Decimal("88.2")


def test_market_order_larger_than_the_book_is_bounded_by_its_deepest_level():
    assert market_price_bound(book(), PAIR, TradeType.BUY, Decimal("25"), SLIPPAGE) == Decimal("112.2")
    assert market_price_bound(book(), PAIR, TradeType.SELL, Decimal("25"), SLIPPAGE) == Decimal("88.2")


def test_market_order_without_that_side_of_the_book_is_refused():
    with pytest.raises(ValueError, match="No ask in the XLM-USDC book"):
        market_price_bound(book(asks=()), PAIR, TradeType.BUY, Decimal("1"), SLIPPAGE)
    with pytest.raises(ValueError, match="No bid in the XLM-USDC book"):
        market_price_bound(None, PAIR, TradeType.SELL, Decimal("1"), SLIPPAGE)


def test_market_sell_bound_never_falls_to_zero():
    assert market_price_bound(book(bids=((0.0000001, 10.0),)), PAIR, TradeType.SELL, Decimal("1"),
                              Decimal("0.5")) == Decimal("0.0000001")


def test_limit_maker_that_would_cross_is_refused_and_one_that_rests_passes():
    with pytest.raises(ValueError, match="would cross the best ask 100"):
        check_maker_price(book(), PAIR, TradeType.BUY, Decimal("100"))
    with pytest.raises(ValueError, match="would cross the best bid 90"):
        check_maker_price(book(), PAIR, TradeType.SELL, Decimal("89"))
    check_maker_price(book(), PAIR, TradeType.BUY, Decimal("99.9999999"))
    check_maker_price(book(), PAIR, TradeType.SELL, Decimal("90.0000001"))
    check_maker_price(book(asks=()), PAIR, TradeType.BUY, Decimal("1000"))   # nothing to cross
    check_maker_price(None, PAIR, TradeType.BUY, Decimal("1000"))            # no book tracked


def test_market_bound_moves_a_given_reference_price_by_the_slippage_whatever_the_book():
    # Hummingbot's executors pass the mid or last price with a MARKET order: a reference, not the bound.
    assert market_price_bound(book(), PAIR, TradeType.BUY, Decimal("5"), SLIPPAGE, Decimal("100")) == Decimal("102")
    assert market_price_bound(None, PAIR, TradeType.SELL, Decimal("5"), SLIPPAGE, Decimal("100")) == Decimal("98")
    # No usable reference (NaN, zero): the book prices it.
    assert market_price_bound(book(), PAIR, TradeType.BUY, Decimal("5"), SLIPPAGE, Decimal("NaN")) == Decimal("112.2")
    assert market_price_bound(book(), PAIR, TradeType.SELL, Decimal("5"), SLIPPAGE, Decimal("0")) == Decimal("88.2")
