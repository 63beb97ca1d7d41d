"""StellarExchange's order path against the embedded sandbox: Hummingbot's calls in, signed
transactions over real HTTP, offers on the ledger, events and InFlightOrder states back.

Every test checks both views: the connector's (order states, events, amounts in base units,
exchange_order_id = offer id) and the ledger's (/accounts/{id}/offers, balances, transactions).
"""
import asyncio
from decimal import Decimal
from typing import Dict, List

from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.data_type.limit_order import LimitOrder
from hummingbot.core.data_type.trade_fee import TokenAmount
from hummingbot.core.event.events import MarketEvent

from test.hummingbot.connector.exchange.stellar.integration.conftest import PAIR, StellarMarket
from test.waiting import wait_until

BUY, SELL = TradeType.BUY, TradeType.SELL
RESERVE = Decimal("0.5")          # the sandbox's base reserve
TOID_OFFER_BIT = 1 << 62          # Horizon's synthetic id of an offer that never rested


# Helpers: the ledger's view


def balance_of(account: dict, code: str) -> dict:
    for entry in account["balances"]:
        if (code == "XLM" and entry["asset_type"] == "native") or entry.get("asset_code") == code:
            return entry
    raise AssertionError(f"no {code} balance in {account['balances']}")


def expected_balances(account: dict) -> Dict[str, tuple]:
    """(total, available) per token as the ledger implies them: available = balance - selling
    liabilities, and for XLM also minus the minimum balance (2 + subentries) x base reserve."""
    result = {}
    for code in ("XLM", "USDC"):
        entry = balance_of(account, code)
        available = Decimal(entry["balance"]) - Decimal(entry["selling_liabilities"])
        if code == "XLM":
            available -= (2 + int(account["subentry_count"])) * RESERVE
        result[code] = (Decimal(entry["balance"]), available)
    return result


async def balances_agree(m: StellarMarket) -> Dict[str, tuple]:
    """Waits until the connector's balances are the ledger's; returns them."""
    expected = {}
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        expected = expected_balances(await m.account())
        seen = {code: (m.exchange.get_balance(code), m.exchange.get_available_balance(code)) for code in expected}
        if seen == expected:
            return expected
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"connector balances {seen} != ledger {expected}")
        await asyncio.sleep(0.05)


async def offers_by_id(m: StellarMarket, account_id: str = None) -> Dict[str, dict]:
    return {o["id"]: o for o in await m.offers(account_id)}


def events_of(m: StellarMarket, event: MarketEvent, client_order_id: str) -> List:
    return [e for e in m.log(event) if e.order_id == client_order_id]


async def book_shows(m: StellarMarket, is_buy: bool, price: str) -> None:
    """Waits until the connector's order book has `price` as its best ask (is_buy) or bid."""
    def best():
        book = m.exchange.order_books.get(PAIR)
        try:
            return book is not None and Decimal(str(book.get_price(is_buy))) == Decimal(price)
        except OSError:   # that side is still empty
            return False
    await wait_until(best, what=f"best {'ask' if is_buy else 'bid'} {price} in the connector's book")


# Placing, resting, cancelling


