"""Horizon's Server-Sent Events streams, read over aiohttp with cursor resume and backoff.

`SSEParser` turns bytes into events following the WHATWG EventSource rules (CR, LF or CRLF line
ends, multi-line `data:`, comments, `id:`, `retry:`, `event:`). `HorizonStream` keeps one Horizon
stream alive: it remembers the last event id and reconnects with `cursor=<last id>` and
`Last-Event-ID`, so a disconnect neither loses nor repeats records, and it waits with capped,
jittered exponential backoff between attempts so a rate-limited public node is not stormed.
`RecentTokens` is the bounded memory of recent keys a reader uses to drop what a server sends twice.
"""
import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import (
    Any,
    AsyncContextManager,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    List,
    NamedTuple,
    Optional,
    Tuple,
    Union,
)

import aiohttp

from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff

try:  # Hummingbot ships ujson, which parses large order books faster than the json module.
    from ujson import loads as json_loads
except ImportError:  # pragma: no cover - fallback for environments without ujson
    from json import loads as json_loads

_LOGGER = logging.getLogger(__name__)

# Horizon's own control events: `event: open` / `data: "hello"` when a stream starts and
# `event: close` / `data: "byebye"` before it ends one.
HORIZON_OPEN_EVENT = "open"
HORIZON_CLOSE_EVENT = "close"
_HORIZON_CONTROL_DATA = frozenset(('"hello"', '"byebye"'))


class SSEEvent(NamedTuple):
    id: Optional[str]      # the event's own `id:` field, None when it carried none
    event: str             # the event type, "message" unless `event:` said otherwise
    data: str              # the data lines joined by "\n"


class SSEParser:
    """Incremental `text/event-stream` parser: feed it chunks, get complete events back."""

    __slots__ = ("_pending", "_skip_lf", "_started", "_data", "_event_type", "_event_id",
                 "last_event_id", "retry_ms")

    def __init__(self, last_event_id: str = ""):
        self._pending: List[bytes] = []   # bytes of a line not yet terminated
        self._skip_lf = False             # the previous chunk ended in CR: a leading LF belongs to it
        self._started = False             # a UTF-8 BOM is dropped only at the very start
        self._data: List[str] = []
        self._event_type = ""
        self._event_id: Optional[str] = None
        self.last_event_id = last_event_id   # the spec's "last event ID string"
        self.retry_ms: Optional[int] = None

    def reset_connection(self) -> None:
        """Forget a partial event: the spec discards it when the connection ends."""
        self._pending.clear()
        self._skip_lf = False
        self._started = False
        self._data.clear()
        self._event_type = ""
        self._event_id = None

    def feed(self, chunk: bytes) -> List[SSEEvent]:
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        if b"\n" not in chunk and b"\r" not in chunk:
            self._pending.append(chunk)   # no line end yet: join once, when one arrives
            return []
        if self._pending:
            self._pending.append(chunk)
            chunk = b"".join(self._pending)
            self._pending.clear()
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                self._skip_lf = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = chunk.split(b"\n")
        tail = lines.pop()
        if tail:
            self._pending.append(tail)
        events: List[SSEEvent] = []
        for raw in lines:
            event = self._process_line(raw)
            if event is not None:
                events.append(event)
        return events

    def _process_line(self, raw: bytes) -> Optional[SSEEvent]:
        line = raw.decode("utf-8", errors="replace")
        if not self._started:
            self._started = True
            if line.startswith("\ufeff"):
                line = line[1:]
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None   # a comment; servers send them as keep-alives
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "id":
            if "\x00" not in value:
                self._event_id = value
                self.last_event_id = value
        elif name == "event":
            self._event_type = value
        elif name == "retry" and value.isdigit() and value.isascii():
            self.retry_ms = int(value)
        return None   # unknown fields are ignored, as the spec says

    def _dispatch(self) -> Optional[SSEEvent]:
        event_id, self._event_id = self._event_id, None
        event_type, self._event_type = self._event_type, ""
        if not self._data:
            return None
        data = "\n".join(self._data)
        self._data.clear()
        return SSEEvent(event_id, event_type or "message", data)


