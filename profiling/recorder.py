"""`LatencyRecorder`: the recorder installed into the connector's measuring points.

It implements the connector's recorder protocol (`add(point, duration_ns)`, `incr(point, n)`)
and turns samples into statistics. No Hummingbot, no I/O.

Memory stays bounded in long runs: each point keeps its samples at full resolution (8 bytes each,
in an `array`) up to `sample_cap`; past the cap the point switches to a log-bucketed histogram
(HDR style, at most a few thousand buckets) and the samples are dropped. Count, sum, min and max
stay exact in both modes; percentiles from the histogram are within `LogHistogram.MAX_RELATIVE_ERROR`
of the exact nearest-rank value.

Percentiles use the nearest-rank definition: the p-th percentile of n sorted samples is the
sample at 1-based rank ceil(p * n / 100) (rank 1 for p = 0). It is always one of the samples.

Every point has a kind, so a report can tell the connector's own cost from waiting:
- "network": waiting on Horizon, RPC or the ledger (`horizon.*`, `rpc.*`, `tx.submit`, `*.confirm`);
- "end_to_end": spans both the connector's work and a network round trip (`*.ack`, `book.snapshot`,
  `order_market.filled`);
- "hummingbot": time inside Hummingbot's own code, timed by the profiler's wrappers (`hummingbot.*`, e.g.
  `hummingbot.markets_recorder.did_fill_order`), not by the connector;
- "connector": the connector's own processing (everything else, e.g. `book.update`, `tx.build_sign`).

Inner time: a span recorded with `add_inner` (the profiler's wrappers around Hummingbot's listeners) that ran
within a sample of an enclosing point (`enclosing_points`, points whose code runs without yielding to the event
loop, such as `fill.processing`) is counted in that point's `nested` figures: the part of the connector's
measured time that was in fact Hummingbot's.
"""
from __future__ import annotations

import fnmatch
import math
import time
from array import array
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Callable, Deque, Dict, Iterable, List, Optional, Sequence, Tuple

CONNECTOR = "connector"
NETWORK = "network"
END_TO_END = "end_to_end"
HUMMINGBOT = "hummingbot"
KINDS = (CONNECTOR, NETWORK, END_TO_END, HUMMINGBOT)

HUMMINGBOT_PREFIX = "hummingbot."
# Connector points whose code runs to its end without yielding to the event loop: whatever inner span ends
# within one of their samples ran inside it. (Points that await, such as `user_stream.event` on an offer, would
# take in other tasks' work.)
DEFAULT_ENCLOSING_POINTS = ("fill.processing",)
_INNER_SPANS_KEPT = 1024

_NETWORK_PREFIXES = ("horizon.", "rpc.")
_NETWORK_SUFFIXES = (".confirm",)
# tx.submit runs from the start of build/sign to Horizon's answer: a round trip plus a build of
# microseconds to a millisecond, counted as waiting.
_NETWORK_POINTS = frozenset({"tx.submit"})
_END_TO_END_SUFFIXES = (".ack",)
# fetch from Horizon + parse + apply; a MARKET order's submission, its ledger, then its fills reported
_END_TO_END_POINTS = frozenset({"book.snapshot", "order_market.filled"})

PERCENTILES = (50.0, 95.0, 99.0, 99.9)
PERCENTILE_METHOD = "nearest-rank"
DEFAULT_SAMPLE_CAP = 100_000
# Groups of points whose combined statistics the SLAs read (every Horizon call, every RPC call).
DEFAULT_GROUPS = ("horizon.*", "rpc.*")

_NS_PER_MS = 1_000_000


def point_kind(point: str) -> str:
    """The kind of a measuring point, from its name (see the module docstring)."""
    if point.startswith(HUMMINGBOT_PREFIX):
        return HUMMINGBOT
    if point.startswith(_NETWORK_PREFIXES) or point.endswith(_NETWORK_SUFFIXES) or point in _NETWORK_POINTS:
        return NETWORK
    if point.endswith(_END_TO_END_SUFFIXES) or point in _END_TO_END_POINTS:
        return END_TO_END
    return CONNECTOR


