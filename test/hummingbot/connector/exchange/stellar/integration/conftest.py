"""A running StellarExchange against the embedded sandbox, over real HTTP/SSE on loopback.

`stellar_market` starts a Sandbox closing a ledger every `LEDGER_INTERVAL` s, issues USDC, funds a
trading account and a taker account, and starts a `StellarExchange` for XLM-USDC the way
Hummingbot does: `start_network()`, a clock ticking it, and a wait for `ready`.
`make_stellar_market(channels=2, ...)` builds one with other options.
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Sequence

import aiohttp
import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState
from hummingbot.core.event.event_logger import EventLogger
from hummingbot.core.event.events import MarketEvent
from stellar_sdk import Account, Asset, Keypair, TransactionBuilder
from stellar_sdk.operation import ManageBuyOffer, ManageSellOffer

from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from hummingbot.connector.exchange.stellar.stellar_tx_results import OFFER_CREATED, decode_transaction_result
from stellar_sandbox import Sandbox
from test.waiting import wait_until

FINAL_STATES = (OrderState.FILLED, OrderState.CANCELED, OrderState.FAILED)

pytestmark = pytest.mark.integration

LEDGER_INTERVAL = 0.1
PAIR = "XLM-USDC"
XLM = Asset.native()
WAIT = 10.0   # s any single expectation may take (a few ledgers, with room for a loaded machine)

RECORDED_EVENTS = (MarketEvent.BuyOrderCreated, MarketEvent.SellOrderCreated, MarketEvent.OrderFilled,
                   MarketEvent.OrderCancelled, MarketEvent.OrderFailure, MarketEvent.BuyOrderCompleted,
                   MarketEvent.SellOrderCompleted)


@dataclass
class StellarMarket:
    net: Sandbox
    usdc: Asset
    trader: Keypair
    taker: Keypair
    exchange: StellarExchange
    session: aiohttp.ClientSession
    channels: List[Keypair] = field(default_factory=list)
    events: Dict[MarketEvent, EventLogger] = field(default_factory=dict)
    ticker: Optional[asyncio.Future] = None   # the fixture's stand-in for Hummingbot's Clock (cancel it to use a Clock)
    sentinels: set = field(default_factory=set)   # client ids of the orders `settled`/`trades_delivered` placed

    # Events

    def log(self, event: MarketEvent) -> List[Any]:
        return list(self.events[event].event_log)

    def fills(self, client_order_id: Optional[str] = None) -> List[Any]:
        return [e for e in self.log(MarketEvent.OrderFilled) if e.order_id == client_order_id
                or (client_order_id is None and e.order_id not in self.sentinels)]

    def failures(self) -> List[Any]:
        return self.log(MarketEvent.OrderFailure)

    def cancels(self, client_order_id: Optional[str] = None) -> List[Any]:
        return [e for e in self.log(MarketEvent.OrderCancelled) if e.order_id == client_order_id
                or (client_order_id is None and e.order_id not in self.sentinels)]

    # Proof that earlier work is done (instead of a sleep that a slow machine turns into a pass)

    async def settled(self) -> None:
        """A sentinel order placed and cancelled now goes through the same pipeline queue and order tracker
        after everything asked before it: once its cancel is reported, whatever came earlier is too."""
        sentinel = await self.place_open(TradeType.BUY, "1", "0.00001")   # far below any ask
        self.sentinels.add(sentinel.client_order_id)
        self.exchange.cancel(PAIR, sentinel.client_order_id)
        await wait_until(lambda: self.cancels(sentinel.client_order_id), what="the sentinel order cancelled")

    async def trades_delivered(self, counterparty: Keypair) -> None:
        """The account's trade stream delivers in ledger order: once a sentinel trade made now reaches the
        connector, every trade before it has. The sentinel sells 1 XLM inside the spread, where
        `counterparty` takes all of it and nothing else."""
        book = await self.get("/order_book", selling_asset_type="native", buying_asset_type="credit_alphanum4",
                              buying_asset_code=self.usdc.code, buying_asset_issuer=self.usdc.issuer)
        best_bid = max((Decimal(b["price"]) for b in book["bids"]), default=Decimal(0))
        best_ask = min((Decimal(a["price"]) for a in book["asks"]), default=best_bid * 2 + 1)
        price = ((best_bid + best_ask) / 2).quantize(Decimal("0.0000001"))
        assert best_bid < price < best_ask, f"no room in the spread {best_bid}..{best_ask} for a sentinel"
        sentinel = await self.place_open(TradeType.SELL, "1", str(price))
        self.sentinels.add(sentinel.client_order_id)
        await self.submit(counterparty, ManageBuyOffer(selling=self.usdc, buying=XLM, amount="1", price=str(price)))
        await wait_until(lambda: sentinel.is_filled and self.fills(sentinel.client_order_id),
                         what="the sentinel trade on the account's trade stream")

    # Orders

    def order(self, client_order_id: str) -> Optional[InFlightOrder]:
        return self.exchange._order_tracker.fetch_order(client_order_id)

    async def finished(self, client_order_id: str) -> InFlightOrder:
        """Waits for the order's final state. Not `is_done`: that turns true with the last fill, a loop turn
        before the tracker's task moves the order to FILLED."""
        await wait_until(lambda: (o := self.order(client_order_id)) is not None and o.current_state in FINAL_STATES,
                         what=f"{client_order_id} in a final state")
        return self.order(client_order_id)

    async def place(self, side: TradeType, amount: str, price: str, order_type: OrderType = OrderType.LIMIT,
                    pair: str = PAIR) -> str:
        """Place through Hummingbot's buy/sell and wait until the order is created (or failed)."""
        place = self.exchange.buy if side is TradeType.BUY else self.exchange.sell
        client_order_id = place(pair, Decimal(amount), order_type, Decimal(price))
        await wait_until(lambda: (o := self.order(client_order_id)) is not None
                         and (o.exchange_order_id is not None or o.is_done), what=f"{client_order_id} placed")
        return client_order_id

    async def place_open(self, side: TradeType, amount: str, price: str,
                         order_type: OrderType = OrderType.LIMIT) -> InFlightOrder:
        client_order_id = await self.place(side, amount, price, order_type)
        order = self.order(client_order_id)
        assert order.is_open, f"{client_order_id} is {order.current_state}: {self.failures()}"
        return order

    # Horizon

    async def get(self, path: str, **params: Any) -> Dict[str, Any]:
        async with self.session.get(self.net.horizon_url + path, params=params) as response:
            assert response.status == 200, f"GET {path}: {response.status} {await response.text()}"
            return await response.json()

    async def offers(self, account_id: Optional[str] = None) -> List[Dict[str, Any]]:
        page = await self.get(f"/accounts/{account_id or self.trader.public_key}/offers", limit=200)
        return page["_embedded"]["records"]

    async def account(self, account_id: Optional[str] = None) -> Dict[str, Any]:
        return await self.get(f"/accounts/{account_id or self.trader.public_key}")

    async def offer_transactions(self) -> Dict[str, str]:
        """offer id -> hash of the transaction that created it, from the account's transaction results."""
        page = await self.get(f"/accounts/{self.trader.public_key}/transactions", order="desc", limit=200)
        created: Dict[str, str] = {}
        for record in page["_embedded"]["records"]:
            for outcome in decode_transaction_result(record["result_xdr"]).operations:
                if outcome.offer_state == OFFER_CREATED:
                    created[str(outcome.offer_id)] = record["hash"]
        return created

    async def transaction(self, tx_hash: str) -> Dict[str, Any]:
        return await self.get(f"/transactions/{tx_hash}")

    # The other side of the market

    async def take(self, side: TradeType, amount: str, price: str, keypair: Optional[Keypair] = None) -> dict:
        """The taker crosses the book: SELL sells `amount` XLM at >= price, BUY buys `amount` XLM at <= price."""
        if side is TradeType.SELL:
            op = ManageSellOffer(selling=XLM, buying=self.usdc, amount=amount, price=price)
        else:
            op = ManageBuyOffer(selling=self.usdc, buying=XLM, amount=amount, price=price)
        return await self.submit(keypair or self.taker, op)

    async def cancel_behind_a_take(self, order: InFlightOrder, buy_xlm: str, price: str) -> None:
        """Cancel `order` (a SELL of ours) in the same ledger as the taker buying `buy_xlm` from it; the
        take pays a higher fee, so the ledger applies it first. Returns once both were applied."""
        self.net.faults.stall_ledgers()
        try:
            sequence = self.net.network.state.account(self.taker.public_key).seq_num
            envelope = (TransactionBuilder(Account(self.taker.public_key, sequence), self.net.passphrase,
                                           base_fee=1000)
                        .append_operation(ManageBuyOffer(selling=self.usdc, buying=XLM, amount=buy_xlm, price=price))
                        .add_time_bounds(0, 0).build())
            envelope.sign(self.taker)
            assert self.net.network.submit(envelope.to_xdr()).status == "PENDING"
            self.exchange.cancel(order.trading_pair, order.client_order_id)
            await wait_until(lambda: self.net.network.queue.pending_for(self.trader.public_key) is not None,
                             what="cancel pending")
        finally:
            self.net.faults.release_ledgers()

    async def submit(self, keypair: Keypair, *operations, source: Optional[str] = None) -> dict:
        return await submit(self.net, keypair, *operations)


