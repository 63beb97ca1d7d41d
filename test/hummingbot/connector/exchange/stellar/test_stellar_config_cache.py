import asyncio

import pytest

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_config_cache import (
    ConfigCache,
    blank_to_none,
    resolve_network_settings,
)
from test.waiting import wait_until

FEE_STATS = {
    "last_ledger": "1234",
    "last_ledger_base_fee": "100",
    "ledger_capacity_usage": "0.97",
    "fee_charged": {"max": "5000", "min": "100", "mode": "100", "p10": "100", "p50": "150",
                    "p70": "300", "p90": "900", "p99": "5000"},
    "max_fee": {"max": "100000", "min": "100", "mode": "100", "p70": "1000"},
}
LEDGERS_PAGE = {"_embedded": {"records": [
    {"sequence": 1235, "base_fee_in_stroops": 100, "base_reserve_in_stroops": 5000000},
]}}


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class FakeHorizon:
    """Answers fetch_json(path, params=None) like Horizon would, and remembers the calls."""

    def __init__(self, fee_stats=FEE_STATS, ledgers=LEDGERS_PAGE):
        self.answers = {CONSTANTS.FEE_STATS_PATH: fee_stats, CONSTANTS.LEDGERS_PATH: ledgers}
        self.calls = []

    async def __call__(self, path, params=None):
        self.calls.append((path, params))
        return self.answers[path]


def test_network_settings_come_from_the_domain():
    public = resolve_network_settings("stellar")
    assert public.horizon_url == "https://horizon.stellar.org"
    assert public.network_passphrase == "Public Global Stellar Network ; September 2015"
    testnet = resolve_network_settings("stellar_testnet")
    assert testnet.network_passphrase == "Test SDF Network ; September 2015"
    assert testnet.rpc_url == "https://soroban-testnet.stellar.org"


def test_overrides_win_and_blanks_mean_default():
    settings = resolve_network_settings("stellar", horizon_url="http://127.0.0.1:8000/",
                                        network_passphrase=CONSTANTS.SANDBOX_PASSPHRASE, rpc_url="  ")
    assert settings.horizon_url == "http://127.0.0.1:8000"
    assert settings.network_passphrase == CONSTANTS.SANDBOX_PASSPHRASE
    assert settings.rpc_url is None
    assert resolve_network_settings("stellar", horizon_url="", network_passphrase=None).horizon_url == \
        "https://horizon.stellar.org"


@pytest.mark.parametrize("value, expected", [
    (None, None), ("", None), ("   ", None), ("\t\n", None), (" x ", "x"), ("x", "x"), (0, 0), (5, 5), (False, False),
])
def test_blank_to_none(value, expected):
    assert blank_to_none(value) == expected
    assert type(blank_to_none(value)) is type(expected)


def test_unknown_domain_needs_overrides():
    with pytest.raises(ValueError, match="stellar_horizon_url"):
        resolve_network_settings("sandbox")
    settings = resolve_network_settings("sandbox", "http://127.0.0.1:1", CONSTANTS.SANDBOX_PASSPHRASE)
    assert settings.domain == "sandbox"


def test_defaults_before_any_refresh():
    cache = ConfigCache("stellar")
    assert cache.needs_refresh()
    assert cache.base_fee_stroops == CONSTANTS.BASE_FEE_STROOPS
    assert cache.base_reserve_stroops == CONSTANTS.BASE_RESERVE_STROOPS
    assert cache.fee_per_op(10_000) == CONSTANTS.BASE_FEE_STROOPS
    assert cache.last_ledger is None


async def test_refresh_reads_fee_stats_and_latest_ledger():
    horizon = FakeHorizon()
    cache = ConfigCache("stellar")
    await cache.refresh(horizon)
    assert horizon.calls == [(CONSTANTS.FEE_STATS_PATH, None),
                             (CONSTANTS.LEDGERS_PATH, {"order": "desc", "limit": 1})]
    assert not cache.needs_refresh()
    assert cache.base_fee_stroops == 100
    assert cache.base_reserve_stroops == 5_000_000
    assert cache.last_ledger == 1235
    assert cache.fee_per_op(10_000) == 301          # p70 of fees charged, above the base fee: one stroop more


async def test_fee_per_op_is_capped_and_floored():
    cache = ConfigCache("stellar")
    await cache.refresh(FakeHorizon())
    assert cache.fee_per_op(200) == 200
    low = dict(FEE_STATS, last_ledger_base_fee="500")
    await cache.refresh(FakeHorizon(fee_stats=low))
    assert cache.fee_per_op(10_000) == 500           # never below the base fee


async def test_percentile_is_configurable():
    cache = ConfigCache("stellar", fee_percentile=90)
    await cache.refresh(FakeHorizon())
    assert cache.fee_per_op(10_000) == 901


