"""The steady-state Horizon request figures: counts from the connector's measuring points and from the sandbox's
request log, extrapolated to an hour against the budget."""
from collections import Counter

import pytest

from profiling.horizon_requests import (
    REST,
    STREAM,
    SUBMIT,
    RequestWindow,
    connector_counts,
    no_window,
    sandbox_counts,
    scheduled_reads,
)
from profiling.recorder import LatencyRecorder


def test_the_recorder_counts_points_and_counters_matching_a_pattern():
    recorder = LatencyRecorder(sample_cap=2)
    for _ in range(3):   # past the cap: the histogram keeps the count
        recorder.add("horizon./fee_stats", 1000)
    recorder.add("book.update", 10)
    recorder.incr("horizon_stream./order_book", 2)
    recorder.incr("cache_hit.config", 5)
    assert recorder.counts_matching("horizon*") == {"horizon./fee_stats": 3, "horizon_stream./order_book": 2}


def test_connector_counts_tell_reads_submissions_and_stream_openings_apart():
    counts = connector_counts({"horizon./accounts/{account_id}": 2, "horizon./transactions_async": 5,
                               "horizon_stream./accounts/{account_id}": 1, "horizon./fee_stats": 1})
    assert counts == {(REST, "/accounts/{account_id}"): 2, (SUBMIT, "/transactions_async"): 5,
                      (STREAM, "/accounts/{account_id}"): 1, (REST, "/fee_stats"): 1}


def test_sandbox_counts_leave_rpc_out_and_tell_kinds_apart():
    snapshot = {"since": 0, "requests": [
        {"method": "GET", "route": "/accounts/{account_id}", "kind": "stream", "count": 2},
        {"method": "GET", "route": "/accounts/{account_id}", "kind": "rest", "count": 1},
        {"method": "POST", "route": "/transactions_async", "kind": "rest", "count": 7},
        {"method": "POST", "route": "/rpc", "kind": "rest", "count": 9},
    ]}
    assert sandbox_counts(snapshot) == {(STREAM, "/accounts/{account_id}"): 2, (REST, "/accounts/{account_id}"): 1,
                                        (SUBMIT, "/transactions_async"): 7}


def test_the_window_extrapolates_to_an_hour_and_sets_the_sandbox_log_beside():
    start = Counter({(REST, "/accounts/{account_id}"): 3, (SUBMIT, "/transactions_async"): 10,
                     (REST, "/transactions/{tx_hash}"): 1})
    end = start + Counter({(REST, "/accounts/{account_id}/offers"): 1, (SUBMIT, "/transactions_async"): 30,
                           (STREAM, "/accounts/{account_id}"): 2, (REST, "/transactions/{tx_hash}"): 1})
    sandbox_start = Counter({(REST, "/transactions/{tx_id}"): 1})
    sandbox_end = Counter({(REST, "/transactions/{tx_id}"): 2, (REST, "/accounts/{account_id}/offers"): 1,
                           (SUBMIT, "/transactions_async"): 30, (STREAM, "/accounts/{account_id}"): 2})
    window = RequestWindow(100.0, start, sandbox_start)
    figures = window.figures(160.0, end, sandbox_end, budget_per_hour=3600, run_totals=end)
    assert figures["window_s"] == 60.0
    assert figures["reads_per_hour"] == pytest.approx(120.0)        # 2 reads in a minute
    assert figures["sandbox_reads_per_hour"] == pytest.approx(120.0)
    assert figures["submissions_per_hour"] == pytest.approx(1800.0)
    assert figures["stream_openings_per_hour"] == pytest.approx(120.0)
    rows = {(row["kind"], row["endpoint"]): row for row in figures["endpoints"]}
    offers = rows[(REST, "/accounts/{account_id}/offers")]
    assert (offers["count"], offers["per_hour"], offers["sandbox_count"], offers["run_count"]) == (1, 60.0, 1, 1)
    assert offers["public_share"] == pytest.approx(60 / 3600)
    assert rows[(REST, "/transactions/{tx_hash}")]["sandbox_count"] == 1   # "{tx_id}" there: the same endpoint
    assert rows[(REST, "/accounts/{account_id}")]["count"] == 0            # read at start only
    assert rows[(REST, "/accounts/{account_id}")]["run_count"] == 3


def test_no_window_is_not_measured():
    figures = no_window("not measured: the connector was not ready")
    assert figures["reads_per_hour"] is None and figures["window_s"] is None


def test_the_periodic_reads_by_the_connectors_settings_and_their_hourly_cost():
    scheduled = scheduled_reads(poll_interval_s=300, fee_ttl_s=300, reserve_ttl_s=3600, trading_rules_interval_s=1800)
    assert [entry["per_hour"] for entry in scheduled] == [24.0, 12.0, 2.0, 2.0]
    figures = RequestWindow(0.0, Counter()).figures(60.0, Counter(), None, 3600, scheduled=scheduled)
    assert figures["scheduled_reads_per_hour"] == 40.0
    assert figures["reads_per_hour"] == 0.0 and figures["sandbox_reads_per_hour"] is None
