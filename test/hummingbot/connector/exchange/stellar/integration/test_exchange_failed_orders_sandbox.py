"""StellarExchange against the embedded sandbox when orders go wrong: Stellar's refusals, bad
input, Horizon errors and lost answers. Each must reach the strategy as Hummingbot's order
states and events with a clear message, and lose nothing: no offer left behind, none placed twice.
"""
import asyncio
from contextlib import asynccontextmanager
from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.data_type.limit_order import LimitOrder
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from stellar_sdk import Account, TransactionBuilder
from stellar_sdk.operation import Payment

from hummingbot.connector.exchange.stellar.stellar_assets import StellarConfigError
from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from test.hummingbot.connector.exchange.stellar.integration.conftest import (
    PAIR,
    XLM,
    StellarMarket,
    _tick,
)
from test.hummingbot.connector.exchange.stellar.integration.test_exchange_orders_sandbox import (
    balances_agree,
    offers_by_id,
)
from test.waiting import wait_until

BUY, SELL = TradeType.BUY, TradeType.SELL


def failure_of(m: StellarMarket, client_order_id: str):
    (failure,) = [f for f in m.failures() if f.order_id == client_order_id]
    return failure


async def failed(m: StellarMarket, client_order_id: str) -> str:
    """Waits for the order to fail; its failure message."""
    assert (await m.finished(client_order_id)).current_state is OrderState.FAILED
    return failure_of(m, client_order_id).error_message


async def sequence_of(m: StellarMarket, account_id: str = None) -> int:
    return int((await m.account(account_id))["sequence"])


# Stellar's refusals


async def test_underfunded_order_fails_with_its_reason_and_spares_the_rest_of_its_batch(stellar_market):
    m = stellar_market
    alone = await m.place(SELL, "20000", "0.5")           # the trader holds 10,000 XLM
    message = await failed(m, alone)
    assert "op_underfunded" in message and "does not hold enough" in message and alone in message

    good, bad = m.exchange.batch_order_create([
        LimitOrder(client_order_id="", trading_pair=PAIR, is_buy=False, base_currency="XLM", quote_currency="USDC",
                   price=Decimal("0.5"), quantity=Decimal("10")),
        LimitOrder(client_order_id="", trading_pair=PAIR, is_buy=True, base_currency="XLM", quote_currency="USDC",
                   price=Decimal("0.5"), quantity=Decimal("4000")),    # 2000 USDC; the trader holds 1000
    ])
    assert "op_underfunded" in await failed(m, bad.client_order_id)
    await wait_until(lambda: m.order(good.client_order_id).current_state is OrderState.OPEN, what="the good order open")
    assert set(await offers_by_id(m)) == {m.order(good.client_order_id).exchange_order_id}
    assert m.fills() == []
    await balances_agree(m)


async def test_crossing_our_own_offer_fails_and_leaves_it_resting(stellar_market):
    m = stellar_market
    resting = await m.place_open(SELL, "10", "0.5")
    crossing = await m.place(BUY, "1", "0.6")
    message = await failed(m, crossing)
    assert "op_cross_self" in message and "same account" in message
    assert resting.is_open and resting.executed_amount_base == 0
    offers = await offers_by_id(m)
    assert set(offers) == {resting.exchange_order_id} and Decimal(offers[resting.exchange_order_id]["amount"]) == 10


async def test_offer_beyond_the_xlm_reserve_fails_with_low_reserve(make_stellar_market):
    # 2 XLM: the account and its trustline need 1.5; a new offer would need 2 plus the fees paid.
    m = await make_stellar_market(trader_xlm=2)
    buy = await m.place(BUY, "10", "0.5")                  # sells USDC, so only the reserve is short
    message = await failed(m, buy)
    assert "op_low_reserve" in message and "minimum reserve" in message
    assert await m.offers() == []


@asynccontextmanager
async def exchange_for(m: StellarMarket, keypair, extra_market: str, pair: str):
    """A second StellarExchange on the same sandbox, for another account and one more asset."""
    exchange = StellarExchange(
        stellar_secret_key=keypair.secret, stellar_markets=f"USDC:{m.usdc.issuer},{extra_market}",
        stellar_horizon_url=m.net.horizon_url, stellar_network_passphrase=m.net.passphrase, trading_pairs=[pair])
    failures = EventLogger()
    exchange.add_listener(MarketEvent.OrderFailure, failures)
    await exchange.start_network()
    ticker = asyncio.ensure_future(_tick(exchange))
    try:
        await wait_until(lambda: exchange.ready, what="second exchange ready")
        yield exchange, failures
    finally:
        ticker.cancel()
        await exchange.stop_network()
        await exchange.pipeline.stop()


