"""Several Horizons over real HTTP/SSE: a sandbox with two Horizon frontends over one ledger (and one Stellar
RPC frontend), the connector configured with both (`stellar_horizon_url="A,B"`) and the RPC.

Each fault is set on the first frontend (the active one at start): down, a 429 burst, ingestion lagging,
silent streams, a submission whose Horizon dies before answering; then both down, where the RPC carries
orders. Each test waits for the switch, then proves reads, streams and orders work on the other Horizon,
and that nothing was applied or reported twice. A one-URL configuration makes no request beyond today's.

The test's own reads of the ledger go to the frontend that is up, or to the network in-process.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Dict, List

import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from stellar_sdk.operation import ManageSellOffer

from stellar_sandbox import Sandbox
from test.hummingbot.connector.exchange.stellar.integration.conftest import PAIR, XLM, StellarMarket
from test.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("closed_shared_session")]

WAIT = 10.0
SANDBOX = {"horizons": 2, "rpcs": 1}


def every_horizon(net: Sandbox) -> Dict[str, Any]:
    return {"stellar_horizon_url": ",".join(net.horizon_urls), "stellar_rpc_url": net.frontends[2].rpc_url}


async def two_horizon_market(make_stellar_market) -> StellarMarket:
    m = await make_stellar_market(sandbox_options=SANDBOX, net_options=every_horizon)
    assert m.exchange.active_horizon_url == m.net.horizon_urls[0]
    await wait_until(lambda: all(m.exchange.streams_connected().values()), what="every stream connected")
    return m


def switched_to(m: StellarMarket, index: int) -> List[Dict[str, Any]]:
    url = m.net.horizon_urls[index]
    return [s for s in m.exchange.horizon_switches() if s["to_url"] == url]


def streams_on(m: StellarMarket, index: int) -> bool:
    """Every stream of the connector is connected, to the `index`-th Horizon."""
    url = m.net.horizon_urls[index]
    streams = [s for source in m.exchange._stream_sources() for s in source._stream_group.streams()]
    return bool(streams) and all(s.connected and s.url.startswith(url + "/") for s in streams)


def offer_ids_on_ledger(m: StellarMarket) -> List[str]:
    return [str(offer.offer_id) for offer in m.net.network.state.offers_of(m.trader.public_key)]


def sequence(m: StellarMarket) -> int:
    """The trading account's sequence number on the ledger: one more per transaction of ours applied."""
    return m.net.network.state.account(m.trader.public_key).seq_num


def rest_requests(log) -> int:
    return log.total("rest")


async def orders_work_on_the_other_horizon(m: StellarMarket) -> None:
    """An order placed and cancelled now goes through the second Horizon alone, and applies once."""
    before, rest_before = sequence(m), rest_requests(m.net.frontends[0].requests)
    order = await m.place_open(TradeType.SELL, "3", "0.3")
    assert offer_ids_on_ledger(m).count(order.exchange_order_id) == 1
    m.exchange.cancel(PAIR, order.client_order_id)
    await wait_until(lambda: m.cancels(order.client_order_id), what="the cancel reported")
    assert order.exchange_order_id not in offer_ids_on_ledger(m)
    assert sequence(m) == before + 2
    assert rest_requests(m.net.frontends[0].requests) == rest_before, "nothing but heartbeats to the first Horizon"


async def test_primary_down_reads_and_streams_switch_and_a_fill_in_the_outage_is_seen_once(make_stellar_market):
    m = await two_horizon_market(make_stellar_market)
    order = await m.place_open(TradeType.SELL, "10", "0.2")
    m.net.frontends[0].faults.set(down=True)
    switch = (await wait_until(lambda: switched_to(m, 1), what="a switch to the second Horizon"))[0]
    assert switch["from_url"] == m.net.horizon_urls[0] and switch["fault_age_s"] >= 0
    assert m.exchange.active_horizon_url == m.net.horizon_urls[1]
    first, second = m.exchange.horizon_health()
    assert first["state"] != "healthy" and second["active"] and not first["active"]
    await wait_until(lambda: streams_on(m, 1), what="every stream on the second Horizon")

    await m.take(TradeType.BUY, "4", "0.2")     # a fill while the first Horizon is down
    await wait_until(lambda: order.executed_amount_base == Decimal("4"), what="the fill, from the second Horizon")
    await m.exchange._update_orders_fills([order])   # the safety poll reads the same trade again: no second fill
    await m.settled()
    assert len(m.fills(order.client_order_id)) == 1
    balances = await m.exchange._horizon.get_account(m.trader.public_key)   # a read, from the second Horizon
    assert balances["id"] == m.trader.public_key
    assert m.net.frontends[1].requests.count("/accounts/{account_id}") >= 1


async def test_a_429_burst_switches_and_the_first_horizon_is_left_alone(make_stellar_market):
    m = await two_horizon_market(make_stellar_market)
    m.net.frontends[0].faults.set(errors={"rate": 1.0, "statuses": [429], "retry_after": 30})
    account = await m.exchange._horizon.get_account(m.trader.public_key)   # refused with 429, answered by the other
    assert account["id"] == m.trader.public_key
    switch = (await wait_until(lambda: switched_to(m, 1), what="a switch to the second Horizon"))[0]
    assert "429" in switch["reason"]
    await wait_until(lambda: streams_on(m, 1), what="every stream on the second Horizon")
    await orders_work_on_the_other_horizon(m)


