"""Market data: a streamed order book message to an updated Hummingbot order book, per message.

Both sides start from the text their transport hands over and end with the updated OrderBook:

Subject (Stellar): Horizon's `/order_book` stream sends the whole book (N bids and N asks) on every
change; the SSE reader hands the event's data over as text (`decode=False`). The text goes through
the exchange's own data source (`order_book_tracker.data_source`: `_parse_order_book_snapshot_message`,
the hook Hummingbot's tracker calls: it compares the text with the pair's previous book's and
decodes only the levels that changed) into the order book the data source makes for the tracker
(`order_book_create_function()`, a `StellarOrderBook`), through `restore_from_snapshot_and_diffs` as
Hummingbot's tracker does with a snapshot (it applies only the changed levels when it holds the
previous book).

Peer (Binance, in the same run): a depth-update websocket text message decoded as Hummingbot's
websocket connection decodes it (`WSConnection._build_resp`: aiohttp's `msg.json()`, the json
module), through Hummingbot's Binance connector (`_parse_order_book_diff_message`, with its symbol
lookup) into an OrderBook with `apply_diffs`, as the tracker does with a diff.

Figures (each side alternates between two events, so every event changes the book):

- `book_update_depth{20,200}`: every level of the book changes (N+N), against a Binance diff of
  N+N levels. Horizon's transport sends the whole book, so this is its worst case.
- `book_event_depth20_changed{2,40}`: a 20+20-level book in which 2 levels (one bid, one ask) or all
  40 changed, against a Binance diff of those 2 or 40 levels: equal levels changed.
- `book_event_depth200_changed2`: the same with a 200+200-level book (the data source's depth):
  what two changed levels cost does not grow with the book.
- `book_level_changed_depth20`: the cost of one more changed level, (40 changed - 2 changed) / 38,
  on each side, from the two figures above. The output's "per changed level" lines also give each
  event's cost divided by its changed levels.
- `book_event_depth20_changed2_pool`: the same 2-level change of the offers with the pair's liquidity pool
  in the book (`stellar_book_liquidity` book+pool: 20+20 pool levels merged beside the offers): the
  offers' change still goes in as a diff of its own levels.
- `book_pool_update_depth20`: the pool's reserves change (a trade): the text of the pool's effect as its
  stream hands it over, decoded, through the exchange's `PoolFeed` (`apply_effect`) and the data source's
  parser (the pool's levels, CAP-38's formulas) into the book holding 20+20 offers and the pool, where only
  the pool's levels change; against a Binance diff of as many levels as the pool has (20+20).
- `book_decode_depth20_vs_diff2` (reported, not checked): decoding a whole 20+20-level Horizon book
  (what the text comparison spares: still done for a pair's first book and any text it cannot
  compare) with the connector's decoder, against Hummingbot decoding a 1+1-level Binance diff.

Ratio = Stellar median / Binance median (for the per-level figure, of the two slopes).
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import statistics
import time
from typing import Any, Dict, List, Optional, Sequence

import aiohttp
from bidict import bidict
from hummingbot.connector.exchange.binance.binance_api_order_book_data_source import BinanceAPIOrderBookDataSource
from hummingbot.connector.exchange.binance.binance_exchange import BinanceExchange
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_row import OrderBookRow
from hummingbot.core.web_assistant.connections.ws_connection import WSConnection

from benchmarks import harness
from benchmarks.timing import figure, gc_paused, time_calls
from hummingbot.connector.exchange.stellar.stellar_api_order_book_data_source import StellarAPIOrderBookDataSource
from hummingbot.connector.exchange.stellar.stellar_pool_feed import PoolFeed
from hummingbot.connector.exchange.stellar.stellar_pool_levels import PRICE_MOVES_BP
from hummingbot.connector.exchange.stellar.stellar_sse import json_loads

try:   # compact JSON, as Horizon and Binance write it
    from ujson import dumps as json_dumps
except ImportError:  # pragma: no cover
    from json import dumps as json_dumps

DEPTHS = (20, 200)
EVENT_DEPTH = 20
FEW, ALL = 2, 2 * EVENT_DEPTH          # levels changed per event in the book_event figures
BINANCE_PAIR = "BTC-USDT"
BINANCE_SYMBOL = "BTCUSDT"


def _changed(index: int, depth: int, per_side: int) -> bool:
    """Whether level `index` of a side of `depth` levels is one of the `per_side` that change (spread evenly)."""
    if per_side >= depth:
        return True
    step = depth // max(per_side, 1)
    return per_side > 0 and index % step == 0 and index // step < per_side


def _stellar_book(depth: int, variant: int, per_side: Optional[int] = None) -> str:
    """Horizon's /order_book JSON: prices QUOTE per BASE, asks in base, bids in quote. Two variants
    differ at `per_side` levels of each side (all of them by default)."""
    per_side = depth if per_side is None else per_side

    def level(price_n: int, price_d: int, amount: int) -> Dict[str, Any]:
        return {"price_r": {"n": price_n, "d": price_d}, "price": f"{price_n / price_d:.7f}",
                "amount": f"{amount / 1e7:.7f}"}
    bids = [level(1_000_000 - i * 100, 10_000_000,
                  1_000_000_000 + 12_345 * i + (variant * 777 if _changed(i, depth, per_side) else 0))
            for i in range(depth)]
    asks = [level(1_000_100 + i * 100, 10_000_000,
                  2_000_000_000 + 54_321 * i + (variant * 555 if _changed(i, depth, per_side) else 0))
            for i in range(depth)]
    usdc = {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": harness.ISSUER.public_key}
    return json_dumps({"bids": bids, "asks": asks, "base": {"asset_type": "native"}, "counter": usdc})


def _binance_diff(depth: int, variant: int) -> str:
    """A Binance depthUpdate with `depth` changed bids and asks ([price, quantity] strings)."""
    bids = [[f"{0.1 - i * 1e-5:.8f}", f"{100 + 0.0012345 * i + variant * 0.0777:.8f}"] for i in range(depth)]
    asks = [[f"{0.10001 + i * 1e-5:.8f}", f"{200 + 0.0054321 * i + variant * 0.0555:.8f}"] for i in range(depth)]
    return json_dumps({"e": "depthUpdate", "E": 1_700_000_000_000, "s": BINANCE_SYMBOL, "U": 1, "u": 1,
                       "b": bids, "a": asks})


def _binance_snapshot(depth: int) -> Dict[str, Any]:
    diff = binance_decode(_binance_diff(depth, 0))
    return {"lastUpdateId": 0, "bids": diff["b"], "asks": diff["a"]}


class _StellarSide:
    """Horizon book event texts into the exchange's data source, then into the order book it makes for
    the tracker."""

    def __init__(self, depth: int, exchange: Any, per_side: Optional[int] = None) -> None:
        self.depth = depth
        source: StellarAPIOrderBookDataSource = exchange.order_book_tracker.data_source   # the exchange's own
        self._parse = source._parse_order_book_snapshot_message
        self._queue: asyncio.Queue = asyncio.Queue()
        self.book: OrderBook = source.order_book_create_function()
        self._payloads = [_stellar_book(depth, 0, per_side), _stellar_book(depth, 1, per_side)]
        self._next: Any = None
        self._i = 0

    def before(self) -> None:
        self._i += 1
        self._next = self._payloads[self._i % 2]

    async def one(self) -> None:
        await self._parse({"trading_pair": harness.PAIR, "book": self._next}, self._queue)
        message = self._queue.get_nowait()
        self.book.restore_from_snapshot_and_diffs(message, [])


# The pool: 1,000,000 XLM and 100,000 USDC (0.1 USDC per XLM, inside the offers' spread), and after a taker
# sold it 1,000 XLM.
POOL_RESERVES = (("1000000.0000000", "100000.0000000"), ("1001000.0000000", "99900.3990040"))
POOL_LEVELS = len(PRICE_MOVES_BP)   # a side


def _pool_effect(variant: int) -> str:
    """The text of a `liquidity_pool_trade` effect as Horizon streams it (the pool after the trade)."""
    xlm, usdc = POOL_RESERVES[variant]
    usdc_key = f"USDC:{harness.ISSUER.public_key}"
    return json_dumps({
        "id": "0000000042949677057-0000000002", "paging_token": "42949677057-2", "account": harness.ISSUER.public_key,
        "type": "liquidity_pool_trade", "type_i": 92, "created_at": "2026-12-07T05:18:27Z",
        "liquidity_pool": {"id": "ab" * 32, "fee_bp": 30, "type": "constant_product", "total_trustlines": "3",
                           "total_shares": "316227.7660168",
                           "reserves": [{"asset": "native", "amount": xlm}, {"asset": usdc_key, "amount": usdc}]},
        "sold": {"asset": usdc_key, "amount": "99.6009960"}, "bought": {"asset": "native", "amount": "1000.0000000"}})


class _StellarPoolSide(_StellarSide):
    """A 20+20-level offers book with the pair's pool beside it (through the data source's pool message).
    `pool_changes`: each event is the pool's effect text (the reserves change); else the offers change."""

    def __init__(self, depth: int, exchange: Any, per_side: Optional[int] = None, pool_changes: bool = False) -> None:
        super().__init__(depth, exchange, per_side)
        source = exchange.order_book_tracker.data_source
        self._pool_queue: asyncio.Queue = asyncio.Queue()
        base, quote = exchange.instrument_cache.assets_for_pair(harness.PAIR)
        self.feed = PoolFeed(harness.PAIR, base, quote, None, self._pool_queue, source.logger())
        self.feed.pool_id = "ab" * 32
        self._effects = [_pool_effect(0), _pool_effect(1)]
        self._pool_changes = pool_changes
        self.depth = depth + POOL_LEVELS

    async def start(self) -> _StellarPoolSide:
        await self._offers()   # the offers' first book, then the pool beside it
        self._next_effect = self._effects[0]
        await self._pool()
        return self

    def before(self) -> None:
        self._i += 1
        if self._pool_changes:
            self._next_effect = self._effects[self._i % 2]
        else:
            self._next = self._payloads[self._i % 2]

    async def one(self) -> None:
        await (self._pool() if self._pool_changes else self._offers())

    async def _offers(self) -> None:
        self._next = self._next if self._next is not None else self._payloads[0]
        await self._parse({"trading_pair": harness.PAIR, "book": self._next}, self._queue)
        self.book.restore_from_snapshot_and_diffs(self._queue.get_nowait(), [])

    async def _pool(self) -> None:
        self.feed.apply_effect(json_loads(self._next_effect))   # as the SSE reader hands it over: decoded
        await self._parse(self._pool_queue.get_nowait(), self._queue)
        self.book.restore_from_snapshot_and_diffs(self._queue.get_nowait(), [])


