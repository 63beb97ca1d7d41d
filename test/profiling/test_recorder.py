import json
import math
import random
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profiling.recorder import (
    CONNECTOR,
    END_TO_END,
    HUMMINGBOT,
    NETWORK,
    LatencyRecorder,
    LogHistogram,
    nearest_rank,
    point_kind,
)


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def exact_nearest_rank(values, percentile):
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percentile * len(ordered) / 100 - 1e-9)) - 1]


class TestNearestRank:
    def test_ranks_of_one_hundred_samples(self):
        assert [nearest_rank(p, 100) for p in (50, 95, 99, 99.9, 100)] == [50, 95, 99, 100, 100]

    def test_rank_is_exact_where_floats_would_round_up(self):
        # 99.9 * 1000 / 100 is 999.0000000000001 in floating point; the rank must still be 999.
        assert nearest_rank(99.9, 1000) == 999
        assert nearest_rank(95, 20) == 19

    def test_lowest_rank_is_one(self):
        assert nearest_rank(0, 10) == 1
        assert nearest_rank(50, 1) == 1

    def test_rejects_bad_input(self):
        with pytest.raises(ValueError, match="no samples"):
            nearest_rank(50, 0)
        with pytest.raises(ValueError, match="within"):
            nearest_rank(101, 10)


class TestExactStatistics:
    def test_figures_of_one_to_one_hundred(self):
        recorder = LatencyRecorder()
        values = list(range(1, 101))
        random.Random(7).shuffle(values)
        for value in values:
            recorder.add("book.update", value)

        stats = recorder.stats("book.update")

        assert stats.exact
        assert stats.count == 100
        assert stats.avg_ns == 50.5
        assert (stats.min_ns, stats.p50_ns, stats.p95_ns, stats.p99_ns, stats.p999_ns, stats.max_ns) == (
            1, 50, 95, 99, 100, 100)
        assert stats.total_ns == 5050

    def test_nearest_rank_picks_a_sample_not_an_interpolation(self):
        # The classic nearest-rank example: 15, 20, 35, 40, 50 -> median 35 (interpolation would agree here),
        # p95 50 (linear interpolation would give 48).
        recorder = LatencyRecorder()
        for value in (40, 15, 50, 35, 20):
            recorder.add("tx.build_sign", value)
        stats = recorder.stats("tx.build_sign")
        assert stats.p50_ns == 35
        assert stats.p95_ns == 50
        assert stats.avg_ns == 32

    def test_rate_is_count_over_elapsed_time_and_freezes_at_stop(self):
        clock = FakeClock()
        recorder = LatencyRecorder(clock=clock)
        for _ in range(10):
            recorder.add("order_create.ack", 1_000_000)
        clock.now += 2.0
        assert recorder.stats("order_create.ack").rate_per_s == 5.0
        recorder.stop()
        clock.now += 8.0
        assert recorder.elapsed_s == 2.0
        assert recorder.stats("order_create.ack").rate_per_s == 5.0

    def test_ms_figures_in_the_dict(self):
        recorder = LatencyRecorder()
        for value in (1_000_000, 3_000_000):
            recorder.add("book.update", value)
        figures = recorder.stats("book.update").to_dict()
        assert figures["avg_ms"] == 2.0
        assert figures["max_ms"] == 3.0
        assert figures["p50_ms"] == 1.0
        assert figures["kind"] == CONNECTOR

    def test_unknown_point_names_the_recorded_ones(self):
        recorder = LatencyRecorder()
        recorder.add("book.update", 1)
        with pytest.raises(KeyError, match="book.update"):
            recorder.stats("book.snapshot")

    def test_counters_add_up(self):
        recorder = LatencyRecorder()
        recorder.incr("cache_hit.instrument", 1)
        recorder.incr("cache_hit.instrument", 4)
        recorder.incr("cache_miss.instrument", 1)
        assert recorder.counters() == {"cache_hit.instrument": 5, "cache_miss.instrument": 1}

    def test_group_combines_matching_points(self):
        recorder = LatencyRecorder()
        for value in (1, 2, 3):
            recorder.add("horizon./order_book", value)
        for value in (10, 20):
            recorder.add("horizon./transactions_async", value)
        recorder.add("book.update", 1000)

        group = recorder.stats_matching("horizon.*")

        assert group.count == 5
        assert group.max_ns == 20
        assert group.avg_ns == 36 / 5
        assert group.p50_ns == 3
        assert group.kind == NETWORK
        assert recorder.stats_matching("rpc.*") is None

    def test_time_by_kind_sums_durations(self):
        recorder = LatencyRecorder()
        recorder.add("book.update", 5)
        recorder.add("horizon./accounts", 7)
        recorder.add("order_create.confirm", 11)
        recorder.add("order_create.ack", 13)
        recorder.add("hummingbot.markets_recorder.did_fill_order", 3)
        assert recorder.time_by_kind_ns() == {CONNECTOR: 5, NETWORK: 18, END_TO_END: 13, HUMMINGBOT: 3}

    def test_snapshot_is_plain_json(self):
        recorder = LatencyRecorder()
        recorder.add("horizon./order_book", 2_000_000)
        recorder.incr("cache_miss.config", 1)
        recorder.stop()
        snapshot = json.loads(json.dumps(recorder.snapshot()))
        assert snapshot["points"]["horizon./order_book"]["avg_ms"] == 2.0
        assert snapshot["groups"]["horizon.*"]["count"] == 1
        assert snapshot["counters"] == {"cache_miss.config": 1}
        assert snapshot["percentile_method"] == "nearest-rank"
        assert snapshot["time_by_kind_ms"]["network"] == 2.0
        assert snapshot["stopped_at"] is not None


