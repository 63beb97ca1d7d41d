"""The account's own state and events from Horizon over SSE: the account itself, its trades, offers and
transactions.

`/accounts/{id}` is an object stream (Horizon's streamable object): the whole account record when it
connects and again after each ledger that changed it, with no id and no cursor, so each event is the
account as it is now (balances with liabilities, subentries, sequence): the exchange takes its balances
from it, with no REST read. A reconnect after a gap brings the account anew: nothing to resume, nothing
to de-duplicate (every record carries the same paging token, the account id).

The trades, offers and transactions are record streams, each with its own cursor. The first start
begins at the newest record Horizon already has for the account (one REST call per channel; "now" if
that call fails), so a disconnect before the first live event cannot open a gap; after that every
reconnect, and every restart of `listen_for_user_stream`, resumes from the last paging token
delivered. A bounded set of recent paging tokens per channel drops anything a server sends twice.

Each queued event: {"channel": "account" | "trade" | "offer" | "transaction",
                    "data": <Horizon JSON>, "cursor": <paging token, None for the account>}
"""
import asyncio
import functools
from typing import TYPE_CHECKING, Any, Dict, Hashable, List, Optional

import aiohttp
from hummingbot.core.data_type.user_stream_tracker_data_source import UserStreamTrackerDataSource
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from hummingbot.logger import HummingbotLogger

import hummingbot.connector.exchange.stellar.stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_request_budget import RequestBudget
from hummingbot.connector.exchange.stellar.stellar_sse import RecentTokens
from hummingbot.connector.exchange.stellar.stellar_stream_group import StreamGroup

if TYPE_CHECKING:
    from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth

ACCOUNT_CHANNEL = "account"
TRADE_CHANNEL = "trade"
OFFER_CHANNEL = "offer"
TRANSACTION_CHANNEL = "transaction"

# channel -> Horizon path template (also the rate limit id)
CHANNEL_PATHS: Dict[str, str] = {
    ACCOUNT_CHANNEL: CONSTANTS.ACCOUNT_PATH,
    TRADE_CHANNEL: CONSTANTS.ACCOUNT_TRADES_PATH,
    OFFER_CHANNEL: CONSTANTS.ACCOUNT_OFFERS_PATH,
    TRANSACTION_CHANNEL: CONSTANTS.ACCOUNT_TRANSACTIONS_PATH,
}
STREAM_NAMES: Dict[str, str] = {ACCOUNT_CHANNEL: "account", TRADE_CHANNEL: "account trades",
                                OFFER_CHANNEL: "account offers", TRANSACTION_CHANNEL: "account transactions"}
# Horizon leaves failed transactions out unless asked; they too charge a fee (and resolve a submission).
CHANNEL_PARAMS: Dict[str, Dict[str, str]] = {TRANSACTION_CHANNEL: {"include_failed": "true"}}


def _dedupe_key(channel: str, record: Dict[str, Any], cursor: Optional[str]) -> Hashable:
    token = record.get("paging_token") or cursor
    if channel == OFFER_CHANNEL:
        # An offer keeps its id (= paging token) while it changes; each change is its own event.
        return token, record.get("last_modified_ledger"), record.get("amount")
    return token


