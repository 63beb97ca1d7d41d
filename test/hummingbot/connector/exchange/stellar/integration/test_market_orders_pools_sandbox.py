"""MARKET orders as path payments against the sandbox, over real HTTP/SSE: each takes the better venue for its
whole amount, the XLM-USDC liquidity pool or the order book, at exactly the price the ledger applied; fills agree
with the ledger's trades and balances and are reported once whichever way they arrive (transaction result, trade
stream, trade poll); an order no venue fills within its bound fails clearly and leaves nothing on the book.

The taker keeps an ask at 0.30 and a bid at 0.20 (20 XLM each) on the book; the pool's price for 10 XLM is
computed here from its reserves as Horizon reports them, with CAP-38's formulas (fee 30 bp):
out = floor(0.997·Y·x / (X + 0.997·x)) for x in, in = ceil(X·y / ((Y − y)·0.997)) for y out.
"""
from decimal import Decimal
from typing import Dict, List, Tuple

from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.data_type.trade_fee import TokenAmount

from test.hummingbot.connector.exchange.stellar.integration.conftest import PAIR, XLM, StellarMarket
from test.hummingbot.connector.exchange.stellar.integration.test_exchange_orders_sandbox import (
    balance_of,
    book_shows,
)

BUY, SELL = TradeType.BUY, TradeType.SELL
STROOPS = 10_000_000
NETWORK_FEE = Decimal("0.00001")   # one operation at the sandbox's base fee


def pool_out(reserve_in: int, reserve_out: int, amount_in: int) -> int:
    return 9970 * reserve_out * amount_in // (10_000 * reserve_in + 9970 * amount_in)


