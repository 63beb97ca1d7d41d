"""Where profiling meets the connector: its measuring points module, `stellar_measurement`.

- `enable_from_environment()`: profiling for any Hummingbot session, switched on by configuration:
  `STELLAR_PROFILING=1` (defaults) or `STELLAR_PROFILING=/path/to/conf_stellar_profiling.yml`.
  It installs a recorder into the measuring points, starts the sessions, and (with
  `report_on_exit`) writes the report when the process exits. Unset, nothing happens.
- `measure_disabled_hook_cost(n)`: what one measuring point costs the connector while profiling is
  off, for the benchmark behind `perf_disabled_hook_cost`.
"""
from __future__ import annotations

import atexit
import math
import os
import time
from typing import TYPE_CHECKING, Mapping, Optional

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from profiling.config import ProfilingConfig

if TYPE_CHECKING:
    from profiling.profiler import Profiler
    from profiling.report import ReportPaths

ENV_VAR = "STELLAR_PROFILING"
_OFF = ("", "0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")

_active: Optional[Profiler] = None


def is_requested(environ: Optional[Mapping[str, str]] = None) -> bool:
    environ = os.environ if environ is None else environ
    return environ.get(ENV_VAR, "").strip().lower() not in _OFF


def config_from_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[ProfilingConfig]:
    """The configuration STELLAR_PROFILING asks for, or None when profiling is off."""
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_VAR, "").strip()
    if value.lower() in _OFF:
        return None
    if value.lower() in _ON:
        return ProfilingConfig()
    return ProfilingConfig.from_yaml(value)


def enable_from_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[Profiler]:
    """Start profiling if STELLAR_PROFILING asks for it; returns the running profiler (or None).

    Calling it again while a profiler runs returns that profiler.
    """
    global _active
    config = config_from_environment(environ)
    if config is None:
        return None
    if _active is not None:
        return _active
    from profiling.profiler import Profiler  # only now: yappi, memray and matplotlib load when asked for

    profiler = Profiler(config)
    profiler.start()
    _active = profiler
    if config.report_on_exit:
        atexit.register(stop_active)
    return profiler


def active_profiler() -> Optional[Profiler]:
    return _active


def stop_active(write_report: bool = True) -> Optional[ReportPaths]:
    """Stop the profiler started from the environment and write its report (None if none runs or none asked)."""
    global _active
    profiler, _active = _active, None
    atexit.unregister(stop_active)
    if profiler is None:
        return None
    result = profiler.stop()
    return profiler.write_report(result) if write_report else None


def install_recorder(recorder) -> None:
    measurement.install(recorder)


def uninstall_recorder() -> None:
    measurement.uninstall()


def measure_disabled_hook_cost(n: int = 200_000, *, repeats: int = 5) -> float:
    """Nanoseconds one measuring point costs while no recorder is installed.

    One measuring point is what the connector writes at each point, `record(point, now())`; the cost
    of the bare loop is subtracted, and the best of `repeats` rounds is kept (the least disturbed by
    other work on the machine).
    """
    if n < 1 or repeats < 1:
        raise ValueError(f"n and repeats must be at least 1, got n={n}, repeats={repeats}")
    if measurement.is_enabled():
        raise RuntimeError("a recorder is installed: the disabled path can only be measured with profiling off")
    record, now, point = measurement.record, measurement.now, measurement.BOOK_UPDATE
    clock = time.perf_counter_ns
    best = math.inf
    for _ in range(repeats):
        started = clock()
        for _ in range(n):
            record(point, now())
        hooked = clock()
        for _ in range(n):
            pass
        bare = clock()
        best = min(best, ((hooked - started) - (bare - hooked)) / n)
    return max(best, 0.0)
