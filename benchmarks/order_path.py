"""Order path: the connector's own cost to create and to cancel an order, beside stellar-sdk alone.

Subject: `StellarExchange.sell()` timed until the order it returns is tracked and OPEN
(quantisation, trading-rule checks, InFlightOrder tracking, intent, validation, operation XDR, the
pipeline's queue, transaction build, hash and sign, result XDR decoding, order updates and events),
and `cancel()` until that order is CANCELED. Horizon answers at once (`harness.InstantHorizon`), so
no network time is in the figures. Only the exchange's public API is used.

Floor: stellar-sdk alone building and signing the same transaction (TransactionBuilder with the
same ManageSellOffer, time bounds, sign, envelope XDR), in the same run.

Batch: 100 orders through `batch_order_create` (Hummingbot's: one `sell()` each, all queued in one
turn of the loop, which the pipeline sends as one transaction; checked) until all are OPEN, against
100 single creates, per order; likewise `batch_order_cancel` against 100 single cancels; the floor
is stellar-sdk building one 100-operation transaction, per operation.

MARKET: one MARKET sell of 10 XLM (a reference price given, as Hummingbot's executors pass one): `sell()`
until the order is FILLED (SellOrderCompleted), its path payment to self filled by the pair's liquidity
pool (one claim atom in the result: the fill through the same path as offer fills); the floor is
stellar-sdk building and signing the same PathPaymentStrictSend.

Hummingbot's 30 s cache of finished orders: it can only be emptied from inside the exchange, so a
fresh exchange (untimed) takes over once one has finished `harness.FINISHED_PER_EXCHANGE` orders.
The single cancels of the batch comparison thus meet 0 to 99 finished orders (the batch's cancels
meet the same as they finish); `order_create_cancel_finished500_vs_empty` measures what 500 cost,
one exchange with 500 finished orders added (through `start_tracking_order`/`stop_tracking_order`)
turn about with one without.
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import statistics
import time
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate
from hummingbot.core.data_type.limit_order import LimitOrder
from stellar_sdk import Account, ManageSellOffer, MuxedAccount, PathPaymentStrictSend, Price, TransactionBuilder

from benchmarks import harness
from benchmarks.harness import PAIR, PASSPHRASE, TRADER, USDC, XLM
from benchmarks.timing import figure, gc_paused, time_awaits, time_calls
from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar.stellar_amounts import price_to_rational
from hummingbot.connector.exchange.stellar.stellar_order_ops import CreateOrderIntent, offer_terms
from hummingbot.connector.exchange.stellar.stellar_order_tracker import StellarOrderTracker
from hummingbot.connector.exchange.stellar.stellar_tx_builder import EnvelopeBuilder
from hummingbot.connector.exchange.stellar.stellar_tx_results import decode_transaction_result

AMOUNT = Decimal("10")
# A ladder of prices, as a market maker places them (the same list for subject and floor).
PRICES = [Decimal("0.1") + Decimal(i) * Decimal("0.0001") for i in range(20)]
BATCH = 100
FINISHED_ORDERS = 500


def _rational(price: Decimal) -> tuple:
    return price_to_rational(price)


# The floor: stellar-sdk alone

class SdkFloor:
    """stellar-sdk building, signing and encoding the transactions the connector sends."""

    def __init__(self) -> None:
        self._account = Account(TRADER.public_key, harness.START_SEQUENCE)
        self._i = 0

    def _envelope(self, operations: List[ManageSellOffer]) -> str:
        builder = TransactionBuilder(self._account, PASSPHRASE, base_fee=100)
        for operation in operations:
            builder.append_operation(operation)
        envelope = builder.add_time_bounds(0, int(time.time()) + 60).build()
        envelope.sign(TRADER)
        return envelope.to_xdr()

    def create(self) -> str:
        self._i += 1
        price = PRICES[self._i % len(PRICES)]
        n, d = _rational(price)
        return self._envelope([ManageSellOffer(selling=XLM, buying=USDC, amount="10.0000000", price=Price(n, d))])

    def market_sell(self) -> str:
        return self._envelope([PathPaymentStrictSend(destination=TRADER.public_key, send_asset=XLM,
                                                     send_amount="10.0000000", dest_asset=USDC,
                                                     dest_min="0.9800000", path=[])])

    def cancel(self) -> str:
        self._i += 1
        return self._envelope([ManageSellOffer(selling=XLM, buying=USDC, amount="0", price=Price(1, 1),
                                               offer_id=1000 + self._i)])

    def create_batch(self) -> str:
        ops = []
        for i in range(BATCH):
            n, d = _rational(PRICES[i % len(PRICES)])
            ops.append(ManageSellOffer(selling=XLM, buying=USDC, amount="10.0000000", price=Price(n, d)))
        return self._envelope(ops)

    def cancel_batch(self) -> str:
        return self._envelope([ManageSellOffer(selling=XLM, buying=USDC, amount="0", price=Price(1, 1),
                                               offer_id=1000 + i) for i in range(BATCH)])


# The subject: the connector

class ConnectorOrders:
    """Orders through the public API of a harness exchange; a fresh exchange once this one has
    finished FINISHED_PER_EXCHANGE orders (`room_for`), with `finished_orders` finished orders in
    Hummingbot's cache from the start."""

    def __init__(self, finished_orders: int = 0, without_event_reporter: bool = False) -> None:
        self.finished_orders = finished_orders
        self.without_event_reporter = without_event_reporter
        self.exchange: Any = None
        self.horizon: Optional[harness.InstantHorizon] = None
        self.events = harness.OrderEvents()
        self.submissions = 0
        self._finished = 0
        self._offer_id = 10_000
        self._i = 0

    async def renew(self) -> None:
        await self.stop()
        self.exchange, self.horizon = await harness.make_exchange()
        self.events.attach(self.exchange)
        if self.without_event_reporter:
            harness.detach_event_reporter(self.exchange)
        harness.add_finished_orders(self.exchange, self.finished_orders)
        self._finished = 0

    async def room_for(self, finishing: int) -> None:
        """Untimed, before preparing Horizon's answers: a fresh exchange if `finishing` more finished
        orders would take this one's past FINISHED_PER_EXCHANGE."""
        if self.exchange is None or self._finished + finishing > harness.FINISHED_PER_EXCHANGE:
            await self.renew()

    async def stop(self) -> None:
        if self.exchange is None:
            return
        horizon = self.horizon
        if horizon.prepared:
            raise RuntimeError("prepared results and submissions disagree: the benchmark is not measuring what it says")
        self.submissions += horizon.submissions
        await harness.stop_exchange(self.exchange)
        self.exchange = self.horizon = None

    def _next_offer_id(self) -> int:
        self._offer_id += 1
        return self._offer_id

    def next_price(self) -> Decimal:
        self._i += 1
        return PRICES[self._i % len(PRICES)]

    def prepare_creates(self, count: int, ops_per_tx: int = 1) -> None:
        results = []
        for _ in range(count):
            ops = []
            for i in range(ops_per_tx):
                n, d = _rational(PRICES[i % len(PRICES)])
                ops.append(harness.created_sell_offer(self._next_offer_id(), 100_000_000, (n, d)))
            results.append(harness.tx_success(ops))
        self.horizon.prepare(results)

    def prepare_cancels(self, count: int, ops_per_tx: int = 1) -> None:
        self.horizon.prepare(harness.tx_success([harness.deleted_sell_offer()] * ops_per_tx) for _ in range(count))

    async def create(self, price: Decimal) -> InFlightOrder:
        exchange = self.exchange
        order_id = exchange.sell(PAIR, AMOUNT, OrderType.LIMIT, price)
        await self.events.expect((order_id,))
        order = exchange.in_flight_orders.get(order_id)
        if order is None or order.current_state is not OrderState.OPEN:
            raise RuntimeError("the order is not OPEN: the benchmark is not measuring what it says")
        return order

    def prepare_market_sells(self, count: int) -> None:
        self.horizon.prepare(harness.tx_success([harness.pool_sell_filled(100_000_000, 9_970_000)])
                             for _ in range(count))

    async def market_sell(self) -> None:
        """A MARKET sell of AMOUNT (reference price 0.1) until FILLED."""
        exchange = self.exchange
        order_id = exchange.sell(PAIR, AMOUNT, OrderType.MARKET, Decimal("0.1"))
        await self.events.expect_completed(order_id)
        self._finished += 1

    async def cancel(self, order: InFlightOrder) -> None:
        await self.events.expect((self.exchange.cancel(PAIR, order.client_order_id),))
        if not order.is_cancelled:
            raise RuntimeError("the order is not CANCELED: the benchmark is not measuring what it says")
        self._finished += 1

    async def create_batch(self, count: int) -> Tuple[List[LimitOrder], List[InFlightOrder]]:
        """The LimitOrders batch_order_create returned (what a strategy keeps and cancels by) and the
        tracked orders, once all are OPEN."""
        exchange = self.exchange
        submissions = self.horizon.submissions
        orders = [LimitOrder(client_order_id="", trading_pair=PAIR, is_buy=False, base_currency="XLM",
                             quote_currency="USDC", price=PRICES[i % len(PRICES)], quantity=AMOUNT)
                  for i in range(count)]
        placed = exchange.batch_order_create(orders)
        ids = [order.client_order_id for order in placed]
        await self.events.expect(ids)
        active = exchange.in_flight_orders
        if not all((o := active.get(i)) is not None and o.current_state is OrderState.OPEN for i in ids):
            raise RuntimeError("an order is not OPEN: the benchmark is not measuring what it says")
        if self.horizon.submissions != submissions + 1:
            raise RuntimeError("the batch did not go in one transaction: the benchmark is not measuring what it says")
        return placed, [active[i] for i in ids]

    async def cancel_batch(self, placed: List[LimitOrder], orders: List[InFlightOrder]) -> None:
        submissions = self.horizon.submissions
        self.exchange.batch_order_cancel(placed)
        await self.events.expect([order.client_order_id for order in placed])
        if not all(o.is_cancelled for o in orders):
            raise RuntimeError("an order is not CANCELED: the benchmark is not measuring what it says")
        if self.horizon.submissions != submissions + 1:
            raise RuntimeError("the batch did not go in one transaction: the benchmark is not measuring what it says")
        self._finished += len(orders)


