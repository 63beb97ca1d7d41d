"""StellarExchange's market data, user stream and balances against the embedded sandbox.

Every expectation is checked twice: in the connector's view (its order book, orders, events and
balances) and in the ledger's (Horizon's order book, account balances, liabilities and trades).
Faults come from the sandbox's fault layer: streams cut, endpoints answering 503/504.
"""
from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.event.events import MarketEvent
from stellar_sdk.operation import ManageBuyOffer, ManageSellOffer

from test.hummingbot.connector.exchange.stellar.integration.conftest import PAIR, XLM
from test.hummingbot.connector.exchange.stellar.integration.ledger_views import (
    STROOP,
    account_trades,
    another_trader,
    balances_match_ledger,
    base_reserve,
    book_matches_ledger,
    connector_book,
)
from test.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("closed_shared_session")]


# ----- order book -----

async def test_order_book_follows_the_ledger_with_increasing_update_ids_and_last_traded_price(make_stellar_market):
    m = await make_stellar_market()
    book = m.exchange.order_books[PAIR]
    maker, other = m.taker, await another_trader(m)
    update_ids = [book.snapshot_uid]
    observed = [book.snapshot_uid]   # every update id the book shows, sampled as it changes

    async def sample() -> None:
        while True:
            if book.snapshot_uid != observed[-1]:
                observed.append(book.snapshot_uid)
            await asyncio.sleep(0.005)

    sampler = asyncio.ensure_future(sample())

    # Bids rest as offers selling USDC (Horizon gives their amounts in USDC); the connector shows XLM.
    await m.submit(maker,
                   ManageBuyOffer(selling=m.usdc, buying=XLM, amount="100", price="0.1"),
                   ManageBuyOffer(selling=m.usdc, buying=XLM, amount="50", price="0.09"),
                   ManageSellOffer(selling=XLM, buying=m.usdc, amount="40", price="0.12"),
                   ManageSellOffer(selling=XLM, buying=m.usdc, amount="60", price="0.13"))
    bids, asks = await book_matches_ledger(m)
    assert bids == [(pytest.approx(0.1), pytest.approx(100.0)), (pytest.approx(0.09), pytest.approx(50.0))]
    assert asks == [(pytest.approx(0.12), pytest.approx(40.0)), (pytest.approx(0.13), pytest.approx(60.0))]
    update_ids.append(book.snapshot_uid)

    # A taker sells 30 XLM into the best bid: the bid shrinks and the last traded price is 0.1.
    await m.submit(other, ManageSellOffer(selling=XLM, buying=m.usdc, amount="30", price="0.1"))
    bids, _asks = await book_matches_ledger(m)
    assert bids[0] == (pytest.approx(0.1), pytest.approx(70.0))
    await wait_until(lambda: book.last_trade_price == pytest.approx(0.1), what="last trade 0.1")
    assert (await m.exchange.get_last_traded_prices([PAIR]))[PAIR] == pytest.approx(0.1)
    update_ids.append(book.snapshot_uid)

    # A taker buys 50 XLM through the asks: the first level goes, the second shrinks, last price 0.13.
    await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="50", price="0.13"))
    _bids, asks = await book_matches_ledger(m)
    assert asks == [(pytest.approx(0.13), pytest.approx(50.0))]
    await wait_until(lambda: book.last_trade_price == pytest.approx(0.13), what="last trade 0.13")
    assert (await m.exchange.get_last_traded_prices([PAIR]))[PAIR] == pytest.approx(0.13)
    update_ids.append(book.snapshot_uid)

    sampler.cancel()
    assert update_ids == sorted(update_ids) and len(set(update_ids)) == len(update_ids), update_ids
    assert len(observed) >= 4 and all(a < b for a, b in zip(observed, observed[1:], strict=False)), observed


