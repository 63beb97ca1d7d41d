"""Scale: CPU and RSS as the work grows, with 1, 5, 20 and 50 trading pairs and 1 to 20 order levels.

One cycle is what a market maker's tick asks of the connector for each pair: one streamed book
update (depth 20, the exchange's own data source parser and Hummingbot's OrderBook, as in
market_data) and a refresh of its ladder: `levels` orders created through `batch_order_create` and
the previous ladder cancelled through `batch_order_cancel` (one transaction each, as in order_path,
Horizon answering at once). CPU is the process's CPU time (`time.process_time`) per cycle, the
configurations taking their cycles turn about; RSS is read with psutil (growth: while a
configuration's market is built and warmed up).

Hummingbot's 30 s cache of finished orders can only be emptied from inside the exchange, so a
market whose exchange has finished `harness.FINISHED_PER_EXCHANGE` orders gets a fresh one between
cycles (untimed), with one untimed cycle to place its ladder: a timed cycle starts with at most
that many finished orders in the cache, and meets its own cancelled ladder there as it finishes.

Growth figures are ratios within the run: CPU per pair-cycle at 50 pairs over the same at 1 pair,
and CPU per order at 20 levels over the same at 1 level (1.0: cost grows linearly with the work).
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import statistics
import time
from decimal import Decimal
from typing import Any, Dict, List, Sequence, Tuple

import psutil
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState
from hummingbot.core.data_type.limit_order import LimitOrder
from hummingbot.core.data_type.order_book import OrderBook

from benchmarks import harness
from benchmarks.market_data import _stellar_book
from benchmarks.timing import gc_paused, settle

PAIR_COUNTS = (1, 5, 20, 50)
LEVEL_COUNTS = (1, 2, 5, 10, 20)
PAIRS_SWEEP_LEVELS = 5
BOOK_DEPTH = 20
AMOUNT = Decimal("10")


class _Market:
    """The connector for `pairs`, its book parser, and a ladder of `levels` orders per pair."""

    def __init__(self, pairs: Sequence[str], levels: int) -> None:
        self.pairs = list(pairs)
        self.levels = levels
        self.exchange: Any = None
        self.horizon: Any = None
        self._queue: asyncio.Queue = asyncio.Queue()
        self.books: Dict[str, OrderBook] = {}
        self._payloads = [_stellar_book(BOOK_DEPTH, 0), _stellar_book(BOOK_DEPTH, 1)]
        self._ladders: Dict[str, Tuple[List[LimitOrder], List[InFlightOrder]]] = {}
        self._finished = 0
        self._offer_id = 100_000
        self._cycle = 0

    async def renew(self) -> None:
        """A fresh exchange, and one cycle (untimed) to place its ladder."""
        await self.stop()
        self.exchange, self.horizon = await harness.make_exchange(self.pairs)
        source = self.exchange.order_book_tracker.data_source
        self._parse = source._parse_order_book_snapshot_message
        self.books = {pair: source.order_book_create_function() for pair in self.pairs}   # the tracker's kind
        self._ladders = {pair: ([], []) for pair in self.pairs}
        self._finished = 0
        self._prepare()
        await self.cycle()

    async def ready_for_cycle(self) -> None:
        """Untimed: a fresh exchange when the next cycle would take this one past FINISHED_PER_EXCHANGE
        finished orders, then Horizon's answers for the cycle."""
        if self.exchange is None or (
                self._finished and self._finished + len(self.pairs) * self.levels > harness.FINISHED_PER_EXCHANGE):
            await self.renew()
        self._prepare()

    def _prepare(self) -> None:
        """Horizon's answers for one cycle: per pair a create batch, then a cancel batch if a ladder rests."""
        results = []
        for pair in self.pairs:
            quote = harness.asset_of(pair)
            ops = []
            for _ in range(self.levels):
                self._offer_id += 1
                ops.append(harness.created_sell_offer(self._offer_id, 100_000_000, (1, 10), quote=quote))
            results.append(harness.tx_success(ops))
            if self._ladders[pair][0]:
                results.append(harness.tx_success([harness.deleted_sell_offer()] * self.levels))
        self.horizon.prepare(results)

    async def cycle(self) -> None:
        self._cycle += 1
        exchange = self.exchange
        payload = self._payloads[self._cycle % 2]
        active = exchange.in_flight_orders
        for pair in self.pairs:
            await self._parse({"trading_pair": pair, "book": payload}, self._queue)   # the event as streamed
            self.books[pair].restore_from_snapshot_and_diffs(self._queue.get_nowait(), [])
            orders = [LimitOrder(client_order_id="", trading_pair=pair, is_buy=False,
                                 base_currency="XLM", quote_currency=pair.split("-")[1],
                                 price=Decimal("0.1") + Decimal(i) / 10_000, quantity=AMOUNT)
                      for i in range(self.levels)]
            placed = exchange.batch_order_create(orders)
            ids = [order.client_order_id for order in placed]
            await settle(lambda ids=ids: all((o := active.get(i)) is not None and o.current_state is OrderState.OPEN
                                             for i in ids))
            previous_placed, previous = self._ladders[pair]
            if previous_placed:     # after the creates, as their own transaction (as the ladder's refresh was)
                exchange.batch_order_cancel(previous_placed)
                await settle(lambda previous=previous: all(o.is_cancelled for o in previous))
            self._ladders[pair] = (placed, [active[i] for i in ids])
            self._finished += len(previous)

    async def stop(self) -> None:
        if self.exchange is None:
            return
        if self.horizon.prepared:
            raise RuntimeError("prepared results and submissions disagree: the benchmark is not measuring what it says")
        await harness.stop_exchange(self.exchange)
        self.exchange = self.horizon = None