async def submit(net: Sandbox, keypair: Keypair, *operations, fee: int = 100, signers: Sequence[Keypair] = ()) -> dict:
    """A transaction of `operations` from `keypair` (sequence read from the ledger), bidding `fee` per operation and
    signed by `keypair` and `signers`, applied in the next ledger."""
    sequence = net.network.state.account(keypair.public_key).seq_num
    builder = TransactionBuilder(Account(keypair.public_key, sequence), net.passphrase, base_fee=fee)
    for operation in operations:
        builder.append_operation(operation)
    envelope = builder.add_time_bounds(0, 0).build()
    for signer in (keypair, *signers):
        envelope.sign(signer)
    return await net.submit(envelope.to_xdr())


async def start_exchange(net: Sandbox, trader: Keypair, usdc: Asset, channels: List[Keypair],
                         **options: Any) -> StellarExchange:
    """`options` go to StellarExchange, over these defaults (e.g. `stellar_horizon_url`: the first Horizon's)."""
    settings: Dict[str, Any] = dict(
        stellar_secret_key=trader.secret,
        stellar_markets=f"USDC:{usdc.issuer}",
        stellar_horizon_url=net.horizon_url,
        stellar_network_passphrase=net.passphrase,
        stellar_channel_secret_keys=[c.secret for c in channels] or None,
        trading_pairs=[PAIR])
    settings.update(options)
    return StellarExchange(**settings)


