"""HorizonHealth's rules: what makes a Horizon unhealthy, which one is active, and what a switch records."""
import logging

import pytest

from hummingbot.connector.exchange.stellar.stellar_horizon_health import (
    FAILING,
    HEALTHY,
    LAGGING,
    SILENT,
    SLOW,
    HorizonHealth,
    worst_switch_s,
)

A, B, C = "http://a", "http://b", "http://c"


class Clock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


def health_of(clock, urls=(A, B), **options) -> HorizonHealth:
    return HorizonHealth(list(urls), clock=clock, wall_clock=lambda: 1_700_000_000.0 + clock.now, **options)


def stream_ledgers(health: HorizonHealth, clock: Clock, sequences: dict, ledgers: int, period: float = 1.0):
    """Each Horizon in `sequences` streams `ledgers` more ledgers, one a `period` (None: that one streams none)."""
    for _ in range(ledgers):
        clock.advance(period)
        for index, sequence in sequences.items():
            if sequence is not None:
                sequences[index] = sequence + 1
                health.ledger(index, sequences[index])


def test_the_first_horizon_is_active_and_a_healthy_one_stays(clock):
    health = health_of(clock)
    assert health.active == 0 and health.state(0) == (HEALTHY, "")
    assert health.order() == [0, 1] and health.evaluate() is None


def test_one_horizon_watches_no_ledgers_and_never_switches(clock):
    health = health_of(clock, urls=(A,))
    assert not health.watch_ledgers
    assert health.failed(0, "HTTP 503") is None
    assert health.state(0)[0] == FAILING and health.order() == [0] and health.submission_order() == []
    assert health.switches() == []


def test_a_failing_active_horizon_switches_at_once_and_the_switch_says_why_and_since_when(clock):
    heard = []
    health = health_of(clock)
    health.add_listener(heard.append)
    health.suspect(0)                     # a stream dropped: the first sign
    clock.advance(0.4)
    switch = health.failed(0, "ClientConnectorError: refused")
    assert switch is not None and health.active == 1
    assert (switch.from_url, switch.to_url) == (A, B)
    assert switch.reason == "failing: ClientConnectorError: refused"
    assert switch.fault_age_s == pytest.approx(0.4)
    assert heard == [switch] and health.switches() == [switch] and worst_switch_s([switch]) == pytest.approx(0.4)
    assert health.order() == [1, 0]


def test_a_failure_of_another_horizon_does_not_switch(clock):
    health = health_of(clock)
    assert health.failed(1, "HTTP 500") is None and health.active == 0


def test_a_failing_horizon_cools_down_longer_with_each_failure_in_a_row_and_an_answer_ends_it(clock):
    health = health_of(clock, cooldown_s=2.0, cooldown_cap_s=5.0)
    health.failed(1, "HTTP 503")
    clock.advance(1.9)
    assert health.state(1)[0] == FAILING
    clock.advance(0.2)
    assert health.state(1)[0] == HEALTHY
    health.failed(1, "HTTP 503")
    health.failed(1, "HTTP 503")          # the second in a row: 4 s
    clock.advance(3.9)
    assert health.state(1)[0] == FAILING
    health.failed(1, "HTTP 503")          # the third: 8 s, capped at 5
    clock.advance(5.1)
    assert health.state(1)[0] == HEALTHY
    health.failed(1, "HTTP 503")
    health.answered(1, 0.05)
    assert health.state(1)[0] == HEALTHY


def test_a_429_keeps_its_horizon_failing_for_its_retry_after_even_when_its_heartbeat_comes_back(clock):
    health = health_of(clock, cooldown_s=1.0)
    switch = health.failed(0, "HTTP 429", retry_after=30.0, rate_limited=True)
    assert switch is not None and switch.reason == "failing: HTTP 429"
    health.revived(0)
    clock.advance(29.0)
    assert health.state(0)[0] == FAILING
    clock.advance(1.1)
    assert health.state(0)[0] == HEALTHY
    assert health.snapshot()[0]["rate_limited"] == 1


def test_a_heartbeat_streaming_again_ends_a_failure(clock):
    health = health_of(clock, cooldown_s=30.0)
    health.failed(1, "ClientConnectorError")
    health.revived(1)
    assert health.state(1)[0] == HEALTHY


