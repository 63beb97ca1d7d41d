"""Timing helpers shared by the benchmarks: many iterations, robust statistics, one figure shape.

Each sample is one operation timed with `perf_counter_ns`. The garbage collector is paused while
samples are taken (as `timeit` does), so a collection triggered by earlier work does not land on
one side of a comparison only; figures that compare two things always measure both in one run.
"""
from __future__ import annotations

import asyncio
import gc
import statistics
import time
from contextlib import contextmanager
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Sequence


@contextmanager
def gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def summary_us(samples_ns: Sequence[int]) -> Dict[str, float]:
    """Median, p99, mean and minimum of samples in nanoseconds, as microseconds."""
    values = sorted(s / 1000.0 for s in samples_ns)
    return {
        "median_us": round(statistics.median(values), 3),
        "p99_us": round(percentile(values, 0.99), 3),
        "mean_us": round(statistics.fmean(values), 3),
        "min_us": round(values[0], 3),
        "samples": len(values),
    }


def time_calls(call: Callable[[], Any], iterations: int, warmup: int = 50) -> List[int]:
    """Per-call durations (ns) of `call`, after `warmup` untimed calls."""
    for _ in range(warmup):
        call()
    clock = time.perf_counter_ns
    samples = []
    with gc_paused():
        for _ in range(iterations):
            start = clock()
            call()
            samples.append(clock() - start)
    return samples


async def time_awaits(call: Callable[[], Awaitable[Any]], iterations: int, warmup: int = 20) -> List[int]:
    """Per-await durations (ns) of `call()` on the running loop, after `warmup` untimed awaits."""
    for _ in range(warmup):
        await call()
    clock = time.perf_counter_ns
    samples = []
    with gc_paused():
        for _ in range(iterations):
            start = clock()
            await call()
            samples.append(clock() - start)
    return samples


def figure(name: str, subject_ns: Sequence[int], floor_ns: Optional[Sequence[int]] = None, *,
           floor_name: Optional[str] = None, per: int = 1, description: str = "") -> Dict[str, Any]:
    """One result row: the subject's statistics, and when a floor (or peer) was measured in the same
    run, its statistics and the ratio of medians (subject / floor). `per` divides every sample
    (a sample that covers `per` operations is reported per operation)."""
    subject = summary_us([s / per for s in subject_ns])
    row: Dict[str, Any] = {"name": name, "description": description, "subject": subject}
    if floor_ns is not None:
        floor = summary_us([s / per for s in floor_ns])
        row["floor_name"] = floor_name
        row["floor"] = floor
        row["ratio"] = round(subject["median_us"] / floor["median_us"], 3) if floor["median_us"] else None
    return row


async def settle(condition: Callable[[], bool], max_turns: int = 1000) -> None:
    """Let the tasks Hummingbot's order tracker scheduled run until `condition` holds (inside the
    timing: they are part of processing the order)."""
    for _ in range(max_turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise RuntimeError("the order did not reach the expected state: the benchmark is not measuring what it says")


def run_async(coro_factory: Callable[[], Awaitable[Any]]) -> Any:
    """Run a coroutine on a fresh event loop (the loop policy installed decides which loop)."""
    return asyncio.run(coro_factory())
