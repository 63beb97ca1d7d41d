"""The account's own events from Horizon: effects, trades, offers and transactions over SSE.

Each channel is its own stream with its own cursor. The first start begins at the newest record
Horizon already has for the account (one REST call per channel; "now" if that call fails), so a
disconnect before the first live event cannot open a gap; after that every reconnect, and every
restart of `listen_for_user_stream`, resumes from the last paging token delivered. A bounded set
of recent paging tokens per channel drops anything a server sends twice.

Each queued event: {"channel": "effect" | "trade" | "offer" | "transaction",
                    "data": <Horizon JSON>, "cursor": <paging token>}
"""
import asyncio
from typing import TYPE_CHECKING, Any, Dict, Hashable, List, Optional

import aiohttp
from hummingbot.core.data_type.user_stream_tracker_data_source import UserStreamTrackerDataSource
from hummingbot.core.web_assistant.connections.data_types import RESTMethod
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.logger import HummingbotLogger

import hummingbot.connector.exchange.stellar.stellar_constants as CONSTANTS
import hummingbot.connector.exchange.stellar.stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff
from hummingbot.connector.exchange.stellar.stellar_sse import HorizonStream, RecentTokens

if TYPE_CHECKING:
    from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth

EFFECT_CHANNEL = "effect"
TRADE_CHANNEL = "trade"
OFFER_CHANNEL = "offer"
TRANSACTION_CHANNEL = "transaction"

# channel -> Horizon path template (also the rate limit id)
CHANNEL_PATHS: Dict[str, str] = {
    EFFECT_CHANNEL: CONSTANTS.ACCOUNT_EFFECTS_PATH,
    TRADE_CHANNEL: CONSTANTS.ACCOUNT_TRADES_PATH,
    OFFER_CHANNEL: CONSTANTS.ACCOUNT_OFFERS_PATH,
    TRANSACTION_CHANNEL: CONSTANTS.ACCOUNT_TRANSACTIONS_PATH,
}
# Horizon leaves failed transactions out unless asked; they too charge a fee (and resolve a submission).
CHANNEL_PARAMS: Dict[str, Dict[str, str]] = {TRANSACTION_CHANNEL: {"include_failed": "true"}}


def _dedupe_key(channel: str, record: Dict[str, Any], cursor: Optional[str]) -> Hashable:
    token = record.get("paging_token") or cursor
    if channel == OFFER_CHANNEL:
        # An offer keeps its id (= paging token) while it changes; each change is its own event.
        return token, record.get("last_modified_ledger"), record.get("amount")
    return token