async def test_limit_orders_rest_as_offers_with_their_liabilities_and_cancel(stellar_market):
    m = stellar_market
    sell = await m.place_open(SELL, "10", "0.5")
    buy = await m.place_open(BUY, "20", "0.25")

    offers = await offers_by_id(m)
    assert set(offers) == {sell.exchange_order_id, buy.exchange_order_id}
    ask, bid = offers[sell.exchange_order_id], offers[buy.exchange_order_id]
    assert ask["selling"] == {"asset_type": "native"} and ask["buying"]["asset_code"] == "USDC"
    assert (Decimal(ask["amount"]), ask["price_r"]) == (Decimal(10), {"n": 1, "d": 2})
    # A resting buy of 20 XLM at 0.25 is an offer selling 5 USDC at 4 XLM per USDC.
    assert bid["selling"]["asset_code"] == "USDC" and bid["buying"] == {"asset_type": "native"}
    assert (Decimal(bid["amount"]), bid["price_r"]) == (Decimal(5), {"n": 4, "d": 1})

    (created_sell,) = events_of(m, MarketEvent.SellOrderCreated, sell.client_order_id)
    (created_buy,) = events_of(m, MarketEvent.BuyOrderCreated, buy.client_order_id)
    assert (created_sell.amount, created_sell.price, created_sell.exchange_order_id) == \
        (Decimal(10), Decimal("0.5"), sell.exchange_order_id)
    assert (created_buy.amount, created_buy.price, created_buy.exchange_order_id) == \
        (Decimal(20), Decimal("0.25"), buy.exchange_order_id)

    account = await m.account()
    xlm, usdc = balance_of(account, "XLM"), balance_of(account, "USDC")
    assert (Decimal(xlm["selling_liabilities"]), Decimal(xlm["buying_liabilities"])) == (10, 20)
    assert (Decimal(usdc["selling_liabilities"]), Decimal(usdc["buying_liabilities"])) == (5, 5)
    held = await balances_agree(m)
    assert held["USDC"] == (Decimal(1000), Decimal(995))

    m.exchange.cancel(PAIR, sell.client_order_id)
    m.exchange.cancel(PAIR, buy.client_order_id)
    await wait_until(lambda: sell.is_cancelled and buy.is_cancelled, what="both cancelled")
    assert await m.offers() == []
    assert {(e.order_id, e.exchange_order_id) for e in m.cancels()} == \
        {(sell.client_order_id, sell.exchange_order_id), (buy.client_order_id, buy.exchange_order_id)}
    held = await balances_agree(m)
    assert held["USDC"] == (Decimal(1000), Decimal(1000))
    account = await m.account()
    assert Decimal(balance_of(account, "XLM")["selling_liabilities"]) == 0
    assert m.fills() == [] and m.failures() == []


async def test_sell_filled_partly_then_fully_by_another_account(stellar_market):
    m = stellar_market
    sell = await m.place_open(SELL, "10", "0.5")

    await m.take(BUY, "4", "0.5")
    # The tracker applies a state change in a task of its own, just after the fill itself.
    await wait_until(lambda: sell.executed_amount_base == 4 and sell.current_state is OrderState.PARTIALLY_FILLED,
                     what="first fill, order partially filled")
    assert Decimal((await offers_by_id(m))[sell.exchange_order_id]["amount"]) == 6

    await m.take(BUY, "6", "0.5")
    await wait_until(lambda: sell.is_filled, what="filled")
    assert await m.offers() == []
    fills = m.fills(sell.client_order_id)
    assert [(f.trade_type, f.amount, f.price, f.exchange_order_id) for f in fills] == \
        [(SELL, Decimal(amount), Decimal("0.5"), sell.exchange_order_id) for amount in (4, 6)]
    # The creating transaction's network fee rides on the first fill, none on the second.
    creating_tx = await m.transaction((await m.offer_transactions())[sell.exchange_order_id])
    assert fills[0].trade_fee.flat_fees == [TokenAmount("XLM", Decimal(creating_tx["fee_charged"]) / 10_000_000)]
    assert fills[1].trade_fee.flat_fees == []
    (completed,) = events_of(m, MarketEvent.SellOrderCompleted, sell.client_order_id)
    assert (completed.base_asset_amount, completed.quote_asset_amount) == (Decimal(10), Decimal(5))
    held = await balances_agree(m)
    assert held["USDC"][0] == Decimal(1005)

    await m.exchange._update_order_status()      # the REST backstop adds nothing
    await m.settled()
    assert len(m.fills(sell.client_order_id)) == 2 and m.failures() == [] and m.cancels() == []


async def test_buy_filled_partly_then_fully_amounts_in_base_units(stellar_market):
    m = stellar_market
    buy = await m.place_open(BUY, "20", "0.25")

    await m.take(SELL, "8", "0.25")
    await wait_until(lambda: buy.executed_amount_base == 8 and buy.current_state is OrderState.PARTIALLY_FILLED,
                     what="first fill, order partially filled")
    assert Decimal((await offers_by_id(m))[buy.exchange_order_id]["amount"]) == 3    # USDC left: 12 x 0.25

    await m.take(SELL, "12", "0.25")
    # is_filled turns true with the last fill, before the order update that completes it: wait on the event.
    await wait_until(lambda: events_of(m, MarketEvent.BuyOrderCompleted, buy.client_order_id), what="completed")
    assert await m.offers() == []
    assert [(f.trade_type, f.amount, f.price) for f in m.fills(buy.client_order_id)] == \
        [(BUY, Decimal(8), Decimal("0.25")), (BUY, Decimal(12), Decimal("0.25"))]
    (completed,) = events_of(m, MarketEvent.BuyOrderCompleted, buy.client_order_id)
    assert (completed.base_asset_amount, completed.quote_asset_amount) == (Decimal(20), Decimal(5))
    held = await balances_agree(m)
    assert held["USDC"][0] == Decimal(995)


