"""Prices the SDEX has no order type for: a MARKET order's worst price, a LIMIT_MAKER's cross check.

Stellar has no market order and no post-only flag. A MARKET order is a path payment to ourselves
(`stellar_path_payments`) whose price bound is the book's price for its size, moved by the slippage
against us: it fills in full within the bound, on the book or a liquidity pool, or fails; a LIMIT_MAKER
is a passive offer refused before submission if it would cross the book we see.
"""
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any, Optional

from hummingbot.core.data_type.common import TradeType
from hummingbot.core.data_type.order_book import OrderBook

from hummingbot.connector.exchange.stellar.stellar_amounts import STROOP, quantize_price


def market_price_bound(book: Optional[OrderBook], trading_pair: str, trade_type: TradeType, amount: Decimal,
                       slippage: Decimal, reference: Optional[Decimal] = None) -> Decimal:
    """The worst price a MARKET order accepts: the `reference` price the strategy gave (Hummingbot's executors
    pass the mid or last price) or else the book's price for `amount`, moved by `slippage` against us. A book
    that shows a liquidity pool beside the offers gives the price of the better venue for all of `amount`
    (`single_venue_price`: a path payment takes one venue for the whole hop), not their merged depth's.
    ValueError when there is no reference and that side of the book is empty."""
    is_buy = trade_type is TradeType.BUY
    book_price = reference if reference is not None and _positive(reference) else None
    single_venue = getattr(book, "single_venue_price", None)
    if book_price is None and single_venue is not None:
        book_price = single_venue(is_buy, float(amount))
    if book_price is None and book is not None:
        try:
            book_price = book.get_price_for_volume(is_buy, float(amount)).result_price
            if not _positive(book_price):
                # The book holds less than `amount`: price at its deepest level, take what there is.
                book_price = _deepest_price(book, is_buy)
        except (ValueError, OSError):   # that side of the book is empty
            book_price = None
    if not _positive(book_price):
        raise ValueError(f"No {'ask' if is_buy else 'bid'} in the {trading_pair} book to price a MARKET order")
    book_price = Decimal(str(book_price))
    if is_buy:
        return quantize_price(book_price * (1 + slippage), ROUND_UP)
    bound = quantize_price(book_price * (1 - slippage), ROUND_DOWN)
    return bound if bound > 0 else STROOP


def check_maker_price(book: Optional[OrderBook], trading_pair: str, trade_type: TradeType, price: Decimal) -> None:
    """ValueError if a LIMIT_MAKER at `price` would cross the best opposite price of `book`."""
    if book is None:
        return   # no book tracked: the passive offer still never takes offers at its own price
    is_buy = trade_type is TradeType.BUY
    try:
        best = book.get_price(is_buy)   # best ask for a buy, best bid for a sell
    except OSError:
        return   # that side of the book is empty: nothing to cross
    if best == best and (price >= Decimal(str(best)) if is_buy else price <= Decimal(str(best))):
        side = "ask" if is_buy else "bid"
        raise ValueError(f"LIMIT_MAKER {trade_type.name} at {price} would cross the best {side} {best} "
                         f"of {trading_pair}")


def _deepest_price(book: OrderBook, is_buy: bool) -> Optional[float]:
    """The worst price on the asks (for a buy) or the bids (for a sell); None if that side is empty."""
    deepest = None
    for row in (book.ask_entries() if is_buy else book.bid_entries()):
        deepest = row.price
    return deepest


def _positive(price: Any) -> bool:
    """A usable book price: a finite number above zero (the book answers NaN when it cannot price)."""
    return price is not None and Decimal(str(price)).is_finite() and price > 0