async def test_asset_without_a_trustline_fails_with_no_trust(stellar_market):
    m = stellar_market
    eurt = await m.net.issue_asset("EURT")
    pair = "XLM-EURT"
    async with exchange_for(m, m.taker, f"EURT:{eurt.issuer}", pair) as (exchange, failures):
        sell = exchange.sell(pair, Decimal("5"), OrderType.LIMIT, Decimal("2"))       # buys EURT: no trustline
        buy = exchange.buy(pair, Decimal("5"), OrderType.LIMIT, Decimal("2"))         # sells EURT: none either
        await wait_until(lambda: len(failures.event_log) == 2, what="both failed")
        messages = {f.order_id: f.error_message for f in failures.event_log}
        assert "op_buy_no_trust" in messages[sell] and "no trustline for the asset it buys" in messages[sell]
        assert "op_sell_no_trust" in messages[buy] and "no trustline for the asset it sells" in messages[buy]
        assert await m.offers(m.taker.public_key) == []


async def test_cancel_of_an_offer_that_just_filled_reports_the_fill_not_a_failure(stellar_market):
    m = stellar_market
    sell = await m.place_open(SELL, "10", "0.5")
    await m.cancel_behind_a_take(sell, buy_xlm="10", price="0.5")   # the taker's higher fee goes first

    # is_done turns true with the last fill, before the order update that completes it: wait on the event.
    await wait_until(lambda: m.log(MarketEvent.SellOrderCompleted), what="sell completed")
    assert sell.is_filled
    assert [(f.amount, f.price) for f in m.fills(sell.client_order_id)] == [(Decimal(10), Decimal("0.5"))]
    assert m.cancels() == [] and m.failures() == []
    assert len(m.log(MarketEvent.SellOrderCompleted)) == 1
    assert await m.offers() == []


# Bad input


async def test_bad_input_fails_clearly_and_submits_nothing(stellar_market):
    m = stellar_market
    sequence = await sequence_of(m)
    # Without BASE-QUOTE, Hummingbot cannot even name the order: the call itself says why.
    with pytest.raises(StellarConfigError, match="must be BASE-QUOTE"):
        m.exchange.buy("XLMUSDC", Decimal("1"), OrderType.LIMIT, Decimal("0.5"))
    # A pair of unknown assets becomes a failed order, with the fix in its message.
    unknown = m.exchange.buy("XLM-NOPE", Decimal("1"), OrderType.LIMIT, Decimal("0.5"))
    message = await failed(m, unknown)
    assert "XLM-NOPE" in message and "Unknown asset 'NOPE'" in message and "stellar_markets" in message
    tiny = m.exchange.sell(PAIR, Decimal("0.00000004"), OrderType.LIMIT, Decimal("0.5"))   # below one stroop
    assert "lower than minimum order size" in await failed(m, tiny)
    assert await sequence_of(m) == sequence and await m.offers() == []

    # Beyond 7 decimals, Hummingbot's rule quantizes down to the stroop: the ledger holds exactly that.
    # (At price 2 the quote side is whole stroops, so stellar-core keeps the amount as it is.)
    order = await m.place_open(SELL, "10.123456789", "2.00000001")
    assert order.amount == Decimal("10.1234567") and order.price == Decimal("2")
    offer = (await offers_by_id(m))[order.exchange_order_id]
    assert Decimal(offer["amount"]) == Decimal("10.1234567") and offer["price_r"] == {"n": 2, "d": 1}


# Horizon errors and lost answers