def binance_decode(payload: str) -> Any:
    """A websocket text message decoded as Hummingbot's websocket connection decodes it."""
    return WSConnection._build_resp(aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, payload, None)).data


class _BinanceSide:
    """Binance depthUpdate texts, decoded as Hummingbot does, into Hummingbot's Binance parser, then into
    the OrderBook as diffs."""

    def __init__(self, depth: int, source: BinanceAPIOrderBookDataSource, levels: Optional[int] = None) -> None:
        self.depth = depth
        levels = depth if levels is None else levels
        self._parse = source._parse_order_book_diff_message
        self._queue: asyncio.Queue = asyncio.Queue()
        self.book = OrderBook()
        self.book.apply_snapshot(*_rows(_binance_snapshot(depth)), 0)
        self._messages = [aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, _binance_diff(levels, variant), None)
                          for variant in (1, 0)]
        self._next: Any = None
        self._update_id = 0

    def before(self) -> None:
        self._update_id += 1
        self._next = self._messages[self._update_id % 2]

    async def one(self) -> None:
        raw = WSConnection._build_resp(self._next).data
        raw["U"] = raw["u"] = self._update_id     # diffs must be newer than the book
        await self._parse(raw, self._queue)
        message = self._queue.get_nowait()
        self.book.apply_diffs(message.bids, message.asks, message.update_id)


