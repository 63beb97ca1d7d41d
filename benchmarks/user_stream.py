"""User stream: a fill event to a processed TradeUpdate and a changed order state, per event.

Subject (Stellar): a Horizon trade record from the account's trade stream, as the user stream data
source queues it ({"channel": "trade", "data": ...}), through the connector's real
`_user_stream_event_listener`: the order found by its offer id, the record turned into a
TradeUpdate in the order's terms, `ClientOrderTracker.process_trade_update`, and the order's new
state (FILLED) processed until the tracker stops tracking it.

Peer (Binance, same run, same harness): an `executionReport` TRADE event through Hummingbot's
Binance `_user_stream_event_listener` to the same end.

Both listeners read from an async generator standing in for `_iter_user_event_queue`; one sample
is the time from handing an event over until the order is done and the next event is asked for.
`OPEN_ORDERS` orders are open while the events arrive (a ladder), refreshed untimed between rounds.
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import time
from decimal import Decimal
from typing import Any, Callable, Dict, List, Sequence

from bidict import bidict
from hummingbot.connector.exchange.binance.binance_exchange import BinanceExchange
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState

from benchmarks import harness
from benchmarks.timing import figure, gc_paused, settle

OPEN_ORDERS = 20
FINISHED_ORDERS = 500
AMOUNT = Decimal("10")
PRICE = Decimal("0.1")
LEDGER_CLOSE_TIME = "2030-01-01T00:00:00Z"


def _track_open_orders(exchange: Any, pair: str, count: int, first_id: int) -> List[InFlightOrder]:
    orders = []
    for i in range(count):
        client_order_id = f"HBOT-bench-{first_id + i}"
        exchange.start_tracking_order(order_id=client_order_id, exchange_order_id=str(first_id + i),
                                      trading_pair=pair, order_type=OrderType.LIMIT, trade_type=TradeType.SELL,
                                      price=PRICE, amount=AMOUNT)
        order = exchange._order_tracker.active_orders[client_order_id]
        order.current_state = OrderState.OPEN
        orders.append(order)
    return orders


def stellar_fill_event(order: InFlightOrder, index: int) -> Dict[str, Any]:
    """Horizon's trade record: our sell offer (base XLM) taken in full by someone's offer."""
    operation_id = (5000 + index) << 32 | 1 << 12 | 1
    return {"channel": "trade", "cursor": f"{operation_id}-0", "data": {
        "id": f"{operation_id}-0", "paging_token": f"{operation_id}-0", "ledger_close_time": LEDGER_CLOSE_TIME,
        "trade_type": "orderbook", "base_offer_id": order.exchange_order_id, "base_account": harness.TRADER.public_key,
        "base_amount": "10.0000000", "base_asset_type": "native",
        "counter_offer_id": str(operation_id | 1 << 62), "counter_account": harness.ISSUER.public_key,
        "counter_amount": "1.0000000", "counter_asset_type": "credit_alphanum4", "counter_asset_code": "USDC",
        "counter_asset_issuer": harness.ISSUER.public_key, "base_is_seller": True, "price": {"n": 1, "d": 10}}}


def binance_fill_event(order: InFlightOrder, index: int) -> Dict[str, Any]:
    return {"e": "executionReport", "E": 1_700_000_000_000, "s": "BTCUSDT", "c": order.client_order_id, "S": "SELL",
            "o": "LIMIT", "f": "GTC", "q": "10.00000000", "p": "0.10000000", "x": "TRADE", "X": "FILLED",
            "i": int(order.exchange_order_id), "l": "10.00000000", "z": "10.00000000", "L": "0.10000000",
            "n": "0", "N": "USDT", "T": 1_700_000_000_000, "t": 900_000 + index, "C": ""}


async def _samples(exchange: Any, pair: str, make_event: Callable[[InFlightOrder, int], Dict[str, Any]],
                   rounds: int, open_orders: int = OPEN_ORDERS, finished: int = 0) -> List[int]:
    clock = time.perf_counter_ns
    samples: List[int] = []
    tracker = exchange._order_tracker
    next_id = 1_000_000
    for _ in range(rounds):
        tracker._cached_orders.clear()      # finished orders of the last round (see order_path.forget_cancelled)
        if finished:                        # ... or as many as a busy ladder leaves in Hummingbot's 30 s cache
            stand_in = _track_open_orders(exchange, pair, 1, 1)[0]
            tracker.stop_tracking_order(stand_in.client_order_id)
            for i in range(finished):
                tracker._cached_orders[f"HBOT-finished-{i}"] = stand_in
        orders = _track_open_orders(exchange, pair, open_orders, next_id)
        next_id += open_orders
        events = [make_event(order, next_id + i) for i, order in enumerate(orders)]
        marks: List[int] = []

        async def feed(events: Sequence[Dict[str, Any]] = events, orders: Sequence[InFlightOrder] = orders,
                       marks: List[int] = marks):
            for event, order in zip(events, orders, strict=True):
                marks.append(clock())
                yield event
                await settle(lambda order=order: order.client_order_id not in tracker.active_orders)
            marks.append(clock())

        exchange._iter_user_event_queue = feed
        with gc_paused():
            await exchange._user_stream_event_listener()
        if not all(o.current_state is OrderState.FILLED for o in orders):
            raise RuntimeError("an order was not filled: the benchmark is not measuring what it says")
        samples.extend(b - a for a, b in zip(marks, marks[1:], strict=False))
    return samples


def _binance_exchange() -> BinanceExchange:
    exchange = BinanceExchange(binance_api_key="", binance_api_secret="", trading_pairs=["BTC-USDT"],
                               trading_required=False)
    exchange._set_trading_pair_symbol_map(bidict({"BTCUSDT": "BTC-USDT"}))
    exchange._set_current_timestamp(time.time())
    return exchange


async def _run(rounds: int) -> Dict[str, Any]:
    exchange, _horizon = harness.make_exchange()
    binance = _binance_exchange()
    try:
        stellar: List[int] = []
        peer: List[int] = []
        await _samples(exchange, harness.PAIR, stellar_fill_event, 1)     # warm-up rounds
        await _samples(binance, "BTC-USDT", binance_fill_event, 1)
        for _ in range(rounds):   # turn about, so a change in the machine's speed hits both alike
            stellar += await _samples(exchange, harness.PAIR, stellar_fill_event, 1)
            peer += await _samples(binance, "BTC-USDT", binance_fill_event, 1)
        busy: List[int] = []
        quiet: List[int] = []
        for _ in range(max(2, rounds // 4)):
            busy += await _samples(exchange, harness.PAIR, stellar_fill_event, 1, finished=FINISHED_ORDERS)
            quiet += await _samples(exchange, harness.PAIR, stellar_fill_event, 1)
    finally:
        await harness.stop_exchange(exchange)
    row = figure("fill_event_to_order_filled", stellar, peer, floor_name="Binance executionReport",
                 description=f"trade event to TradeUpdate processed and order FILLED ({OPEN_ORDERS} open orders), "
                             f"vs Binance's executionReport")
    row["checked"] = True
    busy_row = figure(f"fill_event_finished{FINISHED_ORDERS}_vs_empty", busy, quiet,
                      floor_name="empty cache of finished orders",
                      description=f"the same fill with {FINISHED_ORDERS} finished orders in Hummingbot's 30 s cache, "
                                  f"vs with none")
    busy_row["checked"] = True
    return {"benchmark": "user_stream", "figures": [row, busy_row]}


def run(quick: bool = False) -> Dict[str, Any]:
    return asyncio.run(_run(10 if quick else 100))


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