def test_a_horizon_lag_ledgers_behind_the_newest_is_lagging_and_left(clock):
    health = health_of(clock, lag_ledgers=3, min_silence_s=100.0)
    sequences = {0: 10, 1: 10}
    stream_ledgers(health, clock, sequences, 2)
    health.ledger(1, 15)                  # B ingests three more at once, A none
    assert health.state(0) == (LAGGING, "3 ledgers behind")
    switch = health.switches()[-1]
    assert (switch.from_url, switch.to_url) == (A, B) and switch.reason == "lagging: 3 ledgers behind"
    assert switch.fault_age_s == 0.0      # it fell behind with the ledger that made it 3 behind (same instant)


def test_the_fault_age_of_a_lag_counts_from_when_the_horizon_first_fell_behind(clock):
    health = health_of(clock, lag_ledgers=3, min_silence_s=100.0)
    health.ledger(0, 10)
    health.ledger(1, 10)
    for sequence in (11, 12, 13):         # B streams on, A stands still
        clock.advance(0.5)
        health.ledger(1, sequence)
    assert health.active == 1
    assert health.switches()[0].fault_age_s == pytest.approx(1.0)


def test_a_horizon_whose_ledgers_stop_while_the_others_stream_is_silent(clock):
    health = health_of(clock, lag_ledgers=100, silence_ledgers=3, min_silence_s=1.0, behind_s=1000.0)
    sequences = {0: 10, 1: 10}
    stream_ledgers(health, clock, sequences, 5, period=1.0)     # the period is learnt: 1 s, silence after 3 s
    sequences[0] = None
    stream_ledgers(health, clock, sequences, 3, period=1.0)
    assert health.state(0)[0] == HEALTHY                          # 3 s: not yet past it
    clock.advance(0.5)
    state, reason = health.state(0)
    assert state == SILENT and reason.startswith("no ledger for 3.5s")
    assert health.evaluate().reason.startswith("silent: ") and health.active == 1


def test_a_horizon_that_lacks_a_ledger_another_delivered_for_half_a_period_is_lagging(clock):
    # 5 s ledgers: 3 ledgers behind would take 15 s; a ledger 2.5 s late tells it.
    health = health_of(clock, lag_ledgers=3, min_silence_s=100.0)
    sequences = {0: 10, 1: 10}
    stream_ledgers(health, clock, sequences, 4, period=5.0)
    assert health.behind_s() == 2.5
    clock.advance(5.0)
    health.ledger(1, 15)                  # B has ledger 15, A not yet
    clock.advance(1.0)
    assert health.state(0) == (HEALTHY, "") and health.evaluate() is None   # a second late: Horizons differ so
    health.ledger(0, 15)
    clock.advance(5.0)
    health.ledger(1, 16)
    clock.advance(2.6)
    assert health.state(0) == (LAGGING, "2.6s without a ledger another Horizon has")
    switch = health.evaluate()
    assert (switch.to_url, switch.reason) == (B, "lagging: 2.6s without a ledger another Horizon has")
    assert switch.fault_age_s == pytest.approx(2.6)


def test_after_a_restart_a_horizon_that_streams_no_ledger_lags_once_another_delivered_two(clock):
    # Hummingbot restarts the network after a failed check: the heartbeats start again and forget what they heard.
    health = health_of(clock, lag_ledgers=3, min_silence_s=100.0)
    stream_ledgers(health, clock, {0: 10, 1: 10}, 4, period=5.0)
    health.start()
    clock.advance(0.5)
    health.ledger(1, 15)                  # only B streams after the restart
    clock.advance(3.0)
    assert health.state(0)[0] == HEALTHY  # its first ledger may just come late
    clock.advance(2.0)
    health.ledger(1, 16)
    clock.advance(2.6)
    assert health.state(0) == (LAGGING, "7.6s without a ledger another Horizon has")


def test_how_late_a_ledger_may_be_follows_the_ledger_period_within_bounds(clock):
    fast = health_of(clock, lag_ledgers=100)
    stream_ledgers(fast, clock, {0: 10, 1: 10}, 4, period=0.1)
    assert fast.behind_s() == 0.5
    slow = health_of(clock, lag_ledgers=100)
    stream_ledgers(slow, clock, {0: 10, 1: 10}, 4, period=2.0)
    assert slow.behind_s() == pytest.approx(1.0)
    assert health_of(clock).behind_s() == 2.5   # no period learnt yet


def test_when_every_horizon_stops_none_is_silent(clock):
    health = health_of(clock, lag_ledgers=100)
    stream_ledgers(health, clock, {0: 10, 1: 10}, 3)
    clock.advance(60.0)                                           # a stalled network: no ledger anywhere
    assert health.state(0)[0] == HEALTHY and health.state(1)[0] == HEALTHY and health.evaluate() is None


