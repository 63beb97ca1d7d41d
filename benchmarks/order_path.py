"""Order path: the connector's own cost to create and to cancel an order, beside stellar-sdk alone.

Subject: `StellarExchange._create_order` (what `sell()` schedules: quantisation, trading-rule checks,
InFlightOrder tracking, intent, validation, operation XDR, the pipeline's queue, transaction build,
hash and sign, result XDR decoding, order updates and events) and `_execute_cancel` (what `cancel()`
schedules), each awaited until the tracked order shows the new state. Horizon answers at once
(`harness.InstantHorizon`), so no network time is in the figures.

Floor: stellar-sdk alone building and signing the same transaction (TransactionBuilder with the
same ManageSellOffer, time bounds, sign, envelope XDR), in the same run.

Batch: 100 orders through `_execute_batch_order_create` (one transaction) against 100 single
creates, per order; likewise for cancels; the floor is stellar-sdk building one 100-operation
transaction, per operation.
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import time
from decimal import Decimal
from typing import Any, Dict, List

from hummingbot.connector.utils import get_new_client_order_id
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState
from hummingbot.core.data_type.limit_order import LimitOrder
from stellar_sdk import Account, ManageSellOffer, MuxedAccount, Price, TransactionBuilder

from benchmarks import harness
from benchmarks.harness import PAIR, PASSPHRASE, TRADER, USDC, XLM
from benchmarks.timing import figure, gc_paused, settle, time_calls
from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_amounts import price_to_rational
from hummingbot.connector.exchange.stellar.stellar_order_ops import CreateOrderIntent, operation_for
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
    def __init__(self, exchange: Any, horizon: harness.InstantHorizon) -> None:
        self.exchange = exchange
        self.horizon = horizon
        self._offer_id = 10_000
        self._i = 0

    def _next_offer_id(self) -> int:
        self._offer_id += 1
        return self._offer_id

    def _price(self) -> Decimal:
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
        order_id = get_new_client_order_id(is_buy=False, trading_pair=PAIR, hbot_order_id_prefix="HBOT",
                                           max_id_len=32)
        await exchange._create_order(TradeType.SELL, order_id, PAIR, AMOUNT, OrderType.LIMIT, price)
        order = exchange._order_tracker.active_orders[order_id]
        await settle(lambda: order.current_state is OrderState.OPEN)
        return order

    async def cancel(self, order: InFlightOrder) -> None:
        await self.exchange._execute_cancel(PAIR, order.client_order_id)
        await settle(lambda: order.is_cancelled)

    async def create_batch(self, count: int) -> List[InFlightOrder]:
        exchange = self.exchange
        orders = []
        for i in range(count):
            order_id = get_new_client_order_id(is_buy=False, trading_pair=PAIR, hbot_order_id_prefix="HBOT",
                                               max_id_len=32)
            orders.append(LimitOrder(client_order_id=order_id, trading_pair=PAIR, is_buy=False, base_currency="XLM",
                                     quote_currency="USDC", price=PRICES[i % len(PRICES)], quantity=AMOUNT))
        await exchange._execute_batch_order_create(orders)
        active = exchange._order_tracker.active_orders
        tracked = [active[o.client_order_id] for o in orders]
        await settle(lambda: all(o.current_state is OrderState.OPEN for o in tracked))
        return tracked

    async def cancel_batch(self, orders: List[InFlightOrder]) -> None:
        await self.exchange._execute_batch_cancel(orders)
        await settle(lambda: all(o.is_cancelled for o in orders))

    def forget_cancelled(self) -> None:
        """Empty the tracker's cache of finished orders (untimed). Hummingbot keeps finished orders for
        30 s and `ClientOrderTracker.fetch_order` copies that cache on every call, so thousands of
        benchmark orders a second would time the cache's size, not the connector."""
        self.exchange._order_tracker._cached_orders.clear()


