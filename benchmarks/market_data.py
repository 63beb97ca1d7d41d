"""Market data: a streamed order book message to an updated Hummingbot order book, per message.

Subject (Stellar): the SSE event's data (Horizon's `/order_book` JSON, the whole book at depth N:
N bids and N asks) decoded with the connector's JSON decoder, `StellarAPIOrderBookDataSource.
_parse_order_book_snapshot_message` of the exchange's own data source (`order_book_tracker.
data_source`; the connector's real parser, the hook Hummingbot's tracker calls: rational prices,
bid amounts converted to base), then what Hummingbot's order book tracker does with a snapshot:
`OrderBook.restore_from_snapshot_and_diffs`.

Peer (Binance, in the same run): a depth-update websocket payload with the same number of levels
(N bids and N asks) decoded with the same decoder, `BinanceAPIOrderBookDataSource.
_parse_order_book_diff_message` (Hummingbot's Binance connector, with its symbol lookup), then what
the tracker does with a diff: `OrderBook.apply_diffs`.

Each side alternates between two books that differ at every level, so every message changes the
book. Ratio = Stellar median / Binance median.
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import asyncio
import time
from typing import Any, Dict, List, Sequence

from bidict import bidict
from hummingbot.connector.exchange.binance.binance_api_order_book_data_source import BinanceAPIOrderBookDataSource
from hummingbot.connector.exchange.binance.binance_exchange import BinanceExchange
from hummingbot.core.data_type.order_book import OrderBook

from benchmarks import harness
from benchmarks.timing import figure, gc_paused
from hummingbot.connector.exchange.stellar.stellar_api_order_book_data_source import StellarAPIOrderBookDataSource
from hummingbot.connector.exchange.stellar.stellar_sse import json_loads

try:   # the same decoder on both sides, so the comparison is about the connectors' own work
    from ujson import dumps as json_dumps
except ImportError:  # pragma: no cover
    from json import dumps as json_dumps

DEPTHS = (20, 200)
BINANCE_PAIR = "BTC-USDT"
BINANCE_SYMBOL = "BTCUSDT"


def _stellar_book(depth: int, variant: int) -> str:
    """Horizon's /order_book JSON: prices QUOTE per BASE, asks in base, bids in quote."""
    def level(price_n: int, price_d: int, amount: int) -> Dict[str, Any]:
        return {"price_r": {"n": price_n, "d": price_d}, "price": f"{price_n / price_d:.7f}",
                "amount": f"{amount / 1e7:.7f}"}
    bids = [level(1_000_000 - i * 100, 10_000_000, 1_000_000_000 + 12_345 * i + variant * 777) for i in range(depth)]
    asks = [level(1_000_100 + i * 100, 10_000_000, 2_000_000_000 + 54_321 * i + variant * 555) for i in range(depth)]
    usdc = {"asset_type": "credit_alphanum4", "asset_code": "USDC", "asset_issuer": harness.ISSUER.public_key}
    return json_dumps({"bids": bids, "asks": asks, "base": {"asset_type": "native"}, "counter": usdc})


def _binance_diff(depth: int, variant: int) -> str:
    """A Binance depthUpdate with `depth` changed bids and asks ([price, quantity] strings)."""
    bids = [[f"{0.1 - i * 1e-5:.8f}", f"{100 + 0.0012345 * i + variant * 0.0777:.8f}"] for i in range(depth)]
    asks = [[f"{0.10001 + i * 1e-5:.8f}", f"{200 + 0.0054321 * i + variant * 0.0555:.8f}"] for i in range(depth)]
    return json_dumps({"e": "depthUpdate", "E": 1_700_000_000_000, "s": BINANCE_SYMBOL, "U": 1, "u": 1,
                       "b": bids, "a": asks})


def _binance_snapshot(depth: int) -> Dict[str, Any]:
    diff = json_loads(_binance_diff(depth, 0))
    return {"lastUpdateId": 0, "bids": diff["b"], "asks": diff["a"]}