async def _interleaved(sides: Sequence[Any], iterations: int, warmup: int = 50) -> List[List[int]]:
    """Samples of each side, taken turn about, so a change in the machine's speed hits both alike."""
    for _ in range(warmup):
        for side in sides:
            side.before()
            await side.one()
    clock = time.perf_counter_ns
    samples: List[List[int]] = [[] for _ in sides]
    with gc_paused():
        for _ in range(iterations):
            for side, out in zip(sides, samples, strict=True):
                side.before()
                start = clock()
                await side.one()
                out.append(clock() - start)
    for side in sides:
        bids, asks = side.book.snapshot
        assert len(bids) == side.depth and len(asks) == side.depth, "a book was not applied"
    return samples


def _rows(snapshot: Dict[str, Any]):
    bids = [OrderBookRow(float(p), float(q), 0) for p, q in snapshot["bids"]]
    asks = [OrderBookRow(float(p), float(q), 0) for p, q in snapshot["asks"]]
    return bids, asks


def binance_source() -> BinanceAPIOrderBookDataSource:
    binance = BinanceExchange(binance_api_key="", binance_api_secret="", trading_pairs=[BINANCE_PAIR],
                              trading_required=False)
    binance._set_trading_pair_symbol_map(bidict({BINANCE_SYMBOL: BINANCE_PAIR}))   # Hummingbot's peer, set up
    return BinanceAPIOrderBookDataSource(trading_pairs=[BINANCE_PAIR], connector=binance,
                                         api_factory=binance._web_assistants_factory)


