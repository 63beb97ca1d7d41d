"""Public market data from Horizon: order book snapshots over REST, live books and trades over SSE.

Horizon has no websocket: each pair gets one `/order_book` stream (every event is the whole
book, so it goes to the snapshot queue) and one `/trades` stream (from `cursor=now`, resumed by
the last paging token). When a book stream reconnects, a REST snapshot is queued before the new
connection's events are read, so the book never lags behind a gap.

From the connector it uses only `connector.instrument_cache` (an InstrumentCache: pair -> assets).
"""
import asyncio
from typing import Any, Dict, List, Optional

import aiohttp
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_message import OrderBookMessage
from hummingbot.core.data_type.order_book_tracker_data_source import OrderBookTrackerDataSource
from hummingbot.core.web_assistant.connections.data_types import RESTMethod
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.logger import HummingbotLogger

import hummingbot.connector.exchange.stellar.stellar_constants as CONSTANTS
import hummingbot.connector.exchange.stellar.stellar_measurement as measurement
import hummingbot.connector.exchange.stellar.stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_assets import asset_key, horizon_asset_params
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff
from hummingbot.connector.exchange.stellar.stellar_order_book import StellarOrderBook
from hummingbot.connector.exchange.stellar.stellar_sse import HorizonStream


class StellarAPIOrderBookDataSource(OrderBookTrackerDataSource):
    DEFAULT_DEPTH = 200                 # Horizon's maximum `limit` for /order_book
    SNAPSHOT_TIMEOUT = 10.0             # seconds for one REST snapshot attempt
    SNAPSHOT_RETRY_BASE = 1.0           # first wait after a failed initial snapshot, doubling up to the cap
    SNAPSHOT_RETRY_CAP = 30.0
    STREAM_IDLE_TIMEOUT = 300.0         # a stream silent this long is reopened (catches half-open sockets)

    _logger: Optional[HummingbotLogger] = None

    def __init__(self,
                 trading_pairs: List[str],
                 connector: Any,   # the StellarExchange; only its `instrument_cache` is used here
                 api_factory: WebAssistantsFactory,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN,
                 horizon_url: Optional[str] = None,
                 session: Optional[aiohttp.ClientSession] = None,
                 depth: int = DEFAULT_DEPTH,
                 stream_backoff_base: float = 0.5,
                 stream_backoff_cap: float = 30.0):
        super().__init__(trading_pairs)
        if not 1 <= depth <= 200:
            raise ValueError(f"Order book depth must be between 1 and 200 (Horizon's limit), got {depth}")
        self._connector = connector
        self._api_factory = api_factory
        self._domain = domain
        self._horizon_url = horizon_url
        self._session = session
        self._owns_session = False
        self._depth = depth
        self._stream_backoff_base = stream_backoff_base
        self._stream_backoff_cap = stream_backoff_cap
        self._base_keys: Dict[str, str] = {}
        self._streams: Dict[str, Dict[str, HorizonStream]] = {}   # pair -> path -> its live stream
        self._pair_tasks: Dict[str, List[asyncio.Task]] = {}
        self._listening = False

    # Public API used by the order book tracker

    async def get_last_traded_prices(self, trading_pairs: List[str], domain: Optional[str] = None) -> Dict[str, float]:
        """The price of each pair's latest trade (pairs without any trade, or whose request failed, are left out)."""
        results = await asyncio.gather(*(self._last_traded_price(pair) for pair in trading_pairs),
                                       return_exceptions=True)
        prices: Dict[str, float] = {}
        for pair, result in zip(trading_pairs, results, strict=True):
            if isinstance(result, asyncio.CancelledError):
                raise result
            if isinstance(result, Exception):
                self.logger().network(f"Could not fetch the last traded price of {pair}: {result}")
            elif result is not None:
                prices[pair] = result
        return prices

    async def get_new_order_book(self, trading_pair: str) -> OrderBook:
        """The tracker's first book for a pair. Retries until a snapshot arrives: the tracker never
        becomes ready if this raises, so a slow or rate-limited Horizon only delays it."""
        snapshot = await self._initial_snapshot(trading_pair)
        order_book = self.order_book_create_function()
        order_book.apply_snapshot(snapshot.bids, snapshot.asks, snapshot.update_id)
        return order_book

    async def listen_for_subscriptions(self):
        """One `/order_book` and one `/trades` SSE stream per pair, until cancelled."""
        self._listening = True
        try:
            for trading_pair in list(self._trading_pairs):
                self._start_pair_streams(trading_pair)
            await asyncio.get_running_loop().create_future()   # the streams run in their own tasks
        finally:
            self._listening = False
            await self._stop_all_streams()

    async def subscribe_to_trading_pair(self, trading_pair: str) -> bool:
        self.add_trading_pair(trading_pair)
        if self._listening:
            self._start_pair_streams(trading_pair)
        return True

    async def unsubscribe_from_trading_pair(self, trading_pair: str) -> bool:
        self.remove_trading_pair(trading_pair)
        await self._stop_pair_streams(trading_pair)
        return True

    # Queue message parsers (called by the base class listeners)

    async def _parse_order_book_snapshot_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        start = measurement.now()
        message = StellarOrderBook.snapshot_message_from_exchange(
            raw_message["book"], metadata={"trading_pair": raw_message["trading_pair"]})
        message_queue.put_nowait(message)
        measurement.record(measurement.BOOK_UPDATE, start)

    async def _parse_trade_message(self, raw_message: Dict[str, Any], message_queue: asyncio.Queue):
        trading_pair = raw_message["trading_pair"]
        message = StellarOrderBook.trade_message_from_exchange(
            raw_message["trade"],
            metadata={"trading_pair": trading_pair, "base_asset_key": self._base_key(trading_pair)})
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
        return await self._rest_get(CONSTANTS.ORDER_BOOK_PATH, params)

    async def _initial_snapshot(self, trading_pair: str) -> OrderBookMessage:
        backoff = Backoff(base=self.SNAPSHOT_RETRY_BASE, cap=self.SNAPSHOT_RETRY_CAP)
        while True:
            try:
                return await asyncio.wait_for(self._order_book_snapshot(trading_pair), self.SNAPSHOT_TIMEOUT)
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
        data = await self._rest_get(CONSTANTS.TRADES_PATH, params)
        records = data["_embedded"]["records"]
        if not records:
            return None
        message = StellarOrderBook.trade_message_from_exchange(
            records[0], metadata={"trading_pair": trading_pair, "base_asset_key": self._base_key(trading_pair)})
        return message.content["price"]

    async def _rest_get(self, path: str, params: Dict[str, str]) -> Dict[str, Any]:
        rest_assistant = await self._api_factory.get_rest_assistant()
        return await rest_assistant.execute_request(
            url=web_utils.public_rest_url(path, self._domain, self._horizon_url),
            params=params,
            method=RESTMethod.GET,
            throttler_limit_id=path,
        )

    # Streams

    def _start_pair_streams(self, trading_pair: str) -> None:
        if trading_pair in self._pair_tasks:
            return
        self._pair_tasks[trading_pair] = [
            asyncio.ensure_future(self._keep_listening(trading_pair, self._listen_order_book_stream)),
            asyncio.ensure_future(self._keep_listening(trading_pair, self._listen_trade_stream)),
        ]

    async def _keep_listening(self, trading_pair: str, listen) -> None:
        # HorizonStream absorbs network errors; what escapes it (a pair the instrument cache cannot
        # resolve, a bug) is logged and retried slowly instead of silently ending the market data.
        backoff = Backoff(base=self._stream_backoff_base, cap=self.SNAPSHOT_RETRY_CAP)
        while True:
            try:
                await listen(trading_pair)
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = backoff.next_delay()
                self.logger().exception(f"Market data stream {listen.__name__} for {trading_pair} failed; "
                                        f"restarting in {delay:.1f}s.")
                await self._sleep(delay)

    async def _listen_order_book_stream(self, trading_pair: str) -> None:
        params = self._connector.instrument_cache.horizon_pair_params(trading_pair)
        params["limit"] = str(self._depth)
        queue = self._message_queue[self._snapshot_messages_queue_key]

        async def resync_on_reconnect(reconnected: bool) -> None:
            # Whatever changed while the stream was down is in the REST book; queue it first.
            if reconnected:
                book = await self._request_order_book(trading_pair)
                queue.put_nowait({"trading_pair": trading_pair, "book": book})

        stream = self._new_stream(trading_pair, CONSTANTS.ORDER_BOOK_PATH, params, cursor=None,
                                  on_connect=resync_on_reconnect)
        async for _event_id, book in stream:
            queue.put_nowait({"trading_pair": trading_pair, "book": book})

    async def _listen_trade_stream(self, trading_pair: str) -> None:
        queue = self._message_queue[self._trade_messages_queue_key]
        stream = self._new_stream(trading_pair, CONSTANTS.TRADES_PATH, self._trade_pair_params(trading_pair),
                                  cursor="now")
        async for _event_id, trade in stream:
            queue.put_nowait({"trading_pair": trading_pair, "trade": trade})

    def _new_stream(self, trading_pair: str, path: str, params: Dict[str, str], cursor: Optional[str],
                    on_connect=None) -> HorizonStream:
        stream = HorizonStream(
            self._get_session(),
            web_utils.public_rest_url(path, self._domain, self._horizon_url),
            params,
            cursor=cursor,
            name=f"{path} {trading_pair}",
            backoff=Backoff(base=self._stream_backoff_base, cap=self._stream_backoff_cap),
            idle_timeout=self.STREAM_IDLE_TIMEOUT,
            on_connect=on_connect,
            throttle=lambda: self._api_factory.throttler.execute_task(limit_id=path),
            logger=self.logger(),
        )
        self._streams.setdefault(trading_pair, {})[path] = stream   # replaces the one a restart left behind
        return stream

    def stream_stats(self) -> Dict[str, Dict[str, int]]:
        """Per stream counters: connects, reconnects, errors, events (for status and profiling)."""
        return {
            stream.name: {"connects": stream.connects, "reconnects": stream.reconnects,
                          "errors": stream.errors, "events": stream.events}
            for streams in self._streams.values() for stream in streams.values()
        }

    async def _stop_pair_streams(self, trading_pair: str) -> None:
        for stream in self._streams.pop(trading_pair, {}).values():
            stream.stop()
        tasks = self._pair_tasks.pop(trading_pair, [])
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _stop_all_streams(self) -> None:
        for trading_pair in list(self._pair_tasks):
            await self._stop_pair_streams(trading_pair)
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
            self._owns_session = False

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # One keep-alive session for all of this data source's streams.
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    # Pair helpers

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
