"""The connector's named measuring points.

The connector calls `record`/`count` at fixed points of the order and data paths. Nothing is
measured unless a recorder is installed (profiling does that); until then each call costs one
global lookup and a None check. The connector never imports a profiler: a recorder is any
object with

    add(point: str, duration_ns: int) -> None    # one timed sample
    incr(point: str, n: int) -> None             # a counter

Standard library only, so this module can be imported by anything without side effects.
"""
import time
from typing import Optional, Protocol

# Order path
ORDER_CREATE_ACK = "order_create.ack"            # strategy call -> Horizon accepted the tx (PENDING)
ORDER_CREATE_CONFIRM = "order_create.confirm"    # strategy call -> tx applied in a ledger
ORDER_MARKET_FILLED = "order_market.filled"      # a MARKET order (path payment) submitted -> its fills reported
ORDER_CANCEL_ACK = "order_cancel.ack"
ORDER_CANCEL_CONFIRM = "order_cancel.confirm"
ORDER_STATUS_UPDATE = "order_status.update"
FILL_PROCESSING = "fill.processing"
TX_BUILD_SIGN = "tx.build_sign"
TX_SUBMIT = "tx.submit"

# Data path
BOOK_SNAPSHOT = "book.snapshot"
BOOK_UPDATE = "book.update"
BOOK_POOL_UPDATE = "book.pool_update"            # a pool's reserves changed -> its levels queued for the book
USER_STREAM_EVENT = "user_stream.event"

# Prefixes: the full point name is the prefix plus a short tag, e.g. "horizon./order_book"
HORIZON_CALL_PREFIX = "horizon."                 # a REST call (GET, or the POST of a submission), timed
HORIZON_STREAM_PREFIX = "horizon_stream."        # a counter: one per stream opening (Horizon counts each)
RPC_CALL_PREFIX = "rpc."
CACHE_HIT_PREFIX = "cache_hit."
CACHE_MISS_PREFIX = "cache_miss."

INSTRUMENT_CACHE = "instrument"
CONFIG_CACHE = "config"


class Recorder(Protocol):
    def add(self, point: str, duration_ns: int) -> None: ...

    def incr(self, point: str, n: int) -> None: ...


_recorder: Optional[Recorder] = None

# A monotonic nanosecond clock; an alias rather than a wrapper so taking a start time costs one C call.
now = time.perf_counter_ns


def install(recorder: Recorder) -> None:
    """Route every measuring point to `recorder` from now on."""
    if not (callable(getattr(recorder, "add", None)) and callable(getattr(recorder, "incr", None))):
        raise TypeError("a recorder needs add(point, duration_ns) and incr(point, n) methods")
    global _recorder
    _recorder = recorder


def uninstall() -> None:
    global _recorder
    _recorder = None


def is_enabled() -> bool:
    return _recorder is not None


def record(point: str, start_ns: int) -> None:
    """Record the time elapsed since `start_ns` (a value of `now()`) under `point`."""
    recorder = _recorder
    if recorder is None:
        return
    recorder.add(point, time.perf_counter_ns() - start_ns)


def record_value(point: str, duration_ns: int) -> None:
    """Record an already measured duration under `point`."""
    recorder = _recorder
    if recorder is None:
        return
    recorder.add(point, duration_ns)


def count(point: str, n: int = 1) -> None:
    """Add `n` to the counter `point`."""
    recorder = _recorder
    if recorder is None:
        return
    recorder.incr(point, n)