def _slope_row(name: str, few: Dict[str, List[int]], all_: Dict[str, List[int]], levels: int) -> Dict[str, Any]:
    """Cost of one more changed level on each side: the difference of the medians over the levels between."""
    def slope(side: str) -> Dict[str, Any]:
        median = (statistics.median(all_[side]) - statistics.median(few[side])) / 1000 / levels
        return {"median_us": round(median, 3), "samples": min(len(all_[side]), len(few[side]))}
    stellar, binance = slope("stellar"), slope("binance")
    ratio = round(stellar["median_us"] / binance["median_us"], 3) if binance["median_us"] > 0 else None
    return {"name": name, "subject": stellar, "floor": binance, "floor_name": "Binance, per level changed",
            "ratio": ratio,
            "description": f"one more changed level of a {EVENT_DEPTH}+{EVENT_DEPTH}-level book (from {FEW} to "
                           f"{ALL} changed), vs one more level in a Binance diff"}


def _per_level(events: Dict[int, Dict[str, List[int]]], slope: Dict[str, Any]) -> Dict[str, Dict[str, float]]:
    """The output's "per changed level" lines: each event's median over its changed levels, and the slope."""
    lines = {}
    for changed, samples in events.items():
        for side, name in (("stellar", "Stellar"), ("binance", "Binance")):
            lines[f"{name}, {changed} of {2 * EVENT_DEPTH} changed, per changed level"] = {
                "median_us": round(statistics.median(samples[side]) / 1000 / changed, 3)}
    lines["Stellar, one more changed level (slope)"] = {"median_us": slope["subject"]["median_us"]}
    lines["Binance, one more changed level (slope)"] = {"median_us": slope["floor"]["median_us"]}
    return lines


