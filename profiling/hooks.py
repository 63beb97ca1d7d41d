"""Where profiling meets the connector: its measuring points module, `stellar_measurement`.

- `install_recorder(recorder)` / `uninstall_recorder()`: route the connector's measuring points to a
  recorder (a `profiling.recorder.LatencyRecorder`), or back to doing nothing.
- `measure_disabled_hook_cost(n)`: what one measuring point costs the connector while profiling is
  off, for the benchmark behind `perf_disabled_hook_cost`.

Switching profiling on from the environment (`STELLAR_PROFILING`) is `profiling.autostart`'s job;
this module imports nothing else of `profiling`.
"""
import math
import time

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement


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