async def test_fee_figures_expire_after_the_ttl_the_reserve_after_the_slow_ttl_and_stale_values_answer():
    clock = FakeClock()
    cache = ConfigCache("stellar", ttl_seconds=30, slow_ttl_seconds=600, timer=clock)
    reserve_page = {"_embedded": {"records": [{"sequence": 9, "base_fee_in_stroops": 100,
                                               "base_reserve_in_stroops": 1_000_000}]}}
    await cache.refresh(FakeHorizon(ledgers=reserve_page))
    clock.now += 10
    assert not cache.needs_refresh()
    hits_before = cache.hits
    assert cache.base_fee_stroops == 100 and cache.base_reserve_stroops == 1_000_000
    assert cache.hits == hits_before + 2
    clock.now += 30
    assert cache.needs_refresh()
    misses_before, hits_before = cache.misses, cache.hits
    assert cache.base_fee_stroops == 100               # last known, not the protocol default
    assert cache.base_reserve_stroops == 1_000_000      # still fresh: reserves change by network vote
    assert (cache.misses, cache.hits) == (misses_before + 1, hits_before + 1)
    clock.now += 600
    assert cache.base_reserve_stroops == 1_000_000     # expired: the last known value still answers
    assert cache.misses == misses_before + 2


async def test_an_expired_read_starts_one_background_refresh_and_the_ledger_is_read_only_when_due():
    clock = FakeClock()
    horizon = FakeHorizon()
    cache = ConfigCache("stellar", ttl_seconds=30, slow_ttl_seconds=600, timer=clock)
    assert cache.fee_per_op(10_000) == CONSTANTS.BASE_FEE_STROOPS   # nothing attached: defaults, no read
    cache.attach(horizon)
    for _ in range(5):
        cache.fee_per_op(10_000)                       # expired reads while one refresh runs start no other
    await wait_until(lambda: cache.fee_per_op(10_000) == 301, what="the background refresh")
    assert horizon.calls == [(CONSTANTS.FEE_STATS_PATH, None),
                             (CONSTANTS.LEDGERS_PATH, {"order": "desc", "limit": 1})]
    clock.now += 31                                    # fee figures expired, the reserve still fresh
    cache.fee_per_op(10_000)
    await wait_until(lambda: len(horizon.calls) == 3, what="the second refresh")
    assert horizon.calls[2] == (CONSTANTS.FEE_STATS_PATH, None)


async def test_single_ledger_record_is_accepted():
    cache = ConfigCache("stellar")
    cache.update_latest_ledger({"sequence": "7", "base_reserve_in_stroops": "2500000"})
    assert cache.base_reserve_stroops == 2_500_000 and cache.last_ledger == 7


@pytest.mark.parametrize("bad", [{}, {"last_ledger_base_fee": "x"}, {"last_ledger_base_fee": "100", "fee_charged": 5}])
def test_malformed_fee_stats_are_a_clear_error(bad):
    with pytest.raises(ValueError, match="fee_stats"):
        ConfigCache("stellar").update_fee_stats(bad)


def test_malformed_ledgers_are_a_clear_error():
    cache = ConfigCache("stellar")
    with pytest.raises(ValueError, match="no record"):
        cache.update_latest_ledger({"_embedded": {"records": []}})
    with pytest.raises(ValueError, match="ledger record"):
        cache.update_latest_ledger({"sequence": 1})


def test_minimum_balance_follows_the_base_reserve():
    cache = ConfigCache("stellar")
    cache.update_latest_ledger({"sequence": 1, "base_reserve_in_stroops": 5_000_000})
    assert cache.minimum_balance_stroops(subentries=3) == 25_000_000
    assert cache.minimum_balance_stroops(subentries=3, sponsored=1) == 20_000_000


def test_account_thresholds_are_cached_per_account():
    clock = FakeClock()
    cache = ConfigCache("stellar", ttl_seconds=5, timer=clock)
    assert cache.account_thresholds("GA") is None
    cache.set_account_thresholds("GA", {"low_threshold": 0, "med_threshold": 1, "high_threshold": 2})
    assert cache.account_thresholds("GA")["med_threshold"] == 1
    assert cache.account_thresholds("GB") is None


def test_cache_is_bounded():
    cache = ConfigCache("stellar", maxsize=3)
    for i in range(10):
        cache.set_account_thresholds(f"G{i}", {"med_threshold": i})
    assert len(cache._fresh) <= 3


async def test_a_failing_refresh_is_not_retried_at_every_read_but_after_a_growing_wait():
    clock = FakeClock()
    calls = []

    async def failing(path, params=None):
        calls.append(path)
        raise OSError("Horizon is down")

    cache = ConfigCache("stellar", ttl_seconds=30, timer=clock)
    cache.attach(failing)
    cache.fee_per_op(10_000)
    await wait_until(lambda: cache._refreshing.done(), what="the failed refresh")
    for _ in range(100):
        cache.fee_per_op(10_000)                # expired reads during the wait start nothing
    await asyncio.sleep(0)
    assert calls == [CONSTANTS.FEE_STATS_PATH]
    clock.now += 61                             # past the longest first wait
    cache.fee_per_op(10_000)
    await wait_until(lambda: len(calls) == 2, what="the retry after the wait")


def surge_stats(p70: int) -> dict:
    return dict(FEE_STATS, fee_charged=dict(FEE_STATS["fee_charged"], p70=str(p70)))