def test_a_horizon_that_never_streamed_a_ledger_is_silent_once_another_did(clock):
    health = health_of(clock, lag_ledgers=100, min_silence_s=1.0, max_silence_s=2.0)
    health.start()
    for _ in range(4):
        clock.advance(0.5)
        health.ledger(1, 10 + _)
    assert health.state(0)[0] == SILENT and health.active == 1


def test_a_slow_horizon_is_left_for_a_quick_one(clock):
    health = health_of(clock, slow_latency_s=2.0)
    health.answered(0, 5.0)
    assert health.state(0)[0] == SLOW
    assert health.evaluate().to_url == B


def test_the_active_horizon_stays_after_the_old_one_recovers_and_is_left_only_for_a_better_one(clock):
    health = health_of(clock, urls=(A, B, C), lag_ledgers=3, min_silence_s=100.0)
    health.failed(0, "HTTP 503")
    assert health.active == 1
    health.answered(0, 0.01)              # A answers again: B stays (no flapping)
    assert health.evaluate() is None and health.active == 1
    for sequence in (10, 11, 12, 13):     # B falls 3 behind A and C
        health.ledger(0, sequence)
        health.ledger(2, sequence)
    health.ledger(1, 10)
    assert health.active == 0             # the best: healthy, configured first


def test_no_switch_to_a_horizon_in_a_worse_state(clock):
    health = health_of(clock, lag_ledgers=3, min_silence_s=100.0)
    health.failed(1, "HTTP 503")
    for sequence in range(10, 14):
        health.ledger(1, sequence)
    health.ledger(0, 10)
    assert health.state(0)[0] == LAGGING and health.state(1)[0] == FAILING
    assert health.active == 0 and health.evaluate() is None
    assert health.order() == [0, 1]       # reads ask the lagging one before the failing one


def test_submissions_may_go_to_a_lagging_horizon_but_not_to_a_failing_one(clock):
    health = health_of(clock, urls=(A, B, C), lag_ledgers=3, min_silence_s=100.0)
    health.failed(0, "HTTP 503")
    for sequence in range(10, 14):
        health.ledger(2, sequence)
    health.ledger(1, 10)
    assert health.state(1)[0] == LAGGING
    assert health.active == 2 and health.submission_order() == [2, 1]
    health.failed(1, "timeout")
    health.failed(2, "timeout")
    assert health.submission_order() == []


def test_a_listener_that_fails_does_not_stop_the_switch_or_the_others(clock, caplog):
    health = health_of(clock)
    heard = []

    def broken(_switch):
        raise RuntimeError("bug")

    health.add_listener(broken)
    health.add_listener(heard.append)
    with caplog.at_level(logging.INFO):
        switch = health.failed(0, "HTTP 500")
    assert heard == [switch] and health.active == 1
    assert any("Switching Horizon from http://a to http://b" in r.getMessage() for r in caplog.records)
    health.remove_listener(heard.append)


def test_the_snapshot_shows_each_horizons_figures(clock):
    health = health_of(clock, lag_ledgers=5)
    health.answered(0, 0.2)
    health.answered(0, 0.4)
    health.failed(1, "HTTP 429", rate_limited=True)
    health.ledger(0, 12, closed_at=1_700_000_000.0 + clock.now - 3.0)
    health.ledger(1, 10)
    rows = health.snapshot()
    assert rows[0]["active"] and rows[0]["answers"] == 2 and rows[0]["latency_s"] == pytest.approx(0.26)
    assert rows[0]["ledger_age_s"] == pytest.approx(3.0) and rows[0]["ledgers_behind"] == 0
    assert rows[1]["state"] == FAILING and rows[1]["failures"] == 1 and rows[1]["ledgers_behind"] == 2


def test_a_429s_retry_after_replaces_the_cooldown(clock):
    health = health_of(clock, cooldown_s=10.0)
    health.failed(1, "HTTP 429", retry_after=1.0, rate_limited=True)
    clock.advance(1.1)
    assert health.state(1)[0] == HEALTHY      # Horizon said when to come back: no longer


def test_heartbeats_started_again_forget_the_ledgers_heard_before(clock):
    health = health_of(clock, lag_ledgers=3, min_silence_s=1.0)
    stream_ledgers(health, clock, {0: 10, 1: 10}, 3)
    clock.advance(600.0)                  # the network was stopped (Hummingbot restarts it after a blip)
    health.start()
    health.ledger(1, 500)                 # B's first ledger a moment before A's: A is neither behind nor silent
    assert health.state(0)[0] == HEALTHY and health.active == 0
    health.ledger(0, 500)
    assert health.evaluate() is None
