"""The connector's Horizon requests while it trades, from the sandbox's request log (every request the frontend
answered, by route and REST or stream): balances follow fills from the streamed account, with no
`GET /accounts/{id}` after the start, and the REST reads of steady state stay within 60 an hour.

Nothing else talks to the sandbox over HTTP while the window is open: the counterparty submits through the
sandbox's own submitter and the ledger's view is read from its state, so the log is the connector's alone.
"""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Dict, Tuple

import pytest
from hummingbot.core.data_type.common import TradeType
from stellar_sdk.operation import ManageBuyOffer

from stellar_sandbox.request_log import RequestLog
from test.hummingbot.connector.exchange.stellar.integration.conftest import PAIR, XLM, StellarMarket
from test.hummingbot.connector.exchange.stellar.integration.ledger_views import (
    STROOP,
    Balances,
    another_trader,
    connector_balances,
    ledger_balances,
)
from test.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("closed_shared_session")]

ACCOUNT_ROUTE = "/accounts/{account_id}"
BUDGET_PER_HOUR = 60
MIN_WINDOW_S = 15.0   # trading goes on at least this long (a few ledgers a round)
MAX_ROUNDS = 200


def ledger_view(m: StellarMarket) -> Balances:
    """The trader's balances as the ledger has them, read in-process (no request to the frontend)."""
    state = m.net.network.state
    return ledger_balances(state.account_json(m.trader.public_key), Decimal(state.base_reserve) * STROOP)


async def balances_follow_the_ledger(m: StellarMarket, what: str) -> None:
    await wait_until(lambda: connector_balances(m) == ledger_view(m), what=f"{what}: the connector's balances = "
                                                                            f"the ledger's")


def rest_reads(log: RequestLog) -> Dict[Tuple[str, str], int]:
    return {(method, route): n for (method, route, kind), n in log.counts.items() if kind == "rest" and method == "GET"}


async def test_balances_follow_fills_from_the_streams_and_reads_stay_within_the_budget(make_stellar_market):
    m = await make_stellar_market()
    exchange, log = m.exchange, m.net.requests
    other = await another_trader(m)
    account = exchange._user_stream_tracker.data_source
    # The start: its reads, the first safety poll, the first order's sequence read; then the streams are current.
    first = await m.place_open(TradeType.SELL, "10", "0.2")
    exchange.cancel(PAIR, first.client_order_id)
    await wait_until(lambda: first.is_cancelled, what="the first order cancelled")
    await wait_until(lambda: account.account_stream_current() and account.all_streams_connected(),
                     what="every account stream connected, the account delivered")
    await balances_follow_the_ledger(m, "after the start")
    assert log.count(ACCOUNT_ROUTE) >= 1, "the start reads the account once (the sequence, or the first poll)"

    log.clear()
    loop = asyncio.get_running_loop()
    started = loop.time()
    fills = rounds = 0
    while rounds < MAX_ROUNDS and loop.time() - started < MIN_WINDOW_S:
        n, rounds = rounds, rounds + 1
        order = await m.place_open(TradeType.SELL, "10", "0.2")
        # A taker buys part of it; every other round the rest too, else the rest is cancelled.
        await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="4", price="0.2"))
        await wait_until(lambda o=order: o.executed_amount_base == Decimal("4"), what=f"round {n}: partial fill")
        fills += 1
        await balances_follow_the_ledger(m, f"round {n}, after a partial fill")
        if n % 2:
            await m.submit(other, ManageBuyOffer(selling=m.usdc, buying=XLM, amount="6", price="0.2"))
            await wait_until(lambda o=order: o.is_filled, what=f"round {n}: filled")
            fills += 1
        else:
            exchange.cancel(PAIR, order.client_order_id)
            await wait_until(lambda o=order: o.is_cancelled, what=f"round {n}: the rest cancelled")
        await balances_follow_the_ledger(m, f"round {n}, order done")
    window = loop.time() - started

    reads = rest_reads(log)
    assert ("GET", ACCOUNT_ROUTE) not in reads, f"balances must follow fills from the stream, not {reads}"
    per_hour = sum(reads.values()) * 3600 / window
    assert per_hour <= BUDGET_PER_HOUR, f"{sum(reads.values())} REST reads in {window:.1f} s: {per_hour:.0f} an hour"
    assert window >= MIN_WINDOW_S, f"only {rounds} rounds in {window:.1f} s"
    cancels = (rounds + 1) // 2
    assert fills == rounds + rounds // 2
    assert log.count("/transactions_async", method="POST") == rounds + cancels   # one tx a placement, a cancel
    assert log.total("stream") == 0, "no stream had to be reopened"

    # Hummingbot's safety poll while the streams are up: the offers and one page of trades, never the account.
    open_order = await m.place_open(TradeType.SELL, "10", "0.3")
    log.clear()
    await exchange._status_polling_loop_fetch_updates()
    assert rest_reads(log) == {("GET", "/accounts/{account_id}/offers"): 1, ("GET", "/accounts/{account_id}/trades"): 1}
    assert exchange._account.poll_interval(exchange.LONG_POLL_INTERVAL, exchange.SHORT_POLL_INTERVAL) == 300
    poll_per_hour = 2 * 3600 / exchange.LONG_POLL_INTERVAL
    assert per_hour + poll_per_hour <= BUDGET_PER_HOUR
    exchange.cancel(PAIR, open_order.client_order_id)
    await wait_until(lambda: open_order.is_cancelled, what="the last order cancelled")


async def test_while_the_transaction_stream_is_up_no_transaction_is_looked_up_by_hash(make_stellar_market):
    # Ledgers of 2 s: a lookup after the submitter's plain 1 s pause would find nothing yet (two a transaction on
    # the public networks' 5 s ledgers); the account's transaction stream tells first.
    m = await make_stellar_market(sandbox_options={"ledger_interval": 2.0})
    exchange, log = m.exchange, m.net.requests
    account = exchange._user_stream_tracker.data_source
    await wait_until(lambda: account.all_streams_connected(), what="every account stream connected")
    log.clear()
    orders = [await m.place_open(TradeType.SELL, "10", price) for price in ("0.2", "0.3")]
    for order in orders:
        exchange.cancel(PAIR, order.client_order_id)
    await wait_until(lambda: all(o.is_cancelled for o in orders), timeout=20, what="both cancelled")
    assert log.count("/transactions_async", method="POST") in (3, 4)   # the two cancels may share one
    assert log.count("/transactions/{tx_id}") == 0, rest_reads(log)
