"""HorizonPool: HorizonApi's interface over every configured Horizon, with failover, and Stellar RPC last.

The exchange, OfferStatus, AccountSync, the ConfigCache, the TransactionPipeline and the data sources'
StreamGroups use the pool as they would one HorizonApi. Behind it:

- One HorizonApi per URL, each with its own RequestBudget and its own rate limits (limit ids of its
  own: `stellar_web_utils.horizon_limit_id`), and a HorizonHealth that says which one is active.
- Reads go to the active Horizon. One failing with a transient error (timeout, connection error), a
  5xx or a 429 is marked (which switches the active one) and the read goes to the next at once.
- Submissions go to the active Horizon too. A Horizon that cannot have read the envelope (connection
  refused, 429) is marked and the next takes it at once; any other failure is marked and raised, for
  the outcome is unknown: the pipeline sends the same envelope again (to the Horizon active by then).
  When every Horizon is failing, the Stellar RPC (`stellar_rpc_url`) takes it (`sendTransaction`) and
  resolves it (`getTransaction`), so orders can still be cancelled.
- `transaction_after`: the expiry rule's two reads, from one and the same Horizon (or the RPC).
- With several Horizons, a heartbeat per Horizon (`GET /ledgers?cursor=now` as SSE, one stream each,
  no REST read) tells HorizonHealth which ledger each has ingested: lag and silence show there, and a
  monitor switches within a fraction of a second of them. Streams (StreamGroup) hear of each switch and
  move to the new active Horizon, resuming from their cursors; their failed connections are marked here.
  With one Horizon there is no heartbeat and no monitor: the same requests as a plain HorizonApi.
"""
from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import aiohttp
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff
from hummingbot.connector.exchange.stellar.stellar_horizon_api import (
    TRANSIENT_ERRORS,
    HorizonApi,
    HorizonError,
    HorizonUnavailableError,
)
from hummingbot.connector.exchange.stellar.stellar_horizon_health import FAILING, SILENT, HorizonHealth, HorizonSwitch
from hummingbot.connector.exchange.stellar.stellar_horizon_records import close_timestamp
from hummingbot.connector.exchange.stellar.stellar_request_budget import STREAM, RequestBudget
from hummingbot.connector.exchange.stellar.stellar_rpc import StellarRpc, StellarRpcError
from hummingbot.connector.exchange.stellar.stellar_sse import HorizonStream, SSEStreamError

MONITOR_INTERVAL_S = 0.25      # how often silence is looked for (no I/O: a look at HorizonHealth)
HEARTBEAT_IDLE_TIMEOUT_S = 60.0
HEARTBEAT_REOPEN_S = 10.0      # a silent Horizon's heartbeat is reopened this often at most (it may be the line)
_LOGGER = logging.getLogger(__name__)


def failure_of(error: BaseException) -> Optional[str]:
    """What makes a Horizon fail over (a transient error, a 5xx, a 429), named; None for an answer."""
    if isinstance(error, HorizonError):
        if error.status == 429 or error.status >= 500:
            return f"HTTP {error.status}"
        return None
    if isinstance(error, TRANSIENT_ERRORS):
        return f"{type(error).__name__}: {error}"[:200]
    return None


def never_delivered(error: BaseException) -> bool:
    """The request surely never reached Horizon (so a submission can go elsewhere at once)."""
    return isinstance(error, aiohttp.ClientConnectorError) or (isinstance(error, HorizonError)
                                                               and error.status == 429)