async def _singles(orders: ConnectorOrders, floor: SdkFloor, iterations: int, warmup: int) -> Dict[str, List[int]]:
    """Create one order, cancel it, repeat; the floor's create and cancel are timed turn about with
    them, so a change in the machine's speed hits subject and floor alike."""
    # InstantHorizon answers in submission order: create i, cancel i, create i+1, ...
    for _ in range(iterations + warmup):
        orders.prepare_creates(1)
        orders.prepare_cancels(1)
    clock = time.perf_counter_ns
    out: Dict[str, List[int]] = {"create": [], "cancel": [], "floor_create": [], "floor_cancel": []}
    for _ in range(warmup):
        floor.create()
        floor.cancel()
        await orders.cancel(await orders.create(orders._price()))
        orders.forget_cancelled()
    with gc_paused():
        for _ in range(iterations):
            price = orders._price()
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
            orders.forget_cancelled()
    return out


async def _batches(orders: ConnectorOrders, floor: SdkFloor, rounds: int) -> Dict[str, List[int]]:
    """Per round: 100 orders in one batch, then cancelled in one batch; 100 singles of each; and the
    floor's 100-operation transactions."""
    clock = time.perf_counter_ns
    out: Dict[str, List[int]] = {"batch_create": [], "batch_cancel": [], "single_create": [], "single_cancel": [],
                                 "floor_create": [], "floor_cancel": []}
    for round_index in range(rounds + 1):     # the first round warms up
        orders.prepare_creates(1, BATCH)
        orders.prepare_cancels(1, BATCH)
        for _ in range(BATCH):
            orders.prepare_creates(1)
        orders.prepare_cancels(BATCH)
        with gc_paused():
            start = clock()
            floor.create_batch()
            floor_created = clock()
            placed = await orders.create_batch(BATCH)
            created = clock()
            floor.cancel_batch()
            floor_cancelled = clock()
            await orders.cancel_batch(placed)
            cancelled = clock()
            orders.forget_cancelled()
            singles_start = clock()
            singles = [await orders.create(PRICES[i % len(PRICES)]) for i in range(BATCH)]
            singles_created = clock()
            single_cancel_ns = 0
            for order in singles:
                # Each single cancel starts from an empty cache of finished orders, as each single create
                # did (the batch cancels all 100 before any is in that cache).
                orders.forget_cancelled()
                before = clock()
                await orders.cancel(order)
                single_cancel_ns += clock() - before
            orders.forget_cancelled()
        if round_index:
            out["floor_create"].append(floor_created - start)
            out["batch_create"].append(created - floor_created)
            out["floor_cancel"].append(floor_cancelled - created)
            out["batch_cancel"].append(cancelled - floor_cancelled)
            out["single_create"].append(singles_created - singles_start)
            out["single_cancel"].append(single_cancel_ns)
    return out


async def _with_finished_orders(orders: ConnectorOrders, iterations: int) -> Dict[str, List[int]]:
    """Create + cancel with Hummingbot's cache of finished orders holding FINISHED_ORDERS orders (a busy
    ladder's last 30 s), turn about with the same from an empty cache."""
    for _ in range(2 * iterations + 20):
        orders.prepare_creates(1)
        orders.prepare_cancels(1)
    tracker = orders.exchange._order_tracker
    stand_in = _finished_order()
    clock = time.perf_counter_ns
    out: Dict[str, List[int]] = {"full": [], "empty": []}
    with gc_paused():
        for index in range(2 * iterations + 20):
            full = index % 2 == 0
            orders.forget_cancelled()
            if full:
                for i in range(FINISHED_ORDERS):
                    tracker._cached_orders[f"HBOT-finished-{i}"] = stand_in
            price = orders._price()
            start = clock()
            await orders.cancel(await orders.create(price))
            elapsed = clock() - start
            if index >= 20:
                out["full" if full else "empty"].append(elapsed)
    orders.forget_cancelled()
    return out


