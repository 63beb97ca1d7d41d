"""Fault injection: a layer around the Horizon handlers, never a branch inside the ledger.

    net.faults.set(latency={"seconds": 0.2, "jitter": 0.05})
    net.faults.set(errors={"rate": 0.3, "statuses": [429, 503], "paths": ["/transactions_async"]})
    net.faults.set(submission_timeout={"rate": 1.0})          # applies, but the answer is a 504
    net.faults.set(stream_drop={"every": 2.0}); net.faults.drop_streams()
    net.faults.stall_ledgers(); ...; net.faults.release_ledgers()
    net.faults.clear()

Each kind of fault is set (or cleared with None) independently; `paths` are glob patterns on the
request path (empty: every path). The control routes under `/_sandbox/` are never faulted. The
same settings travel as JSON through `POST /_sandbox/faults` (see `control`).

- latency: every matching request waits `seconds` plus a uniform `0..jitter` before its handler.
- errors: a share `rate` of matching requests is answered, without being handled, with one of
  `statuses` (429, 500, 503, 504) as Horizon's problem+json: `rate_limit_exceeded` (with Horizon's
  `X-Ratelimit-*` headers and `Retry-After`), `server_error`, `server_over_capacity`, `timeout`.
- submission_timeout: a share `rate` of matching submissions is handled (the transaction is
  queued and applies), then, once it is in a ledger, answered 504 (`transaction_submission_timeout`
  with `extras.hash` on `POST /transactions`, Horizon's `timeout` on `/transactions_async`), or with
  `hold` set, the connection is held that many seconds and then dropped without an answer.
- stream_drop: open SSE streams are cut (connection reset) on demand or `every` seconds after
  each opened; clients resume with their last id (`Last-Event-ID` or `cursor`).
- ledger_stall: no ledger closes (timer or `close_ledger()`) until released. Ledgers belong to the
  network: every frontend's `Faults` shares one gate, so a stall set on any of them stalls all.
- silent_streams: matching SSE requests get the stream's preamble (`retry`, `event: open`,
  `data: "hello"`) and then nothing at all, not even keep-alive comments, until the client leaves
  (a Horizon whose stream stalls behind a proxy that keeps the connection open).
- lag: this frontend ingests `ledgers` behind the network (see `core.ingestion.IngestView`): its
  state, history, streams, fee stats and root lag; submissions still reach the network at once.
- down: the frontend's listener is closed and its open connections reset, as when its process
  dies: clients get "connection refused" until it listens again on the same port (`down: false`,
  or after `seconds`). Reach a down frontend's settings through another frontend's
  `/_sandbox/frontends/{index}/faults`.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from fnmatch import fnmatchcase
from typing import Any

from aiohttp import web

from stellar_sandbox.horizon import errors
from stellar_sandbox.horizon.errors import Problem
from stellar_sandbox.horizon.streaming import HELLO, wants_stream

logger = logging.getLogger(__name__)

Record = dict[str, Any]
CONTROL_PREFIX = "/_sandbox/"
SUBMISSION_PATHS = ("/transactions", "/transactions_async")
RATE_LIMIT_PER_HOUR = 3600  # SDF's public Horizon limit, echoed in the X-Ratelimit-* headers
APPLY_WAIT_LIMIT = 60.0  # s a faulted submission waits for its ledger before answering anyway


def rate_limit_exceeded() -> Problem:
    return Problem("rate_limit_exceeded", "Rate Limit Exceeded", 429,
                   "The rate limit for the requesting IP address is over its alloted limit.  The allowed limit and "
                   "requests left per time period are communicated to clients via the http response headers "
                   "'X-RateLimit-*' headers.")


def server_over_capacity() -> Problem:
    return Problem("server_over_capacity", "Server Over Capacity", 503,
                   "This horizon server is currently overloaded.  Please wait for several minutes before trying your "
                   "request again.")


def timeout() -> Problem:
    return Problem("timeout", "Timeout", 504,
                   "Your request timed out before completing.  Please try your request again. If you are submitting a "
                   "transaction make sure you are sending exactly the same transaction (with the same sequence "
                   "number).")


PROBLEMS = {429: rate_limit_exceeded, 500: errors.server_error, 503: server_over_capacity, 504: timeout}


class FaultSettingsError(ValueError):
    """Settings that cannot be applied; `field` names the offending one."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _paths(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) and p.startswith("/") for p in value):
        raise FaultSettingsError(field, "expected a list of path patterns starting with '/'")
    return tuple(value)