async def _singles(orders: ConnectorOrders, floor: SdkFloor, iterations: int, warmup: int) -> Dict[str, List[int]]:
    """Create one order, cancel it, repeat; the floor's create and cancel are timed turn about with
    them, so a change in the machine's speed hits subject and floor alike."""
    clock = time.perf_counter_ns
    out: Dict[str, List[int]] = {"create": [], "cancel": [], "floor_create": [], "floor_cancel": []}
    for _ in range(warmup):
        await orders.room_for(1)
        orders.prepare_creates(1)
        orders.prepare_cancels(1)
        floor.create()
        floor.cancel()
        await orders.cancel(await orders.create(orders.next_price()))
    with gc_paused():
        for _ in range(iterations):
            await orders.room_for(1)     # untimed: a fresh exchange, and Horizon's answers
            orders.prepare_creates(1)
            orders.prepare_cancels(1)
            price = orders.next_price()
            start = clock()
            floor.create()
            floor_created = clock()
            order = await orders.create(price)
            created = clock()
            floor.cancel()
            floor_cancelled = clock()
            await orders.cancel(order)
            cancelled = clock()
            out["floor_create"].append(floor_created - start)
            out["create"].append(created - floor_created)
            out["floor_cancel"].append(floor_cancelled - created)
            out["cancel"].append(cancelled - floor_cancelled)
    return out