async def test_order_book_resyncs_by_snapshot_after_its_streams_drop(make_stellar_market):
    m = await make_stellar_market()
    await m.submit(m.taker, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="100", price="0.1"),
                   ManageSellOffer(selling=XLM, buying=m.usdc, amount="100", price="0.2"))
    await book_matches_ledger(m)
    before = connector_book(m)
    uid_before = m.exchange.order_books[PAIR].snapshot_uid

    # The book's streams are cut and cannot reconnect (nor can a snapshot be read) while the book changes.
    m.net.faults.set(errors={"rate": 1.0, "statuses": [503], "paths": ["/order_book"]})
    assert m.net.faults.drop_streams(["/order_book"]) >= 1
    await m.submit(m.taker, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="30", price="0.15"),
                   ManageSellOffer(selling=XLM, buying=m.usdc, amount="25", price="0.18"))
    assert len(await m.offers(m.taker.public_key)) == 4   # on the ledger (read past the failing /order_book)
    refused = m.net.faults.injected["errors"]
    await wait_until(lambda: m.net.faults.injected["errors"] >= refused + 2, what="two refused book requests")
    assert connector_book(m) == before, "the book cannot have changed while Horizon refused every book request"

    m.net.faults.clear()
    bids, asks = await book_matches_ledger(m, "the book resynced after the outage")
    assert bids[0] == (pytest.approx(0.15), pytest.approx(30.0))
    assert asks[0] == (pytest.approx(0.18), pytest.approx(25.0))
    assert m.exchange.order_books[PAIR].snapshot_uid > uid_before
    stats = m.exchange._orderbook_ds.stream_stats()
    assert any(s["reconnects"] >= 1 for name, s in stats.items() if "/order_book" in name), stats


async def test_connector_becomes_ready_once_order_book_snapshots_recover_from_503_504(make_stellar_market):
    def refuse_books(net) -> None:
        net.faults.set(errors={"rate": 1.0, "statuses": [503, 504], "paths": ["/order_book"]})

    m = await make_stellar_market(wait_ready=False, before_start=refuse_books)
    await m.submit(m.taker, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="10", price="0.1"))
    # Everything else comes up; the book cannot while /order_book answers 503/504.
    await wait_until(lambda: all(v for k, v in m.exchange.status_dict.items() if k != "order_books_initialized"),
                     what="all but the order book ready")
    await wait_until(lambda: m.net.faults.injected["errors"] >= 2, what="snapshot attempts refused")
    assert not m.exchange.ready
    assert m.exchange.status_dict["order_books_initialized"] is False

    m.net.faults.clear()
    await wait_until(lambda: m.exchange.ready, timeout=20, what="ready after the outage")
    bids, _asks = await book_matches_ledger(m)
    assert bids == [(pytest.approx(0.1), pytest.approx(10.0))]


# ----- balances -----

async def test_balances_and_liabilities_follow_the_ledger(make_stellar_market):
    m = await make_stellar_market()
    reserve = await base_reserve(m)
    start = await balances_match_ledger(m)
    assert start["USDC"] == (Decimal("1000"), Decimal("1000"))

    buy = await m.place_open(TradeType.BUY, "100", "0.1")     # rests selling 10 USDC
    sell = await m.place_open(TradeType.SELL, "200", "0.2")   # rests selling 200 XLM
    account = await m.account()
    usdc = next(b for b in account["balances"] if b.get("asset_code") == "USDC")
    native = next(b for b in account["balances"] if b["asset_type"] == "native")
    assert (usdc["selling_liabilities"], usdc["buying_liabilities"]) == ("10.0000000", "40.0000000")
    assert (native["selling_liabilities"], native["buying_liabilities"]) == ("200.0000000", "100.0000000")
    assert account["subentry_count"] == 3    # the trustline and two offers
    balances = await balances_match_ledger(m)
    assert balances["USDC"] == (Decimal("1000"), Decimal("990"))
    xlm_total = Decimal(native["balance"])
    assert balances["XLM"] == (xlm_total, xlm_total - 200 - 5 * reserve)

    # Cancelling the buy frees its 10 USDC and one subentry's reserve.
    m.exchange.cancel(PAIR, buy.client_order_id)
    await wait_until(lambda: buy.is_cancelled, what="buy cancelled")
    balances = await balances_match_ledger(m)
    assert balances["USDC"] == (Decimal("1000"), Decimal("1000"))
    assert (await m.account())["subentry_count"] == 2

    # A taker buys 50 of the 200 XLM offered: 50 XLM leave, 10 USDC arrive, 150 XLM stay locked.
    other = await another_trader(m)
    await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="50", price="0.2"))
    await wait_until(lambda: sell.executed_amount_base == Decimal("50"), what="partial fill")
    balances = await balances_match_ledger(m)
    assert balances["USDC"] == (Decimal("1010"), Decimal("1010"))
    native = next(b for b in (await m.account())["balances"] if b["asset_type"] == "native")
    assert native["selling_liabilities"] == "150.0000000"
    assert balances["XLM"][1] == Decimal(native["balance"]) - 150 - 4 * reserve