class StellarAPIUserStreamDataSource(UserStreamTrackerDataSource):
    CHANNELS = (EFFECT_CHANNEL, TRADE_CHANNEL, OFFER_CHANNEL, TRANSACTION_CHANNEL)
    STREAM_IDLE_TIMEOUT = 300.0     # a stream silent this long is reopened (catches half-open sockets)
    START_CURSOR_TIMEOUT = 10.0
    DEDUPE_WINDOW = 4096            # paging tokens remembered per channel

    _logger: Optional[HummingbotLogger] = None

    def __init__(self,
                 auth: "StellarAuth",
                 connector: Any,   # the StellarExchange; kept for Hummingbot's usual signature
                 api_factory: WebAssistantsFactory,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN,
                 horizon_url: Optional[str] = None,
                 session: Optional[aiohttp.ClientSession] = None,
                 stream_backoff_base: float = 0.5,
                 stream_backoff_cap: float = 30.0):
        super().__init__()
        self._auth = auth
        self._connector = connector
        self._api_factory = api_factory
        self._domain = domain
        self._horizon_url = horizon_url
        self._session = session
        self._owns_session = False
        self._stream_backoff_base = stream_backoff_base
        self._stream_backoff_cap = stream_backoff_cap
        # Survive restarts of listen_for_user_stream: that is what makes a resume gap-free.
        self._cursors: Dict[str, Optional[str]] = {channel: None for channel in self.CHANNELS}
        self._recent: Dict[str, RecentTokens] = {channel: RecentTokens(self.DEDUPE_WINDOW)
                                                 for channel in self.CHANNELS}
        self._streams: Dict[str, HorizonStream] = {}
        self._last_recv_time = 0.0
        self.duplicates_dropped = 0

    @property
    def last_recv_time(self) -> float:
        """Time of the last bytes from any of the account's streams (a connect and keep-alive comments
        count); Hummingbot reads it to tell whether the user stream is up."""
        latest = self._last_recv_time
        for stream in self._streams.values():
            if stream.last_recv_time > latest:
                latest = stream.last_recv_time
        return latest

    @property
    def cursors(self) -> Dict[str, Optional[str]]:
        """The paging token each channel resumes from (None: not started yet)."""
        return dict(self._cursors)

    async def listen_for_user_stream(self, output: asyncio.Queue):
        tasks = [asyncio.ensure_future(self._listen_channel(channel, output)) for channel in self.CHANNELS]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self._close_streams()

    async def stop(self):
        await self._close_streams()
        await super().stop()

    # One channel

    async def _listen_channel(self, channel: str, output: asyncio.Queue) -> None:
        backoff = Backoff(base=self._stream_backoff_base, cap=self._stream_backoff_cap)
        while True:
            try:
                await self._stream_channel(channel, output)
            except asyncio.CancelledError:
                raise
            except Exception:
                # HorizonStream absorbs network errors; this is anything else, retried slowly.
                delay = backoff.next_delay()
                self.logger().exception(f"User stream {channel} failed; restarting in {delay:.1f}s.")
                await self._sleep(delay)

    async def _stream_channel(self, channel: str, output: asyncio.Queue) -> None:
        cursor = self._cursors[channel]
        if cursor is None:
            cursor = await self._start_cursor(channel)
            self._cursors[channel] = cursor
        path = CHANNEL_PATHS[channel]
        stream = HorizonStream(
            self._get_session(),
            web_utils.public_rest_url(path.format(account_id=self._auth.account_id), self._domain, self._horizon_url),
            CHANNEL_PARAMS.get(channel),
            cursor=cursor,
            name=f"account {channel}s",
            backoff=Backoff(base=self._stream_backoff_base, cap=self._stream_backoff_cap),
            idle_timeout=self.STREAM_IDLE_TIMEOUT,
            # Offers keep their id while they change, so a repeated id is not a replay there.
            drop_replayed=channel != OFFER_CHANNEL,
            throttle=lambda: self._api_factory.throttler.execute_task(limit_id=path),
            logger=self.logger(),
        )
        self._streams[channel] = stream
        recent = self._recent[channel]
        cursors = self._cursors
        try:
            async for event_id, record in stream:
                token = record.get("paging_token") or event_id
                if not recent.add(_dedupe_key(channel, record, event_id)):
                    self.duplicates_dropped += 1
                    continue
                if token:
                    cursors[channel] = token
                output.put_nowait({"channel": channel, "data": record, "cursor": token})
        finally:
            stream.stop()
            self._last_recv_time = max(self._last_recv_time, stream.last_recv_time)
            if self._streams.get(channel) is stream:
                del self._streams[channel]

    async def _start_cursor(self, channel: str) -> str:
        """The newest paging token Horizon has for this channel: streaming after it misses nothing
        that happens from now on, even if the first connection drops before any live event."""
        path = CHANNEL_PATHS[channel]
        try:
            rest_assistant = await self._api_factory.get_rest_assistant()
            data = await asyncio.wait_for(rest_assistant.execute_request(
                url=web_utils.public_rest_url(path.format(account_id=self._auth.account_id),
                                              self._domain, self._horizon_url),
                params={"order": "desc", "limit": "1", **CHANNEL_PARAMS.get(channel, {})},
                method=RESTMethod.GET,
                throttler_limit_id=path,
            ), self.START_CURSOR_TIMEOUT)
            records: List[Dict[str, Any]] = data["_embedded"]["records"]
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Could not read the latest {channel} of the account ({error}); "
                                  f"streaming {channel}s from now.")
            return "now"
        if not records:
            return "0"   # nothing yet: everything that comes is new
        return records[0]["paging_token"]

    # Session and cleanup

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def _close_streams(self) -> None:
        for stream in list(self._streams.values()):
            stream.stop()
        self._streams.clear()
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None
            self._owns_session = False