async def _market_orders(orders: ConnectorOrders, floor: SdkFloor, iterations: int,
                         warmup: int) -> Dict[str, List[int]]:
    """MARKET sells until FILLED, the floor's path payment timed turn about with them."""
    clock = time.perf_counter_ns
    out: Dict[str, List[int]] = {"market": [], "floor_market": []}
    for index in range(warmup + iterations):
        await orders.room_for(1)
        orders.prepare_market_sells(1)
        with gc_paused():
            start = clock()
            floor.market_sell()
            floor_done = clock()
            await orders.market_sell()
            filled = clock()
        if index >= warmup:
            out["floor_market"].append(floor_done - start)
            out["market"].append(filled - floor_done)
    return out


async def _batches(orders: ConnectorOrders, floor: SdkFloor, rounds: int) -> Dict[str, List[int]]:
    """Per round: 100 orders in one batch, then cancelled in one batch; 100 singles of each; and the
    floor's 100-operation transactions."""
    clock = time.perf_counter_ns
    out: Dict[str, List[int]] = {"batch_create": [], "batch_cancel": [], "single_create": [], "single_cancel": [],
                                 "floor_create": [], "floor_cancel": []}
    for round_index in range(rounds + 1):     # the first round warms up
        await orders.room_for(BATCH)
        orders.prepare_creates(1, BATCH)
        orders.prepare_cancels(1, BATCH)
        with gc_paused():
            start = clock()
            floor.create_batch()
            floor_created = clock()
            placed, tracked = await orders.create_batch(BATCH)
            created = clock()
            floor.cancel_batch()
            floor_cancelled = clock()
            await orders.cancel_batch(placed, tracked)
            cancelled = clock()
        await orders.room_for(BATCH)
        orders.prepare_creates(BATCH)
        orders.prepare_cancels(BATCH)
        with gc_paused():
            singles_start = clock()
            singles = [await orders.create(PRICES[i % len(PRICES)]) for i in range(BATCH)]
            singles_created = clock()
            for order in singles:
                await orders.cancel(order)
            singles_cancelled = clock()
        if round_index:
            out["floor_create"].append(floor_created - start)
            out["batch_create"].append(created - floor_created)
            out["floor_cancel"].append(floor_cancelled - created)
            out["batch_cancel"].append(cancelled - floor_cancelled)
            out["single_create"].append(singles_created - singles_start)
            out["single_cancel"].append(singles_cancelled - singles_created)
    return out


