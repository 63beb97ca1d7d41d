"""Real Hummingbot strategies on Hummingbot's Clock, trading through StellarExchange against the sandbox.

The classic `PureMarketMakingStrategy` and a `StrategyV2Base` script quote XLM-USDC while the
sandbox's synthetic market (`net.market`: makers and small takers) trades around them, and a taker
of our own crosses the best quotes, so orders are placed, refreshed, cancelled and filled. At the end
every order is cancelled and the connector's account is compared with the ledger's: balances,
offers, and each trade reported exactly once, on the order it belongs to.

The strategies are built here from Hummingbot's classes, not taken from `profiling/strategies/`, so the
connector's tests depend on nothing outside the connector, the sandbox and Hummingbot.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Dict, List

import pytest
from hummingbot.client.config.client_config_map import ClientConfigMap
from hummingbot.client.config.config_helpers import ClientConfigAdapter
from hummingbot.connector.connector_base import ConnectorBase
from hummingbot.connector.markets_recorder import MarketsRecorder
from hummingbot.core.clock import Clock
from hummingbot.core.clock_mode import ClockMode
from hummingbot.core.data_type.common import OrderType, PriceType, TradeType
from hummingbot.core.event.events import MarketEvent
from hummingbot.model.sql_connection_manager import SQLConnectionManager, SQLConnectionType
from hummingbot.strategy.market_trading_pair_tuple import MarketTradingPairTuple
from hummingbot.strategy.pure_market_making import PureMarketMakingStrategy
from hummingbot.strategy.strategy_v2_base import StrategyV2Base
from stellar_sdk import Keypair
from stellar_sdk.operation import PathPaymentStrictSend

from stellar_sandbox.sandbox import SandboxTransactionError
from test.hummingbot.connector.exchange.stellar.integration.conftest import PAIR, XLM, StellarMarket
from test.hummingbot.connector.exchange.stellar.integration.ledger_views import (
    STROOP,
    account_trades,
    another_trader,
    balances_match_ledger,
    our_side,
)
from test.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("closed_shared_session")]

RUN_SECONDS = 12.0         # the strategy on the clock
TICK = 0.2                 # the clock's tick
REFRESH = 2.0              # seconds between the strategies' cancel-and-replace
ORDER_AMOUNT = Decimal("10")
SPREAD = Decimal("0.001")  # inside the synthetic makers' quotes (at least 0.1 % from their mid, mostly more)
TAKE_EVERY = 0.6           # our taker's pace
TAKE_AMOUNT = Decimal("4")


@pytest.fixture
def trade_records(tmp_path: Path):
    """Hummingbot's MarketsRecorder on an SQLite file: StrategyV2Base reads its executors from it."""
    started: List[MarketsRecorder] = []

    def start(connectors: List[ConnectorBase]) -> MarketsRecorder:
        client_config = ClientConfigAdapter(ClientConfigMap())
        sql = SQLConnectionManager(client_config, SQLConnectionType.TRADE_FILLS, db_path=str(tmp_path / "trades.db"))
        recorder = MarketsRecorder(sql, connectors, "stellar_test", "stellar_test",
                                   client_config.market_data_collection)
        recorder.start()
        started.append(recorder)
        return recorder

    yield start
    for recorder in started:
        recorder.stop()
        if MarketsRecorder._shared_instance is recorder:
            MarketsRecorder._shared_instance = None


# ----- the strategies -----

def pure_market_making(m: StellarMarket) -> PureMarketMakingStrategy:
    """Hummingbot's classic strategy, configured as `strategy/pure_market_making/start.py` would."""
    strategy = PureMarketMakingStrategy()
    strategy.init_params(
        market_info=MarketTradingPairTuple(m.exchange, PAIR, "XLM", "USDC"),
        bid_spread=SPREAD, ask_spread=SPREAD,
        order_amount=ORDER_AMOUNT, order_levels=2, order_level_spread=Decimal("0.003"),
        order_refresh_time=REFRESH, max_order_age=60.0,
        order_refresh_tolerance_pct=Decimal(-1),   # every refresh cancels and re-places
        filled_order_delay=REFRESH,
        hanging_orders_enabled=False,
        price_type="mid_price",
        hb_app_notification=False,
        should_wait_order_cancel_confirmation=True,
    )
    return strategy