async def test_crossing_orders_fill_at_placement_at_the_makers_price(stellar_market):
    m = stellar_market
    # Sells all 5 to the taker's bid at once: nothing rests, the id is Horizon's synthetic one, named by the trade.
    await m.take(BUY, "5", "0.3")
    sell = await m.place(SELL, "5", "0.25")
    sold = m.order(sell)
    await wait_until(lambda: sold.is_filled, what="sell filled at placement")
    assert not _rests(sold.exchange_order_id) and int(sold.exchange_order_id) & TOID_OFFER_BIT
    assert [(f.amount, f.price) for f in m.fills(sell)] == [(Decimal(5), Decimal("0.3"))]
    trades = (await m.get(f"/accounts/{m.trader.public_key}/trades", order="desc", limit=10))["_embedded"]["records"]
    assert sold.exchange_order_id in {str(t["base_offer_id"]) for t in trades} | \
        {str(t["counter_offer_id"]) for t in trades}
    assert await m.offers() == []

    # Crosses the taker's ask for 10 and rests the other 5 at 0.5.
    await m.take(SELL, "10", "0.4")
    buy = await m.place(BUY, "15", "0.5")
    order = m.order(buy)
    await wait_until(lambda: order.executed_amount_base == 10, what="placement fill")
    assert order.current_state is OrderState.PARTIALLY_FILLED and _rests(order.exchange_order_id)
    assert [(f.amount, f.price) for f in m.fills(buy)] == [(Decimal(10), Decimal("0.4"))]
    offers = await offers_by_id(m)
    assert set(offers) == {order.exchange_order_id}
    assert Decimal(offers[order.exchange_order_id]["amount"]) == Decimal("2.5")    # 5 XLM x 0.5 USDC

    await m.exchange._update_order_status()      # the REST backstop adds nothing
    await m.settled()
    assert len(m.fills(buy)) == 1 and len(m.fills(sell)) == 1 and m.failures() == []
    held = await balances_agree(m)
    assert held["USDC"][0] == Decimal("997.5")   # +1.5 for the sell, -4 for the buy


def _rests(exchange_order_id: str) -> bool:
    return exchange_order_id is not None and exchange_order_id.isdigit() and not int(exchange_order_id) & TOID_OFFER_BIT


# Order types


async def test_limit_maker_rests_passive_and_is_refused_before_submission_if_it_would_cross(stellar_market):
    m = stellar_market
    maker = await m.place_open(BUY, "10", "0.2", OrderType.LIMIT_MAKER)
    assert m.net.network.state.offer(int(maker.exchange_order_id)).passive

    await m.take(SELL, "10", "0.4")
    await m.take(BUY, "10", "0.3")
    await book_shows(m, True, "0.4")
    await book_shows(m, False, "0.3")
    sequence = (await m.account())["sequence"]
    crossing_buy = await m.place(BUY, "1", "0.4", OrderType.LIMIT_MAKER)
    crossing_sell = await m.place(SELL, "1", "0.3", OrderType.LIMIT_MAKER)
    for client_order_id, side in ((crossing_buy, "ask"), (crossing_sell, "bid")):
        assert m.order(client_order_id).current_state is OrderState.FAILED
        (failure,) = [f for f in m.failures() if f.order_id == client_order_id]
        assert "would cross" in failure.error_message and f"best {side}" in failure.error_message
    assert (await m.account())["sequence"] == sequence      # nothing was submitted
    assert set(await offers_by_id(m)) == {maker.exchange_order_id}
    assert len(await m.offers(m.taker.public_key)) == 2


