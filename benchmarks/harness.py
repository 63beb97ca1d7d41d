"""A StellarExchange that runs its real order path with Horizon answering at once, in-process.

The benchmarks time the connector's own CPU work (validation, quantisation, intent → operation,
transaction build and sign, result decoding, InFlightOrder bookkeeping and events), so the one
thing taken away is the network: `InstantHorizon` is the exchange's Horizon client (its public
`horizon_api` argument; the exchange builds its own TransactionPipeline on it) and answers like
Horizon does (PENDING at submission, then the transaction record on the account's transaction
stream, i.e. `pipeline.notify_transaction`), with result XDR prepared before timing starts.
Everything else is the connector's own code, unchanged, driven through its public API only.

Set-up, all public: `refresh_trading_rules()` reads the pairs and rules through InstantHorizon
(the root document names the network); then Hummingbot's `start(clock, timestamp)` with a
back-testing Clock sets `current_timestamp`, as a running bot's clock does. Starting also starts
Hummingbot's network check, which would start the streams and polling loops on success; they need
a real Horizon, so once the rules are read InstantHorizon answers the root as an unreachable
Horizon would and the network stays stopped.

Hummingbot keeps finished orders in a 30 s cache that only the exchange's own tracker can empty;
benchmarks that finish many orders use a fresh exchange (untimed) once one has finished
`FINISHED_PER_EXCHANGE` orders (see `order_path`, which measures what that cache costs).
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import time
from collections import deque
from decimal import Decimal
from typing import Any, Deque, Dict, Iterable, List, Optional, Sequence

from hummingbot.core.clock import Clock
from hummingbot.core.clock_mode import ClockMode
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState
from hummingbot.core.event.event_forwarder import EventForwarder
from hummingbot.core.event.event_reporter import EventReporter
from hummingbot.core.event.events import MarketEvent
from stellar_sdk import Asset, Keypair
from stellar_sdk import xdr as x

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from hummingbot.connector.exchange.stellar.stellar_tx_pipeline import TransactionPipeline

PASSPHRASE = CONSTANTS.SANDBOX_PASSPHRASE
TRADER = Keypair.from_raw_ed25519_seed(bytes([7] * 32))
ISSUER = Keypair.from_raw_ed25519_seed(bytes([8] * 32))
XLM = Asset.native()
USDC = Asset("USDC", ISSUER.public_key)
PAIR = "XLM-USDC"
START_SEQUENCE = 4_294_967_296
# A fresh exchange once one has finished this many orders: up to 100 in Hummingbot's cache of finished
# orders add about 1 % to an order's cost (order_create_cancel_finished500_vs_empty: about 6 % at 500).
FINISHED_PER_EXCHANGE = 100


# Result XDR as stellar-core writes it (built before timing)

def _offer_result(op_type: int, offer: Optional[x.OfferEntry], effect: int) -> x.OperationResult:
    success = x.ManageOfferSuccessResult(offers_claimed=[],
                                         offer=x.ManageOfferSuccessResultOffer(effect=effect, offer=offer))
    if op_type == x.OperationType.MANAGE_BUY_OFFER:
        inner = x.ManageBuyOfferResult(code=x.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_SUCCESS, success=success)
        tr = x.OperationResultTr(type=op_type, manage_buy_offer_result=inner)
    else:
        inner = x.ManageSellOfferResult(code=x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_SUCCESS, success=success)
        tr = x.OperationResultTr(type=op_type, manage_sell_offer_result=inner)
    return x.OperationResult(code=x.OperationResultCode.opINNER, tr=tr)


def created_sell_offer(offer_id: int, amount_stroops: int, price: tuple, base: Asset = XLM,
                       quote: Asset = USDC) -> x.OperationResult:
    entry = x.OfferEntry(seller_id=TRADER.xdr_account_id(), offer_id=x.Int64(offer_id),
                         selling=base.to_xdr_object(), buying=quote.to_xdr_object(), amount=x.Int64(amount_stroops),
                         price=x.Price(x.Int32(price[0]), x.Int32(price[1])), flags=x.Uint32(0),
                         ext=x.OfferEntryExt(0))
    return _offer_result(x.OperationType.MANAGE_SELL_OFFER, entry, x.ManageOfferEffect.MANAGE_OFFER_CREATED)


def deleted_sell_offer() -> x.OperationResult:
    return _offer_result(x.OperationType.MANAGE_SELL_OFFER, None, x.ManageOfferEffect.MANAGE_OFFER_DELETED)


def pool_sell_filled(base_sold: int, quote_received: int, pool_id: bytes = bytes(32)) -> x.OperationResult:
    """A MARKET sell's PathPaymentStrictSend to self that the pair's liquidity pool filled: one claim atom."""
    atom = x.ClaimAtom(type=x.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL, liquidity_pool=x.ClaimLiquidityAtom(
        liquidity_pool_id=x.PoolID(x.Hash(pool_id)), asset_sold=USDC.to_xdr_object(),
        amount_sold=x.Int64(quote_received), asset_bought=XLM.to_xdr_object(), amount_bought=x.Int64(base_sold)))
    last = x.SimplePaymentResult(destination=TRADER.xdr_account_id(), asset=USDC.to_xdr_object(),
                                 amount=x.Int64(quote_received))
    result = x.PathPaymentStrictSendResult(code=x.PathPaymentStrictSendResultCode.PATH_PAYMENT_STRICT_SEND_SUCCESS,
                                           success=x.PathPaymentStrictSendResultSuccess(offers=[atom], last=last))
    tr = x.OperationResultTr(type=x.OperationType.PATH_PAYMENT_STRICT_SEND, path_payment_strict_send_result=result)
    return x.OperationResult(code=x.OperationResultCode.opINNER, tr=tr)


def tx_success(op_results: Sequence[x.OperationResult]) -> str:
    fee = 100 * len(op_results)
    result = x.TransactionResultResult(code=x.TransactionResultCode.txSUCCESS, results=list(op_results))
    return x.TransactionResult(fee_charged=x.Int64(fee), result=result, ext=x.TransactionResultExt(0)).to_xdr()


class InstantHorizon:
    """The part of HorizonApi the exchange and its pipeline use, answering at once from prepared results."""

    def __init__(self) -> None:
        self.pipeline: Optional[TransactionPipeline] = None
        self._results: Deque[str] = deque()
        self._ledger = 1000
        self.submissions = 0
        self.reachable = True     # False: the root is not served (see the module's docstring)

    def prepare(self, result_xdrs: Iterable[str]) -> None:
        """Result XDR for the next transactions, in the order they will be submitted."""
        self._results.extend(result_xdrs)

    @property
    def prepared(self) -> int:
        """Prepared results not used yet."""
        return len(self._results)

    async def get_json(self, path: str, params: Optional[Dict[str, Any]] = None, limit_id: Optional[str] = None,
                       path_template: Optional[str] = None) -> Dict[str, Any]:
        # The fee figures the ConfigCache reads for every transaction's fee bid, as Horizon answers
        # them (without them each order would start a refresh that fails and logs: not a real run).
        if path == CONSTANTS.FEE_STATS_PATH:
            return {"last_ledger": str(self._ledger), "last_ledger_base_fee": "100",
                    "fee_charged": {"min": "100", "p50": "100", "p70": "100", "p90": "100", "p99": "100", "max": "100"}}
        if path == CONSTANTS.LEDGERS_PATH:
            return {"_embedded": {"records": [{"sequence": self._ledger, "base_reserve_in_stroops": 5_000_000,
                                               "base_fee_in_stroops": 100,
                                               "closed_at": "2030-01-01T00:00:00Z"}]}}
        if not self.reachable or path != CONSTANTS.ROOT_PATH:
            raise ConnectionError(f"InstantHorizon does not serve {path} here")
        return {"network_passphrase": PASSPHRASE}

    async def get_account(self, account_id: str) -> Dict[str, Any]:
        return {"id": account_id, "sequence": str(START_SEQUENCE)}

    async def submit_transaction_async(self, envelope_xdr: str) -> Dict[str, Any]:
        # The lane waits for exactly one hash (one lane, one transaction in flight): reading it here
        # instead of hashing the envelope again keeps the stand-in's own cost out of the figures.
        pipeline = self.pipeline
        tx_hash = next(iter(pipeline.awaited_hashes))
        self._ledger += 1
        self.submissions += 1
        record = {"id": tx_hash, "hash": tx_hash, "ledger": self._ledger, "successful": True,
                  "paging_token": str(self._ledger << 32 | 1 << 12), "result_xdr": self._results.popleft()}
        # As the account's transaction stream would deliver it, on a later turn of the loop.
        asyncio.get_running_loop().call_soon(pipeline.notify_transaction, record)
        return {"tx_status": CONSTANTS.TX_STATUS_PENDING, "hash": tx_hash}

    async def get_transaction(self, tx_hash: str) -> Optional[Dict[str, Any]]:
        return None

    async def get_latest_ledger(self) -> Dict[str, Any]:
        return {"sequence": self._ledger, "closed_at": "2030-01-01T00:00:00Z"}

    async def get_offer(self, offer_id: str) -> Optional[Dict[str, Any]]:
        return None     # no offer rests on this ledger

    async def get_account_trades(self, account_id: str, since: float = 0) -> List[Dict[str, Any]]:
        return []


def pair_names(count: int) -> List[str]:
    """`count` trading pairs XLM-USDC, XLM-AS001, ... (all issued by ISSUER)."""
    return [PAIR] + [f"XLM-AS{i:03d}" for i in range(1, count)]


def asset_of(pair: str) -> Asset:
    return Asset(pair.split("-")[1], ISSUER.public_key)


async def make_exchange(pairs: Sequence[str] = (PAIR,)) -> tuple:
    """(exchange, horizon): a StellarExchange for `pairs` whose Horizon client is an InstantHorizon,
    its trading rules read and its clock started (see the module's docstring)."""
    markets = ",".join(f"{asset_of(p).code}:{ISSUER.public_key}" for p in pairs)
    horizon = InstantHorizon()
    exchange = StellarExchange(stellar_secret_key=TRADER.secret, stellar_markets=markets,
                               stellar_horizon_url="http://127.0.0.1:9", stellar_network_passphrase=PASSPHRASE,
                               trading_pairs=list(pairs), horizon_api=horizon)
    horizon.pipeline = exchange.pipeline
    await exchange.refresh_trading_rules()
    missing = [pair for pair in pairs if pair not in exchange.trading_rules]
    if missing:
        raise RuntimeError(f"the exchange has no trading rule for {missing}: the benchmark cannot run")
    horizon.reachable = False
    now = time.time()
    exchange.start(Clock(ClockMode.BACKTEST, tick_size=1.0, start_time=now, end_time=now + 10**6), now)
    await asyncio.sleep(0)      # Hummingbot's network check task starts (and is refused)
    return exchange, horizon


def detach_event_reporter(exchange: StellarExchange) -> None:
    """Take Hummingbot's EventReporter (which ConnectorBase attaches for every market event) off `exchange`: an
    experiment to show its share of an order's cost, never how a real run is measured."""
    for tag in MarketEvent:
        for listener in exchange.get_listeners(tag):
            if isinstance(listener, EventReporter):
                exchange.remove_listener(tag, listener)


class OrderEvents:
    """Waits for orders the way a strategy learns of them: the exchange's events (created, cancelled,
    failed), not by looking at every order on every turn of the loop (which would charge the subject
    with the benchmark's own polling, 100 orders a turn for a batch). `expect(ids)` before the loop
    runs again, then await the future: it is done once every order had its event, and fails if one
    of them failed."""

    _DONE = (MarketEvent.BuyOrderCreated, MarketEvent.SellOrderCreated, MarketEvent.OrderCancelled)
    _COMPLETED = (MarketEvent.BuyOrderCompleted, MarketEvent.SellOrderCompleted)

    def __init__(self) -> None:
        self._waiting: Dict[str, List[Any]] = {}      # order id -> [orders still to come, future]
        self._completing: Dict[str, asyncio.Future] = {}   # order id -> its future, done once it is FILLED
        self._forwarders = [EventForwarder(self._done), EventForwarder(self._failed),
                            EventForwarder(self._completed)]   # PubSub holds weak refs

    def attach(self, exchange: StellarExchange) -> None:
        for tag in self._DONE:
            exchange.add_listener(tag, self._forwarders[0])
        exchange.add_listener(MarketEvent.OrderFailure, self._forwarders[1])
        for tag in self._COMPLETED:
            exchange.add_listener(tag, self._forwarders[2])

    def expect_completed(self, order_id: str) -> asyncio.Future:
        """A future done once `order_id` is completed (FILLED: a MARKET order), not once it is created."""
        future = self._completing[order_id] = asyncio.get_running_loop().create_future()
        return future

    def _completed(self, event: Any) -> None:
        future = self._completing.pop(event.order_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    def expect(self, order_ids: Sequence[str]) -> asyncio.Future:
        group = [len(order_ids), asyncio.get_running_loop().create_future()]
        for order_id in order_ids:
            self._waiting[order_id] = group
        return group[1]

    def _done(self, event: Any) -> None:
        group = self._waiting.pop(event.order_id, None)
        if group is not None:
            group[0] -= 1
            if group[0] == 0:
                group[1].set_result(None)

    def _failed(self, event: Any) -> None:
        completing = self._completing.pop(event.order_id, None)
        if completing is not None and not completing.done():
            completing.set_exception(RuntimeError(f"order {event.order_id} failed ({event.error_message}): the "
                                                  f"benchmark is not measuring what it says"))
        group = self._waiting.pop(event.order_id, None)
        if group is not None and not group[1].done():
            group[1].set_exception(RuntimeError(f"order {event.order_id} failed ({event.error_message}): the "
                                                f"benchmark is not measuring what it says"))


async def stop_exchange(exchange: StellarExchange) -> None:
    """Stop the exchange and wait for what stopping starts, so none of it runs in a later timing."""
    before = asyncio.all_tasks()
    if exchange.clock is not None:
        exchange.stop(exchange.clock)    # ends the network check; Hummingbot schedules stop_network()
    stopping = asyncio.all_tasks() - before
    await exchange.pipeline.stop()
    await asyncio.gather(*stopping, return_exceptions=True)


def add_finished_orders(exchange: Any, count: int, pair: str = PAIR) -> None:
    """`count` cancelled orders in Hummingbot's cache of finished orders (a busy ladder's last 30 s),
    through the exchange's public start_tracking_order / stop_tracking_order. Their exchange order
    ids are far from any the benchmarks' offers get."""
    active = exchange.in_flight_orders
    for i in range(count):
        client_order_id = f"HBOT-finished-{i}"
        exchange.start_tracking_order(order_id=client_order_id, exchange_order_id=str(10**15 + i), trading_pair=pair,
                                      order_type=OrderType.LIMIT, trade_type=TradeType.SELL,
                                      price=Decimal("0.1"), amount=Decimal("10"))
        order: InFlightOrder = active[client_order_id]
        order.current_state = OrderState.CANCELED
        exchange.stop_tracking_order(client_order_id)