async def _with_finished_orders(full: ConnectorOrders, empty: ConnectorOrders, iterations: int) -> Dict[str, List[int]]:
    """Create + cancel on an exchange with FINISHED_ORDERS finished orders in Hummingbot's cache (a
    busy ladder's last 30 s), turn about with the same on one without."""
    clock = time.perf_counter_ns
    out: Dict[str, List[int]] = {"full": [], "empty": []}
    with gc_paused():
        for index in range(2 * iterations + 20):
            orders = full if index % 2 == 0 else empty
            await orders.room_for(1)
            orders.prepare_creates(1)
            orders.prepare_cancels(1)
            price = orders.next_price()
            start = clock()
            await orders.cancel(await orders.create(price))
            elapsed = clock() - start
            if index >= 20:
                out["full" if orders is full else "empty"].append(elapsed)
    return out


PARTS = {   # where a create's time goes: each step alone, with the inputs a create gives it
    "validation_quantisation": "Hummingbot's price and amount quantisation (quantize_order_price/amount)",
    "intent_to_operation": "the order's intent, validated into its operation's terms (offer_terms)",
    "xdr_pack": "the operation packed to XDR (EnvelopeBuilder.pack_offer)",
    "build_hash_sign": "the fee read, the transaction built, hashed and signed (ConfigCache, EnvelopeBuilder.build)",
    "result_decode": "the transaction's result XDR decoded into the order's outcome (decode_transaction_result)",
    "tracker_events": "Hummingbot's order tracking and OPEN update with its created event (InFlightOrder, "
                      "start_tracking_order, process_order_update, its task hop included)",
}


async def _parts(exchange: Any, iterations: int) -> Dict[str, List[int]]:
    """Each step of a create alone (no event loop turn but the tracker's own), through the objects the
    order path uses: the exchange's quantisation, order ops, the pipeline's builder and signer, the
    result decoder, and an order tracker of the exchange's own kind on the exchange."""
    builder = EnvelopeBuilder(PASSPHRASE)
    signer = exchange.authenticator.transaction_signer(TRADER.public_key)
    source = MuxedAccount(TRADER.public_key)
    price = PRICES[3]
    intent = CreateOrderIntent(client_order_id="HBOT-part", base=XLM, quote=USDC, trade_type=TradeType.SELL,
                               order_type=OrderType.LIMIT, amount=AMOUNT, price=price)
    terms = offer_terms(intent)
    operations = [builder.pack_offer(terms)]
    result_xdr = harness.tx_success([harness.created_sell_offer(12345, 100_000_000, _rational(price))])
    assets = [(XLM, USDC)]
    config = exchange.config_cache

    def quantise():
        exchange.quantize_order_price(PAIR, price)
        exchange.quantize_order_amount(PAIR, AMOUNT)

    def intent_terms():
        offer_terms(CreateOrderIntent(client_order_id="HBOT-part", base=XLM, quote=USDC, trade_type=TradeType.SELL,
                                      order_type=OrderType.LIMIT, amount=AMOUNT, price=price))

    def build_hash_sign():
        max_time = int(time.time()) + CONSTANTS.TX_TIME_BOUND_SECONDS
        fee = config.fee_per_op(CONSTANTS.DEFAULT_MAX_FEE_STROOPS)
        return builder.build(source, harness.START_SEQUENCE + 1, fee, max_time, operations, signer)

    tracker = StellarOrderTracker(connector=exchange)
    count = [0]

    async def track_and_open():
        count[0] += 1
        order_id = f"HBOT-part-{count[0]}"
        tracker.start_tracking_order(InFlightOrder(
            client_order_id=order_id, exchange_order_id=None, trading_pair=PAIR, order_type=OrderType.LIMIT,
            trade_type=TradeType.SELL, amount=AMOUNT, price=price, creation_timestamp=exchange.current_timestamp))
        await tracker.process_order_update(OrderUpdate(
            client_order_id=order_id, exchange_order_id=str(count[0]), trading_pair=PAIR,
            update_timestamp=exchange.current_timestamp, new_state=OrderState.OPEN))

    tracked = await time_awaits(track_and_open, iterations)
    return {
        "validation_quantisation": time_calls(quantise, iterations),
        "intent_to_operation": time_calls(intent_terms, iterations),
        "xdr_pack": time_calls(lambda: builder.pack_offer(terms), iterations),
        "build_hash_sign": time_calls(build_hash_sign, iterations),
        "result_decode": time_calls(lambda: decode_transaction_result(result_xdr, assets, tx_hash="00", ledger=1,
                                                                      tx_paging_token="4294967296"), iterations),
        "tracker_events": tracked,
    }


