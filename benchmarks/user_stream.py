"""User stream: a fill event to a processed TradeUpdate and a changed order state, per event.

Subject (Stellar): a Horizon trade record from the account's trade stream, as the user stream data
source queues it ({"channel": "trade", "data": ...}), through the exchange's public
`process_user_stream_event` (what its user stream listener does with each event): the order found
by its offer id, the record turned into a TradeUpdate in the order's terms,
`ClientOrderTracker.process_trade_update`, and the order's new state (FILLED) processed until the
tracker stops tracking it.

Peer (Binance, same run, same harness): an `executionReport` TRADE event through Hummingbot's
Binance `_user_stream_event_listener` to the same end.

Both read their events from the same kind of async generator (Binance's listener reads it in place
of `_iter_user_event_queue`; the Stellar side in a loop like its listener's); one sample is the time
from handing an event over until the order is done and the next event is asked for. `OPEN_ORDERS`
orders are open while the events arrive (a ladder). Each round has fresh exchanges (untimed) and
one untimed event first, so every round starts with nothing but that order in Hummingbot's 30 s
cache of finished orders, which only the exchange can empty; `fill_event_finished500_vs_empty` adds
500 finished orders to it (through `start_tracking_order` / `stop_tracking_order`).
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import time
from decimal import Decimal
from typing import Any, AsyncIterator, Dict, List, Sequence

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


def _track_open_orders(connector: Any, pair: str, count: int, first_id: int) -> List[InFlightOrder]:
    orders = []
    active = connector.in_flight_orders
    for i in range(count):
        client_order_id = f"HBOT-bench-{first_id + i}"
        connector.start_tracking_order(order_id=client_order_id, exchange_order_id=str(first_id + i),
                                       trading_pair=pair, order_type=OrderType.LIMIT, trade_type=TradeType.SELL,
                                       price=PRICE, amount=AMOUNT)
        order = active[client_order_id]
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


class _StellarSide:
    pair = harness.PAIR
    make_event = staticmethod(stellar_fill_event)

    def __init__(self, finished: int = 0) -> None:
        self.finished = finished

    async def new_exchange(self) -> Any:
        exchange, _horizon = await harness.make_exchange()
        harness.add_finished_orders(exchange, self.finished)
        return exchange

    async def stop(self, exchange: Any) -> None:
        await harness.stop_exchange(exchange)

    async def listen(self, exchange: Any, events: AsyncIterator[Dict[str, Any]]) -> None:
        async for event_message in events:      # as StellarExchange's user stream listener does
            await exchange.process_user_stream_event(event_message)


class _BinanceSide:
    pair = "BTC-USDT"
    make_event = staticmethod(binance_fill_event)

    async def new_exchange(self) -> BinanceExchange:
        binance = BinanceExchange(binance_api_key="", binance_api_secret="", trading_pairs=[self.pair],
                                  trading_required=False)
        binance._set_trading_pair_symbol_map(bidict({"BTCUSDT": self.pair}))
        binance._set_current_timestamp(time.time())
        return binance

    async def stop(self, binance: BinanceExchange) -> None:
        pass

    async def listen(self, binance: BinanceExchange, events: AsyncIterator[Dict[str, Any]]) -> None:
        binance._iter_user_event_queue = lambda: events     # Hummingbot's peer, read through its own listener
        await binance._user_stream_event_listener()


async def _samples(side: Any, rounds: int, open_orders: int = OPEN_ORDERS) -> List[int]:
    clock = time.perf_counter_ns
    samples: List[int] = []
    next_id = 1_000_000
    for _ in range(rounds):
        connector = await side.new_exchange()
        try:
            active = connector.in_flight_orders
            orders = _track_open_orders(connector, side.pair, open_orders + 1, next_id)   # the first: untimed
            next_id += open_orders + 1
            events = [side.make_event(order, next_id + i) for i, order in enumerate(orders)]
            marks: List[int] = []

            async def feed(events: Sequence[Dict[str, Any]] = events, orders: Sequence[InFlightOrder] = orders,
                           marks: List[int] = marks, active: Dict[str, InFlightOrder] = active
                           ) -> AsyncIterator[Dict[str, Any]]:
                for index, (event, order) in enumerate(zip(events, orders, strict=True)):
                    if index:
                        marks.append(clock())
                    yield event
                    await settle(lambda order=order, active=active: order.client_order_id not in active)
                marks.append(clock())

            with gc_paused():
                await side.listen(connector, feed())
            if not all(o.current_state is OrderState.FILLED for o in orders):
                raise RuntimeError("an order was not filled: the benchmark is not measuring what it says")
        finally:
            await side.stop(connector)
        samples.extend(b - a for a, b in zip(marks, marks[1:], strict=False))
    return samples


async def _run(rounds: int) -> Dict[str, Any]:
    stellar_side, binance_side = _StellarSide(), _BinanceSide()
    busy_side = _StellarSide(finished=FINISHED_ORDERS)
    stellar: List[int] = []
    peer: List[int] = []
    await _samples(stellar_side, 1)     # warm-up rounds
    await _samples(binance_side, 1)
    for _ in range(rounds):   # turn about, so a change in the machine's speed hits both alike
        stellar += await _samples(stellar_side, 1)
        peer += await _samples(binance_side, 1)
    busy: List[int] = []
    quiet: List[int] = []
    for _ in range(max(2, rounds // 4)):
        busy += await _samples(busy_side, 1)
        quiet += await _samples(stellar_side, 1)
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