class SSEStreamError(Exception):
    """A stream answered with something other than an event stream (status, content type, error event)."""

    def __init__(self, message: str, status: Optional[int] = None, retry_after: Optional[float] = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def paging_token_key(token: str) -> Optional[Tuple[int, ...]]:
    """Order Horizon paging tokens ("123", "123-4"); None when a token has another shape."""
    try:
        return tuple(int(part) for part in token.split("-"))
    except ValueError:
        return None


class RecentTokens:
    """The last `capacity` keys seen, for dropping repeats in O(1). A reader keeps one per stream across
    reconnects and restarts, where the stream's own ordering check cannot help: events with no id, a
    fresh stream replaying its inclusive start cursor, records that change under one id (offers)."""

    __slots__ = ("_keys", "_capacity")

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._keys: OrderedDict[Hashable, None] = OrderedDict()
        self._capacity = capacity

    def add(self, key: Hashable) -> bool:
        """Remember `key`; False if it was already remembered."""
        keys = self._keys
        if key in keys:
            return False
        keys[key] = None
        if len(keys) > self._capacity:
            keys.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._keys)


OnConnect = Callable[[bool], Awaitable[None]]
# on_error(url, error, dropped): a connection to `url` failed; dropped=True when it had been answered (a drop),
# False when it never was (refused, timed out, an HTTP error status)
OnError = Callable[[str, BaseException, bool], None]