async def _tick(exchange: StellarExchange, interval: float = 0.1) -> None:
    """What Hummingbot's Clock does for a connector: set its timestamp and tick it."""
    while True:
        now = time.time()
        exchange._set_current_timestamp(now)
        exchange.tick(now)
        await asyncio.sleep(interval)


@pytest.fixture
async def make_stellar_market():
    started: List[tuple] = []

    async def make(channels: int = 0, trader_xlm: int = 10_000, trader_usdc: str = "1000",
                   sandbox_options: Optional[Dict[str, Any]] = None, wait_ready: bool = True,
                   before_start: Optional[Callable[[Sandbox], Any]] = None,
                   net_options: Optional[Callable[[Sandbox], Dict[str, Any]]] = None, **options: Any) -> StellarMarket:
        """`before_start(net)` runs just before the exchange starts (e.g. to set faults); with
        `wait_ready=False` the market is returned at once, ready or not. `net_options(net)`: more exchange
        options, from the started sandbox (e.g. every Horizon's URL)."""
        net = Sandbox(**{"ledger_interval": LEDGER_INTERVAL, "submission_timeout": 5.0, "stream_keep_alive": 1.0,
                         **(sandbox_options or {})})
        await net.start()
        session = aiohttp.ClientSession()
        started.append((net, session, None, None))
        usdc = await net.issue_asset("USDC")
        trader, taker, *channel_keys = await asyncio.gather(
            net.create_account(trader_xlm), net.create_account(10_000),
            *(net.create_account(100) for _ in range(channels)))
        await asyncio.gather(net.trust_and_fund(trader, usdc, trader_usdc),
                             net.trust_and_fund(taker, usdc, "10000"))
        exchange = await start_exchange(net, trader, usdc, channel_keys,
                                        **{**options, **(net_options(net) if net_options is not None else {})})
        market = StellarMarket(net, usdc, trader, taker, exchange, session, channel_keys)
        for event in RECORDED_EVENTS:
            market.events[event] = EventLogger()
            exchange.add_listener(event, market.events[event])
        if before_start is not None:
            before_start(net)
        await exchange.start_network()
        ticker = asyncio.ensure_future(_tick(exchange))
        started[-1] = (net, session, exchange, ticker)
        market.ticker = ticker
        if wait_ready:
            await wait_until(lambda: exchange.ready, what=f"exchange ready: {exchange.status_dict}")
        return market

    yield make
    for net, session, exchange, ticker in reversed(started):
        if ticker is not None:
            ticker.cancel()
        if exchange is not None:
            await exchange.stop_network()
            await exchange.pipeline.stop()
        await session.close()
        await net.stop()


@pytest.fixture
async def stellar_market(make_stellar_market) -> StellarMarket:
    return await make_stellar_market()
