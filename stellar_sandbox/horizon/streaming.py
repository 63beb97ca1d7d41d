"""Server-Sent Events as Horizon sends them.

Wire format (Horizon's `render/sse`): a stream opens with `retry: 1000`, `event: open` and
`data: "hello"`; each record follows as `id: <paging_token>` and `data: <json>`; a stream that
reaches its event limit ends with `retry: 10`, `event: close`, `data: "byebye"` so the client
reconnects at once with `Last-Event-ID`. Comment lines (`: keep-alive`) keep idle connections warm.

Fan-out: the `StreamHub` is the single listener on the `Network`. After a ledger close it wakes
only the streams whose kind of record (or whose order book pair) changed, each through its own
one-slot wake-up (an `asyncio.Event`: bounded, coalescing, never blocking the network). A woken
stream reads the history after its last sent paging token — the same query that served its replay
— so replay and live follow one path: a resumed client sees nothing twice and misses nothing. A
client too slow to take its bytes within `write_timeout` is disconnected.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

Record = dict[str, Any]

HELLO = b'retry: 1000\nevent: open\ndata: "hello"\n\n'
BYEBYE = b'retry: 10\nevent: close\ndata: "byebye"\n\n'
KEEP_ALIVE = b": keep-alive\n\n"
REPLAY_PAGE = 200


class Subscription:
    """One stream's wake-up: set by the hub, cleared by the stream when it reads."""

    __slots__ = ("topics", "wake")

    def __init__(self, topics: Iterable[Hashable]) -> None:
        self.topics = tuple(topics)
        self.wake = asyncio.Event()


class EncodedCache:
    """Recently encoded events, shared by all streams: N clients of one stream encode each record once."""

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[Hashable, str] = OrderedDict()

    def get(self, key: Hashable, encode: Callable[[], str]) -> str:
        entries = self._entries
        value = entries.get(key)
        if value is None:
            value = entries[key] = encode()
            if len(entries) > self.capacity:
                entries.popitem(last=False)
        return value


class StreamHub:
    """Listens to the network once and wakes the streams that care about what changed."""

    def __init__(self, keep_alive: float = 5.0, write_timeout: float = 10.0,
                 event_limit: int | None = None) -> None:
        self.keep_alive = keep_alive
        self.write_timeout = write_timeout
        # When set, every stream ends after this many events (Horizon's default is 10), which
        # exercises clients' reconnection; None streams without end unless the client sets `limit`.
        self.event_limit = event_limit
        self._subscribers: dict[Hashable, set[Subscription]] = {}
        self._dirty: set[Hashable] = set()
        self._flush_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.open_streams = 0
        self.closing = False
        self.encoded = EncodedCache()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    # ----- network side -----

    def on_network_event(self, kind: str, record: Record) -> None:
        """`Network` listener: remember what changed; wake streams once per batch."""
        if kind == "order_book_changed":
            self._dirty.add(book_topic(record["selling"], record["buying"]))
        else:
            self._dirty.add(kind)
        if not self._flush_scheduled:
            loop = self._loop
            if loop is None or loop.is_closed():
                return
            self._flush_scheduled = True
            loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, set()
        for topic in dirty:
            for subscription in self._subscribers.get(topic, ()):
                subscription.wake.set()

    def close(self) -> None:
        """Server shutdown: wake every stream so it ends instead of holding the server open."""
        self.closing = True
        for subscribers in list(self._subscribers.values()):
            for subscription in subscribers:
                subscription.wake.set()

    # ----- stream side -----

    def subscribe(self, topics: Iterable[Hashable]) -> Subscription:
        subscription = Subscription(topics)
        for topic in subscription.topics:
            self._subscribers.setdefault(topic, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        for topic in subscription.topics:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[topic]


def book_topic(selling: str, buying: str) -> tuple[str, str, str]:
    """A pair's order book changes when offers either way change: one topic for both orientations."""
    first, second = sorted((selling, buying))
    return ("order_book", first, second)


def wants_stream(request: web.Request) -> bool:
    return "text/event-stream" in request.headers.get("Accept", "")


class _Disconnect(Exception):
    """The client is gone or too slow; end the stream."""


class _ServerClosing(Exception):
    """The server shuts down; say goodbye and end the stream cleanly."""


class SseWriter:
    def __init__(self, request: web.Request, hub: StreamHub) -> None:
        self.request = request
        self.hub = hub
        self.response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "Connection": "keep-alive",
            "Access-Control-Allow-Origin": "*",
        })

    async def open(self) -> None:
        await self.response.prepare(self.request)
        await self.write(HELLO)

    async def write(self, data: bytes) -> None:
        try:
            await asyncio.wait_for(self.response.write(data), self.hub.write_timeout)
        except (TimeoutError, ConnectionError, RuntimeError) as exc:
            raise _Disconnect from exc

    async def event(self, data: str, event_id: str | None = None) -> None:
        head = f"id: {event_id}\ndata: " if event_id is not None else "data: "
        await self.write((head + data + "\n\n").encode())

    async def wait(self, subscription: Subscription) -> None:
        """Until woken; writes keep-alive comments meanwhile (which also notice a closed client)."""
        if self.hub.closing:
            raise _ServerClosing
        while not subscription.wake.is_set():
            transport = self.request.transport
            if transport is None or transport.is_closing():
                raise _Disconnect
            try:
                async with asyncio.timeout(self.hub.keep_alive):   # wait_for could drop a cancel (3.11)
                    await subscription.wake.wait()
            except TimeoutError:
                await self.write(KEEP_ALIVE)
        subscription.wake.clear()
        if self.hub.closing:
            raise _ServerClosing

    def abort(self) -> None:
        """Drop the connection now, discarding unsent bytes (a plain close would wait to flush them)."""
        transport = self.request.transport
        if transport is not None:
            transport.abort()