def _number(value: Any, field: str, low: float = 0.0, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise FaultSettingsError(field, f"expected a number, got {value!r}")
    if value < low or (high is not None and value > high):
        raise FaultSettingsError(field, f"must be between {low} and {high if high is not None else 'infinity'}")
    return float(value)


@dataclass(frozen=True)
class Latency:
    seconds: float = 0.0
    jitter: float = 0.0
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorInjection:
    rate: float = 1.0
    statuses: tuple[int, ...] = (503,)
    retry_after: int = 1  # s, the Retry-After of a 429
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubmissionTimeout:
    rate: float = 1.0
    hold: float | None = None  # s to hold the connection before dropping it; None: answer 504
    paths: tuple[str, ...] = SUBMISSION_PATHS


@dataclass(frozen=True)
class StreamDrop:
    every: float | None = None  # s after a stream opens; None: only on demand (`drop_streams`)
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class SilentStreams:
    paths: tuple[str, ...] = ()


_KINDS = {"latency": Latency, "errors": ErrorInjection, "submission_timeout": SubmissionTimeout,
          "stream_drop": StreamDrop, "silent_streams": SilentStreams}
_FRONTEND_KINDS = ("lag", "down")  # enacted by the frontend, not by the middleware
SILENT_POLL = 0.2  # s between checks that a silent stream's client is still there


class LedgerGate:
    """Whether ledgers may close: one per network, shared by the `Faults` of all its frontends."""

    def __init__(self) -> None:
        self._released = asyncio.Event()
        self._released.set()

    @property
    def stalled(self) -> bool:
        return not self._released.is_set()

    def stall(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    async def wait(self) -> None:
        if not self._released.is_set():
            await self._released.wait()


def parse_kind(kind: str, value: Any) -> Any:
    """A fault kind's settings from JSON-like input (a dict, a dataclass, or a number for latency)."""
    cls = _KINDS[kind]
    if value is None or isinstance(value, cls):
        return value
    if kind == "latency" and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = {"seconds": value}
    if kind == "silent_streams" and isinstance(value, bool):
        return cls() if value else None
    if not isinstance(value, dict):
        raise FaultSettingsError(kind, "expected an object")
    known = {f.name for f in fields(cls)}
    unknown = set(value) - known
    if unknown:
        raise FaultSettingsError(kind, f"unknown settings {sorted(unknown)}; known: {sorted(known)}")
    args: dict[str, Any] = {}
    for name, raw in value.items():
        field = f"{kind}.{name}"
        if name == "paths":
            args[name] = _paths(raw, field)
        elif name == "statuses":
            statuses = tuple(raw) if isinstance(raw, (list, tuple)) else (raw,)
            if not statuses or any(s not in PROBLEMS for s in statuses):
                raise FaultSettingsError(field, f"expected some of {sorted(PROBLEMS)}")
            args[name] = statuses
        elif name == "rate":
            args[name] = _number(raw, field, 0.0, 1.0)
        elif name == "retry_after":
            args[name] = int(_number(raw, field, 0))
        elif raw is None and name in ("hold", "every"):
            args[name] = None
        else:
            args[name] = _number(raw, field, 0.0)
    if kind == "stream_drop" and args.get("every") == 0:
        raise FaultSettingsError("stream_drop.every", "must be positive (or null: on demand only)")
    return cls(**args)


def parse_lag(value: Any) -> int:
    """`lag`: a number of ledgers, `{"ledgers": n}`, or None (0)."""
    if isinstance(value, dict):
        unknown = set(value) - {"ledgers"}
        if unknown:
            raise FaultSettingsError("lag", f"unknown settings {sorted(unknown)}; known: ['ledgers']")
        value = value.get("ledgers", 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaultSettingsError("lag.ledgers" if not isinstance(value, bool) else "lag",
                                 f"expected a non-negative whole number of ledgers, got {value!r}")
    return value


def parse_down(value: Any) -> tuple[bool, float | None]:
    """`down`: true (until set false), false/None (up), or `{"seconds": s}` (back up after s)."""
    if value is None or isinstance(value, bool):
        return bool(value), None
    if isinstance(value, dict):
        unknown = set(value) - {"seconds"}
        if unknown:
            raise FaultSettingsError("down", f"unknown settings {sorted(unknown)}; known: ['seconds']")
        seconds = value.get("seconds")
        if seconds is None:
            return True, None
        return True, _number(seconds, "down.seconds", 0.0)
    raise FaultSettingsError("down", "expected true, false or {\"seconds\": s}")


def _matches(patterns: tuple[str, ...], path: str) -> bool:
    return not patterns or any(fnmatchcase(path, pattern) for pattern in patterns)


class _OpenStream:
    """An SSE request being served, and its scheduled drop (if `stream_drop.every` is set)."""

    __slots__ = ("request", "timer")

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.timer: asyncio.TimerHandle | None = None


class Faults:
    """Current fault settings and the aiohttp middleware that enacts them."""

    def __init__(self, network: Any, seed: int | None = None, *, ledger_gate: LedgerGate | None = None,
                 frontend: Any = None) -> None:
        """`network`: what the frontend serves (the `Network` or its `IngestView`); `ledger_gate`: the
        network's (shared by all frontends); `frontend`: what enacts `lag` and `down` (`set_lag(n)`,
        `lag`, `take_down(seconds)`, `bring_up_soon()`, `is_down`), None when there is none."""
        self.network = network
        self.random = random.Random(seed)
        self.latency: Latency | None = None
        self.errors: ErrorInjection | None = None
        self.submission_timeout: SubmissionTimeout | None = None
        self.stream_drop: StreamDrop | None = None
        self.silent_streams: SilentStreams | None = None
        self.gate = ledger_gate or LedgerGate()
        self.frontend = frontend
        self._closing = asyncio.Event()
        self._streams: set[_OpenStream] = set()  # aiohttp requests are unhashable: tracked through a handle
        self._applied_waiters: dict[str, list[asyncio.Future]] = {}
        self.injected: dict[str, int] = {"latency": 0, "errors": 0, "submission_timeout": 0, "stream_drop": 0,
                                         "silent_streams": 0}
        network.add_listener(self._on_network_event)

    # ----- settings -----

    @property
    def ledgers_stalled(self) -> bool:
        return self.gate.stalled

    def set(self, **kinds: Any) -> Record:
        """Replace the given kinds' settings (None clears one); validated before anything changes."""
        known = [*_KINDS, "ledger_stall", *_FRONTEND_KINDS]
        unknown = set(kinds) - set(known)
        if unknown:
            raise FaultSettingsError(",".join(sorted(unknown)), f"unknown fault kinds; known: {sorted(known)}")
        parsed = {kind: parse_kind(kind, value) for kind, value in kinds.items() if kind in _KINDS}
        stall = kinds.get("ledger_stall")
        if "ledger_stall" in kinds and not isinstance(stall, bool) and stall is not None:
            raise FaultSettingsError("ledger_stall", "expected true or false")
        lag = parse_lag(kinds["lag"]) if "lag" in kinds else None
        down = parse_down(kinds["down"]) if "down" in kinds else None
        if self.frontend is None and (lag or (down and down[0])):
            raise FaultSettingsError("lag" if lag else "down", "only a sandbox frontend can lag or go down")
        for kind, value in parsed.items():
            setattr(self, kind, value)
        if "ledger_stall" in kinds:
            if stall:
                self.stall_ledgers()
            else:
                self.release_ledgers()
        if lag is not None and self.frontend is not None:
            self.frontend.set_lag(lag)
        if down is not None and self.frontend is not None:
            if down[0]:
                self.frontend.take_down(down[1])
            else:
                self.frontend.bring_up_soon()
        return self.settings()

    def clear(self) -> Record:
        """No faults: every kind cleared, stalled ledgers released, no lag, listening."""
        return self.set(latency=None, errors=None, submission_timeout=None, stream_drop=None, silent_streams=None,
                        ledger_stall=False, lag=0, down=False)

    def settings(self) -> Record:
        body: Record = {kind: (None if getattr(self, kind) is None else asdict(getattr(self, kind)))
                        for kind in _KINDS}
        body["ledger_stall"] = self.ledgers_stalled
        frontend = self.frontend
        if frontend is not None:
            body["lag"] = {"ledgers": frontend.lag, "ingested_ledger": frontend.view.sequence,
                           "behind": frontend.view.behind}
            body["down"] = frontend.is_down
        body["open_streams"] = len(self._streams)
        body["injected"] = dict(self.injected)
        return body

    @property
    def active(self) -> bool:
        return bool(self.latency or self.errors or self.submission_timeout or self.stream_drop
                    or self.silent_streams)

    def shutdown(self) -> None:
        """The server is stopping: silent streams end."""
        self._closing.set()

    # ----- ledger stall -----

    def stall_ledgers(self) -> None:
        self.gate.stall()

    def release_ledgers(self) -> None:
        self.gate.release()

    async def ledger_close_allowed(self) -> None:
        """Returns at once unless ledgers are stalled; then when they are released."""
        await self.gate.wait()

    # ----- streams -----

    def drop_streams(self, paths: Iterable[str] = ()) -> int:
        """Cut open SSE streams (whose path matches `paths`, default all) now; how many were cut."""
        patterns = tuple(paths)
        dropped = 0
        for stream in list(self._streams):
            if _matches(patterns, stream.request.path):
                dropped += self._drop(stream)
        return dropped

    def _drop(self, stream: _OpenStream) -> int:
        self._streams.discard(stream)
        if stream.timer is not None:
            stream.timer.cancel()
        transport = stream.request.transport
        if transport is None or transport.is_closing():
            return 0
        transport.abort()  # a reset: unsent bytes are lost, as when a proxy or the network drops the line
        self.injected["stream_drop"] += 1
        return 1

    # ----- waiting for a transaction to apply -----

    def _on_network_event(self, kind: str, record: Record) -> None:
        if kind == "transactions" and self._applied_waiters:
            for tx_hash in (record["hash"], (record.get("inner_transaction") or {}).get("hash")):
                for future in self._applied_waiters.pop(tx_hash, ()) if tx_hash else ():
                    if not future.done():
                        future.set_result(None)

    async def _applied(self, tx_hash: str) -> None:
        if self.network.transaction(tx_hash) is not None:
            return
        future = asyncio.get_running_loop().create_future()
        self._applied_waiters.setdefault(tx_hash, []).append(future)
        try:
            await asyncio.wait_for(future, APPLY_WAIT_LIMIT)
        except TimeoutError:
            waiters = self._applied_waiters.get(tx_hash)
            if waiters and future in waiters:
                waiters.remove(future)
                if not waiters:
                    del self._applied_waiters[tx_hash]

    # ----- the middleware -----

    @web.middleware
    async def middleware(self, request: web.Request, handler):
        path = request.path
        if path.startswith(CONTROL_PREFIX):
            return await handler(request)
        if not self.active:
            # streams are tracked even without faults set, so that `drop_streams()` finds them all
            return await (self._stream(request, handler) if wants_stream(request) else handler(request))
        latency = self.latency
        if latency is not None and _matches(latency.paths, path):
            delay = latency.seconds + (self.random.uniform(0.0, latency.jitter) if latency.jitter else 0.0)
            if delay > 0:
                self.injected["latency"] += 1
                await asyncio.sleep(delay)
        failing = self.errors
        if failing is not None and _matches(failing.paths, path) and self.random.random() < failing.rate:
            self.injected["errors"] += 1
            return self._error_response(failing)
        if wants_stream(request):
            silent = self.silent_streams
            if silent is not None and _matches(silent.paths, path):
                self.injected["silent_streams"] += 1
                return await self._stream(request, self._silent)
            return await self._stream(request, handler)
        timing_out = self.submission_timeout
        if (timing_out is not None and request.method == "POST" and _matches(timing_out.paths, path)
                and self.random.random() < timing_out.rate):
            return await self._timed_out_submission(request, handler, timing_out)
        return await handler(request)

    def _error_response(self, failing: ErrorInjection) -> web.Response:
        status = failing.statuses[0] if len(failing.statuses) == 1 else self.random.choice(failing.statuses)
        response = PROBLEMS[status]().to_response()
        if status == 429:
            response.headers["X-Ratelimit-Limit"] = str(RATE_LIMIT_PER_HOUR)
            response.headers["X-Ratelimit-Remaining"] = "0"
            response.headers["X-Ratelimit-Reset"] = str(failing.retry_after)
            response.headers["Retry-After"] = str(failing.retry_after)
        return response

    async def _stream(self, request: web.Request, handler):
        drop = self.stream_drop
        stream = _OpenStream(request)
        if drop is not None and drop.every and _matches(drop.paths, request.path):
            stream.timer = asyncio.get_running_loop().call_later(drop.every, self._drop, stream)
        self._streams.add(stream)
        try:
            return await handler(request)
        finally:
            self._streams.discard(stream)
            if stream.timer is not None:
                stream.timer.cancel()

    async def _silent(self, request: web.Request) -> web.StreamResponse:
        """The SSE preamble, then nothing until the client goes (or the server stops)."""
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                               "Cache-Control": "no-cache", "Connection": "keep-alive",
                                               "Access-Control-Allow-Origin": "*"})
        await response.prepare(request)
        await response.write(HELLO)
        while not self._closing.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                break
            try:
                async with asyncio.timeout(SILENT_POLL):
                    await self._closing.wait()
            except TimeoutError:
                pass
        return response

    async def _timed_out_submission(self, request: web.Request, handler, fault: SubmissionTimeout):
        try:
            response = await handler(request)
        except Problem as problem:  # rejected submissions are not lost answers: let them through
            return problem.to_response()
        if response.status not in (200, 201, 409):
            return response
        body = json.loads(response.text)
        tx_hash = body.get("hash", "")
        await self._applied(tx_hash)  # PENDING/DUPLICATE: it applies before the answer is lost
        self.injected["submission_timeout"] += 1
        if fault.hold is not None:
            await asyncio.sleep(fault.hold)
            if request.transport is not None:
                request.transport.abort()  # no answer at all: the client's own timeout fires
            return web.Response(status=504)  # never reaches the client
        if request.path == "/transactions":
            envelope = (await request.post()).get("tx", "")
            return errors.submission_timeout(tx_hash, envelope if isinstance(envelope, str) else "").to_response()
        return timeout().to_response()