class QuotingScript(StrategyV2Base):
    """A V2 script: every `REFRESH` s it cancels its orders and quotes a bid and an ask around the mid."""

    def __init__(self, connector: ConnectorBase):
        self.markets = {connector.name: {PAIR}}
        super().__init__({connector.name: connector})
        self.connector_name = connector.name
        self._next_refresh = 0.0
        self.refreshes = 0

    def on_tick(self) -> None:
        if self.current_timestamp < self._next_refresh:
            return
        self._next_refresh = self.current_timestamp + REFRESH
        for order in self.get_active_orders(self.connector_name):
            self.cancel(self.connector_name, order.trading_pair, order.client_order_id)
        mid = self.connectors[self.connector_name].get_price_by_type(PAIR, PriceType.MidPrice)
        if not (mid.is_finite() and mid > 0):
            return
        self.buy(self.connector_name, PAIR, ORDER_AMOUNT, OrderType.LIMIT, mid * (1 - SPREAD))
        self.sell(self.connector_name, PAIR, ORDER_AMOUNT, OrderType.LIMIT, mid * (1 + SPREAD))
        self.refreshes += 1


# ----- the market around them -----

async def start_market(m: StellarMarket) -> None:
    """The sandbox's synthetic traders on XLM-USDC around 0.1, and a book with both sides before we quote."""
    await m.net.market.start(rate=6, base=XLM, counter=m.usdc, mid=0.1, volatility=0.002, seed=11)
    await wait_until(lambda: len(m.exchange.order_books[PAIR].snapshot[0]) > 0
                     and len(m.exchange.order_books[PAIR].snapshot[1]) > 0, what="a two-sided book")


async def take_best_quotes(m: StellarMarket, taker: Keypair) -> None:
    """Alternately sells into the best bid and buys from the best ask (path payments to itself: nothing rests)."""
    usdc, sell = m.usdc, True
    while True:
        await asyncio.sleep(TAKE_EVERY)
        book = m.exchange.order_books[PAIR]
        try:
            if sell:
                best = Decimal(str(book.get_price(False)))
                dest_min = (TAKE_AMOUNT * best * Decimal("0.995")).quantize(STROOP, ROUND_DOWN)
                op = PathPaymentStrictSend(taker.public_key, XLM, str(TAKE_AMOUNT), usdc, str(dest_min), [])
            else:
                best = Decimal(str(book.get_price(True)))
                send = (TAKE_AMOUNT * best).quantize(STROOP, ROUND_DOWN)
                dest_min = (TAKE_AMOUNT * Decimal("0.995")).quantize(STROOP, ROUND_DOWN)
                op = PathPaymentStrictSend(taker.public_key, usdc, str(send), XLM, str(dest_min), [])
            await m.submit(taker, op)
        except (SandboxTransactionError, OSError, ValueError):
            pass   # the book moved under the take, or one side is empty for a moment: the next one goes
        sell = not sell


async def run_on_clock(m: StellarMarket, strategy) -> None:
    """Hummingbot's way: a REALTIME Clock ticks the connector (starting its network) and the strategy."""
    m.ticker.cancel()                  # the fixture's ticking stops: the Clock drives from here
    await m.exchange.stop_network()    # and the Clock's network check starts it, as in Hummingbot
    taker = await another_trader(m)
    clock = Clock(ClockMode.REALTIME, tick_size=TICK)
    clock.add_iterator(m.exchange)
    clock.add_iterator(strategy)
    with clock:
        ticking = asyncio.ensure_future(clock.run())
        taking = asyncio.ensure_future(take_best_quotes(m, taker))
        try:
            await wait_until(lambda: m.exchange.ready, what="ready under the Clock")
            await start_market(m)
            await asyncio.sleep(RUN_SECONDS)
            assert not ticking.done(), ticking.exception() if ticking.done() else None
        finally:
            for task in (ticking, taking):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(ticking, taking)
            await m.net.market.stop()
        if isinstance(strategy, StrategyV2Base):
            await strategy.on_stop()
        # The strategy is still; every order of ours goes, and then the ledger is the judge.
        results = await m.exchange.cancel_all(10.0)
        # Only an order the market filled completely before its cancel landed may not be cancelled.
        failed = [m.order(r.order_id) for r in results if not r.success]
        assert all(o is not None and o.is_filled for o in failed), [
            (o.client_order_id, o.current_state, o.executed_amount_base, o.amount) if o else None for o in failed]
        await assert_agrees_with_ledger(m)


