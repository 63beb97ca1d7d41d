"""Public market data from Horizon: order book snapshots over REST, live books and trades over SSE.

Horizon has no websocket: each pair gets one `/order_book` stream (every event is the whole
book, so it goes to the snapshot queue, as the text it came as) and one `/trades` stream (from `cursor=now`, resumed by
the last paging token). When a book stream reconnects, a REST snapshot is queued before the new
connection's events are read, so the book never lags behind a gap. Each pair's books go through
one `BookSequence`, so a message also carries what changed since the pair's previous book, and
the tracker's books (`StellarOrderBook`) apply only that (see stellar_order_book).

With `include_pool` (the connector's `stellar_book_liquidity` "book+pool"), each pair's liquidity pool is
followed too (stellar_pool_feed: one `/liquidity_pools/{id}/effects` stream, no REST read in steady state)
and its levels go to the book through the same queue as the books (stellar_pool_levels). Pool trades of
the pair come on the pair's `/trades` stream like any other (Horizon's `trade_type` all).

From the connector it uses `connector.instrument_cache` (pair -> assets) and `connector.order_books`.
"""
import asyncio
import functools
import math
from typing import Any, Dict, List, Optional

import aiohttp
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage
from hummingbot.core.data_type.order_book_tracker_data_source import OrderBookTrackerDataSource
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.logger import HummingbotLogger

import hummingbot.connector.exchange.stellar.stellar_constants as CONSTANTS
import hummingbot.connector.exchange.stellar.stellar_measurement as measurement
from hummingbot.connector.exchange.stellar.stellar_assets import asset_key, horizon_asset_params
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff
from hummingbot.connector.exchange.stellar.stellar_order_book import BookSequence, StellarOrderBook, pool_message
from hummingbot.connector.exchange.stellar.stellar_pool_feed import PoolFeed
from hummingbot.connector.exchange.stellar.stellar_request_budget import RequestBudget
from hummingbot.connector.exchange.stellar.stellar_sse import HorizonStream, OnConnect
from hummingbot.connector.exchange.stellar.stellar_stream_group import StreamGroup


