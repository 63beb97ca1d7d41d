"""Time spent in Hummingbot's own code on the connector's paths, measured apart from the connector's.

Hummingbot's `MarketsRecorder` (what a Hummingbot session keeps its trade database with) listens to every
order event of the connector and writes it to SQL at once, in the listener: a fill's event reaches it inside
the connector's `fill.processing`, so without a separate figure the recorder's database writes read as the
connector's processing time.

`MarketsRecorderTiming` wraps the recorder's listeners (the functions its event forwarders call) with a timer
that records each call as an inner span (`LatencyRecorder.add_inner`) under
`hummingbot.markets_recorder.<listener>`, e.g. `hummingbot.markets_recorder.did_fill_order`: a point of its
own, and the part of each enclosing connector sample (`fill.processing`) that was Hummingbot's.

It never imports Hummingbot's recorder (that module alone loads some 70 MB): it times the instance it is
given, or the process-wide one (`MarketsRecorder._shared_instance`) once something else has loaded and made one.
"""
from __future__ import annotations

import logging
import sys
import time
import weakref
from typing import Any, Callable, List, Optional, Tuple

MARKETS_RECORDER_MODULE = "hummingbot.connector.markets_recorder"
POINT_PREFIX = "hummingbot.markets_recorder."

logger = logging.getLogger(__name__)


def shared_markets_recorder() -> Optional[Any]:
    """Hummingbot's process-wide MarketsRecorder, if its module is loaded and one was made; never imports it."""
    module = sys.modules.get(MARKETS_RECORDER_MODULE)
    recorder_class = getattr(module, "MarketsRecorder", None) if module is not None else None
    return getattr(recorder_class, "_shared_instance", None) if recorder_class is not None else None


class MarketsRecorderTiming:
    """Times a MarketsRecorder's event listeners into a `LatencyRecorder` (see the module docstring)."""

    def __init__(self, recorder, *, clock: Callable[[], int] = time.perf_counter_ns) -> None:
        self._recorder = recorder
        self._clock = clock
        self._target: Optional[weakref.ref] = None
        self._wrapped: List[Tuple[Any, Callable]] = []   # (event forwarder, its own listener function)

    @property
    def attached(self) -> bool:
        return self._target is not None and self._target() is not None

    def attach(self, markets_recorder: Optional[Any] = None) -> bool:
        """Time `markets_recorder`'s listeners (default: the process-wide one). True when they are timed."""
        target = markets_recorder if markets_recorder is not None else shared_markets_recorder()
        if target is None:
            return False
        if self._target is not None and self._target() is target:
            return True
        self.detach()
        forwarders = {id(forwarder): forwarder for _event, forwarder in getattr(target, "_event_pairs", ())}
        for forwarder in forwarders.values():
            function = getattr(forwarder, "_to_function", None)
            if not callable(function):
                continue
            name = getattr(function, "__name__", "listener").lstrip("_") or "listener"
            forwarder._to_function = self._timed(function, POINT_PREFIX + name)
            self._wrapped.append((forwarder, function))
        if not self._wrapped:
            logger.warning("profiling: Hummingbot's MarketsRecorder has no event listeners to time")
            return False
        self._target = weakref.ref(target)
        logger.info("profiling: timing Hummingbot's MarketsRecorder listeners (%d)", len(self._wrapped))
        return True

    def detach(self) -> None:
        """Give the listeners back their own functions."""
        wrapped, self._wrapped = self._wrapped, []
        self._target = None
        for forwarder, function in wrapped:
            if getattr(forwarder._to_function, "__wrapped__", None) is function:
                forwarder._to_function = function

    def _timed(self, function: Callable, point: str) -> Callable:
        recorder, clock = self._recorder, self._clock

        def timed(*args: Any) -> Any:
            start = clock()
            try:
                return function(*args)
            finally:
                recorder.add_inner(point, start, clock())

        timed.__wrapped__ = function
        timed.__name__ = getattr(function, "__name__", "timed")
        return timed


__all__ = ["MARKETS_RECORDER_MODULE", "POINT_PREFIX", "MarketsRecorderTiming", "shared_markets_recorder"]