async def test_the_bid_is_the_base_fee_without_a_surge_and_one_stroop_over_it_during_one():
    cache = ConfigCache("stellar")
    await cache.refresh(FakeHorizon(fee_stats=surge_stats(100)))
    assert cache.fee_per_op(10_000) == 100           # ledgers not full: everyone paid the base fee
    await cache.refresh(FakeHorizon(fee_stats=surge_stats(5000)))
    assert cache.fee_per_op(10_000) == 5001          # full: a tie with the cheapest included is not enough
    assert cache.fee_per_op(2000) == 2000            # within the user's maximum


async def test_a_fee_read_counts_one_hit_while_fresh_and_one_miss_after_the_ttl():
    clock = FakeClock()
    cache = ConfigCache("stellar", ttl_seconds=30, timer=clock)
    await cache.refresh(FakeHorizon())
    hits, misses = cache.hits, cache.misses
    cache.fee_per_op(10_000)
    assert (cache.hits, cache.misses) == (hits + 1, misses)
    clock.now += 30
    assert cache.fee_per_op(10_000) == 301           # expired: the last known bid still answers
    assert (cache.hits, cache.misses) == (hits + 1, misses + 1)


async def test_refresh_fees_now_reads_at_once_unless_the_figures_are_younger_than_min_age():
    clock = FakeClock()
    horizon = FakeHorizon()
    cache = ConfigCache("stellar", timer=clock)
    assert not await cache.refresh_fees_now()        # nothing attached: nothing read
    cache.attach(horizon)
    assert await cache.refresh_fees_now()
    assert [path for path, _ in horizon.calls].count(CONSTANTS.FEE_STATS_PATH) == 1
    clock.now += CONSTANTS.FEE_FIGURES_MIN_AGE_S - 1
    assert await cache.refresh_fees_now()            # read within the last ledger: not again
    assert [path for path, _ in horizon.calls].count(CONSTANTS.FEE_STATS_PATH) == 1
    horizon.answers[CONSTANTS.FEE_STATS_PATH] = surge_stats(2000)
    clock.now += 1
    assert await cache.refresh_fees_now()
    assert [path for path, _ in horizon.calls].count(CONSTANTS.FEE_STATS_PATH) == 2
    assert cache.fee_per_op(10_000) == 2001


class FakeSleeps:
    """keep_fresh's sleep: moves the fake clock on instead of waiting, and stops the loop after `limit` sleeps."""

    def __init__(self, clock: FakeClock, limit: int):
        self.clock, self.limit, self.delays = clock, limit, []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if len(self.delays) > self.limit:
            raise asyncio.CancelledError
        self.clock.now += delay
        await asyncio.sleep(0)


async def test_keep_fresh_reads_the_fee_figures_at_once_then_a_little_before_they_expire():
    clock = FakeClock()
    horizon = FakeHorizon()
    cache = ConfigCache("stellar", ttl_seconds=300, slow_ttl_seconds=3600, timer=clock)
    cache.attach(horizon)
    sleeps = FakeSleeps(clock, limit=12)
    with pytest.raises(asyncio.CancelledError):
        await cache.keep_fresh(sleep=sleeps)
    fee_reads = [path for path, _ in horizon.calls if path == CONSTANTS.FEE_STATS_PATH]
    assert len(fee_reads) == 13                       # at once, then once per sleep: 12 an hour
    assert sleeps.delays == [290.0] * 13              # 10 s before the 300 s TTL runs out (the last one: stopped)
    assert [path for path, _ in horizon.calls].count(CONSTANTS.LEDGERS_PATH) == 1   # the reserve: hourly
    misses = cache.misses
    cache.fee_per_op(10_000)
    assert cache.misses == misses                     # never found expired


async def test_keep_fresh_waits_for_the_backoff_after_a_failed_read_and_needs_attach():
    clock = FakeClock()
    calls = []

    async def failing(path, params=None):
        calls.append(path)
        raise OSError("Horizon is down")

    cache = ConfigCache("stellar", timer=clock)
    with pytest.raises(RuntimeError, match="attach"):
        await cache.keep_fresh()
    cache.attach(failing)
    sleeps = FakeSleeps(clock, limit=3)
    with pytest.raises(asyncio.CancelledError):
        await cache.keep_fresh(sleep=sleeps)
    assert len(calls) == 4                            # a read after each backoff, never in a busy loop
    assert all(0 < delay <= 60 for delay in sleeps.delays)


async def test_start_keeping_fresh_runs_one_loop_until_stopped():
    horizon = FakeHorizon()
    cache = ConfigCache("stellar")
    cache.attach(horizon)
    cache.start_keeping_fresh()
    cache.start_keeping_fresh()                       # no second loop
    await wait_until(lambda: not cache.needs_refresh(), what="the first read")
    keeper = cache._keeper
    cache.stop_keeping_fresh()
    await asyncio.sleep(0)
    assert keeper.cancelled() and cache._keeper is None
    assert [path for path, _ in horizon.calls].count(CONSTANTS.FEE_STATS_PATH) == 1