async def test_horizon_5xx_on_submission_is_retried_until_placed_once(stellar_market):
    # Answered without being handled (a 504 here is a gateway giving up before Horizon): nothing reached core.
    m = stellar_market
    m.net.faults.set(errors={"rate": 1.0, "statuses": [503, 500, 504], "paths": ["/transactions_async"]})
    client_order_id = m.exchange.sell(PAIR, Decimal("10"), OrderType.LIMIT, Decimal("0.5"))
    await wait_until(lambda: m.net.faults.injected["errors"] >= 3, what="three refused submissions")
    assert m.order(client_order_id).current_state is OrderState.PENDING_CREATE and m.failures() == []
    m.net.faults.clear()

    await wait_until(lambda: m.order(client_order_id).current_state is OrderState.OPEN, what="order open")
    order = m.order(client_order_id)
    assert set(await offers_by_id(m)) == {order.exchange_order_id}
    assert list(await m.offer_transactions()) == [order.exchange_order_id]     # one creating transaction
    assert m.failures() == []


async def test_rate_limited_submission_is_retried_until_placed_once(stellar_market):
    m = stellar_market
    m.net.faults.set(errors={"rate": 1.0, "statuses": [429], "retry_after": 1, "paths": ["/transactions_async"]})
    client_order_id = m.exchange.buy(PAIR, Decimal("10"), OrderType.LIMIT, Decimal("0.2"))
    await wait_until(lambda: m.net.faults.injected["errors"] >= 2, what="two rate-limited submissions")
    assert m.order(client_order_id).current_state is OrderState.PENDING_CREATE and m.failures() == []
    m.net.faults.clear()

    await wait_until(lambda: m.order(client_order_id).current_state is OrderState.OPEN, what="order open")
    assert set(await offers_by_id(m)) == {m.order(client_order_id).exchange_order_id}
    assert m.failures() == []


async def test_timed_out_submissions_are_resolved_by_hash_and_placed_exactly_once(stellar_market):
    m = stellar_market
    for fault in ({"rate": 1.0}, {"rate": 1.0, "hold": 0.3}):       # a 504, then a connection dropped unanswered
        before = await sequence_of(m)
        injected = m.net.faults.injected["submission_timeout"]
        m.net.faults.set(submission_timeout=fault)
        order = await m.place_open(SELL, "10", "0.5" if "hold" not in fault else "0.6")
        assert m.net.faults.injected["submission_timeout"] > injected
        m.net.faults.clear()
        assert await sequence_of(m) == before + 1                    # one transaction applied, not two
        offers = await offers_by_id(m)
        assert order.exchange_order_id in offers
        created_by = await m.offer_transactions()
        assert list(created_by).count(order.exchange_order_id) == 1
    assert len(await m.offers()) == 2 and m.failures() == []
    await balances_agree(m)

    # A cancel whose answer is lost is resolved the same way: cancelled once, no error.
    order = next(iter(m.exchange.in_flight_orders.values()))
    before = await sequence_of(m)
    m.net.faults.set(submission_timeout={"rate": 1.0})
    m.exchange.cancel(PAIR, order.client_order_id)
    await wait_until(lambda: order.is_cancelled, what="cancelled")
    m.net.faults.clear()
    assert await sequence_of(m) == before + 1
    assert order.exchange_order_id not in await offers_by_id(m) and len(await m.offers()) == 1
    assert len(m.cancels(order.client_order_id)) == 1 and m.failures() == []


async def test_outside_transaction_of_the_account_delays_but_never_fails_an_order(stellar_market):
    m = stellar_market
    m.net.faults.stall_ledgers()
    # A transaction of the trading account that the connector did not build is pending: ours gets
    # TRY_AGAIN_LATER, then finds its sequence number taken (tx_bad_seq), and is rebuilt.
    sequence = m.net.network.state.account(m.trader.public_key).seq_num
    envelope = (TransactionBuilder(Account(m.trader.public_key, sequence), m.net.passphrase, base_fee=100)
                .append_operation(Payment(destination=m.taker.public_key, asset=XLM, amount="1"))
                .add_time_bounds(0, 0).build())
    envelope.sign(m.trader)
    assert m.net.network.submit(envelope.to_xdr()).status == "PENDING"
    client_order_id = m.exchange.sell(PAIR, Decimal("10"), OrderType.LIMIT, Decimal("0.5"))
    await asyncio.sleep(0.5)
    assert m.order(client_order_id).current_state is OrderState.PENDING_CREATE
    m.net.faults.release_ledgers()

    await wait_until(lambda: m.order(client_order_id).current_state is OrderState.OPEN, what="order open")
    assert set(await offers_by_id(m)) == {m.order(client_order_id).exchange_order_id}
    assert m.failures() == []