async def _run(iterations: Dict[int, int], event_iterations: int) -> Dict[str, Any]:
    exchange, _horizon = await harness.make_exchange()
    binance = binance_source()
    rows = []
    try:
        for depth in DEPTHS:
            stellar, peer = await _interleaved([_StellarSide(depth, exchange), _BinanceSide(depth, binance)],
                                               iterations[depth])
            rows.append(figure(f"book_update_depth{depth}", stellar, peer,
                               floor_name=f"Binance diff, {depth}+{depth} levels",
                               description=f"Horizon book event text ({depth} bids + {depth} asks, every level "
                                           f"changed) to updated OrderBook, vs a Binance diff text of the same "
                                           f"size"))
        events = {}
        for changed in (FEW, ALL):
            stellar, peer = await _interleaved([
                _StellarSide(EVENT_DEPTH, exchange, per_side=changed // 2),
                _BinanceSide(EVENT_DEPTH, binance, levels=changed // 2)], event_iterations)
            events[changed] = {"stellar": stellar, "binance": peer}
            rows.append(figure(f"book_event_depth{EVENT_DEPTH}_changed{changed}", stellar, peer,
                               floor_name=f"Binance diff, {changed // 2}+{changed // 2} levels",
                               description=f"Horizon book event text ({EVENT_DEPTH}+{EVENT_DEPTH} levels, "
                                           f"{changed} of them changed) to updated OrderBook, vs a Binance diff "
                                           f"text of the {changed} levels"))
        slope = _slope_row(f"book_level_changed_depth{EVENT_DEPTH}", events[FEW], events[ALL], ALL - FEW)
        rows.append(slope)
        pool_offers = await _StellarPoolSide(EVENT_DEPTH, exchange, per_side=FEW // 2).start()
        stellar, peer = await _interleaved([pool_offers, _BinanceSide(EVENT_DEPTH, binance, levels=FEW // 2)],
                                           event_iterations)
        rows.append(figure(f"book_event_depth{EVENT_DEPTH}_changed{FEW}_pool", stellar, peer,
                           floor_name=f"Binance diff, {FEW // 2}+{FEW // 2} levels",
                           description=f"Horizon book event text ({EVENT_DEPTH}+{EVENT_DEPTH} levels, {FEW} of them "
                                       f"changed) to updated OrderBook holding the pair's liquidity pool too "
                                       f"({POOL_LEVELS}+{POOL_LEVELS} levels), vs a Binance diff text of the {FEW} "
                                       f"levels"))
        pool_update = await _StellarPoolSide(EVENT_DEPTH, exchange, pool_changes=True).start()
        stellar, peer = await _interleaved([pool_update, _BinanceSide(EVENT_DEPTH, binance, levels=POOL_LEVELS)],
                                           event_iterations)
        rows.append(figure(f"book_pool_update_depth{EVENT_DEPTH}", stellar, peer,
                           floor_name=f"Binance diff, {POOL_LEVELS}+{POOL_LEVELS} levels",
                           description=f"a liquidity pool's effect text (its reserves after a trade) to updated "
                                       f"OrderBook ({EVENT_DEPTH}+{EVENT_DEPTH} offers, the pool's {POOL_LEVELS}+"
                                       f"{POOL_LEVELS} levels rebuilt), vs a Binance diff text of as many levels"))
        deep = DEPTHS[-1]
        stellar, peer = await _interleaved([_StellarSide(deep, exchange, per_side=FEW // 2),
                                            _BinanceSide(deep, binance, levels=FEW // 2)], iterations[deep])
        rows.append(figure(f"book_event_depth{deep}_changed{FEW}", stellar, peer,
                           floor_name=f"Binance diff, {FEW // 2}+{FEW // 2} levels",
                           description=f"Horizon book event text ({deep}+{deep} levels, {FEW} of them changed) to "
                                       f"updated OrderBook, vs a Binance diff text of the {FEW} levels: what a "
                                       f"change costs when the book is as deep as the data source asks for"))
        horizon_book, binance_diff = _stellar_book(EVENT_DEPTH, 0), _binance_diff(FEW // 2, 0)
        decode = figure(f"book_decode_depth{EVENT_DEPTH}_vs_diff{FEW}",
                        time_calls(lambda: json_loads(horizon_book), event_iterations),
                        time_calls(lambda: binance_decode(binance_diff), event_iterations),
                        floor_name=f"Hummingbot decoding a Binance diff, {FEW // 2}+{FEW // 2} levels",
                        description=f"decoding a whole {EVENT_DEPTH}+{EVENT_DEPTH}-level Horizon book (a pair's "
                                    f"first, or a text that cannot be compared), vs a Binance diff of {FEW} levels")
        decode["checked"] = False
        rows.append(decode)
    finally:
        await harness.stop_exchange(exchange)
    for row in rows:
        row.setdefault("checked", True)
    return {"benchmark": "market_data", "figures": rows,
            "breakdown": {f"market data, per changed level ({EVENT_DEPTH}+{EVENT_DEPTH}-level book)":
                          _per_level(events, slope)}}


def run(quick: bool = False) -> Dict[str, Any]:
    iterations = {20: 400, 200: 100} if quick else {20: 4000, 200: 1000}
    return asyncio.run(_run(iterations, 400 if quick else 4000))


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