def _finished_order() -> InFlightOrder:
    order = InFlightOrder(client_order_id="HBOT-finished", trading_pair=PAIR, order_type=OrderType.LIMIT,
                          trade_type=TradeType.SELL, amount=AMOUNT, creation_timestamp=1.0, price=PRICES[0],
                          exchange_order_id="1", initial_state=OrderState.CANCELED)
    return order


def _parts(exchange: Any, iterations: int) -> Dict[str, List[int]]:
    """Where a create's time goes: the connector's pure steps alone (no event loop), through the
    builder and signer the pipeline uses."""
    builder = EnvelopeBuilder(PASSPHRASE)
    signer = exchange.authenticator.transaction_signer(TRADER.public_key)
    source = MuxedAccount(TRADER.public_key)
    intent = CreateOrderIntent(client_order_id="HBOT-part", base=XLM, quote=USDC, trade_type=TradeType.SELL,
                               order_type=OrderType.LIMIT, amount=AMOUNT, price=PRICES[3])
    operations = [builder.pack(operation_for(intent))]
    result_xdr = harness.tx_success([harness.created_sell_offer(12345, 100_000_000, _rational(PRICES[3]))])
    assets = [(XLM, USDC)]

    def build_hash_sign():
        max_time = int(time.time()) + CONSTANTS.TX_TIME_BOUND_SECONDS
        return builder.build(source, harness.START_SEQUENCE + 1, 100, max_time, operations, signer)

    return {
        "validate_and_encode_operation": time_calls(lambda: builder.pack(operation_for(intent)), iterations),
        "build_hash_sign": time_calls(build_hash_sign, iterations),
        "decode_result": time_calls(lambda: decode_transaction_result(result_xdr, assets, tx_hash="00", ledger=1),
                                    iterations),
    }


async def _run(iterations: int, batch_rounds: int) -> Dict[str, Any]:
    exchange, horizon = harness.make_exchange()
    try:
        orders = ConnectorOrders(exchange, horizon)
        floor = SdkFloor()
        singles = await _singles(orders, floor, iterations, warmup=min(200, iterations))
        batches = await _batches(orders, floor, batch_rounds)
        finished = await _with_finished_orders(orders, max(50, iterations // 10))
        parts = _parts(exchange, iterations)
        floor_parts = time_calls(floor.create, iterations)
        assert horizon.submissions > 0 and not horizon._results, "prepared results and submissions disagree"
    finally:
        await harness.stop_exchange(exchange)
    rows = [
        figure("order_create", singles["create"], singles["floor_create"], floor_name="stellar-sdk build+sign",
               description="one LIMIT sell: _create_order until OPEN, vs stellar-sdk building and signing it"),
        figure("order_cancel", singles["cancel"], singles["floor_cancel"], floor_name="stellar-sdk build+sign",
               description="one cancel: _execute_cancel until CANCELED, vs stellar-sdk building and signing it"),
        figure("order_create_batch100_per_order", batches["batch_create"], batches["floor_create"], per=BATCH,
               floor_name="stellar-sdk 100-op tx, per op",
               description="100 creates in one batch (one transaction), per order"),
        figure("order_cancel_batch100_per_order", batches["batch_cancel"], batches["floor_cancel"], per=BATCH,
               floor_name="stellar-sdk 100-op tx, per op",
               description="100 cancels in one batch (one transaction), per order"),
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
        rows.append(figure(f"order_create_part_{name}", samples, floor_parts,
                           floor_name="stellar-sdk build+sign",
                           description=f"one step of a create alone: {name.replace('_', ' ')}"))
    # Steps of the breakdown are small and noisy: reported, not checked against the baseline.
    for row in rows:
        row["checked"] = "_part_" not in row["name"]
    return {"benchmark": "order_path", "figures": rows}


def run(quick: bool = False) -> Dict[str, Any]:
    iterations, rounds = (300, 6) if quick else (3000, 20)
    return asyncio.run(_run(iterations, rounds))


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