async def test_market_orders_take_the_book_and_never_rest(stellar_market):
    m = stellar_market
    await m.take(SELL, "5", "0.4")
    await m.take(SELL, "5", "0.42")
    await wait_until(lambda: len(list(m.exchange.order_books[PAIR].ask_entries())) == 2, what="two asks in the book")

    buy = m.exchange.buy(PAIR, Decimal("8"), OrderType.MARKET)
    assert (await m.finished(buy)).current_state is OrderState.FILLED
    assert [(f.amount, f.price) for f in m.fills(buy)] == [(Decimal(5), Decimal("0.4")), (Decimal(3), Decimal("0.42"))]
    assert await m.offers() == []

    # More than the book holds (and no pool): a path payment fills in full or not at all, so nothing trades.
    await book_shows(m, True, "0.42")
    big = m.exchange.buy(PAIR, Decimal("6"), OrderType.MARKET)
    await m.finished(big)
    assert m.order(big).current_state is OrderState.FAILED
    assert m.fills(big) == [] and "op_too_few_offers" in m.failures()[-1].error_message
    assert await m.offers() == []
    assert [Decimal(o["amount"]) for o in await m.offers(m.taker.public_key)] == [Decimal(2)]

    # No bid to sell into: a clear failure, nothing submitted.
    sell = m.exchange.sell(PAIR, Decimal("1"), OrderType.MARKET)
    await m.finished(sell)
    (failure,) = [f for f in m.failures() if f.order_id == sell]
    assert "No bid" in failure.error_message
    assert await m.offers() == [] and len(await m.offers(m.taker.public_key)) == 1   # the ask's 2 XLM

    # A bid appears: a MARKET SELL takes it at the bid's price.
    await m.take(BUY, "5", "0.3")
    await book_shows(m, False, "0.3")
    sell = m.exchange.sell(PAIR, Decimal("3"), OrderType.MARKET)
    assert (await m.finished(sell)).current_state is OrderState.FILLED
    assert [(f.trade_type, f.amount, f.price) for f in m.fills(sell)] == [(SELL, Decimal(3), Decimal("0.3"))]
    assert await m.offers() == []
    taker_offers = {o["selling"]["asset_type"]: Decimal(o["amount"]) for o in await m.offers(m.taker.public_key)}
    assert taker_offers == {"credit_alphanum4": Decimal("0.6"), "native": Decimal(2)}   # 2 XLM x 0.3 of bid left


# Batches and bursts


async def test_batch_create_and_cancel_each_in_one_transaction(stellar_market):
    m = stellar_market
    ladder = [LimitOrder(client_order_id="", trading_pair=PAIR, is_buy=is_buy, base_currency="XLM",
                         quote_currency="USDC", price=Decimal(price), quantity=Decimal(quantity))
              for is_buy, price, quantity in ((True, "0.20", "10"), (True, "0.19", "20"), (False, "0.30", "10"),
                                              (False, "0.31", "20"), (False, "0.32", "30"))]
    created = m.exchange.batch_order_create(ladder)
    ids = [o.client_order_id for o in created]
    await wait_until(lambda: all((o := m.order(i)) is not None and o.is_open and o.exchange_order_id for i in ids),
                     what="ladder open")
    orders = [m.order(i) for i in ids]
    offers = await offers_by_id(m)
    assert set(offers) == {o.exchange_order_id for o in orders}
    for order, rung in zip(orders, ladder, strict=True):
        offer = offers[order.exchange_order_id]
        base_amount = Decimal(offer["amount"]) if offer["selling"]["asset_type"] == "native" else \
            Decimal(offer["amount"]) / rung.price
        assert (order.trade_type is BUY, base_amount) == (rung.is_buy, rung.quantity)
    created_by = await m.offer_transactions()
    assert len({created_by[o.exchange_order_id] for o in orders}) == 1     # one transaction
    assert len(m.log(MarketEvent.BuyOrderCreated)) == 2 and len(m.log(MarketEvent.SellOrderCreated)) == 3

    sequence = int((await m.account())["sequence"])
    m.exchange.batch_order_cancel(created)
    await wait_until(lambda: all(o.is_cancelled for o in orders), what="ladder cancelled")
    assert await m.offers() == []
    assert int((await m.account())["sequence"]) == sequence + 1            # one transaction
    assert {e.order_id for e in m.cancels()} == set(ids) and m.failures() == []