def nearest_rank(percentile: float, n: int) -> int:
    """1-based rank of the nearest-rank `percentile` among `n` sorted samples."""
    if n <= 0:
        raise ValueError("no samples")
    if not 0 <= percentile <= 100:
        raise ValueError(f"percentile must be within [0, 100], got {percentile}")
    # Exact arithmetic: 99.9 * 1000 / 100 must give 999, not 999.0000000000001.
    rank = math.ceil(Fraction(str(percentile)) * n / 100)
    return max(1, rank)


class LogHistogram:
    """Log-bucketed histogram of non-negative integers (HDR style, integer arithmetic only).

    Values below 2**(SUB_BUCKET_BITS + 1) get a bucket of their own; above, each power of two is
    split into 2**SUB_BUCKET_BITS equal buckets, so a bucket's width is at most 1/128 of its lower
    bound. A bucket reports its midpoint, hence a relative error of at most 1/256 (0.39 %).
    Bucket keys grow with the value, so walking sorted keys walks values in order.
    """

    SUB_BUCKET_BITS = 7
    MAX_RELATIVE_ERROR = 1 / 2 ** (SUB_BUCKET_BITS + 1)
    _EXACT_LIMIT = 1 << (SUB_BUCKET_BITS + 1)

    __slots__ = ("counts", "count", "total", "min", "max")

    def __init__(self) -> None:
        self.counts: Dict[int, int] = {}
        self.count = 0
        self.total = 0
        # Infinities until the first value, so `record` compares without a None check.
        self.min: float | int = math.inf
        self.max: float | int = -math.inf

    @classmethod
    def key_of(cls, value: int) -> int:
        if value < cls._EXACT_LIMIT:
            return value if value > 0 else 0
        shift = value.bit_length() - (cls.SUB_BUCKET_BITS + 1)
        return (shift << cls.SUB_BUCKET_BITS) + (value >> shift)

    @classmethod
    def bucket_bounds(cls, key: int) -> tuple[int, int]:
        """Lowest and highest value (inclusive) that fall into bucket `key`."""
        if key < cls._EXACT_LIMIT:
            return key, key
        shift = (key >> cls.SUB_BUCKET_BITS) - 1
        mantissa = key - (shift << cls.SUB_BUCKET_BITS)
        return mantissa << shift, ((mantissa + 1) << shift) - 1

    def record(self, value: int) -> None:
        # key_of, inlined: this runs once per sample past the cap.
        if value < self._EXACT_LIMIT:
            key = value if value > 0 else 0
        else:
            shift = value.bit_length() - (self.SUB_BUCKET_BITS + 1)
            key = (shift << self.SUB_BUCKET_BITS) + (value >> shift)
        counts = self.counts
        counts[key] = counts.get(key, 0) + 1
        self.count += 1
        self.total += value
        if value > self.max:
            self.max = value
        if value < self.min:
            self.min = value

    def record_many(self, values: Iterable[int]) -> None:
        for value in values:
            self.record(value)

    def merge(self, other: LogHistogram) -> None:
        for key, n in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + n
        self.count += other.count
        self.total += other.total
        self.max = max(self.max, other.max)
        self.min = min(self.min, other.min)

    def values_at_ranks(self, ranks: Sequence[int]) -> List[int]:
        """Estimated value at each 1-based rank (ranks ascending): its bucket's midpoint, clamped to [min, max]."""
        results: List[int] = []
        pending = iter(ranks)
        rank = next(pending, None)
        cumulative = 0
        for key in sorted(self.counts):
            cumulative += self.counts[key]
            while rank is not None and rank <= cumulative:
                low, high = self.bucket_bounds(key)
                results.append(min(max((low + high) // 2, self.min), self.max))
                rank = next(pending, None)
            if rank is None:
                break
        return results


@dataclass(frozen=True)
class PointStats:
    """Statistics of one measuring point (or a group of points); durations in nanoseconds."""

    point: str
    kind: str
    count: int
    rate_per_s: float
    avg_ns: float
    min_ns: int
    p50_ns: int
    p95_ns: int
    p99_ns: int
    p999_ns: int
    max_ns: int
    total_ns: int
    exact: bool  # False once the point switched to the histogram

    @property
    def max_relative_error(self) -> float:
        return 0.0 if self.exact else LogHistogram.MAX_RELATIVE_ERROR

    def to_dict(self) -> dict:
        """Plain JSON-ready figures, durations in milliseconds."""
        return {
            "point": self.point,
            "kind": self.kind,
            "count": self.count,
            "rate_per_s": self.rate_per_s,
            "avg_ms": self.avg_ns / _NS_PER_MS,
            "min_ms": self.min_ns / _NS_PER_MS,
            "p50_ms": self.p50_ns / _NS_PER_MS,
            "p95_ms": self.p95_ns / _NS_PER_MS,
            "p99_ms": self.p99_ns / _NS_PER_MS,
            "p999_ms": self.p999_ns / _NS_PER_MS,
            "max_ms": self.max_ns / _NS_PER_MS,
            "total_ms": self.total_ns / _NS_PER_MS,
            "exact": self.exact,
            "max_relative_error": self.max_relative_error,
        }


class _Series:
    """One point's samples: an array of exact values, or (past the cap) a histogram."""

    __slots__ = ("samples", "histogram")

    def __init__(self) -> None:
        self.samples: Optional[array] = array("q")
        self.histogram: Optional[LogHistogram] = None

    def switch_to_histogram(self) -> None:
        histogram = LogHistogram()
        histogram.record_many(self.samples)
        self.histogram = histogram
        self.samples = None

    def as_histogram(self) -> LogHistogram:
        if self.histogram is not None:
            return self.histogram
        histogram = LogHistogram()
        histogram.record_many(self.samples)
        return histogram


class LatencyRecorder:
    """Samples and counters per named point, with start/stop times.

    `add` and `incr` are the hot path (called by the connector): a dict lookup and an array append.
    Single event loop by design; appends from other threads are safe under the GIL, but statistics
    should be read once measuring stopped or from the thread that records.
    """

    def __init__(
        self,
        sample_cap: int = DEFAULT_SAMPLE_CAP,
        *,
        clock: Callable[[], float] = time.perf_counter,
        wall_clock: Callable[[], float] = time.time,
        kind_of: Callable[[str], str] = point_kind,
        enclosing_points: Sequence[str] = DEFAULT_ENCLOSING_POINTS,
        ns_clock: Callable[[], int] = time.perf_counter_ns,
    ) -> None:
        if sample_cap < 1:
            raise ValueError(f"sample_cap must be at least 1, got {sample_cap}")
        self._sample_cap = sample_cap
        self._clock = clock
        self._wall_clock = wall_clock
        self._kind_of = kind_of
        self._ns_clock = ns_clock  # the connector's clock (stellar_measurement.now): where samples end
        self._series: Dict[str, _Series] = {}
        self._counters: Dict[str, int] = {}
        self._enclosing = frozenset(enclosing_points)
        # (start_ns, end_ns, point) of the latest inner spans, in the order they ended.
        self._inner_spans: Deque[Tuple[int, int, str]] = deque(maxlen=_INNER_SPANS_KEPT)
        self._nested_ns: Dict[str, Dict[str, int]] = {}    # enclosing point -> inner point -> time inside it
        self._nested_samples: Dict[str, int] = {}          # enclosing point -> its samples with inner time
        self._started = clock()
        self._started_wall = wall_clock()
        self._stopped: Optional[float] = None
        self._stopped_wall: Optional[float] = None

    # -- the recorder protocol (hot path) --

    def add(self, point: str, duration_ns: int) -> None:
        if self._inner_spans and point in self._enclosing:
            self._attribute_inner(point, duration_ns)
        series = self._series.get(point)
        if series is None:
            series = self._series[point] = _Series()
        samples = series.samples
        if samples is not None:
            samples.append(duration_ns)
            if len(samples) >= self._sample_cap:
                series.switch_to_histogram()
        else:
            series.histogram.record(duration_ns)

    def add_inner(self, point: str, start_ns: int, end_ns: int) -> None:
        """A span of someone else's code (on the connector's clock): a sample of `point`, and counted in the
        enclosing point's sample it runs within, if any."""
        self.add(point, end_ns - start_ns)
        self._inner_spans.append((start_ns, end_ns, point))

    def _attribute_inner(self, point: str, duration_ns: int) -> None:
        # The sample ends now (the connector records as it ends, a call or two before this clock reading): an
        # inner span that ended after its start ran inside it, as the enclosing code does not yield. A span's
        # part before the sample's start (by the clock readings' small offset) is left out.
        end = self._ns_clock()
        start = end - duration_ns
        inside = None
        for span_start, span_end, inner in reversed(self._inner_spans):
            if span_end <= start:
                break
            inside = inside if inside is not None else self._nested_ns.setdefault(point, {})
            inside[inner] = inside.get(inner, 0) + (span_end - max(span_start, start))
        if inside is not None:
            self._nested_samples[point] = self._nested_samples.get(point, 0) + 1

    def incr(self, point: str, n: int = 1) -> None:
        counters = self._counters
        counters[point] = counters.get(point, 0) + n

    # -- lifetime --

    def start(self) -> None:
        """(Re)start the clock that rates are computed against; samples are kept."""
        self._started = self._clock()
        self._started_wall = self._wall_clock()
        self._stopped = self._stopped_wall = None

    def stop(self) -> None:
        if self._stopped is None:
            self._stopped = self._clock()
            self._stopped_wall = self._wall_clock()

    def reset(self) -> None:
        self._series.clear()
        self._counters.clear()
        self._inner_spans.clear()
        self._nested_ns.clear()
        self._nested_samples.clear()
        self.start()

    @property
    def elapsed_s(self) -> float:
        end = self._stopped if self._stopped is not None else self._clock()
        return max(0.0, end - self._started)

    @property
    def started_at(self) -> datetime:
        return datetime.fromtimestamp(self._started_wall, tz=UTC)

    @property
    def stopped_at(self) -> Optional[datetime]:
        if self._stopped_wall is None:
            return None
        return datetime.fromtimestamp(self._stopped_wall, tz=UTC)

    # -- reading --

    def points(self) -> List[str]:
        return sorted(self._series)

    def counters(self) -> Dict[str, int]:
        return dict(self._counters)

    def counts_matching(self, pattern: str) -> Dict[str, int]:
        """Samples of each point, and the value of each counter, whose name matches `pattern` (fnmatch): cheap
        enough to read while recording (a run's window is the difference of two readings)."""
        counts = {name: (len(series.samples) if series.samples is not None else series.histogram.count)
                  for name, series in self._series.items() if fnmatch.fnmatchcase(name, pattern)}
        counts.update({name: n for name, n in self._counters.items() if fnmatch.fnmatchcase(name, pattern)})
        return counts

    def is_exact(self, point: str) -> bool:
        return self._get(point).samples is not None

    def stored_values(self, point: str) -> int:
        """How many values the point holds in memory: its samples, or its histogram's buckets."""
        series = self._get(point)
        return len(series.samples) if series.samples is not None else len(series.histogram.counts)

    def stats(self, point: str) -> PointStats:
        series = self._get(point)
        if series.samples is not None:
            return self._exact_stats(point, self._kind_of(point), series.samples)
        return self._histogram_stats(point, self._kind_of(point), series.histogram)

    def stats_matching(self, pattern: str) -> Optional[PointStats]:
        """Combined statistics of every point whose name matches `pattern` (fnmatch, e.g. "horizon.*")."""
        names = [name for name in sorted(self._series) if fnmatch.fnmatchcase(name, pattern)]
        if not names:
            return None
        members = [self._series[name] for name in names]
        kinds = {self._kind_of(name) for name in names}
        kind = kinds.pop() if len(kinds) == 1 else "mixed"
        if all(series.samples is not None for series in members):
            combined = array("q")
            for series in members:
                combined.extend(series.samples)
            return self._exact_stats(pattern, kind, combined)
        histogram = LogHistogram()
        for series in members:
            histogram.merge(series.as_histogram())
        return self._histogram_stats(pattern, kind, histogram)

    def nested(self) -> Dict[str, dict]:
        """Per enclosing point: the time of the inner spans that ran within its samples, and its share."""
        figures = {}
        for point, inner in sorted(self._nested_ns.items()):
            series = self._series.get(point)
            total = 0 if series is None else (sum(series.samples) if series.samples is not None
                                              else series.histogram.total)
            inside = sum(inner.values())
            figures[point] = {
                "samples": self._nested_samples.get(point, 0),
                "point_total_ms": total / _NS_PER_MS,
                "inner_total_ms": inside / _NS_PER_MS,
                "share": inside / total if total > 0 else None,
                "inner_ms": {name: ns / _NS_PER_MS for name, ns in sorted(inner.items())},
            }
        return figures

    def time_by_kind_ns(self) -> Dict[str, int]:
        """Sum of all recorded durations per kind: where the measured time went."""
        totals = {kind: 0 for kind in KINDS}
        for name, series in self._series.items():
            total = sum(series.samples) if series.samples is not None else series.histogram.total
            kind = self._kind_of(name)
            totals[kind] = totals.get(kind, 0) + total
        return totals

    def snapshot(self, groups: Sequence[str] = DEFAULT_GROUPS) -> dict:
        """Every figure as plain JSON-ready data (durations in milliseconds)."""
        group_stats = {}
        for pattern in groups:
            stats = self.stats_matching(pattern)
            if stats is not None:
                group_stats[pattern] = stats.to_dict()
        stopped_at = self.stopped_at
        return {
            "started_at": self.started_at.isoformat(),
            "stopped_at": stopped_at.isoformat() if stopped_at is not None else None,
            "elapsed_s": self.elapsed_s,
            "percentile_method": PERCENTILE_METHOD,
            "sample_cap": self._sample_cap,
            "points": {name: self.stats(name).to_dict() for name in self.points()},
            "groups": group_stats,
            "counters": dict(sorted(self._counters.items())),
            "time_by_kind_ms": {kind: total / _NS_PER_MS for kind, total in self.time_by_kind_ns().items()},
            "nested": self.nested(),
        }

    # -- internals --

    def _get(self, point: str) -> _Series:
        try:
            return self._series[point]
        except KeyError:
            raise KeyError(f"no samples recorded for point {point!r}; recorded: {self.points()}") from None

    def _rate(self, count: int) -> float:
        elapsed = self.elapsed_s
        return count / elapsed if elapsed > 0 else 0.0

    def _exact_stats(self, name: str, kind: str, samples: Sequence[int]) -> PointStats:
        ordered = sorted(samples)
        n = len(ordered)
        p50, p95, p99, p999 = (ordered[nearest_rank(p, n) - 1] for p in PERCENTILES)
        total = sum(ordered)
        return PointStats(
            point=name, kind=kind, count=n, rate_per_s=self._rate(n), avg_ns=total / n,
            min_ns=ordered[0], p50_ns=p50, p95_ns=p95, p99_ns=p99, p999_ns=p999, max_ns=ordered[-1],
            total_ns=total, exact=True,
        )

    def _histogram_stats(self, name: str, kind: str, histogram: LogHistogram) -> PointStats:
        n = histogram.count
        p50, p95, p99, p999 = histogram.values_at_ranks([nearest_rank(p, n) for p in PERCENTILES])
        return PointStats(
            point=name, kind=kind, count=n, rate_per_s=self._rate(n), avg_ns=histogram.total / n,
            min_ns=histogram.min, p50_ns=p50, p95_ns=p95, p99_ns=p99, p999_ns=p999, max_ns=histogram.max,
            total_ns=histogram.total, exact=False,
        )


__all__ = [
    "CONNECTOR", "NETWORK", "END_TO_END", "HUMMINGBOT", "HUMMINGBOT_PREFIX", "KINDS", "DEFAULT_ENCLOSING_POINTS",
    "PERCENTILES", "PERCENTILE_METHOD", "DEFAULT_GROUPS",
    "LatencyRecorder", "LogHistogram", "PointStats", "nearest_rank", "point_kind",
]