class _Stamps:
    """A recorder for the connector's measuring points (`stellar_measurement.install`) that keeps when each
    sample ended as well as how long it took, so the points give moments on the order's path."""

    def __init__(self) -> None:
        self.samples: Dict[str, List[Tuple[int, int]]] = {}

    def add(self, point: str, duration_ns: int) -> None:
        self.samples.setdefault(point, []).append((time.perf_counter_ns(), duration_ns))

    def incr(self, point: str, n: int) -> None:
        pass


SEGMENTS = (   # a create's path, cut at the connector's measuring points
    "sell() to submission: Hummingbot's sell() and task, its validation, quantisation and tracking",
    "submission to build: intent, operation terms, XDR pack, the pipeline's queue and lane hand-off",
    "build, hash and sign (fee read included)",
    "signed to outcome: the submission, the wait for the transaction's record (loop turns), result decode",
    "outcome to OPEN seen: the creating task's wake-up, Hummingbot's OPEN update and created event",
)


async def _in_path(orders: ConnectorOrders, count: int) -> Dict[str, List[int]]:
    """Creates with a recorder installed: each one cut into SEGMENTS by the moments its measuring points
    give (the order's submission call, the transaction's build start and end, the outcome known). A
    pass of its own: the recorder's few calls are not in the checked figures."""
    stamps = _Stamps()
    segments: Dict[str, List[int]] = {name: [] for name in SEGMENTS}
    clock = time.perf_counter_ns
    measurement.install(stamps)
    try:
        with gc_paused():
            for _ in range(count):
                await orders.room_for(1)
                orders.prepare_creates(1)
                orders.prepare_cancels(1)
                price = orders.next_price()
                stamps.samples.clear()
                sold = clock()
                order = await orders.create(price)
                opened = clock()
                (confirm_end, confirm), = stamps.samples[measurement.ORDER_CREATE_CONFIRM]
                (built_end, build), = stamps.samples[measurement.TX_BUILD_SIGN]
                moments = [sold, confirm_end - confirm, built_end - build, built_end, confirm_end, opened]
                for name, start, end in zip(SEGMENTS, moments, moments[1:], strict=False):
                    segments[name].append(end - start)
                await orders.cancel(order)
    finally:
        measurement.uninstall()
    return segments


def _breakdown(create_median_us: float, parts: Dict[str, List[int]]) -> Dict[str, Dict[str, float]]:
    """Each step's median and its share of a create's median; the rest is the event loop's turns and
    hand-offs (sell()'s task, the pipeline's queue and lane, the wait for the transaction's record)."""
    out = {}
    for name, samples in parts.items():
        median = statistics.median(samples) / 1000
        out[name] = {"median_us": round(median, 2), "share": round(median / create_median_us, 3)}
    rest = create_median_us - sum(part["median_us"] for part in out.values())
    out["rest: loop turns and hand-offs"] = {"median_us": round(rest, 2), "share": round(rest / create_median_us, 3)}
    out["order_create (sell() until OPEN)"] = {"median_us": round(create_median_us, 2), "share": 1.0}
    return out