# ----- the verdict -----

async def assert_agrees_with_ledger(m: StellarMarket) -> None:
    created = {e.order_id: e for e in m.log(MarketEvent.BuyOrderCreated) + m.log(MarketEvent.SellOrderCreated)}
    fills, cancels = m.fills(), m.cancels()
    assert len(created) >= 4, f"the strategy placed {len(created)} orders"
    assert cancels, "the strategy never refreshed (no order was cancelled)"
    assert fills, "no order of the strategy was filled"
    assert m.failures() == []

    await wait_until(lambda: all(o.is_done for o in m.exchange.in_flight_orders.values()), what="no order open")
    assert await m.offers() == []

    # Each trade of the account on the ledger is one OrderFilled event, on the order whose offer traded.
    trades = await account_trades(m)
    reported = Counter(f.exchange_trade_id for f in fills)
    assert all(n == 1 for n in reported.values()), [t for t, n in reported.items() if n > 1]
    assert set(reported) == {t["id"] for t in trades}
    ledger_by_offer: Dict[str, Decimal] = defaultdict(Decimal)
    for trade in trades:
        offer_id, amount = our_side(m, trade)
        ledger_by_offer[offer_id] += amount
    reported_by_offer: Dict[str, Decimal] = defaultdict(Decimal)
    for fill in fills:
        reported_by_offer[fill.exchange_order_id] += fill.amount
    assert reported_by_offer == ledger_by_offer

    # An order reported cancelled was not filled completely on the ledger.
    offer_of = {f.order_id: f.exchange_order_id for f in fills}
    for cancel in cancels:
        filled = ledger_by_offer.get(offer_of.get(cancel.order_id, ""), Decimal(0))
        assert filled < created[cancel.order_id].amount, f"{cancel.order_id} filled {filled} yet reported cancelled"

    await balances_match_ledger(m)


async def test_pure_market_making_on_the_clock_agrees_with_the_ledger(make_stellar_market):
    m = await make_stellar_market()
    strategy = pure_market_making(m)
    await run_on_clock(m, strategy)


async def test_strategy_v2_script_on_the_clock_agrees_with_the_ledger(make_stellar_market, trade_records):
    m = await make_stellar_market()
    trade_records([m.exchange])
    script = QuotingScript(m.exchange)
    await run_on_clock(m, script)
    assert script.refreshes >= 3


async def test_cancel_all_while_the_strategys_cancels_are_in_flight_reports_them_cancelled(make_stellar_market):
    """A strategy's last refresh cancels its orders; stopping then calls cancel_all for the same orders.
    Each order is cancelled once, and cancel_all reports every one of them cancelled."""
    m = await make_stellar_market()
    orders = [await m.place_open(TradeType.BUY, "10", price) for price in ("0.1", "0.09", "0.08")]
    for order in orders:
        m.exchange.cancel(PAIR, order.client_order_id)
    await asyncio.sleep(0)   # the strategy's cancels are on their way
    results = await m.exchange.cancel_all(10.0)
    assert sorted((r.order_id, r.success) for r in results) == sorted((o.client_order_id, True) for o in orders)
    assert all(o.is_cancelled for o in orders)
    await m.settled()
    assert sorted(e.order_id for e in m.cancels()) == sorted(o.client_order_id for o in orders)
    assert m.failures() == []
    assert await m.offers() == []