class HorizonPool:
    def __init__(self, horizon_urls: Sequence[str], domain: str = CONSTANTS.DEFAULT_DOMAIN,
                 rate_limits_share_pct: Decimal = Decimal("100"), *, health: Optional[HorizonHealth] = None,
                 monitor_interval_s: float = MONITOR_INTERVAL_S, logger: Optional[logging.Logger] = None):
        """Rate limits and budgets are known from here (Hummingbot's throttler is built from `rate_limits`
        before the web assistants exist); `attach` gives the web assistants and builds the HorizonApis."""
        if not horizon_urls:
            raise ValueError("at least one Horizon URL is needed")
        self._urls = tuple(url.rstrip("/") for url in horizon_urls)
        self._domain = domain
        self.rate_limits = web_utils.rate_limits_for_horizons(self._urls, domain)
        self.budgets: List[RequestBudget] = [
            RequestBudget.for_rate_limits(web_utils.rate_limits_for(url, domain), rate_limits_share_pct, url)
            for url in self._urls]
        self.health = health or HorizonHealth(self._urls)
        self._monitor_interval_s = monitor_interval_s
        self._logger = logger or _LOGGER
        self._members: List[HorizonApi] = []
        self._api_factory: Optional[WebAssistantsFactory] = None
        self._rpc: Optional[StellarRpc] = None
        self._session: Optional[aiohttp.ClientSession] = None
        self._tasks: List[asyncio.Task] = []
        self._heartbeats: List[HorizonStream] = []
        self._reopened_at: List[float] = []
        self.rpc_submissions = 0      # envelopes the RPC carried (every Horizon failing)
        self._switch_listeners: List[Callable[[str], None]] = []
        self.health.add_listener(lambda switch: self._tell_listeners(switch.to_url))

    def _tell_listeners(self, url: str) -> None:
        for listener in list(self._switch_listeners):
            try:
                listener(url)
            except Exception:
                self._logger.exception("A Horizon switch listener failed.")

    def attach(self, api_factory: WebAssistantsFactory, rpc: Union[None, str, StellarRpc] = None,
               members: Optional[Sequence[HorizonApi]] = None, request_timeout: float = 10.0) -> HorizonPool:
        """One HorizonApi per URL over `api_factory` (or `members`, one per URL, in their order); `rpc`: the
        Stellar RPC (or its URL), if any."""
        self._api_factory = api_factory
        self._rpc = StellarRpc(api_factory, rpc) if isinstance(rpc, str) else rpc
        self._members = list(members) if members is not None else [
            HorizonApi(api_factory, url, domain=self._domain, request_timeout=request_timeout, budget=budget,
                       index=index)
            for index, (url, budget) in enumerate(zip(self._urls, self.budgets, strict=True))]
        if len(self._members) != len(self._urls):
            raise ValueError(f"{len(self._members)} Horizon clients for {len(self._urls)} URLs")
        return self

    # Which Horizon

    @property
    def urls(self) -> Tuple[str, ...]:
        return self._urls

    @property
    def rpc(self) -> Optional[StellarRpc]:
        return self._rpc

    @property
    def rpc_health(self) -> Optional[Dict[str, Any]]:
        """The Stellar RPC's last getHealth answer (None without an RPC)."""
        return None if self._rpc is None else self._rpc.last_health

    async def check_rpc_health(self) -> None:
        """Ask the Stellar RPC for its health (`StellarRpc.check_health`: a warning unless healthy), if there is one."""
        if self._rpc is not None:
            await self._rpc.check_health()

    @property
    def active(self) -> HorizonApi:
        return self._members[self.health.active]

    @property
    def active_url(self) -> str:
        return self._urls[self.health.active]

    @property
    def horizon_url(self) -> str:
        return self.active_url

    def url(self, path: str) -> str:
        return web_utils.public_rest_url(path, self._domain, self.active_url)

    def switches(self) -> List[HorizonSwitch]:
        return self.health.switches()

    def add_switch_listener(self, listener: Callable[[str], None]) -> None:
        """`listener(url)`: streams should be on the Horizon at `url` now (a switch to it, or it streams again
        after failing, so streams waiting out a backoff need not wait longer)."""
        self._switch_listeners.append(listener)

    def index_of(self, url: str) -> Optional[int]:
        """The Horizon `url` (a full request URL) is on."""
        for index, base in enumerate(self._urls):
            if url == base or url.startswith(base + "/"):
                return index
        return None

    # Reads

    async def get_json(self, path: str, params: Optional[Dict[str, Any]] = None, limit_id: Optional[str] = None,
                       path_template: Optional[str] = None) -> Dict[str, Any]:
        return await self._read("get_json", path, params, limit_id, path_template)

    async def request(self, path: str, params: Optional[Dict[str, Any]] = None, limit_id: Optional[str] = None,
                      path_template: Optional[str] = None) -> Tuple[int, Any]:
        """(status, body) from the first Horizon that answers with neither a 429 nor a 5xx (else the last answer)."""
        answer: Optional[Tuple[int, Any]] = None
        error: Optional[BaseException] = None
        for index in self.health.order():
            start = time.monotonic()
            try:
                answer = await self._members[index].request(path, params, limit_id, path_template)
            except TRANSIENT_ERRORS as e:
                error = e
                self._failed(index, e)
                continue
            status = answer[0]
            if status == 429 or status >= 500:
                self._failed(index, HorizonError("GET", path, status, answer[1]))
                continue
            self.health.answered(index, time.monotonic() - start)
            return answer
        if answer is None:
            raise error
        return answer

    async def get_account(self, account_id: str) -> Dict[str, Any]:
        return await self._read("get_account", account_id)

    async def get_offer(self, offer_id: str) -> Optional[Dict[str, Any]]:
        return await self._read("get_offer", offer_id)

    async def get_account_trades(self, account_id: str, since: float = 0, **pages: Any) -> List[Dict[str, Any]]:
        return await self._read("get_account_trades", account_id, since, **pages)

    async def get_account_offers(self, account_id: str) -> List[Dict[str, Any]]:
        return await self._read("get_account_offers", account_id)

    async def get_latest_ledger(self) -> Dict[str, Any]:
        return await self._read("get_latest_ledger")

    async def get_transaction(self, tx_hash: str) -> Optional[Dict[str, Any]]:
        """The record from a Horizon, or from the RPC (`getTransaction`) while every Horizon is failing."""
        if self._rpc_instead():
            return (await self._rpc_lookup(tx_hash))[1]
        return await self._read("get_transaction", tx_hash, fallback=lambda: self._rpc_record(tx_hash))

    async def transaction_after(self, tx_hash: str, after: float) -> Tuple[float, Optional[Dict[str, Any]]]:
        """HorizonApi.transaction_after from ONE source: the ledger read and the hash lookup of the expiry rule
        prove something only together (a Horizon behind another may lack a hash the other has)."""
        if self._rpc_instead():
            return await self._rpc_lookup(tx_hash, after)
        return await self._read("transaction_after", tx_hash, after,
                                fallback=lambda: self._rpc_lookup(tx_hash, after))

    async def _read(self, name: str, *args: Any, fallback: Optional[Callable[[], Any]] = None, **kwargs: Any) -> Any:
        error: Optional[BaseException] = None
        for index in self.health.order():
            start = time.monotonic()
            try:
                result = await getattr(self._members[index], name)(*args, **kwargs)
            except (HorizonError, *TRANSIENT_ERRORS) as e:
                if failure_of(e) is None:
                    self.health.answered(index, time.monotonic() - start)   # an answer (404, 400): no failover
                    raise
                error = e
                self._failed(index, e)
                continue
            self.health.answered(index, time.monotonic() - start)
            return result
        if fallback is not None and self._rpc is not None:
            return await fallback()
        raise error

    def _failed(self, index: int, error: BaseException) -> None:
        what = failure_of(error) or type(error).__name__
        self._logger.debug(f"Horizon {self._urls[index]} failed ({what}); trying the next one.")
        self.health.failed(index, what, retry_after=getattr(error, "retry_after", None),
                           rate_limited=getattr(error, "status", None) == 429)

    # Submissions

    async def submit_transaction_async(self, envelope_xdr: str) -> Dict[str, Any]:
        """The first answer of a Horizon not failing; the RPC's when every Horizon is (see the module's doc)."""
        order = self.health.submission_order()
        if not order:
            if self._rpc is not None:
                return await self._rpc_submit(envelope_xdr)
            order = self.health.order()   # nowhere else to go: ask the failing ones all the same
        error: Optional[BaseException] = None
        for index in order:
            start = time.monotonic()
            try:
                body = await self._members[index].submit_transaction_async(envelope_xdr)
            except (HorizonError, *TRANSIENT_ERRORS) as e:
                if failure_of(e) is None:
                    self.health.answered(index, time.monotonic() - start)
                    raise
                self._failed(index, e)
                if not never_delivered(e):
                    raise   # it may be in stellar-core: the pipeline resubmits this envelope and looks its hash up
                error = e
                continue
            self.health.answered(index, time.monotonic() - start)
            return body
        if self._rpc is not None:
            return await self._rpc_submit(envelope_xdr)
        raise error

    # Stellar RPC, the last resort

    def _rpc_instead(self) -> bool:
        return self._rpc is not None and not self.health.submission_order()

    async def _rpc_submit(self, envelope_xdr: str) -> Dict[str, Any]:
        self.rpc_submissions += 1
        self._logger.info(f"No Horizon takes submissions now; sending the transaction through the Stellar RPC "
                          f"at {self._rpc.url}.")
        try:
            return await self._rpc.submit_transaction_async(envelope_xdr)
        except StellarRpcError as error:   # unknown outcome: the pipeline sends the same envelope again
            raise HorizonUnavailableError("POST", "sendTransaction", 503, str(error)) from error

    async def _rpc_lookup(self, tx_hash: str, after: Optional[float] = None,
                          ) -> Tuple[float, Optional[Dict[str, Any]]]:
        try:
            return await self._rpc.transaction_after(tx_hash, after)
        except StellarRpcError as error:
            raise HorizonUnavailableError("POST", "getTransaction", 503, str(error)) from error

    async def _rpc_record(self, tx_hash: str) -> Optional[Dict[str, Any]]:
        return (await self._rpc_lookup(tx_hash))[1]

    # Heartbeats (several Horizons only)

    def start(self) -> None:
        """Start a heartbeat per Horizon and the monitor (with several Horizons; none with one)."""
        if len(self._urls) < 2 or self._tasks or self._api_factory is None:
            return
        self.health.start()
        self._session = aiohttp.ClientSession()
        self._heartbeats = [self._heartbeat_stream(index) for index in range(len(self._urls))]
        self._reopened_at = [time.monotonic()] * len(self._urls)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._beat(index, stream)) for index, stream in enumerate(self._heartbeats)]
        self._tasks.append(loop.create_task(self._monitor()))

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for stream in self._heartbeats:
            stream.stop()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._heartbeats = []
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def stream_error(self, url: str, error: BaseException, dropped: bool) -> None:
        """A stream's connection to `url` failed (HorizonStream's on_error): a drop is a sign, a failed
        connection (refused, timed out, 429, 5xx) a failure."""
        index = self.index_of(url)
        if index is None:
            return
        if dropped:
            self.health.suspect(index)
            return
        if isinstance(error, SSEStreamError):
            status = error.status
            if status is None or not (status == 429 or status >= 500):
                return   # not the Horizon's health: a stream it cannot serve (404, a wrong content type)
            self.health.failed(index, f"stream: HTTP {status}", retry_after=error.retry_after,
                               rate_limited=status == 429)
            return
        self.health.failed(index, f"stream: {type(error).__name__}: {error}"[:200])

    def _heartbeat_stream(self, index: int) -> HorizonStream:
        member = self._members[index]
        return HorizonStream(self._session, member.url(CONSTANTS.LEDGERS_PATH), cursor="now",
                             name=f"ledgers (heartbeat of {self._urls[index]})", backoff=Backoff(base=0.5, cap=10.0),
                             idle_timeout=HEARTBEAT_IDLE_TIMEOUT_S, throttle=lambda: self._opening(index),
                             on_error=self.stream_error, logger=self._logger)

    def _opening(self, index: int):
        member = self._members[index]
        measurement.count(measurement.HORIZON_STREAM_PREFIX + CONSTANTS.LEDGERS_PATH)
        if member.budget is not None:
            member.budget.note(CONSTANTS.LEDGERS_PATH, STREAM)
        return self._api_factory.throttler.execute_task(limit_id=member.limit_id(CONSTANTS.LEDGERS_PATH))

    async def _beat(self, index: int, stream: HorizonStream) -> None:
        counted_connects = 0
        while True:
            try:
                async for _event_id, ledger in stream:
                    if stream.connects != counted_connects:
                        counted_connects = stream.connects
                        self._revived(index)
                    self.health.ledger(index, int(ledger["sequence"]), close_timestamp(ledger.get("closed_at")))
                return
            except asyncio.CancelledError:
                raise
            except Exception:   # a record without a sequence: log, and listen on
                self._logger.exception(f"Unexpected ledger record from {self._urls[index]}.")
                await asyncio.sleep(1.0)

    def _revived(self, index: int) -> None:
        """Its heartbeat connected again and streams: whatever failed before is over."""
        was_failing = self.health.state(index)[0] == FAILING
        self.health.revived(index)
        if was_failing and index == self.health.active:
            self._tell_listeners(self._urls[index])   # streams backing off from it come back now

    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(self._monitor_interval_s)
            self.health.evaluate()
            self._reopen_silent_heartbeats()

    def _reopen_silent_heartbeats(self) -> None:
        """A silent Horizon's heartbeat connects again now and then: a stalled line (or proxy) is left, and the
        Horizon is heard again once it streams."""
        now = time.monotonic()
        pause = max(HEARTBEAT_REOPEN_S, self.health.silence_s())
        for index, stream in enumerate(self._heartbeats):
            if now - self._reopened_at[index] >= pause and self.health.state(index)[0] == SILENT:
                self._reopened_at[index] = now
                stream.move()