class _StellarSide:
    """One streamed Horizon book event into the connector's parser, then into the OrderBook."""

    def __init__(self, depth: int, exchange: Any) -> None:
        self.depth = depth
        source: StellarAPIOrderBookDataSource = exchange.order_book_tracker.data_source   # the exchange's own
        self._parse = source._parse_order_book_snapshot_message
        self._queue: asyncio.Queue = asyncio.Queue()
        self.book = OrderBook()
        self._payloads = [_stellar_book(depth, 0), _stellar_book(depth, 1)]
        self._i = 0

    async def one(self) -> None:
        self._i += 1
        payload = self._payloads[self._i % 2]
        await self._parse({"trading_pair": harness.PAIR, "book": json_loads(payload)}, self._queue)
        message = self._queue.get_nowait()
        self.book.restore_from_snapshot_and_diffs(message, [])


class _BinanceSide:
    """One Binance depthUpdate into Hummingbot's Binance parser, then into the OrderBook as a diff."""

    def __init__(self, depth: int, source: BinanceAPIOrderBookDataSource) -> None:
        self.depth = depth
        self._parse = source._parse_order_book_diff_message
        self._queue: asyncio.Queue = asyncio.Queue()
        self.book = OrderBook()
        self.book.apply_snapshot(*_rows(_binance_snapshot(depth)), 0)
        self._payloads = [_binance_diff(depth, 1), _binance_diff(depth, 0)]
        self._update_id = 0

    async def one(self) -> None:
        self._update_id += 1
        raw = json_loads(self._payloads[self._update_id % 2])
        raw["U"] = raw["u"] = self._update_id     # diffs must be newer than the book
        await self._parse(raw, self._queue)
        message = self._queue.get_nowait()
        self.book.apply_diffs(message.bids, message.asks, message.update_id)


async def _interleaved(sides: Sequence[Any], iterations: int, warmup: int = 50) -> List[List[int]]:
    """Samples of each side, taken turn about, so a change in the machine's speed hits both alike."""
    for _ in range(warmup):
        for side in sides:
            await side.one()
    clock = time.perf_counter_ns
    samples: List[List[int]] = [[] for _ in sides]
    with gc_paused():
        for _ in range(iterations):
            for side, out in zip(sides, samples, strict=True):
                start = clock()
                await side.one()
                out.append(clock() - start)
    for side in sides:
        bids, asks = side.book.snapshot
        assert len(bids) == side.depth and len(asks) == side.depth, "a book was not applied"
    return samples


def _rows(snapshot: Dict[str, Any]):
    from hummingbot.core.data_type.order_book_row import OrderBookRow
    bids = [OrderBookRow(float(p), float(q), 0) for p, q in snapshot["bids"]]
    asks = [OrderBookRow(float(p), float(q), 0) for p, q in snapshot["asks"]]
    return bids, asks


def binance_source() -> BinanceAPIOrderBookDataSource:
    binance = BinanceExchange(binance_api_key="", binance_api_secret="", trading_pairs=[BINANCE_PAIR],
                              trading_required=False)
    binance._set_trading_pair_symbol_map(bidict({BINANCE_SYMBOL: BINANCE_PAIR}))   # Hummingbot's peer, set up
    return BinanceAPIOrderBookDataSource(trading_pairs=[BINANCE_PAIR], connector=binance,
                                         api_factory=binance._web_assistants_factory)


async def _run(iterations: Dict[int, int]) -> Dict[str, Any]:
    exchange, _horizon = await harness.make_exchange()
    binance = binance_source()
    rows = []
    try:
        for depth in DEPTHS:
            stellar, peer = await _interleaved([_StellarSide(depth, exchange), _BinanceSide(depth, binance)],
                                               iterations[depth])
            rows.append(figure(f"book_update_depth{depth}", stellar, peer,
                               floor_name=f"Binance diff, {depth}+{depth} levels",
                               description=f"Horizon book event ({depth} bids + {depth} asks) to updated OrderBook, "
                                           f"vs Binance diff of the same size"))
    finally:
        await harness.stop_exchange(exchange)
    for row in rows:
        row["checked"] = True
    return {"benchmark": "market_data", "figures": rows}


def run(quick: bool = False) -> Dict[str, Any]:
    iterations = {20: 400, 200: 100} if quick else {20: 4000, 200: 1000}
    return asyncio.run(_run(iterations))


if __name__ == "__main__":
    import json
    import sys
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
