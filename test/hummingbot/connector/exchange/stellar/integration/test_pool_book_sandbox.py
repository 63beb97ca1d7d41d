"""The order book the strategy sees, with the pair's liquidity pool (stellar_book_liquidity), over real HTTP/SSE.

The taker keeps an ask at 0.30 and a bid at 0.20 (20 XLM each); its pool of the pair, created after the connector
started, quotes about 0.25 USDC per XLM. With "book+pool" (the default) the connector's book shows the pool's
levels for the reserves the ledger holds, follows each trade and deposit, and Hummingbot's prices (best, VWAP)
are the pool's where it is better, exactly as CAP-38's formulas price a taker (fee 30 bp):
in = ceil(X·y / ((Y − y)·0.997)) for y out, out = floor(0.997·Y·x / (X + 0.997·x)) for x in. Pool trades come
on the public trade feed either way. With "book", the book is the offers alone and no pool is followed.
"""
from decimal import Decimal
from typing import Tuple

from hummingbot.core.data_type.common import TradeType
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import OrderBookEvent
from stellar_sdk.operation import PathPaymentStrictSend

from test.hummingbot.connector.exchange.stellar.integration.conftest import PAIR, XLM, StellarMarket
from test.hummingbot.connector.exchange.stellar.integration.test_exchange_orders_sandbox import book_shows
from test.waiting import wait_until

STROOPS = 10_000_000
BUY, SELL = TradeType.BUY, TradeType.SELL
EFFECTS_ROUTE = "/liquidity_pools/{liquidity_pool_id}/effects"