class StellarAPIUserStreamDataSource(UserStreamTrackerDataSource):
    CHANNELS = (ACCOUNT_CHANNEL, TRADE_CHANNEL, OFFER_CHANNEL, TRANSACTION_CHANNEL)
    CURSOR_CHANNELS = (TRADE_CHANNEL, OFFER_CHANNEL, TRANSACTION_CHANNEL)   # record streams, resumed by cursor
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
                 stream_backoff_cap: float = 30.0,
                 request_budget: Optional[RequestBudget] = None,
                 horizon_pool: Any = None):
        super().__init__()
        self._auth = auth
        self._connector = connector
        # One stream per channel, kept under the channel.
        self._stream_group = StreamGroup(api_factory, domain, horizon_url, self.logger(), session=session,
                                         backoff_base=stream_backoff_base, backoff_cap=stream_backoff_cap,
                                         budget=request_budget, horizons=horizon_pool)
        # Survive restarts of listen_for_user_stream: that is what makes a resume gap-free.
        self._cursors: Dict[str, Optional[str]] = {channel: None for channel in self.CURSOR_CHANNELS}
        self._recent: Dict[str, RecentTokens] = {channel: RecentTokens(self.DEDUPE_WINDOW)
                                                 for channel in self.CURSOR_CHANNELS}
        self._account_delivered = False   # the account stream's current connection has sent the account
        self._last_recv_time = 0.0   # the latest of the streams that ended
        self._output: Optional[asyncio.Queue] = None   # the queue listen_for_user_stream feeds
        self.duplicates_dropped = 0

    @property
    def last_recv_time(self) -> float:
        """Time of the last bytes from any of the account's streams (a connect and keep-alive comments
        count); Hummingbot reads it to tell whether the user stream is up."""
        latest = self._last_recv_time
        for stream in self._stream_group.streams():
            if stream.last_recv_time > latest:
                latest = stream.last_recv_time
        return latest

    @property
    def cursors(self) -> Dict[str, Optional[str]]:
        """The paging token each record channel resumes from (None: not started yet)."""
        return dict(self._cursors)

    def account_stream_current(self) -> bool:
        """True while the account stream is connected and has sent the account since it connected: the
        balances from it are the ledger's as Horizon last ingested it, and a REST read would add nothing."""
        return self._account_delivered and self.streams_connected().get(STREAM_NAMES[ACCOUNT_CHANNEL], False)

    def all_streams_connected(self) -> bool:
        """True while every stream of the account is connected."""
        connected = self.streams_connected()
        return len(connected) == len(self.CHANNELS) and all(connected.values())

    async def listen_for_user_stream(self, output: asyncio.Queue):
        self._output = output
        group = self._stream_group
        for channel in self.CHANNELS:
            group.run(channel, f"User stream {channel}", functools.partial(self._stream_channel, channel, output))
        await group.hold_listener()   # each channel runs in its own task

    # Read-only views for status and profiling

    def streams_connected(self) -> Dict[str, bool]:
        """Stream name ("account", "account trades"...) -> whether it is connected now."""
        return self._stream_group.streams_connected()

    def stream_stats(self) -> Dict[str, Dict[str, int]]:
        """Stream name -> its counters: connects, reconnects, errors, events."""
        return self._stream_group.stream_stats()

    def queued_messages(self) -> int:
        """Events waiting in the queue this data source feeds (the user stream tracker's), not yet read."""
        return self._output.qsize() if self._output is not None else 0

    async def close(self) -> None:
        """End `listen_for_user_stream` and every stream, and close the aiohttp session this data source
        created (one passed in is left open). Safe to repeat; listening again resumes from the cursors."""
        await self._stream_group.close()

    async def stop(self):
        """Hummingbot's UserStreamTracker.stop() calls this."""
        await self.close()
        await super().stop()

    # One channel

    async def _stream_account(self, output: asyncio.Queue) -> None:
        path = CHANNEL_PATHS[ACCOUNT_CHANNEL]

        async def on_connect(_after_drop: bool) -> None:
            self._account_delivered = False   # current again once this connection has sent the account

        stream = self._stream_group.open_stream(
            ACCOUNT_CHANNEL, STREAM_NAMES[ACCOUNT_CHANNEL], path.format(account_id=self._auth.account_id), None,
            None, limit_id=path, idle_timeout=self.STREAM_IDLE_TIMEOUT, on_connect=on_connect, drop_replayed=False)
        try:
            async for _event_id, record in stream:
                if isinstance(record, dict):
                    self._account_delivered = True
                    output.put_nowait({"channel": ACCOUNT_CHANNEL, "data": record, "cursor": None})
        finally:
            self._account_delivered = False
            stream.stop()
            self._last_recv_time = max(self._last_recv_time, stream.last_recv_time)

    async def _stream_channel(self, channel: str, output: asyncio.Queue) -> None:
        if channel == ACCOUNT_CHANNEL:
            return await self._stream_account(output)
        cursor = self._cursors[channel]
        if cursor is None:
            cursor = await self._start_cursor(channel)
            self._cursors[channel] = cursor
        path = CHANNEL_PATHS[channel]
        stream = self._stream_group.open_stream(
            channel, STREAM_NAMES[channel], path.format(account_id=self._auth.account_id),
            CHANNEL_PARAMS.get(channel), cursor, limit_id=path, idle_timeout=self.STREAM_IDLE_TIMEOUT,
            # Offers keep their id while they change, so a repeated id is not a replay there.
            drop_replayed=channel != OFFER_CHANNEL)
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

    async def _start_cursor(self, channel: str) -> str:
        """The newest paging token Horizon has for this channel: streaming after it misses nothing
        that happens from now on, even if the first connection drops before any live event."""
        path = CHANNEL_PATHS[channel]
        try:
            async with asyncio.timeout(self.START_CURSOR_TIMEOUT):   # unlike wait_for, never drops a cancel
                data = await self._stream_group.get_json(
                    path.format(account_id=self._auth.account_id),
                    {"order": "desc", "limit": "1", **CHANNEL_PARAMS.get(channel, {})},
                    limit_id=path,
                )
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