async def test_burst_while_a_transaction_is_pending_lands_in_the_next_transactions(stellar_market):
    m = stellar_market
    m.net.faults.stall_ledgers()
    first = m.exchange.sell(PAIR, Decimal("1"), OrderType.LIMIT, Decimal("1"))
    await wait_until(lambda: m.net.network.queue.pending_for(m.trader.public_key) is not None,
                     what="the first transaction pending")
    burst = [m.exchange.sell(PAIR, Decimal("1"), OrderType.LIMIT, Decimal(f"1.{n + 1:02d}")) for n in range(50)]
    await asyncio.sleep(0.3)        # the burst waits behind the pending transaction
    assert all(m.order(i).current_state is OrderState.PENDING_CREATE for i in [first, *burst])
    m.net.faults.release_ledgers()

    await wait_until(lambda: all(m.order(i).is_open and m.order(i).exchange_order_id for i in [first, *burst]),
                     what="all 51 open")
    assert m.failures() == []                              # no TRY_AGAIN_LATER (nor anything) reached the strategy
    offers = await offers_by_id(m)
    assert set(offers) == {m.order(i).exchange_order_id for i in [first, *burst]}
    created_by = await m.offer_transactions()
    burst_txs = {created_by[m.order(i).exchange_order_id] for i in burst}
    assert len(burst_txs) <= 2 and created_by[m.order(first).exchange_order_id] not in burst_txs


async def test_channel_accounts_carry_transactions_in_the_same_ledger(make_stellar_market):
    m = await make_stellar_market(channels=2)
    xlm_before = Decimal(balance_of(await m.account(), "XLM")["balance"])
    m.net.faults.stall_ledgers()
    first = m.exchange.sell(PAIR, Decimal("1"), OrderType.LIMIT, Decimal("1"))
    await wait_until(lambda: sum(m.net.network.queue.pending_for(c.public_key) is not None for c in m.channels) == 1,
                     what="the first transaction pending")
    second = m.exchange.buy(PAIR, Decimal("4"), OrderType.LIMIT, Decimal("0.25"))
    await wait_until(lambda: all(m.net.network.queue.pending_for(c.public_key) is not None for c in m.channels),
                     what="both channels pending")
    m.net.faults.release_ledgers()
    await wait_until(lambda: all(m.order(i).is_open and m.order(i).exchange_order_id for i in (first, second)),
                     what="both open")

    created_by = await m.offer_transactions()
    txs = [await m.transaction(created_by[m.order(i).exchange_order_id]) for i in (first, second)]
    assert {tx["source_account"] for tx in txs} == {c.public_key for c in m.channels}
    assert txs[0]["ledger"] == txs[1]["ledger"]                        # two transactions in one ledger
    offers = await offers_by_id(m)
    assert {o["seller"] for o in offers.values()} == {m.trader.public_key}
    assert set(offers) == {m.order(first).exchange_order_id, m.order(second).exchange_order_id}
    # The channels paid the fees; the trading account's lumens are untouched.
    assert Decimal(balance_of(await m.account(), "XLM")["balance"]) == xlm_before
    for channel in m.channels:
        assert Decimal(balance_of(await m.account(channel.public_key), "XLM")["balance"]) < 100
    await balances_agree(m)

    for i in (first, second):
        m.exchange.cancel(PAIR, i)
    await wait_until(lambda: all(m.order(i).is_cancelled for i in (first, second)), what="cancelled")
    assert await m.offers() == [] and m.failures() == []


async def test_cancel_all_on_stop_leaves_no_offer_of_ours(stellar_market):
    m = stellar_market
    sell = await m.place_open(SELL, "10", "0.5")
    buy = await m.place_open(BUY, "10", "0.2")
    partly = await m.place_open(SELL, "10", "0.6")
    await m.take(BUY, "13", "0.6")        # takes all of `sell` and 3 of `partly`
    await wait_until(lambda: sell.is_filled and partly.executed_amount_base == 3, what="fills")
    assert len(await m.offers()) == 2

    await m.exchange.stop_network()
    assert await m.offers() == []
    assert {e.order_id for e in m.cancels()} == {buy.client_order_id, partly.client_order_id}
    assert buy.is_cancelled and partly.is_cancelled and sell.is_filled
    assert m.failures() == []