class TestPointKinds:
    @pytest.mark.parametrize("point, kind", [
        ("horizon./order_book", NETWORK),
        ("rpc.getNetwork", NETWORK),
        ("order_create.confirm", NETWORK),
        ("order_cancel.confirm", NETWORK),
        ("tx.submit", NETWORK),
        ("order_create.ack", END_TO_END),
        ("book.snapshot", END_TO_END),
        ("order_market.filled", END_TO_END),
        ("book.update", CONNECTOR),
        ("book.pool_update", CONNECTOR),
        ("tx.build_sign", CONNECTOR),
        ("fill.processing", CONNECTOR),
        ("hummingbot.markets_recorder.did_fill_order", HUMMINGBOT),
    ])
    def test_kind_from_name(self, point, kind):
        assert point_kind(point) == kind


class NsClock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


class TestInnerTime:
    def test_inner_spans_within_an_enclosing_sample_are_its_hummingbot_time(self):
        clock = NsClock()
        recorder = LatencyRecorder(ns_clock=clock)
        start = clock.now
        recorder.add_inner("hummingbot.markets_recorder.did_fill_order", start + 100, start + 700)
        recorder.add_inner("hummingbot.markets_recorder.did_complete_order", start + 800, start + 900)
        clock.now = start + 1000
        recorder.add("fill.processing", 1000)  # the connector records as its sample ends

        nested = recorder.snapshot()["nested"]["fill.processing"]
        assert nested["samples"] == 1
        assert nested["inner_ms"] == {"hummingbot.markets_recorder.did_complete_order": pytest.approx(100 / 1e6),
                                      "hummingbot.markets_recorder.did_fill_order": pytest.approx(600 / 1e6)}
        assert nested["share"] == pytest.approx(0.7)
        assert recorder.stats("hummingbot.markets_recorder.did_fill_order").count == 1

    def test_spans_before_a_sample_or_around_it_are_not_inside_it(self):
        clock = NsClock()
        recorder = LatencyRecorder(ns_clock=clock)
        base = clock.now
        recorder.add_inner("hummingbot.markets_recorder.did_cancel_order", base, base + 50)  # before the sample
        clock.now = base + 1000
        recorder.add("fill.processing", 500)                  # from base + 500 to base + 1000
        recorder.add("order_create.ack", 5000)                 # not an enclosing point: awaits in between
        assert recorder.snapshot()["nested"] == {}

    def test_reset_forgets_inner_time(self):
        clock = NsClock()
        recorder = LatencyRecorder(ns_clock=clock)
        recorder.add_inner("hummingbot.x", clock.now, clock.now + 5)
        clock.now += 10
        recorder.add("fill.processing", 10)
        recorder.reset()
        assert recorder.snapshot()["nested"] == {}