async def stream_records(request: web.Request, hub: StreamHub, topics: Iterable[Hashable],
                         fetch: Callable[[str | None, int], list[Record]],
                         encode: Callable[[Record], str], cursor: str | None,
                         max_events: int | None) -> web.StreamResponse:
    """Replay records after `cursor`, then follow live; `fetch(cursor, limit)` reads ascending history."""
    limit = _effective_limit(hub, max_events)
    writer = SseWriter(request, hub)
    # Subscribe before the first read: a ledger closing between the read and the wait wakes us.
    subscription = hub.subscribe(topics)
    hub.open_streams += 1
    sent = 0
    try:
        await writer.open()
        while True:
            while True:
                records = fetch(cursor, REPLAY_PAGE)
                for record in records:
                    cursor = record["paging_token"]
                    await writer.event(encode(record), cursor)
                    sent += 1
                    if limit is not None and sent >= limit:
                        await writer.write(BYEBYE)
                        return writer.response
                if len(records) < REPLAY_PAGE:
                    break
                await asyncio.sleep(0)  # a long replay shares the loop with other clients
            await writer.wait(subscription)
    except _ServerClosing:
        await _say_goodbye(writer)
    except _Disconnect:
        writer.abort()
    finally:
        hub.unsubscribe(subscription)
        hub.open_streams -= 1
    return writer.response


async def stream_object(request: web.Request, hub: StreamHub, topics: Iterable[Hashable],
                        build: Callable[[], str], max_events: int | None) -> web.StreamResponse:
    """Send `build()` now and again whenever it changes (Horizon's streamable object, e.g. the order book)."""
    limit = _effective_limit(hub, max_events)
    writer = SseWriter(request, hub)
    subscription = hub.subscribe(topics)
    hub.open_streams += 1
    sent = 0
    last: str | None = None
    try:
        await writer.open()
        while True:
            current = build()
            if current != last:
                last = current
                await writer.event(current)
                sent += 1
                if limit is not None and sent >= limit:
                    await writer.write(BYEBYE)
                    return writer.response
            await writer.wait(subscription)
    except _ServerClosing:
        await _say_goodbye(writer)
    except _Disconnect:
        writer.abort()
    finally:
        hub.unsubscribe(subscription)
        hub.open_streams -= 1
    return writer.response


async def _say_goodbye(writer: SseWriter) -> None:
    try:
        await writer.write(BYEBYE)
    except _Disconnect:
        writer.abort()


def _effective_limit(hub: StreamHub, requested: int | None) -> int | None:
    if requested is None:
        return hub.event_limit
    if hub.event_limit is None:
        return requested
    return min(requested, hub.event_limit)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