async def test_balances_catch_up_when_the_account_stream_comes_back(make_stellar_market):
    """Balances come from the account stream. While it is cut and refused (and so is every REST read of the
    account), a fill cannot reach them; once Horizon answers again they catch up with the ledger."""
    m = await make_stellar_market()
    sell = await m.place_open(TradeType.SELL, "100", "0.2")
    await balances_match_ledger(m)
    other = await another_trader(m)
    account_path = f"/accounts/{m.trader.public_key}"
    m.net.faults.set(errors={"rate": 1.0, "statuses": [503], "paths": [account_path]})
    assert m.net.faults.drop_streams([account_path]) == 1
    await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="40", price="0.2"))
    await wait_until(lambda: sell.executed_amount_base == Decimal("40"), what="fill seen on the trade stream")
    refused = m.net.faults.injected["errors"]
    await wait_until(lambda: m.net.faults.injected["errors"] >= refused + 1, what="the account refused again")
    assert m.exchange.get_balance("USDC") == Decimal("1000"), "nothing could have told the connector yet"
    m.net.faults.clear()
    balances = await balances_match_ledger(m)
    assert balances["USDC"][0] == Decimal("1008")


# ----- user stream: fills -----

async def test_stream_fills_move_an_order_to_partially_filled_then_filled_once_each(make_stellar_market):
    m = await make_stellar_market()
    other = await another_trader(m)
    order = await m.place_open(TradeType.SELL, "100", "0.2")
    created_by = (await m.offer_transactions())[order.exchange_order_id]
    creating_tx = await m.transaction(created_by)
    network_fee = Decimal(creating_tx["fee_charged"]) * STROOP / creating_tx["operation_count"]

    await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="40", price="0.2"))
    await wait_until(lambda: order.current_state is OrderState.PARTIALLY_FILLED, what="partially filled")
    await wait_until(lambda: len(m.fills(order.client_order_id)) == 1, what="one fill")
    first = m.fills(order.client_order_id)[0]
    assert (first.amount, first.price, first.trade_type) == (Decimal("40"), Decimal("0.2"), TradeType.SELL)
    assert first.trade_fee.percent == 0
    assert [(f.token, f.amount) for f in first.trade_fee.flat_fees] == [("XLM", network_fee)]

    await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="60", price="0.2"))
    await wait_until(lambda: order.current_state is OrderState.FILLED, what="filled")
    await wait_until(lambda: m.log(MarketEvent.SellOrderCompleted), what="completed event")
    second = m.fills(order.client_order_id)[1]
    assert (second.amount, second.price) == (Decimal("60"), Decimal("0.2"))
    assert second.trade_fee.flat_fees == []   # the network fee was charged once, on the first fill

    # A REST poll of the account's trades afterwards (the backup path) reports nothing again.
    await m.exchange._update_orders_fills([order])
    await m.trades_delivered(other)
    fills = m.fills(order.client_order_id)
    assert [f.exchange_trade_id for f in fills] == [t["id"] for t in trades_of(order, await account_trades(m))]
    assert [e.order_id for e in m.log(MarketEvent.SellOrderCompleted) if e.order_id not in m.sentinels] == \
        [order.client_order_id]
    assert m.cancels() == []
    assert await m.offers() == []
    await balances_match_ledger(m)