def pool_in(reserve_in: int, reserve_out: int, amount_out: int) -> int:
    return -(-(10_000 * reserve_in * amount_out) // ((reserve_out - amount_out) * 9970))


def pool_out(reserve_in: int, reserve_out: int, amount_in: int) -> int:
    return 9970 * reserve_out * amount_in // (10_000 * reserve_in + 9970 * amount_in)


async def ledger_reserves(m: StellarMarket, pool_id: str) -> Tuple[int, int]:
    """(XLM, USDC) reserves in stroops, as Horizon reports the pool."""
    pool = await m.get(f"/liquidity_pools/{pool_id}")
    amounts = {r["asset"]: int(Decimal(r["amount"]) * STROOPS) for r in pool["reserves"]}
    return amounts["native"], amounts[f"USDC:{m.usdc.issuer}"]


def shown_reserves(m: StellarMarket):
    levels = m.exchange.order_books[PAIR].pool_levels
    return None if levels is None else (levels.base_reserve, levels.quote_reserve)


async def book_shows_the_ledgers_pool(m: StellarMarket, pool_id: str) -> Tuple[int, int]:
    reserves = await ledger_reserves(m, pool_id)
    await wait_until(lambda: shown_reserves(m) == reserves, what=f"the book's pool at the ledger's {reserves}")
    return reserves


async def sell_to_the_pool(m: StellarMarket, xlm: str) -> None:
    """The taker sells `xlm` XLM by a path payment to itself: the pool pays more than the 0.20 bid."""
    await m.submit(m.taker, PathPaymentStrictSend(destination=m.taker.public_key, send_asset=XLM, send_amount=xlm,
                                                  dest_asset=m.usdc, dest_min="0.0000001", path=[]))


async def test_the_book_shows_the_pools_depth_as_the_ledger_holds_it_and_follows_trades_and_deposits(
        stellar_market):
    m = stellar_market
    trades = EventLogger()
    m.exchange.order_books[PAIR].add_listener(OrderBookEvent.TradeEvent, trades)
    await m.take(SELL, "20", "0.30")
    await m.take(BUY, "20", "0.20")
    await book_shows(m, True, "0.3")
    pool_id = await m.net.provide_liquidity(m.taker, XLM, "1000", m.usdc, "250")   # after the connector started
    xlm, usdc = await book_shows_the_ledgers_pool(m, pool_id)
    feed = m.exchange._orderbook_ds.pool_feeds()[PAIR]
    assert feed.pool_id == pool_id

    # Hummingbot's prices are the pool's where it beats the offers, exactly as a taker would pay or receive.
    book = m.exchange.order_books[PAIR]
    levels = book.pool_levels
    best_ask, best_bid = book.get_price(True), book.get_price(False)
    assert (best_ask, best_bid) == (levels.best_ask, levels.best_bid)
    assert 0.25 < best_ask < 0.2508 and 0.2492 < best_bid < 0.25
    # The exchange's prices (Decimal, to the stroop): what a PMM's order book pricing reads.
    assert abs(float(m.exchange.get_price(PAIR, True)) - best_ask) < 1e-7
    assert abs(float(m.exchange.get_price(PAIR, False)) - best_bid) < 1e-7
    assert abs(float(m.exchange.get_mid_price(PAIR)) - (best_ask + best_bid) / 2) < 1e-7
    bought = round(sum(amount for _, amount in levels.asks[:8]) * STROOPS)   # XLM to the end of the 8th level
    buy_price = float(m.exchange.get_vwap_for_volume(PAIR, True, Decimal(bought) / STROOPS).result_price)
    assert abs(buy_price * bought / pool_in(usdc, xlm, bought) - 1) < 1e-6   # the pool's exact cost
    sold = round(sum(amount for _, amount in levels.bids[:8]) * STROOPS)
    sell_price = float(m.exchange.get_vwap_for_volume(PAIR, False, Decimal(sold) / STROOPS).result_price)
    assert abs(sell_price * sold / pool_out(xlm, usdc, sold) - 1) < 1e-6     # the pool's exact payout
    # Deeper than the pool's levels near its price, the offers join in: 20 XLM at 0.30 among the asks.
    asks = {round(row.price, 9): row.amount for row in book.ask_entries()}
    assert asks[0.3] == 20.0 and len(asks) == len(levels.asks) + 1

    # A taker's trade with the pool: the book follows the reserves, and the trade is on the public trade feed.
    await sell_to_the_pool(m, "10")
    after_trade = await book_shows_the_ledgers_pool(m, pool_id)
    assert after_trade == (xlm + 10 * STROOPS, usdc - pool_out(xlm, usdc, 10 * STROOPS))
    await wait_until(lambda: trades.event_log, what="the pool trade on the public trade feed")
    (trade,) = trades.event_log
    assert trade.type is SELL and trade.amount == 10.0
    assert abs(trade.price - pool_out(xlm, usdc, 10 * STROOPS) / (10 * STROOPS)) < 1e-9
    assert book.last_trade_price == trade.price

    # A deposit moves the reserves too (no trade).
    await m.net.provide_liquidity(m.taker, XLM, "100", m.usdc, "100")
    deposited = await book_shows_the_ledgers_pool(m, pool_id)
    assert deposited[0] > after_trade[0] and deposited[1] > after_trade[1]
    assert len(trades.event_log) == 1
    # The pool cost two REST reads at the start, and its effects stream since.
    assert m.net.requests.count("/liquidity_pools") == 1
    assert m.net.requests.count(EFFECTS_ROUTE) == 1
    assert m.net.requests.count(EFFECTS_ROUTE, kind="stream") >= 1


async def test_book_only_shows_the_offers_alone_and_still_the_pools_trades(make_stellar_market):
    m = await make_stellar_market(stellar_book_liquidity="book")
    trades = EventLogger()
    m.exchange.order_books[PAIR].add_listener(OrderBookEvent.TradeEvent, trades)
    await m.take(SELL, "20", "0.30")
    await m.take(BUY, "20", "0.20")
    await m.net.provide_liquidity(m.taker, XLM, "1000", m.usdc, "250")
    await sell_to_the_pool(m, "10")
    await wait_until(lambda: trades.event_log, what="the pool trade on the public trade feed")
    await m.take(SELL, "5", "0.29")   # a later change of the offers: the book has seen all before it
    await book_shows(m, True, "0.29")
    book = m.exchange.order_books[PAIR]
    assert book.pool_levels is None and m.exchange._orderbook_ds.pool_feeds() == {}
    assert [(round(r.price, 9), r.amount) for r in book.ask_entries()] == [(0.29, 5.0), (0.3, 20.0)]
    assert book.get_price(False) == 0.2
    assert trades.event_log[0].type is SELL and trades.event_log[0].amount == 10.0
    assert m.net.requests.count("/liquidity_pools") == 0
    assert m.net.requests.count(EFFECTS_ROUTE, kind="stream") == 0