class HorizonStream:
    """One Horizon SSE stream, kept alive across disconnects; iterate it for (event_id, parsed_json).

    - `cursor` is the starting cursor (e.g. "now"); after the first event the last event id is
      the cursor, sent as `cursor=` and `Last-Event-ID` on every reconnect. Streams whose events
      carry no id (Horizon's `/order_book`) reconnect with the starting cursor.
    - An event whose id is not after the last one (a server replaying an inclusive cursor) is
      dropped, unless `drop_replayed=False`.
    - `on_connect(after_drop)` runs after each successful connect, before that connection's events
      are read; `after_drop` is True when the previous connection failed rather than ending with
      Horizon's "byebye" (the order book data source resyncs a REST snapshot then).
    - Reconnect delays: after "byebye" the server's `retry:`; after a failure, capped exponential
      backoff with jitter. A connection that delivered events or stayed up `healthy_after`
      seconds resets the backoff, so a drop after a healthy run is retried promptly. The default
      is short because a quiet account stream may deliver nothing for minutes: staying up is its
      only sign of health. Only a stream that dies within seconds of connecting backs off
      further; every opening is throttled anyway.
    - `idle_timeout`: reconnect when nothing, not even a keep-alive comment, arrived for that long.
    - `decode=False`: each event's data is handed out as the text it came as, not decoded (the order
      book data source compares each book's text with the last one's and decodes only what changed).
    - `throttle()`: entered before every connect, so opening a stream draws on the rate limit
      (public Horizon counts each stream opening as a request).
    - `url` may be a callable, asked at every connect (the active Horizon of several); `move()` ends
      the current connection (or backoff wait) at once to connect again, to where `url()` says now,
      from the same cursor. `on_error(url, error, dropped)` hears of every failed connection.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: Union[str, Callable[[], str]],
        params: Optional[Dict[str, str]] = None,
        cursor: Optional[str] = "now",
        *,
        name: Optional[str] = None,
        backoff: Optional[Backoff] = None,
        healthy_after: float = 3.0,
        idle_timeout: Optional[float] = None,
        connect_timeout: float = 10.0,
        drop_replayed: bool = True,
        decode: bool = True,
        on_connect: Optional[OnConnect] = None,
        throttle: Optional[Callable[[], AsyncContextManager]] = None,
        headers: Optional[Dict[str, str]] = None,
        logger: Optional[logging.Logger] = None,
        on_error: Optional[OnError] = None,
    ):
        self._session = session
        self._url_of = url if callable(url) else (lambda: url)
        self._url = self._url_of()              # of the current (or last) connection
        self._params = dict(params or {})
        self._params.pop("cursor", None)
        self._start_cursor = cursor
        self.name = name or self._url
        self.backoff = backoff or Backoff()
        self._healthy_after = healthy_after
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout, sock_read=idle_timeout)
        self._drop_replayed = drop_replayed
        self._decode = decode
        self._on_connect = on_connect
        self._throttle = throttle
        self._on_error = on_error
        self._headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache", **(headers or {})}
        self._logger = logger or _LOGGER
        self._parser = SSEParser()
        self._last_id: Optional[str] = None     # the id of the last event handed out: the resume cursor
        self._last_key: Optional[Tuple[int, ...]] = None
        self._stopped = asyncio.Event()
        self._wake = asyncio.Event()            # ends a backoff wait early: stop() or move()
        self._moving = False                    # move() ended the connection: reconnect at once
        self._response: Optional[aiohttp.ClientResponse] = None
        # State of the current (or last) connection
        self._connected_at = 0.0
        self._connection_events = 0
        self._said_byebye = False
        self._previous_failed = False
        # Counters, read by tests, logs and profiling
        self.connects = 0
        self.reconnects = 0
        self.errors = 0
        self.events = 0
        self.duplicates_dropped = 0
        self.parse_errors = 0
        self.last_recv_time = 0.0

    @property
    def last_event_id(self) -> Optional[str]:
        return self._last_id

    @property
    def cursor(self) -> Optional[str]:
        """The cursor the next connection will ask for."""
        return self._last_id or self._start_cursor

    @property
    def retry_ms(self) -> Optional[int]:
        return self._parser.retry_ms

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    @property
    def url(self) -> str:
        """The URL of the current (or last) connection."""
        return self._url

    @property
    def connected(self) -> bool:
        """True while a connection is open (from its answer until it ends)."""
        return self._response is not None

    def stop(self) -> None:
        """End the iteration: closes the live connection and interrupts a backoff wait."""
        self._stopped.set()
        self._wake.set()
        response = self._response
        if response is not None:
            response.close()

    def move(self) -> None:
        """Connect again now, to `url()` as it is now, from the same cursor (the active Horizon changed)."""
        self._moving = True
        self._wake.set()
        response = self._response
        if response is not None:
            response.close()

    def __aiter__(self) -> AsyncIterator[Tuple[Optional[str], Any]]:
        return self.events_forever()

    async def events_forever(self) -> AsyncIterator[Tuple[Optional[str], Any]]:
        while not self._stopped.is_set():
            retry_after: Optional[float] = None
            try:
                async for item in self._one_connection():
                    yield item
                if self._stopped.is_set():
                    return
                if not self._said_byebye and not self._moving:
                    self._logger.info(f"Horizon stream {self.name} ended without byebye (cursor={self.cursor})")
            except asyncio.CancelledError:
                raise
            except SSEStreamError as error:
                retry_after = error.retry_after
                self._failed(error, f"{error}")
            except (TimeoutError, aiohttp.ClientError, ConnectionError) as error:
                if self._stopped.is_set():
                    return
                self._failed(error, f"dropped ({type(error).__name__}: {error})")
            if self._stopped.is_set():
                return
            self._previous_failed = not self._said_byebye
            if self._moving:
                self._moving = False
                self._logger.info(f"Horizon stream {self.name} moves to {self._url_of()} (cursor={self.cursor})")
                continue
            await self._wait(self._next_delay(retry_after))

    def _failed(self, error: BaseException, what: str) -> None:
        if self._moving:
            return   # the connection was ended on purpose
        self.errors += 1
        self._logger.warning(f"Horizon stream {self.name}: {what} (cursor={self.cursor})")
        if self._on_error is not None:
            self._on_error(self._url, error, self._connected_at > 0)

    def _next_delay(self, retry_after: Optional[float]) -> float:
        productive = self._connection_events > 0 or (
            self._connected_at > 0 and time.monotonic() - self._connected_at >= self._healthy_after)
        if productive:
            self.backoff.reset()
            if self._said_byebye:
                # Horizon closed a working stream on purpose: come back after its `retry:`.
                return (self._parser.retry_ms or 0) / 1000.0
        delay = self.backoff.next_delay()
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    async def _wait(self, delay: float) -> None:
        if delay <= 0:
            return
        # asyncio.timeout, not wait_for: Python 3.11's wait_for drops a cancellation that arrives as
        # the wait ends, and stop() followed by cancel() is exactly that.
        self._wake.clear()
        if self._stopped.is_set() or self._moving:
            return
        try:
            async with asyncio.timeout(delay):
                await self._wake.wait()
        except TimeoutError:
            pass

    async def _one_connection(self) -> AsyncIterator[Tuple[Optional[str], Any]]:
        self._connected_at = 0.0
        self._connection_events = 0
        self._said_byebye = False
        self._moving = False     # a move() from here on ends this connection
        params = dict(self._params)
        headers = dict(self._headers)
        cursor = self.cursor
        if cursor is not None:
            params["cursor"] = cursor
        if self._last_id:
            headers["Last-Event-ID"] = self._last_id
        parser = self._parser
        parser.reset_connection()
        self._url = self._url_of()
        if self._throttle is not None:
            async with self._throttle():
                pass
        async with self._session.get(self._url, params=params, headers=headers, timeout=self._timeout) as response:
            self._check_response(response)
            self._response = response
            # Stopped while connecting (nothing to close then): a cancel lost on the way, as Python 3.11's
            # wait_for can lose one, must not leave the stream reading. Moved: this is the Horizon left behind.
            if self._stopped.is_set() or self._moving:
                self._response = None
                return
            try:
                self._connected_at = time.monotonic()
                self.last_recv_time = time.time()
                if self.connects > 0:
                    self.reconnects += 1
                self.connects += 1
                if self._on_connect is not None:
                    await self._run_on_connect(self._previous_failed)
                async for chunk in response.content.iter_any():
                    self.last_recv_time = time.time()
                    for event in parser.feed(chunk):
                        item = self._accept(event)
                        if item is _CLOSE:
                            self._said_byebye = True
                            return
                        if item is not None:
                            self._connection_events += 1
                            yield item
            finally:
                self._response = None

    async def _run_on_connect(self, after_drop: bool) -> None:
        try:
            await self._on_connect(after_drop)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            raise SSEStreamError(f"on_connect hook failed ({type(error).__name__}: {error})") from error

    def _check_response(self, response: aiohttp.ClientResponse) -> None:
        if response.status != 200:
            retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
            raise SSEStreamError(f"HTTP {response.status} {response.reason}", response.status, retry_after)
        content_type = response.headers.get("Content-Type", "")
        if not content_type.startswith("text/event-stream"):
            raise SSEStreamError(f"expected text/event-stream, got {content_type!r}", response.status)

    def _accept(self, event: SSEEvent) -> Any:
        event_type = event.event
        if event_type == HORIZON_CLOSE_EVENT:
            return _CLOSE
        if event_type == HORIZON_OPEN_EVENT or event.data in _HORIZON_CONTROL_DATA:
            return None
        if event_type == "error":
            raise SSEStreamError(f"error event: {event.data[:200]}")
        event_id = event.id
        if event_id is not None:
            if self._drop_replayed:
                key = paging_token_key(event_id)
                if key is not None:
                    if self._last_key is not None and key <= self._last_key:
                        self.duplicates_dropped += 1
                        return None
                    self._last_key = key
            self._last_id = event_id
        if not self._decode:
            self.events += 1
            return event_id, event.data
        try:
            payload = json_loads(event.data)
        except ValueError:
            self.parse_errors += 1
            self._logger.warning(f"Horizon stream {self.name}: dropped an event that is not JSON "
                                 f"(id={event_id}, {len(event.data)} chars)")
            return None
        self.events += 1
        return event_id, payload


_CLOSE = object()


def _retry_after_seconds(value: Optional[str]) -> Optional[float]:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None   # an HTTP date; the backoff decides instead