async def test_a_lagging_primary_is_left_for_the_other(make_stellar_market):
    m = await two_horizon_market(make_stellar_market)
    m.net.frontends[0].faults.set(lag=10)
    switch = (await wait_until(lambda: switched_to(m, 1), what="a switch to the second Horizon"))[0]
    # A Horizon falling behind first stands still: whichever rule sees it first (N ledgers behind, or silent)
    assert switch["reason"].startswith(("lagging", "silent"))
    await wait_until(lambda: streams_on(m, 1), what="every stream on the second Horizon")
    await orders_work_on_the_other_horizon(m)


async def test_silent_streams_on_the_primary_switch(make_stellar_market):
    m = await two_horizon_market(make_stellar_market)
    faults = m.net.frontends[0].faults
    faults.set(silent_streams=True)
    faults.drop_streams()   # they reconnect, to silence: connected, and nothing comes
    switch = (await wait_until(lambda: switched_to(m, 1), what="a switch to the second Horizon"))[0]
    assert switch["reason"].startswith(("silent", "lagging"))
    await wait_until(lambda: streams_on(m, 1), what="every stream on the second Horizon")
    order = await m.place_open(TradeType.SELL, "10", "0.2")
    await m.take(TradeType.BUY, "4", "0.2")
    await wait_until(lambda: order.executed_amount_base == Decimal("4"), what="the fill, streamed by the second")


async def test_a_submission_whose_horizon_dies_unanswered_is_resolved_on_the_other_and_applies_once(
        make_stellar_market):
    m = await two_horizon_market(make_stellar_market)
    await m.settled()   # the sequence number is known: the order goes straight to submission
    first = m.net.frontends[0]
    first.faults.set(submission_timeout={"rate": 1.0, "hold": 60.0})   # queued, then no answer
    before = sequence(m)
    m.net.faults.stall_ledgers()   # it stays pending in stellar-core while its Horizon dies
    try:
        client_order_id = m.exchange.sell(PAIR, Decimal("10"), OrderType.LIMIT, Decimal("0.2"))
        await wait_until(lambda: m.net.network.queue.pending_for(m.trader.public_key) is not None,
                         what="the transaction pending in stellar-core")
        first.faults.set(down=True)
        await wait_until(lambda: m.net.frontends[1].requests.count("/transactions_async", "POST") >= 1,
                         what="the same envelope sent to the second Horizon")
    finally:
        m.net.faults.release_ledgers()
    await wait_until(lambda: (o := m.order(client_order_id)) is not None and o.exchange_order_id is not None,
                     what="the order created")
    order = m.order(client_order_id)
    assert order.is_open and offer_ids_on_ledger(m) == [order.exchange_order_id]
    assert sequence(m) == before + 1                      # one transaction applied, not two
    assert switched_to(m, 1) and not m.failures()


async def test_with_every_horizon_down_orders_go_through_the_rpc_once_and_fills_are_not_doubled(
        make_stellar_market):
    m = await two_horizon_market(make_stellar_market)
    # The taker's resting offer: our buy takes half of it at placement, while no Horizon answers.
    await m.submit(m.taker, ManageSellOffer(selling=XLM, buying=m.usdc, amount="5", price="0.21"))
    await m.settled()   # sequence and fee figures known
    before = sequence(m)
    for frontend in m.net.frontends[:2]:
        frontend.faults.set(down=True)
    buy = await m.place(TradeType.BUY, "10", "0.21")
    order = m.order(buy)
    assert order.is_open and order.executed_amount_base == Decimal("5")      # the fill, from the RPC's result
    assert offer_ids_on_ledger(m) == [order.exchange_order_id]
    m.exchange.cancel(PAIR, buy)
    await wait_until(lambda: m.cancels(buy), what="the cancel, through the RPC")
    assert offer_ids_on_ledger(m) == [] and sequence(m) == before + 2      # each applied once
    assert m.exchange._horizons.rpc_submissions >= 2

    for frontend in m.net.frontends[:2]:   # the Horizons stream the same trade: the fill stays one
        frontend.faults.set(down=False)
    await wait_until(lambda: all(m.exchange.streams_connected().values()), timeout=20.0, what="the streams back")
    await m.exchange._update_orders_fills([order])
    await m.trades_delivered(m.taker)
    fills = m.fills(buy)
    assert len(fills) == 1 and fills[0].amount == Decimal("5")


async def test_one_horizon_url_makes_no_request_beyond_a_single_horizons(make_stellar_market):
    m = await make_stellar_market(sandbox_options=SANDBOX)   # configured with the first Horizon only
    order = await m.place_open(TradeType.SELL, "10", "0.2")
    m.exchange.cancel(PAIR, order.client_order_id)
    await wait_until(lambda: m.cancels(order.client_order_id), what="the cancel reported")
    assert m.net.requests.count("/ledgers", kind="stream") == 0, "no heartbeat with one Horizon"
    assert not m.net.frontends[1].requests.counts and not m.net.frontends[2].requests.counts
    assert m.exchange.horizon_switches() == [] and m.exchange.active_horizon_url == m.net.horizon_url
    assert m.exchange._horizons._session is None       # no connection of its own either