class TestHistogramMode:
    def test_switches_past_the_cap_and_stays_within_the_error_bound(self):
        rng = random.Random(42)
        # Log-uniform from 1 microsecond to 1 second: every bucket scale gets used.
        values = [int(10 ** rng.uniform(3, 9)) for _ in range(20_000)]
        recorder = LatencyRecorder(sample_cap=1_000)
        for value in values:
            recorder.add("book.update", value)

        stats = recorder.stats("book.update")

        assert not stats.exact
        assert stats.count == len(values)
        assert stats.total_ns == sum(values)
        assert stats.avg_ns == sum(values) / len(values)
        assert stats.min_ns == min(values)
        assert stats.max_ns == max(values)
        for percentile, estimate in ((50, stats.p50_ns), (95, stats.p95_ns), (99, stats.p99_ns),
                                     (99.9, stats.p999_ns)):
            exact = exact_nearest_rank(values, percentile)
            assert abs(estimate - exact) <= exact * LogHistogram.MAX_RELATIVE_ERROR, percentile
        assert stats.to_dict()["max_relative_error"] == LogHistogram.MAX_RELATIVE_ERROR

    def test_memory_stays_bounded(self):
        recorder = LatencyRecorder(sample_cap=1_000)
        rng = random.Random(1)
        for _ in range(5_000):
            recorder.add("book.update", rng.randrange(1, 10**10))
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            for _ in range(100_000):
                recorder.add("book.update", rng.randrange(1, 10**10))
            after, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # 100 000 more samples kept as such would take 800 kB (8 bytes each in an array).
        assert after - before < 100_000
        # At most 2**7 buckets per power of two up to 2**34, plus the 256 exact ones.
        assert recorder.stored_values("book.update") <= 256 + 34 * 128

    def test_exact_points_and_histogram_points_combine_in_a_group(self):
        recorder = LatencyRecorder(sample_cap=10)
        for value in range(1, 21):
            recorder.add("horizon./a", value)
        recorder.add("horizon./b", 1000)
        group = recorder.stats_matching("horizon.*")
        assert not group.exact
        assert group.count == 21
        assert group.max_ns == 1000
        assert group.min_ns == 1

    @given(st.integers(min_value=0, max_value=2**62))
    def test_bucket_holds_its_value_and_is_narrow(self, value):
        low, high = LogHistogram.bucket_bounds(LogHistogram.key_of(value))
        assert low <= value <= high
        assert (high - low) * 128 <= max(low, 1)

    @given(st.integers(min_value=0, max_value=2**62), st.integers(min_value=0, max_value=2**62))
    def test_bucket_keys_keep_the_order_of_values(self, a, b):
        if a <= b:
            assert LogHistogram.key_of(a) <= LogHistogram.key_of(b)
        else:
            assert LogHistogram.key_of(a) >= LogHistogram.key_of(b)

    def test_small_values_are_exact(self):
        histogram = LogHistogram()
        histogram.record_many([3, 1, 2, 200])
        assert histogram.values_at_ranks([1, 2, 3, 4]) == [1, 2, 3, 200]

    def test_rejects_a_zero_cap(self):
        with pytest.raises(ValueError, match="sample_cap"):
            LatencyRecorder(sample_cap=0)
