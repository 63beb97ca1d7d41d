"""The part of a Horizon data source that is not its own job: its HTTP session, streams and tasks.

Both data sources (market data and the account's user stream) keep one `StreamGroup`. It

- reads Horizon over REST through Hummingbot's web assistants (rate limited like everything else),
  each read timed under the measuring point `horizon.<path template>`, as HorizonApi's calls are;
- opens `HorizonStream`s on one keep-alive aiohttp session, created on first use, and keeps each
  under its name (a stream reopened under the same name replaces the one before it); every
  opening, first or again, is counted (`horizon_stream.<path template>`);
- notes each request (REST read or stream opening) in the connector's `RequestBudget`, if given;
- runs listeners in tasks, grouped by a key (a trading pair, a channel), restarting one after an
  unexpected error with a capped backoff;
- holds the data source's listener (`listen_for_subscriptions` / `listen_for_user_stream`) until it
  is cancelled, then stops every stream and task and closes the session it created;
- `close()`: the same from outside, idempotent. A session passed in belongs to the caller and is
  never closed here. After close() the group starts again on demand, with a new session.

With a `HorizonPool` (`horizons`), reads go through the pool (failover, each Horizon's budget and
limits), streams connect to the pool's active Horizon, move to the new one at each switch (resuming
from their cursors), and report their failed connections to the pool's health.
"""
import asyncio
import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Dict, List, Optional

import aiohttp
from hummingbot.core.web_assistant.connections.data_types import RESTMethod
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

import hummingbot.connector.exchange.stellar.stellar_measurement as measurement
import hummingbot.connector.exchange.stellar.stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff
from hummingbot.connector.exchange.stellar.stellar_request_budget import REST, STREAM, RequestBudget
from hummingbot.connector.exchange.stellar.stellar_sse import HorizonStream, OnConnect

if TYPE_CHECKING:
    from hummingbot.connector.exchange.stellar.stellar_horizon_pool import HorizonPool


