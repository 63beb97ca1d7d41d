import asyncio
import time

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from hummingbot.core.web_assistant.connections.data_types import RESTMethod

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth

SANDBOX_URL = "http://127.0.0.1:8000"


def test_public_rest_url_per_domain():
    assert web_utils.public_rest_url(CONSTANTS.ORDER_BOOK_PATH) == "https://horizon.stellar.org/order_book"
    assert web_utils.public_rest_url(CONSTANTS.FEE_STATS_PATH, CONSTANTS.TESTNET_DOMAIN) == \
        "https://horizon-testnet.stellar.org/fee_stats"


def test_public_rest_url_with_override():
    assert web_utils.public_rest_url("/ledgers", horizon_url=SANDBOX_URL + "/") == SANDBOX_URL + "/ledgers"
    assert web_utils.public_rest_url("ledgers", horizon_url=SANDBOX_URL) == SANDBOX_URL + "/ledgers"
    assert web_utils.public_rest_url("/ledgers", horizon_url="  ") == "https://horizon.stellar.org/ledgers"
    path = CONSTANTS.TRANSACTION_PATH.format(tx_hash="ab" * 32)
    assert web_utils.public_rest_url(path, horizon_url=SANDBOX_URL) == f"{SANDBOX_URL}/transactions/{'ab' * 32}"


def test_unknown_domain_without_url_is_a_clear_error():
    with pytest.raises(ValueError, match="stellar_horizon_url"):
        web_utils.public_rest_url("/", domain="sandbox")


def test_rate_limits_link_every_path_to_one_pool_of_sdfs_budget():
    limits = {limit.limit_id: limit for limit in CONSTANTS.RATE_LIMITS}
    pool = limits[CONSTANTS.HORIZON_REQUESTS_POOL]
    assert (pool.limit, pool.time_interval) == (60, 60)   # 3,600 an hour
    for path in CONSTANTS.ALL_PATHS:
        assert [linked.limit_id for linked in limits[path].linked_limits] == [CONSTANTS.HORIZON_REQUESTS_POOL]
    assert CONSTANTS.ACCOUNT_PATH in limits and CONSTANTS.TRANSACTIONS_ASYNC_PATH in limits


def test_every_path_constant_has_its_rate_limit():
    paths = {name: value for name, value in vars(CONSTANTS).items() if name.endswith("_PATH")}
    assert len(paths) >= 10
    assert set(CONSTANTS.ALL_PATHS) == set(paths.values())
    assert len(CONSTANTS.ALL_PATHS) == len(set(CONSTANTS.ALL_PATHS))
    limit_ids = {limit.limit_id for limit in CONSTANTS.build_rate_limits(3600)}
    assert set(paths.values()) <= limit_ids


def test_build_rate_limits_is_configurable():
    limits = {limit.limit_id: limit for limit in CONSTANTS.build_rate_limits(6000)}
    assert (limits[CONSTANTS.HORIZON_REQUESTS_POOL].limit, limits[CONSTANTS.HORIZON_REQUESTS_POOL].time_interval) \
        == (100, 60)
    with pytest.raises(ValueError):
        CONSTANTS.build_rate_limits(0)


@pytest.mark.parametrize("per_hour, expected", [
    (3600, (60, 60)),            # SDF's public budget: 60 a minute
    (100, (1, 60)),              # a tiny budget still allows one request a window
    (360_000, (6000, 60)),
    (3_600_000, (1000, 1)),      # a local Horizon's large budget: per second, so the throttler's log stays short
])
def test_hourly_budgets_are_declared_over_short_windows(per_hour, expected):
    assert CONSTANTS.rate_limit_window(per_hour) == expected
    limit, window = expected
    assert limit * CONSTANTS.ONE_HOUR // window <= max(per_hour, CONSTANTS.ONE_HOUR // window)   # never above budget


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000", "http://127.1.2.3", "http://localhost", "http://LOCALHOST:8000/", "http://localhost.",
    "http://api.localhost", "http://[::1]:8000", "http://[::ffff:127.0.0.1]:8000", "http://10.0.0.5:8000",
    "http://172.16.0.1", "http://172.31.255.255", "http://192.168.1.20:8000", "http://[fd12:3456::1]",
    "http://[fe80::1]", "http://169.254.1.1",
])
def test_a_horizon_on_this_machine_or_a_private_network_gets_the_large_budget(url):
    assert web_utils.requests_per_hour_for(url) == CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR


@pytest.mark.parametrize("url", [
    "https://horizon.stellar.org", "https://horizon-testnet.stellar.org",
    "https://horizon.example-provider.io/api/key123",      # a third party's public Horizon
    "https://127.example.com", "https://localhost.example.com", "http://8.8.8.8:8000", "http://172.32.0.1",
    "http://[2001:4860:4860::8888]", "http://[::ffff:8.8.8.8]", "http://horizon.lan", "",
])
def test_every_other_horizon_gets_the_public_budget(url):
    assert web_utils.requests_per_hour_for(url) == CONSTANTS.PUBLIC_HORIZON_REQUESTS_PER_HOUR == 3600