def trades_of(order, trades: list) -> list:
    return [t for t in trades if order.exchange_order_id in (str(t["base_offer_id"]), str(t["counter_offer_id"]))]


async def test_a_placement_fill_seen_again_on_the_trade_stream_counts_once(make_stellar_market):
    m = await make_stellar_market()
    # The fixture's taker asks 30 XLM at 0.1; our buy of 100 takes them at placement and rests for 70.
    await m.submit(m.taker, ManageSellOffer(selling=XLM, buying=m.usdc, amount="30", price="0.1"))
    await book_matches_ledger(m)
    order = await m.place_open(TradeType.BUY, "100", "0.1")
    assert order.current_state is OrderState.PARTIALLY_FILLED
    await wait_until(lambda: len(m.fills(order.client_order_id)) == 1, what="placement fill")
    # The same trade arrives on the account's trade stream; a REST poll sees it too.
    await m.exchange._update_orders_fills([order])
    await m.trades_delivered(m.taker)
    fills = m.fills(order.client_order_id)
    assert [(f.amount, f.price) for f in fills] == [(Decimal("30"), Decimal("0.1"))]
    assert [f.exchange_trade_id for f in fills] == [t["id"] for t in trades_of(order, await account_trades(m))]
    assert order.executed_amount_base == Decimal("30")
    offers = await m.offers()
    assert [o["id"] for o in offers] == [order.exchange_order_id]
    assert Decimal(offers[0]["amount"]) == Decimal("7")    # 70 XLM at 0.1, resting as 7 USDC
    await balances_match_ledger(m)


async def test_an_offer_the_ledger_deletes_as_dust_after_its_fills_is_filled_not_cancelled(make_stellar_market):
    """Three buys of 2.3333333 XLM from our ask of 7 at 0.7777777 trade 2.3333332 each (rounding favours the
    maker); the 0.0000004 XLM left is worth 3 stroops of USDC, which stellar-core cannot trade within its 1 %
    price error bound, so it deletes the offer. The order is filled, never reported cancelled."""
    m = await make_stellar_market()
    other = await another_trader(m)
    order = await m.place_open(TradeType.SELL, "7", "0.7777777")
    for _ in range(3):
        await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="2.3333333", price="0.8"))
    trades = await account_trades(m)
    assert [t["base_amount"] for t in trades] == ["2.3333332"] * 3   # XLM is the trades' base asset
    assert await m.offers() == []
    await wait_until(lambda: order.current_state is OrderState.FILLED, what="filled")
    assert order.executed_amount_base == Decimal("6.9999996")
    # Hummingbot's REST status poll afterwards changes nothing.
    await m.exchange._update_order_status()
    await m.trades_delivered(other)
    assert order.current_state is OrderState.FILLED
    assert [f.exchange_trade_id for f in m.fills(order.client_order_id)] == [t["id"] for t in trades]
    assert [e.order_id for e in m.log(MarketEvent.SellOrderCompleted) if e.order_id not in m.sentinels] == \
        [order.client_order_id]
    assert m.cancels() == []
    await balances_match_ledger(m)