class StreamGroup:

    def __init__(self,
                 api_factory: WebAssistantsFactory,
                 domain: str,
                 horizon_url: Optional[str],
                 logger: logging.Logger,
                 session: Optional[aiohttp.ClientSession] = None,
                 backoff_base: float = 0.5,
                 backoff_cap: float = 30.0,
                 budget: Optional[RequestBudget] = None,
                 horizons: Optional["HorizonPool"] = None):
        self._api_factory = api_factory
        self._horizons = horizons
        if horizons is not None:
            horizons.add_switch_listener(self._on_switch)
        self._budget = budget
        self._domain = domain
        self._horizon_url = horizon_url
        self._logger = logger
        self._session = session
        self._owns_session = False
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._streams: Dict[Hashable, Dict[str, HorizonStream]] = {}   # key -> name -> its latest stream
        self._tasks: Dict[Hashable, List[asyncio.Task]] = {}
        self._listener: Optional[asyncio.Task] = None

    # REST

    def url(self, path: str) -> str:
        if self._horizons is not None:
            return self._horizons.url(path)
        return web_utils.public_rest_url(path, self._domain, self._horizon_url)

    async def get_json(self, path: str, params: Dict[str, str], limit_id: Optional[str] = None) -> Dict[str, Any]:
        """GET `path`, throttled under `limit_id` (the path itself unless given), which also names it in the
        measuring points and the request budget (a path template, as HorizonApi names its calls)."""
        template = limit_id or path
        if self._horizons is not None:
            return await self._horizons.get_json(path, params, limit_id=template)
        rest_assistant = await self._api_factory.get_rest_assistant()
        if self._budget is not None:
            self._budget.note(template, REST)
        start = measurement.now()
        try:
            return await rest_assistant.execute_request(
                url=self.url(path),
                params=params,
                method=RESTMethod.GET,
                throttler_limit_id=template,
            )
        finally:
            measurement.record(measurement.HORIZON_CALL_PREFIX + template, start)

    # Streams

    def open_stream(self, key: Hashable, name: str, path: str, params: Optional[Dict[str, str]],
                    cursor: Optional[str], *, limit_id: Optional[str] = None, idle_timeout: Optional[float] = None,
                    on_connect: Optional[OnConnect] = None, drop_replayed: bool = True,
                    decode: bool = True) -> HorizonStream:
        """A new stream of `path` under `key` and `name`; each opening draws on the rate limit `limit_id`.
        `decode=False`: its events' data as text (see HorizonStream)."""
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            # Its cancel was lost on the way here (Python 3.11's wait_for can lose one, in a REST read before
            # the stream): a stream opened now would be one nobody stops.
            raise asyncio.CancelledError()
        limit_id = limit_id or path
        horizons = self._horizons
        stream = HorizonStream(
            self._get_session(),
            self.url(path) if horizons is None else (lambda: self.url(path)),   # the active Horizon at each connect
            params,
            cursor=cursor,
            name=name,
            backoff=Backoff(base=self._backoff_base, cap=self._backoff_cap),
            idle_timeout=idle_timeout,
            drop_replayed=drop_replayed,
            decode=decode,
            on_connect=on_connect,
            throttle=lambda: self._opening(limit_id),
            logger=self._logger,
            on_error=None if horizons is None else horizons.stream_error,
        )
        self._streams.setdefault(key, {})[name] = stream
        return stream

    def _opening(self, limit_id: str):
        """Entered before each connection of a stream: Horizon counts every opening as a request."""
        measurement.count(measurement.HORIZON_STREAM_PREFIX + limit_id)
        budget, throttler_id = self._budget, limit_id
        if self._horizons is not None:   # the active Horizon's budget and limits
            active = self._horizons.active
            budget, throttler_id = active.budget, active.limit_id(limit_id)
        if budget is not None:
            budget.note(limit_id, STREAM)
        return self._api_factory.throttler.execute_task(limit_id=throttler_id)

    def _on_switch(self, url: str) -> None:
        """Streams belong on the Horizon at `url` now: those elsewhere, or waiting to reconnect, go at once,
        resuming from their cursors."""
        horizons = self._horizons
        for stream in self.streams():
            if not stream.stopped and (not stream.connected or horizons.index_of(stream.url) != horizons.index_of(url)):
                stream.move()

    def streams(self) -> List[HorizonStream]:
        return [stream for streams in self._streams.values() for stream in streams.values()]

    def streams_connected(self) -> Dict[str, bool]:
        return {stream.name: stream.connected for stream in self.streams()}

    def stream_stats(self) -> Dict[str, Dict[str, int]]:
        return {
            stream.name: {"connects": stream.connects, "reconnects": stream.reconnects,
                          "errors": stream.errors, "events": stream.events}
            for stream in self.streams()
        }

    @property
    def session(self) -> Optional[aiohttp.ClientSession]:
        """The session the streams use (None before the first stream and after close())."""
        return self._session

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # One keep-alive session for all of the group's streams.
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    # Tasks

    def run(self, key: Hashable, what: str, listen: Callable[[], Awaitable[None]],
            retry_cap: Optional[float] = None) -> asyncio.Task:
        """Run `listen()` under `key` until stopped; `what` names it in the logs."""
        task = asyncio.ensure_future(self._keep_running(what, listen, retry_cap or self._backoff_cap))
        self._tasks.setdefault(key, []).append(task)
        return task

    def is_running(self, key: Hashable) -> bool:
        return key in self._tasks

    async def _keep_running(self, what: str, listen: Callable[[], Awaitable[None]], retry_cap: float) -> None:
        # HorizonStream absorbs network errors; what escapes it (a pair the instrument cache cannot
        # resolve, a bug) is logged and retried slowly instead of silently ending the data.
        backoff = Backoff(base=self._backoff_base, cap=retry_cap)
        task = asyncio.current_task()
        while True:
            if task.cancelling():
                # Being stopped, its cancel lost in the listen that failed: do not start it again.
                raise asyncio.CancelledError()
            try:
                await listen()
                return   # its stream was stopped: the only way a listen ends without an error
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = backoff.next_delay()
                self._logger.exception(f"{what} failed; restarting in {delay:.1f}s.")
                await asyncio.sleep(delay)

    async def stop(self, key: Hashable) -> None:
        """Stop the streams and tasks of `key`; returns once its tasks ended."""
        await self._stop(self._streams.pop(key, {}).values(), self._tasks.pop(key, []))

    async def stop_all(self) -> None:
        streams, self._streams = self._streams, {}
        tasks, self._tasks = self._tasks, {}
        await self._stop([s for named in streams.values() for s in named.values()],
                         [t for key_tasks in tasks.values() for t in key_tasks])

    @staticmethod
    async def _stop(streams, tasks: List[asyncio.Task]) -> None:
        for stream in streams:
            stream.stop()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # The data source's listener, and closing

    @property
    def listening(self) -> bool:
        return self._listener is not None

    async def hold_listener(self) -> None:
        """Park the calling listener until it is cancelled (by its tracker or by close()); then stop
        everything the group runs and close the session it created."""
        self._listener = asyncio.current_task()
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            if self._listener is asyncio.current_task():
                self._listener = None
            await self.stop_all()
            await self._close_session()

    async def close(self) -> None:
        """End the listener, tasks and streams and close the session created here; safe to repeat."""
        listener = self._listener
        if listener is not None and listener is not asyncio.current_task() and not listener.done():
            if not listener.cancelling():   # already on its way out (its tracker cancelled it): just wait
                listener.cancel()
            await asyncio.wait([listener])
        await self.stop_all()
        await self._close_session()

    async def _close_session(self) -> None:
        if self._owns_session and self._session is not None:
            session, self._session, self._owns_session = self._session, None, False
            await session.close()