def pool_of(limits):
    pool = next(limit for limit in limits if limit.limit_id == CONSTANTS.HORIZON_REQUESTS_POOL)
    return pool.limit, pool.time_interval


def test_rate_limits_for_the_domains_horizon_are_the_public_ones():
    assert web_utils.rate_limits_for(None) is CONSTANTS.RATE_LIMITS
    assert web_utils.rate_limits_for("  ", CONSTANTS.TESTNET_DOMAIN) is CONSTANTS.RATE_LIMITS
    assert web_utils.rate_limits_for("https://horizon.stellar.org/", CONSTANTS.DEFAULT_DOMAIN) is CONSTANTS.RATE_LIMITS


def test_rate_limits_for_a_third_party_public_horizon_are_the_public_ones():
    limits = web_utils.rate_limits_for("https://horizon.example-provider.io", CONSTANTS.DEFAULT_DOMAIN)
    assert pool_of(limits) == CONSTANTS.rate_limit_window(3600) == (60, 60)


@pytest.mark.parametrize("url", [SANDBOX_URL, "http://192.168.1.20:8000", "http://localhost:8000"])
def test_rate_limits_for_a_local_or_private_horizon_hold_the_large_budget(url):
    limits = web_utils.rate_limits_for(url, CONSTANTS.DEFAULT_DOMAIN)
    assert pool_of(limits) == CONSTANTS.rate_limit_window(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR)
    assert {limit.limit_id for limit in limits} == {limit.limit_id for limit in CONSTANTS.RATE_LIMITS}


def test_rate_limits_for_an_unknown_domain_without_url_is_a_clear_error():
    with pytest.raises(ValueError, match="stellar_horizon_url"):
        web_utils.rate_limits_for(None, "sandbox")
    assert pool_of(web_utils.rate_limits_for(SANDBOX_URL, "sandbox"))[1] == CONSTANTS.LARGE_BUDGET_WINDOW_S


async def test_paths_share_the_pool():
    throttler = web_utils.create_throttler(CONSTANTS.build_rate_limits(120))   # 2 a minute
    async with throttler.execute_task(CONSTANTS.ORDER_BOOK_PATH):
        pass
    async with throttler.execute_task(CONSTANTS.ACCOUNT_PATH):
        pass

    async def third_request():
        async with throttler.execute_task(CONSTANTS.FEE_STATS_PATH):
            pass

    with pytest.raises(asyncio.TimeoutError):   # the pool is spent for the minute, whatever the path
        await asyncio.wait_for(third_request(), timeout=0.2)


async def test_api_factory_requests_go_through_throttler_and_auth():
    seen = []

    async def fee_stats(request: web.Request) -> web.Response:
        seen.append((request.path, dict(request.query), request.headers.get("Authorization")))
        return web.json_response({"last_ledger_base_fee": "100"})

    app = web.Application()
    app.router.add_get(CONSTANTS.FEE_STATS_PATH, fee_stats)
    auth = StellarAuth("SCZANGBA5YHTNYVVV4C3U252E2B6P6F5T3U6MM63WBSBZATAQI3EBTQ4")
    factory = web_utils.build_api_factory(auth=auth)
    assert factory.auth is auth
    async with TestServer(app, host="127.0.0.1") as server:
        try:
            rest = await factory.get_rest_assistant()
            url = web_utils.public_rest_url(CONSTANTS.FEE_STATS_PATH, horizon_url=str(server.make_url("")))
            answer = await rest.execute_request(url=url, method=RESTMethod.GET, params={"x": "1"},
                                                is_auth_required=True, throttler_limit_id=CONSTANTS.FEE_STATS_PATH)
        finally:
            await ConnectionsFactory().close()
    assert answer == {"last_ledger_base_fee": "100"}
    assert seen == [(CONSTANTS.FEE_STATS_PATH, {"x": "1"}, None)]


async def test_server_time_is_local_time():
    before = time.time()
    server_time = await web_utils.get_current_server_time()
    assert before <= server_time <= time.time()


def test_result_codes_have_messages():
    for code in ("op_underfunded", "op_low_reserve", "op_cross_self", "op_no_trust", "op_offer_not_found",
                 "op_line_full", "op_malformed", "op_sell_no_trust", "op_buy_no_trust", "tx_bad_seq",
                 "tx_insufficient_fee", "tx_too_late", "tx_bad_auth", "tx_insufficient_balance"):
        message = CONSTANTS.result_code_message(code)
        assert message and not message.startswith("Unknown")
    assert "op_made_up" in CONSTANTS.result_code_message("op_made_up")


def test_network_constants():
    assert CONSTANTS.NETWORK_PASSPHRASES[CONSTANTS.DEFAULT_DOMAIN] == "Public Global Stellar Network ; September 2015"
    assert CONSTANTS.NETWORK_PASSPHRASES[CONSTANTS.TESTNET_DOMAIN] == "Test SDF Network ; September 2015"
    assert CONSTANTS.ACCOUNT_PATH.format(account_id="GX") == "/accounts/GX"
    assert CONSTANTS.STROOPS_PER_UNIT == 10 ** CONSTANTS.DECIMALS