async def test_no_fill_is_lost_or_doubled_across_user_stream_drops(make_stellar_market):
    m = await make_stellar_market()
    other = await another_trader(m)
    sell = await m.place_open(TradeType.SELL, "100", "0.2")
    buy = await m.place_open(TradeType.BUY, "100", "0.1")
    # Every stream is cut a moment after it opens, and now and then all at once between takes.
    m.net.faults.set(stream_drop={"every": 0.7})
    for n in range(8):
        if n % 2:
            await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="10", price="0.2"))
        else:
            await m.submit(other, ManageSellOffer(selling=XLM, buying=m.usdc, amount="10", price="0.1"))
        if n % 3 == 0:
            m.net.faults.drop_streams([f"/accounts/{m.trader.public_key}/*"])
        await asyncio.sleep(0.15)
    await wait_until(lambda: (sell.executed_amount_base, buy.executed_amount_base) == (Decimal(40), Decimal(40)),
                     what="all eight fills")
    assert m.net.faults.injected["stream_drop"] >= 3
    m.net.faults.clear()
    await m.trades_delivered(other)   # anything delivered twice has arrived by now

    trades = await account_trades(m)
    ledger_ids = [t["id"] for t in trades_of(sell, trades) + trades_of(buy, trades)]
    reported = [f.exchange_trade_id for f in m.fills()]
    assert len(ledger_ids) == 8
    assert sorted(reported) == sorted(ledger_ids), "every trade reported exactly once"
    assert (sell.current_state, buy.current_state) == (OrderState.PARTIALLY_FILLED, OrderState.PARTIALLY_FILLED)
    assert m.cancels() == []
    await balances_match_ledger(m)


async def test_fills_during_a_user_stream_outage_arrive_once_when_it_ends(make_stellar_market):
    """The account's streams are cut and refused (503) while three fills happen; Hummingbot's REST poll,
    which runs every few seconds while they are down, is refused too (same paths), so the fills can only
    come from the streams resuming at their cursors."""
    m = await make_stellar_market()
    other = await another_trader(m)
    sell = await m.place_open(TradeType.SELL, "100", "0.2")
    account_streams = f"/accounts/{m.trader.public_key}*"
    m.net.faults.set(errors={"rate": 1.0, "statuses": [503], "paths": [account_streams]})
    assert m.net.faults.drop_streams([account_streams]) == 4   # the account, its trades, offers, transactions
    for _ in range(3):
        await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="10", price="0.2"))
    refused = m.net.faults.injected["errors"]
    await wait_until(lambda: m.net.faults.injected["errors"] >= refused + 2, what="two refused stream openings")
    assert sell.executed_amount_base == 0 and m.fills() == [], "nothing could have told the connector yet"

    m.net.faults.clear()
    await wait_until(lambda: sell.executed_amount_base == Decimal(30), what="the three fills after the outage")
    await m.trades_delivered(other)
    assert sorted(f.exchange_trade_id for f in m.fills()) == sorted(t["id"] for t in trades_of(sell,
                                                                                               await account_trades(m)))
    assert len(m.fills()) == 3
    assert sell.current_state is OrderState.PARTIALLY_FILLED
    await balances_match_ledger(m)


async def test_a_fill_streamed_before_the_order_knows_its_offer_id_is_not_lost(make_stellar_market):
    """The pipeline learns the placement's outcome late (the account's transaction stream refused, hash
    look-ups slow), while a taker fills the new offer and the trade stream reports it at once."""
    m = await make_stellar_market()
    other = await another_trader(m)
    transactions = f"/accounts/{m.trader.public_key}/transactions"
    m.net.faults.set(errors={"rate": 1.0, "statuses": [503], "paths": [transactions]},
                     latency={"seconds": 2.0, "paths": ["/transactions/*"]})
    m.net.faults.drop_streams([transactions])
    client_order_id = m.exchange.buy(PAIR, Decimal("100"), OrderType.LIMIT, Decimal("0.1"))
    await wait_until(lambda: m.net.network.state.offers_of(m.trader.public_key), what="the offer on the ledger")
    await m.submit(other, ManageSellOffer(selling=XLM, buying=m.usdc, amount="30", price="0.1"))
    order = m.order(client_order_id)
    assert order.exchange_order_id is None, "the placement must still be unresolved for this test to mean anything"

    await wait_until(lambda: order.exchange_order_id is not None, what="placement resolved")
    m.net.faults.clear()
    # The tracker applies the state change in a task of its own, just after the fill itself.
    await wait_until(lambda: order.executed_amount_base == 30 and order.current_state is OrderState.PARTIALLY_FILLED,
                     what="the early fill reported, order partially filled")
    assert [f.exchange_trade_id for f in m.fills()] == [t["id"] for t in await account_trades(m)]
    await balances_match_ledger(m)