async def test_stop_while_a_create_is_pending_still_leaves_no_offer(stellar_market):
    m = stellar_market
    resting = await m.place_open(BUY, "10", "0.2")
    m.net.faults.stall_ledgers()
    pending = m.exchange.sell(PAIR, Decimal("10"), OrderType.LIMIT, Decimal("0.5"))
    await wait_until(lambda: m.net.network.queue.pending_for(m.trader.public_key) is not None,
                     what="the create pending")
    stopping = asyncio.ensure_future(m.exchange.stop_network())
    await asyncio.sleep(0.3)
    m.net.faults.release_ledgers()
    await asyncio.wait_for(stopping, 15)

    assert await m.offers() == []
    assert m.order(pending).exchange_order_id is not None                  # it was placed, then cancelled
    assert {e.order_id for e in m.cancels()} == {resting.client_order_id, pending}
    assert m.failures() == []


# Races between our cancels and other accounts' takes


async def test_cancel_requested_while_the_create_is_pending_cancels_after_placement(stellar_market):
    m = stellar_market
    m.net.faults.stall_ledgers()
    client_order_id = m.exchange.sell(PAIR, Decimal("10"), OrderType.LIMIT, Decimal("0.5"))
    await wait_until(lambda: m.net.network.queue.pending_for(m.trader.public_key) is not None,
                     what="the create pending")
    m.exchange.cancel(PAIR, client_order_id)
    await asyncio.sleep(0.2)
    m.net.faults.release_ledgers()

    await wait_until(lambda: m.order(client_order_id).is_cancelled, what="cancelled")
    order = m.order(client_order_id)
    assert _rests(order.exchange_order_id)
    assert [(e.order_id, e.exchange_order_id) for e in m.cancels()] == [(client_order_id, order.exchange_order_id)]
    assert await m.offers() == [] and m.failures() == [] and m.fills() == []


async def test_partial_fill_in_the_ledger_of_our_cancel_is_reported_and_the_rest_cancelled(stellar_market):
    m = stellar_market
    sell = await m.place_open(SELL, "10", "0.5")
    await m.cancel_behind_a_take(sell, buy_xlm="4", price="0.5")   # the taker's higher fee goes first

    await wait_until(lambda: sell.is_cancelled and sell.executed_amount_base == 4, what="cancelled after a fill of 4")
    assert [(f.amount, f.price) for f in m.fills(sell.client_order_id)] == [(Decimal(4), Decimal("0.5"))]
    assert len(m.cancels(sell.client_order_id)) == 1 and m.failures() == []
    assert await m.offers() == []
    held = await balances_agree(m)
    assert held["USDC"][0] == Decimal(1002)


async def test_repeated_cancels_in_one_ledger_cancel_each_order_once(stellar_market):
    m = stellar_market
    first = await m.place_open(SELL, "10", "0.5")
    second = await m.place_open(SELL, "10", "0.6")
    m.net.faults.stall_ledgers()
    for order in (first, first, second):         # a strategy asking again before the ledger closes
        m.exchange.cancel(PAIR, order.client_order_id)
    await asyncio.sleep(0.2)
    m.net.faults.release_ledgers()

    await wait_until(lambda: first.is_cancelled and second.is_cancelled, what="both cancelled")
    await m.settled()
    assert sorted(e.order_id for e in m.cancels()) == sorted([first.client_order_id, second.client_order_id])
    assert await m.offers() == [] and m.failures() == []


async def test_channel_sequences_are_read_at_start_not_by_the_first_orders(make_stellar_market):
    m = await make_stellar_market(channels=2)
    sequences = m.exchange.pipeline.sequences
    await wait_until(lambda: all(sequences.current(c.public_key) is not None for c in m.channels),
                     what="the channels' sequences read at start")
    reads = sequences.fetch_count
    m.net.requests.clear()
    orders = [m.exchange.sell(PAIR, Decimal("1"), OrderType.LIMIT, Decimal("1")),
              m.exchange.buy(PAIR, Decimal("4"), OrderType.LIMIT, Decimal("0.25"))]
    await wait_until(lambda: all(m.order(i) is not None and m.order(i).is_open for i in orders), what="both open")
    assert sequences.fetch_count == reads
    assert m.net.requests.count("/accounts/{account_id}") == 0, m.net.requests.snapshot()