async def _run(iterations: int, batch_rounds: int) -> Dict[str, Any]:
    orders = ConnectorOrders()
    full = ConnectorOrders(finished_orders=FINISHED_ORDERS)
    unreported = ConnectorOrders(without_event_reporter=True)
    try:
        floor = SdkFloor()
        singles = await _singles(orders, floor, iterations, warmup=min(200, iterations))
        unreported_singles = await _singles(unreported, floor, iterations // 2, warmup=min(200, iterations))
        await unreported.stop()   # now, so that nothing of it runs in the timings below
        market = await _market_orders(orders, floor, max(100, iterations // 3), warmup=50)
        batches = await _batches(orders, floor, batch_rounds)
        finished = await _with_finished_orders(full, orders, max(50, iterations // 10))
        parts = await _parts(orders.exchange, iterations)
        in_path = await _in_path(orders, max(200, iterations // 3))
        floor_parts = time_calls(floor.create, iterations)
    finally:
        await orders.stop()
        await full.stop()
        await unreported.stop()
    if not orders.submissions or not full.submissions:
        raise RuntimeError("no transaction was submitted: the benchmark is not measuring what it says")
    rows = [
        figure("order_create", singles["create"], singles["floor_create"], floor_name="stellar-sdk build+sign",
               description="one LIMIT sell: sell() until OPEN, vs stellar-sdk building and signing it"),
        figure("order_create_without_event_reporter", unreported_singles["create"], unreported_singles["floor_create"],
               floor_name="stellar-sdk build+sign",
               description="order_create with Hummingbot's EventReporter detached (an experiment: ConnectorBase "
                           "attaches it to every connector; it turns each order event into a dict for its event log)"),
        figure("order_cancel", singles["cancel"], singles["floor_cancel"], floor_name="stellar-sdk build+sign",
               description="one cancel: cancel() until CANCELED, vs stellar-sdk building and signing it"),
        figure("order_market", market["market"], market["floor_market"], floor_name="stellar-sdk build+sign",
               description="one MARKET sell (a path payment the pool fills): sell() until FILLED, vs stellar-sdk "
                           "building and signing it"),
        figure("order_create_batch100_per_order", batches["batch_create"], batches["floor_create"], per=BATCH,
               floor_name="stellar-sdk 100-op tx, per op",
               description="100 creates through batch_order_create (one transaction), per order"),
        figure("order_cancel_batch100_per_order", batches["batch_cancel"], batches["floor_cancel"], per=BATCH,
               floor_name="stellar-sdk 100-op tx, per op",
               description="100 cancels through batch_order_cancel (one transaction), per order"),
        figure("order_create_batch100_vs_singles", batches["batch_create"], batches["single_create"],
               floor_name="100 single creates", per=BATCH,
               description="per-order cost of a 100-order batch against 100 single creates"),
        figure("order_cancel_batch100_vs_singles", batches["batch_cancel"], batches["single_cancel"],
               floor_name="100 single cancels", per=BATCH,
               description="per-order cost of a 100-cancel batch against 100 single cancels"),
        figure(f"order_create_cancel_finished{FINISHED_ORDERS}_vs_empty", finished["full"], finished["empty"],
               floor_name="empty cache of finished orders",
               description=f"create + cancel with {FINISHED_ORDERS} finished orders in Hummingbot's 30 s cache, "
                           f"vs with none"),
    ]
    for name, samples in parts.items():
        rows.append(figure(f"order_create_part_{name}", samples, floor_parts, floor_name="stellar-sdk build+sign",
                           description=f"one step of a create alone: {PARTS[name]}"))
    # Steps of the breakdown are small and noisy, the experiment is not a real run: reported, not checked.
    for row in rows:
        row["checked"] = "_part_" not in row["name"] and "_without_" not in row["name"]
    create_us = rows[0]["subject"]["median_us"]
    path = {name: {"median_us": round(statistics.median(samples) / 1000, 2)} for name, samples in in_path.items()}
    path_total = sum(part["median_us"] for part in path.values())
    for part in path.values():
        part["share"] = round(part["median_us"] / path_total, 3)
    return {"benchmark": "order_path", "figures": rows, "breakdown": {
        "where a create's time goes, each step alone (share of order_create's median)": _breakdown(create_us, parts),
        "a create's path cut at the connector's measuring points (medians; a pass with a recorder installed)": path,
    }}


def run(quick: bool = False) -> Dict[str, Any]:
    iterations, rounds = (300, 6) if quick else (3000, 20)
    return asyncio.run(_run(iterations, rounds))


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