async def _measure(configs: Sequence[tuple], cycles: int) -> List[Dict[str, Any]]:
    """CPU per cycle of each (pairs, levels) market; the markets take their cycles turn about, so a
    change of the machine's speed (other processes on these cores) hits every configuration alike."""
    process = psutil.Process()
    markets = []
    rss_growth = []
    try:
        for pairs, levels in configs:
            rss_before = process.memory_info().rss
            market = _Market(harness.pair_names(pairs), levels)
            markets.append(market)
            await market.renew()       # warm-up: caches filled, first ladder placed
            await market.ready_for_cycle()
            await market.cycle()
            rss_growth.append(process.memory_info().rss - rss_before)
        cpu: List[List[float]] = [[] for _ in markets]
        with gc_paused():
            for _ in range(cycles):
                for market, samples in zip(markets, cpu, strict=True):
                    await market.ready_for_cycle()
                    start = time.process_time()
                    await market.cycle()
                    samples.append(time.process_time() - start)
        rss = process.memory_info().rss
    finally:
        for market in markets:
            await market.stop()
    rows = []
    for (pairs, levels), samples, growth in zip(configs, cpu, rss_growth, strict=True):
        per_cycle = statistics.median(samples)
        orders_per_cycle = 2 * pairs * levels      # creates and cancels
        rows.append({"pairs": pairs, "levels": levels, "cycles": cycles,
                     "cpu_ms_per_cycle": round(per_cycle * 1000, 3),
                     "cpu_us_per_pair_cycle": round(per_cycle * 1e6 / pairs, 1),
                     "cpu_us_per_order": round(per_cycle * 1e6 / orders_per_cycle, 1),
                     "rss_growth_mb": round(growth / 2**20, 1)})
    for row in rows:
        row["process_rss_mb"] = round(rss / 2**20, 1)
    return rows


async def _run(cycles: int) -> Dict[str, Any]:
    by_pairs = await _measure([(pairs, PAIRS_SWEEP_LEVELS) for pairs in PAIR_COUNTS], cycles)
    by_levels = await _measure([(1, levels) for levels in LEVEL_COUNTS], cycles * 4)
    pair_growth = by_pairs[-1]["cpu_us_per_pair_cycle"] / by_pairs[0]["cpu_us_per_pair_cycle"]
    level_growth = by_levels[-1]["cpu_us_per_order"] / by_levels[0]["cpu_us_per_order"]
    rows = [
        {"name": f"scale_pairs_{PAIR_COUNTS[-1]}_vs_{PAIR_COUNTS[0]}_per_pair", "checked": True,
         "description": f"CPU per pair-cycle (book update + {PAIRS_SWEEP_LEVELS}-level ladder refresh) at "
                        f"{PAIR_COUNTS[-1]} pairs over the same at {PAIR_COUNTS[0]} pair",
         "subject": {"median_us": by_pairs[-1]["cpu_us_per_pair_cycle"]},
         "floor_name": f"{PAIR_COUNTS[0]} pair", "floor": {"median_us": by_pairs[0]["cpu_us_per_pair_cycle"]},
         "ratio": round(pair_growth, 3)},
        {"name": f"scale_levels_{LEVEL_COUNTS[-1]}_vs_{LEVEL_COUNTS[0]}_per_order", "checked": True,
         "description": f"CPU per order (create + cancel, batched per pair) at {LEVEL_COUNTS[-1]} levels over "
                        f"the same at {LEVEL_COUNTS[0]} level",
         "subject": {"median_us": by_levels[-1]["cpu_us_per_order"]},
         "floor_name": f"{LEVEL_COUNTS[0]} level", "floor": {"median_us": by_levels[0]["cpu_us_per_order"]},
         "ratio": round(level_growth, 3)},
    ]
    return {"benchmark": "scale", "figures": rows, "by_pairs": by_pairs, "by_levels": by_levels}


def run(quick: bool = False) -> Dict[str, Any]:
    return asyncio.run(_run(3 if quick else 15))


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