class StellarAPIOrderBookDataSource(OrderBookTrackerDataSource):
    DEFAULT_DEPTH = 200                 # Horizon's maximum `limit` for /order_book
    SNAPSHOT_TIMEOUT = 10.0             # seconds for one REST snapshot attempt
    SNAPSHOT_RETRY_BASE = 1.0           # first wait after a failed initial snapshot, doubling up to the cap
    SNAPSHOT_RETRY_CAP = 30.0
    STREAM_IDLE_TIMEOUT = 300.0         # a stream silent this long is reopened (catches half-open sockets)
    LAST_PRICE_READ_INTERVAL = 600.0    # a pair with no known trade is asked for its last one this often at most
    # A pool whose reads keep failing (a Horizon without pools) is tried again at most this often: 2 reads each.
    POOL_RETRY_CAP = 900.0

    _logger: Optional[HummingbotLogger] = None

    def __init__(self,
                 trading_pairs: List[str],
                 connector: Any,   # the StellarExchange: its `instrument_cache` and `order_books`
                 api_factory: WebAssistantsFactory,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN,
                 horizon_url: Optional[str] = None,
                 session: Optional[aiohttp.ClientSession] = None,
                 depth: int = DEFAULT_DEPTH,
                 stream_backoff_base: float = 0.5,
                 stream_backoff_cap: float = 30.0,
                 request_budget: Optional[RequestBudget] = None,
                 horizon_pool: Any = None,
                 include_pool: bool = False):   # the exchange passes its stellar_book_liquidity
        super().__init__(trading_pairs)
        if not 1 <= depth <= 200:
            raise ValueError(f"Order book depth must be between 1 and 200 (Horizon's limit), got {depth}")
        self._connector = connector
        self._depth = depth
        self._base_keys: Dict[str, str] = {}
        self._last_prices: Dict[str, float] = {}        # pair -> price of its latest trade seen
        self._last_price_reads: Dict[str, float] = {}   # pair -> when its last trade was last asked over REST
        self._books: Dict[str, BookSequence] = {}        # pair -> its books so far (what changed in each)
        self._include_pool = include_pool
        self._pools: Dict[str, PoolFeed] = {}            # pair -> its liquidity pool, followed
        self.order_book_create_function = StellarOrderBook
        # Streams and their tasks are kept per trading pair.
        self._stream_group = StreamGroup(api_factory, domain, horizon_url, self.logger(), session=session,
                                         backoff_base=stream_backoff_base, backoff_cap=stream_backoff_cap,
                                         budget=request_budget, horizons=horizon_pool)

    # Public API used by the order book tracker

    async def get_last_traded_prices(self, trading_pairs: List[str], domain: Optional[str] = None) -> Dict[str, float]:
        """A price for every pair asked for (Hummingbot's tracker asks again at once for a pair left out):
        its last trade, from its trade stream or read over REST at most once per LAST_PRICE_READ_INTERVAL
        while none is known; else the middle of its book; else NaN."""
        now = self._time()
        due = [pair for pair in trading_pairs if pair not in self._last_prices
               and now - self._last_price_reads.get(pair, -math.inf) >= self.LAST_PRICE_READ_INTERVAL]
        for pair in due:
            self._last_price_reads[pair] = now
        results = await asyncio.gather(*(self._last_traded_price(pair) for pair in due), return_exceptions=True)
        for pair, result in zip(due, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, Exception):
                self.logger().network(f"Could not fetch the last traded price of {pair}: {result}")
            elif result is not None:
                self._last_prices.setdefault(pair, result)   # a streamed trade meanwhile is newer
        return {pair: self._last_prices.get(pair, self._book_mid(pair)) for pair in trading_pairs}

    async def get_new_order_book(self, trading_pair: str) -> OrderBook:
        """The tracker's first book for a pair. Retries until a snapshot arrives: the tracker never
        becomes ready if this raises, so a slow or rate-limited Horizon only delays it."""
        snapshot = await self._initial_snapshot(trading_pair)
        order_book = self.order_book_create_function()
        order_book.apply_snapshot(snapshot.bids, snapshot.asks, snapshot.update_id)
        return order_book

    async def listen_for_subscriptions(self):
        """One `/order_book` and one `/trades` SSE stream per pair, until cancelled."""
        for trading_pair in list(self._trading_pairs):
            self._start_pair_streams(trading_pair)
        await self._stream_group.hold_listener()   # the streams run in their own tasks

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        self.add_trading_pair(trading_pair)
        if self._stream_group.listening:
            self._start_pair_streams(trading_pair)
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        self.remove_trading_pair(trading_pair)
        self._books.pop(trading_pair, None)
        self._pools.pop(trading_pair, None)
        await self._stream_group.stop(trading_pair)
        return True

    # Read-only views for status and profiling

    def streams_connected(self) -> Dict[str, bool]:
        """Stream name ("/order_book XLM-USDC", "/trades XLM-USDC"...) -> whether it is connected now."""
        return self._stream_group.streams_connected()

    def stream_stats(self) -> Dict[str, Dict[str, int]]:
        """Stream name -> its counters: connects, reconnects, errors, events."""
        return self._stream_group.stream_stats()

    def pool_feeds(self) -> Dict[str, PoolFeed]:
        """Pair -> its liquidity pool as followed (pool id, reserves); empty unless the book shows pools."""
        return dict(self._pools)

    def queued_messages(self) -> int:
        """Messages waiting in this data source's queues for the tracker's listeners."""
        return sum(queue.qsize() for queue in self._message_queue.values())

    async def close(self) -> None:
        """End `listen_for_subscriptions` and every stream, and close the aiohttp session this data source
        created (one passed in is left open). Safe to repeat; listening again afterwards starts afresh."""
        await self._stream_group.close()

    # Queue message parsers (called by the base class listeners)

    async def _parse_order_book_snapshot_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        """`raw_message["book"]`: a streamed event's text (only what changed since the pair's last book is
        decoded), or a decoded REST book."""
        start = measurement.now()
        trading_pair = raw_message["trading_pair"]
        if "pool" in raw_message:   # the pair's pool changed: its levels, once for a burst of changes
            changed, levels = raw_message["pool"].levels_to_show()
            if changed:
                message_queue.put_nowait(pool_message(trading_pair, levels))
                measurement.record(measurement.BOOK_POOL_UPDATE, start)
            return
        books = self._books.get(trading_pair)
        if books is None:
            books = self._books[trading_pair] = BookSequence()
        book = raw_message["book"]
        try:
            message = books.message(book, trading_pair)
        except ValueError as error:
            if not isinstance(book, str):
                raise
            # As the SSE reader drops an event that is not JSON: the stream goes on with the next book.
            self.logger().warning(f"Dropped an order book event for {trading_pair} ({len(book)} chars): {error}")
            return
        message_queue.put_nowait(message)
        measurement.record(measurement.BOOK_UPDATE, start)

    async def _parse_trade_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        trading_pair = raw_message["trading_pair"]
        message = StellarOrderBook.trade_message_from_exchange(
            raw_message["trade"],
            metadata={"trading_pair": trading_pair, "base_asset_key": self._base_key(trading_pair)})
        self._last_prices[trading_pair] = message.content["price"]
        message_queue.put_nowait(message)

    async def _parse_order_book_diff_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        # Horizon streams whole books; nothing is ever put on the diff queue.
        return

    # REST

    async def _order_book_snapshot(self, trading_pair: str) -> OrderBookMessage:
        start = measurement.now()
        book = await self._request_order_book(trading_pair)
        message = StellarOrderBook.snapshot_message_from_exchange(book, metadata={"trading_pair": trading_pair})
        measurement.record(measurement.BOOK_SNAPSHOT, start)
        return message

    async def _request_order_book(self, trading_pair: str) -> Dict[str, Any]:
        params = self._connector.instrument_cache.horizon_pair_params(trading_pair)
        params["limit"] = str(self._depth)
        return await self._stream_group.get_json(CONSTANTS.ORDER_BOOK_PATH, params)

    async def _initial_snapshot(self, trading_pair: str) -> OrderBookMessage:
        backoff = Backoff(base=self.SNAPSHOT_RETRY_BASE, cap=self.SNAPSHOT_RETRY_CAP)
        while True:
            try:
                async with asyncio.timeout(self.SNAPSHOT_TIMEOUT):   # wait_for could drop a cancel (3.11)
                    return await self._order_book_snapshot(trading_pair)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                delay = backoff.next_delay()
                reason = "timed out" if isinstance(error, asyncio.TimeoutError) else f"failed ({error})"
                self.logger().warning(f"The order book snapshot for {trading_pair} {reason}; "
                                      f"retrying in {delay:.1f}s (attempt {backoff.failures}).")
                await self._sleep(delay)

    async def _last_traded_price(self, trading_pair: str) -> Optional[float]:
        params = self._trade_pair_params(trading_pair)
        params.update(order="desc", limit="1")
        data = await self._stream_group.get_json(CONSTANTS.TRADES_PATH, params)
        records = data["_embedded"]["records"]
        if not records:
            return None
        message = StellarOrderBook.trade_message_from_exchange(
            records[0], metadata={"trading_pair": trading_pair, "base_asset_key": self._base_key(trading_pair)})
        return message.content["price"]

    # Streams

    def _start_pair_streams(self, trading_pair: str) -> None:
        group = self._stream_group
        if group.is_running(trading_pair):
            return
        listeners = [(self._listen_order_book_stream, self.SNAPSHOT_RETRY_CAP),
                     (self._listen_trade_stream, self.SNAPSHOT_RETRY_CAP)]
        if self._include_pool:
            listeners.append((self._listen_pool_stream, self.POOL_RETRY_CAP))
        for listen, retry_cap in listeners:
            group.run(trading_pair, f"Market data stream {listen.__name__} for {trading_pair}",
                      functools.partial(listen, trading_pair), retry_cap=retry_cap)

    async def _listen_order_book_stream(self, trading_pair: str) -> None:
        params = self._connector.instrument_cache.horizon_pair_params(trading_pair)
        params["limit"] = str(self._depth)
        queue = self._message_queue[self._snapshot_messages_queue_key]

        async def resync_on_reconnect(reconnected: bool) -> None:
            # Whatever changed while the stream was down is in the REST book; queue it first.
            if reconnected:
                book = await self._request_order_book(trading_pair)
                queue.put_nowait({"trading_pair": trading_pair, "book": book})

        # Its events as text: each book is compared with the last as text, and only what changed is decoded.
        stream = self._open_stream(trading_pair, CONSTANTS.ORDER_BOOK_PATH, params, cursor=None,
                                   on_connect=resync_on_reconnect, decode=False)
        async for _event_id, book_text in stream:
            queue.put_nowait({"trading_pair": trading_pair, "book": book_text})

    async def _listen_trade_stream(self, trading_pair: str) -> None:
        queue = self._message_queue[self._trade_messages_queue_key]
        stream = self._open_stream(trading_pair, CONSTANTS.TRADES_PATH, self._trade_pair_params(trading_pair),
                                   cursor="now")
        async for _event_id, trade in stream:
            queue.put_nowait({"trading_pair": trading_pair, "trade": trade})

    async def _listen_pool_stream(self, trading_pair: str) -> None:
        feed = self._pools.get(trading_pair)
        if feed is None:
            base, quote = self._connector.instrument_cache.assets_for_pair(trading_pair)
            feed = self._pools[trading_pair] = PoolFeed(
                trading_pair, base, quote, self._stream_group, self._message_queue[self._snapshot_messages_queue_key],
                self.logger(), idle_timeout=self.STREAM_IDLE_TIMEOUT)
        await feed.follow()

    def _open_stream(self, trading_pair: str, path: str, params: Dict[str, str], cursor: Optional[str],
                     on_connect: Optional[OnConnect] = None, decode: bool = True) -> HorizonStream:
        # Replaces the stream a restart of this listener left behind.
        return self._stream_group.open_stream(trading_pair, f"{path} {trading_pair}", path, params, cursor,
                                              idle_timeout=self.STREAM_IDLE_TIMEOUT, on_connect=on_connect,
                                              decode=decode)

    # Pair helpers

    def _book_mid(self, trading_pair: str) -> float:
        """The middle of the pair's book as the connector tracks it (one side if the other is empty), or NaN."""
        book = self._connector.order_books.get(trading_pair) if hasattr(self._connector, "order_books") else None
        if book is None:
            return math.nan
        sides = []
        for is_buy in (True, False):
            try:
                price = book.get_price(is_buy)
            except OSError:   # that side is empty
                continue
            if price == price:
                sides.append(price)
        return sum(sides) / len(sides) if sides else math.nan

    def _trade_pair_params(self, trading_pair: str) -> Dict[str, str]:
        base, quote = self._connector.instrument_cache.assets_for_pair(trading_pair)
        params = horizon_asset_params(base, "base_")
        params.update(horizon_asset_params(quote, "counter_"))
        return params

    def _base_key(self, trading_pair: str) -> str:
        key = self._base_keys.get(trading_pair)
        if key is None:
            base, _quote = self._connector.instrument_cache.assets_for_pair(trading_pair)
            key = self._base_keys[trading_pair] = asset_key(base)
        return key