def pool_in(reserve_in: int, reserve_out: int, amount_out: int) -> int:
    return -(-(10_000 * reserve_in * amount_out) // ((reserve_out - amount_out) * 9970))


async def market_with_pool(m: StellarMarket, pool_xlm: str, pool_usdc: str) -> str:
    """The taker's ask (0.30) and bid (0.20), and its pool deposit; the pool id once the connector's book shows
    the offers."""
    await m.take(SELL, "20", "0.30")
    await m.take(BUY, "20", "0.20")
    pool_id = await m.net.provide_liquidity(m.taker, XLM, pool_xlm, m.usdc, pool_usdc)
    await book_shows(m, True, "0.3")
    await book_shows(m, False, "0.2")
    return pool_id


async def reserves(m: StellarMarket, pool_id: str) -> Tuple[int, int]:
    """(XLM, USDC) reserves in stroops, as Horizon reports the pool."""
    pool = await m.get(f"/liquidity_pools/{pool_id}")
    amounts = {r["asset"]: int(Decimal(r["amount"]) * STROOPS) for r in pool["reserves"]}
    return amounts["native"], amounts[f"USDC:{m.usdc.issuer}"]


async def holdings(m: StellarMarket) -> Dict[str, Decimal]:
    account = await m.account()
    return {code: Decimal(balance_of(account, code)["balance"]) for code in ("XLM", "USDC")}


async def market_order(m: StellarMarket, side: TradeType, amount: str, price: str = "NaN") -> str:
    place = m.exchange.buy if side is BUY else m.exchange.sell
    client_order_id = place(PAIR, Decimal(amount), OrderType.MARKET, Decimal(price))
    await m.finished(client_order_id)
    return client_order_id


async def our_trades(m: StellarMarket) -> List[dict]:
    page = await m.get(f"/accounts/{m.trader.public_key}/trades", order="asc", limit=200)
    return page["_embedded"]["records"]


def amounts_of(trade: dict) -> Tuple[Decimal, Decimal]:
    """(XLM, USDC) of a Horizon trade of the XLM-USDC pair."""
    xlm_side = "base_" if trade["base_asset_type"] == "native" else "counter_"
    usdc_side = "counter_" if xlm_side == "base_" else "base_"
    return Decimal(trade[xlm_side + "amount"]), Decimal(trade[usdc_side + "amount"])


def untouched(offers: List[dict]) -> bool:
    """The taker's ask (20 XLM) and bid (20 XLM at 0.20: 4 USDC) are as placed."""
    return sorted(Decimal(o["amount"]) for o in offers) == [Decimal("4"), Decimal("20")]


async def test_market_buy_and_sell_take_the_pool_when_it_quotes_better_and_each_fill_counts_once(stellar_market):
    m = stellar_market
    pool_id = await market_with_pool(m, "1000", "250")   # 0.25 USDC per XLM, inside the book's 0.20 .. 0.30
    streamed = []
    record_update = m.exchange._fills.record_update
    m.exchange._fills.record_update = lambda order, record, now: (streamed.append(record["id"]),
                                                                  record_update(order, record, now))[1]

    xlm_reserve, usdc_reserve = await reserves(m, pool_id)
    before = await holdings(m)
    buy = await market_order(m, BUY, "10")
    cost = pool_in(usdc_reserve, xlm_reserve, 10 * STROOPS)   # USDC in for exactly 10 XLM out
    assert cost < 3 * STROOPS                                  # cheaper than the ask's 0.30
    (fill,) = m.fills(buy)
    assert m.order(buy).current_state is OrderState.FILLED
    assert (fill.amount, fill.amount * fill.price) == (Decimal(10), Decimal(cost) / STROOPS)
    assert fill.trade_fee.flat_fees == [TokenAmount("XLM", NETWORK_FEE)]
    after = await holdings(m)
    assert after == {"XLM": before["XLM"] + 10 - NETWORK_FEE, "USDC": before["USDC"] - Decimal(cost) / STROOPS}
    assert await reserves(m, pool_id) == (xlm_reserve - 10 * STROOPS, usdc_reserve + cost)

    xlm_reserve, usdc_reserve = await reserves(m, pool_id)
    sell = await market_order(m, SELL, "10")
    proceeds = pool_out(xlm_reserve, usdc_reserve, 10 * STROOPS)   # USDC out for exactly 10 XLM in
    assert proceeds > 2 * STROOPS                                   # more than the bid's 0.20
    (fill,) = m.fills(sell)
    assert (fill.amount, fill.amount * fill.price) == (Decimal(10), Decimal(proceeds) / STROOPS)
    assert await holdings(m) == {"XLM": after["XLM"] - 10 - NETWORK_FEE,
                                 "USDC": after["USDC"] + Decimal(proceeds) / STROOPS}

    # The ledger's trades: one pool trade per order, named as the fills were, with the same amounts.
    trades = await our_trades(m)
    assert [t["trade_type"] for t in trades] == ["liquidity_pool", "liquidity_pool"]
    assert [t["id"] for t in trades] == [m.fills(buy)[0].exchange_trade_id, m.fills(sell)[0].exchange_trade_id]
    assert [amounts_of(t) for t in trades] == [(Decimal(10), Decimal(cost) / STROOPS),
                                               (Decimal(10), Decimal(proceeds) / STROOPS)]
    assert await m.offers() == [] and untouched(await m.offers(m.taker.public_key))

    # Those trades also come by the account's trade stream and by the trade poll: neither adds a fill.
    await m.trades_delivered(m.taker)
    assert {t["id"] for t in trades} <= set(streamed)
    for client_order_id in (buy, sell):
        order = m.order(client_order_id)
        polled = await m.exchange._all_trade_updates_for_order(order)
        assert [u.trade_id for u in polled] == [m.fills(client_order_id)[0].exchange_trade_id]
        for update in polled:
            m.exchange._order_tracker.process_trade_update(update)
        assert len(m.fills(client_order_id)) == 1 and order.executed_amount_base == Decimal(10)
    assert m.failures() == []


async def test_market_orders_take_the_book_when_it_quotes_better(stellar_market):
    m = stellar_market
    pool_id = await market_with_pool(m, "20", "5")   # 0.25 too, but too shallow: 10 XLM move its price far
    pool_before = await reserves(m, pool_id)
    xlm_reserve, usdc_reserve = pool_before
    assert pool_in(usdc_reserve, xlm_reserve, 10 * STROOPS) > 3 * STROOPS      # dearer than the ask
    assert pool_out(xlm_reserve, usdc_reserve, 10 * STROOPS) < 2 * STROOPS     # less than the bid

    before = await holdings(m)
    buy = await market_order(m, BUY, "10")
    sell = await market_order(m, SELL, "10")
    assert [(f.amount, f.price) for f in m.fills(buy)] == [(Decimal(10), Decimal("0.3"))]
    assert [(f.amount, f.price) for f in m.fills(sell)] == [(Decimal(10), Decimal("0.2"))]
    assert m.order(buy).is_filled and m.order(sell).is_filled
    assert await holdings(m) == {"XLM": before["XLM"] - 2 * NETWORK_FEE, "USDC": before["USDC"] - 3 + 2}
    trades = await our_trades(m)
    assert [(t["trade_type"], t["id"]) for t in trades] == [
        ("orderbook", m.fills(buy)[0].exchange_trade_id), ("orderbook", m.fills(sell)[0].exchange_trade_id)]
    assert await reserves(m, pool_id) == pool_before
    taker_offers = sorted(Decimal(o["amount"]) for o in await m.offers(m.taker.public_key))
    assert taker_offers == [Decimal("2"), Decimal("10")]   # half of each taken: 2 USDC of bid, 10 XLM of ask
    assert await m.offers() == []


async def test_a_market_order_no_venue_fills_within_its_bound_fails_clearly_and_nothing_rests(stellar_market):
    m = stellar_market
    pool_id = await market_with_pool(m, "1000", "250")
    pool_before = await reserves(m, pool_id)
    before = await holdings(m)

    # Prices the strategy gave, moved by the 2 % slippage: a buy at no more than 0.153, a sell at no less than
    # 0.392 (both venues are worse).
    buy = await market_order(m, BUY, "10", "0.15")
    sell = await market_order(m, SELL, "10", "0.4")
    failures = {f.order_id: f.error_message for f in m.failures()}
    assert "not filled" in failures[buy] and "op_over_source_max" in failures[buy]
    assert "at 0.153 USDC per XLM or better" in failures[buy]
    assert "not filled" in failures[sell] and "op_under_dest_min" in failures[sell]
    assert m.order(buy).current_state is OrderState.FAILED and m.order(sell).current_state is OrderState.FAILED
    assert m.fills() == []
    # Nothing traded, nothing rests: only the two failed transactions' fees were charged.
    assert await m.offers() == [] and untouched(await m.offers(m.taker.public_key))
    assert await reserves(m, pool_id) == pool_before
    assert await holdings(m) == {"XLM": before["XLM"] - 2 * NETWORK_FEE, "USDC": before["USDC"]}
    assert await our_trades(m) == []


async def test_a_market_order_larger_than_any_venue_fails_without_trading(stellar_market):
    m = stellar_market
    await m.take(SELL, "5", "0.4")     # the only liquidity: 5 XLM on the book, no pool
    await book_shows(m, True, "0.4")
    buy = await market_order(m, BUY, "6")
    (failure,) = m.failures()
    assert failure.order_id == buy and "op_too_few_offers" in failure.error_message
    assert "can fill all of it" in failure.error_message
    assert m.fills() == [] and await m.offers() == []
    assert [Decimal(o["amount"]) for o in await m.offers(m.taker.public_key)] == [Decimal("5")]
