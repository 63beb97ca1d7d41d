"""Scale: CPU and RSS as the work grows, with 1, 5, 20 and 50 trading pairs and 1 to 20 order levels.

One cycle is what a market maker's tick asks of the connector for each pair: one streamed book
update (depth 20, the connector's parser and Hummingbot's OrderBook, as in market_data) and a
refresh of its ladder: `levels` orders created in one batch and the previous ladder cancelled in
one batch (the connector's batch paths, Horizon answering at once as in order_path). CPU is the
process's CPU time (`time.process_time`) per cycle, the configurations taking their cycles turn
about; RSS is read with psutil (growth: while a configuration's market is built and warmed up).

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
from typing import Any, Dict, List, Sequence

import psutil
from hummingbot.core.data_type.in_flight_order import OrderState
from hummingbot.core.data_type.limit_order import LimitOrder
from hummingbot.core.data_type.order_book import OrderBook

from benchmarks import harness
from benchmarks.market_data import _stellar_book
from benchmarks.timing import gc_paused, settle
from hummingbot.connector.exchange.stellar.stellar_api_order_book_data_source import StellarAPIOrderBookDataSource
from hummingbot.connector.exchange.stellar.stellar_sse import json_loads

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
        self.exchange, self.horizon = harness.make_exchange(self.pairs)
        source = StellarAPIOrderBookDataSource(trading_pairs=self.pairs, connector=self.exchange,
                                               api_factory=self.exchange._web_assistants_factory,
                                               domain=self.exchange.domain, horizon_url=self.exchange.horizon_url)
        self._parse = source._parse_order_book_snapshot_message
        self._queue: asyncio.Queue = asyncio.Queue()
        self.books = {pair: OrderBook() for pair in self.pairs}
        self._payloads = [_stellar_book(BOOK_DEPTH, 0), _stellar_book(BOOK_DEPTH, 1)]
        self._ladders: Dict[str, List[Any]] = {pair: [] for pair in self.pairs}
        self._offer_id = 100_000
        self._cycle = 0

    def prepare(self, cycles: int) -> None:
        """Horizon's answers for `cycles` cycles (before timing): per pair a create batch, then a cancel batch."""
        results = []
        for cycle in range(cycles):
            for pair in self.pairs:
                quote = harness.asset_of(pair)
                ops = []
                for _ in range(self.levels):
                    self._offer_id += 1
                    ops.append(harness.created_sell_offer(self._offer_id, 100_000_000, (1, 10), quote=quote))
                results.append(harness.tx_success(ops))
                if cycle or self._cycle:
                    results.append(harness.tx_success([harness.deleted_sell_offer()] * self.levels))
        self.horizon.prepare(results)

    async def cycle(self) -> None:
        self._cycle += 1
        exchange = self.exchange
        payload = self._payloads[self._cycle % 2]
        active = exchange._order_tracker.active_orders
        for pair in self.pairs:
            await self._parse({"trading_pair": pair, "book": json_loads(payload)}, self._queue)
            self.books[pair].restore_from_snapshot_and_diffs(self._queue.get_nowait(), [])
            orders = [LimitOrder(client_order_id=f"HBOT-{pair}-{self._cycle}-{i}", trading_pair=pair, is_buy=False,
                                 base_currency="XLM", quote_currency=pair.split("-")[1],
                                 price=Decimal("0.1") + Decimal(i) / 10_000, quantity=AMOUNT)
                      for i in range(self.levels)]
            await exchange._execute_batch_order_create(orders)
            placed = [active[o.client_order_id] for o in orders]
            previous = self._ladders[pair]
            if previous:
                await exchange._execute_batch_cancel(previous)
            await settle(lambda placed=placed, previous=previous:
                         all(o.current_state is OrderState.OPEN for o in placed)
                         and all(o.is_cancelled for o in previous))
            self._ladders[pair] = placed

    def forget_finished(self) -> None:
        self.exchange._order_tracker._cached_orders.clear()   # see order_path.ConnectorOrders.forget_cancelled

    async def stop(self) -> None:
        await harness.stop_exchange(self.exchange)


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
            market.prepare(cycles + 2)
            for _ in range(2):        # warm-up: caches filled, first ladder placed
                await market.cycle()
                market.forget_finished()
            rss_growth.append(process.memory_info().rss - rss_before)
        cpu: List[List[float]] = [[] for _ in markets]
        with gc_paused():
            for _ in range(cycles):
                for market, samples in zip(markets, cpu, strict=True):
                    start = time.process_time()
                    await market.cycle()
                    samples.append(time.process_time() - start)
                    market.forget_finished()
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
