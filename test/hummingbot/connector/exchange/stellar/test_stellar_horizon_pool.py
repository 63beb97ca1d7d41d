"""HorizonPool over stand-in Horizons: where each call goes, what fails over, and when the Stellar RPC takes over.
Also the pieces it stands on: per-Horizon rate limits, several URLs in the settings, the RPC's answers mapped
to Horizon's shapes, and HorizonApi's own limit ids and Retry-After."""
from decimal import Decimal
from typing import Any, Dict, List

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_config_cache import resolve_network_settings, split_urls
from hummingbot.connector.exchange.stellar.stellar_horizon_api import HorizonApi, HorizonError, HorizonUnavailableError
from hummingbot.connector.exchange.stellar.stellar_horizon_health import HorizonHealth
from hummingbot.connector.exchange.stellar.stellar_horizon_pool import HorizonPool
from hummingbot.connector.exchange.stellar.stellar_rpc import StellarRpc, StellarRpcError
from hummingbot.connector.exchange.stellar.stellar_sse import SSEStreamError
from hummingbot.connector.exchange.stellar.stellar_utils import validate_horizon_urls
from test.hummingbot.connector.exchange.stellar.aioresponses_compat import aioresponses

A, B = "http://127.0.0.1:8001", "http://127.0.0.1:8002"
TX_HASH = "cd" * 32
PENDING = {"tx_status": "PENDING", "hash": TX_HASH}


def refused() -> aiohttp.ClientConnectorError:
    return aiohttp.ClientConnectorError(ConnectionKey("127.0.0.1", 8001, False, True, None, None, None),
                                        ConnectionRefusedError(111, "Connection refused"))


class StandIn:
    """A Horizon client with HorizonApi's methods; `script[name]` lists its answers (an exception is raised),
    the last one repeated."""

    def __init__(self, url: str, **script: List[Any]):
        self.horizon_url = url
        self.script = script
        self.calls: List[tuple] = []
        self.budget = None

    def url(self, path: str) -> str:
        return self.horizon_url + path

    def limit_id(self, limit_id: str) -> str:
        return limit_id

    async def _answer(self, name: str, *args: Any) -> Any:
        self.calls.append((name, *args))
        answers = self.script.get(name) or [None]
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def get_json(self, path, params=None, limit_id=None, path_template=None):
        return await self._answer("get_json", path)

    async def request(self, path, params=None, limit_id=None, path_template=None):
        return await self._answer("request", path)

    async def get_account(self, account_id):
        return await self._answer("get_account", account_id)

    async def get_transaction(self, tx_hash):
        return await self._answer("get_transaction", tx_hash)

    async def get_latest_ledger(self):
        return await self._answer("get_latest_ledger")

    async def transaction_after(self, tx_hash, after):
        return await self._answer("transaction_after", tx_hash, after)

    async def submit_transaction_async(self, envelope_xdr):
        return await self._answer("submit_transaction_async", envelope_xdr)


class StandInRpc:
    url = "http://127.0.0.1:8003/rpc"

    def __init__(self):
        self.calls: List[tuple] = []

    async def submit_transaction_async(self, envelope_xdr):
        self.calls.append(("sendTransaction", envelope_xdr))
        return {"tx_status": "PENDING", "hash": TX_HASH}

    async def transaction_after(self, tx_hash, after=None):
        self.calls.append(("getTransaction", tx_hash, after))
        return 1_700_000_100.0, {"hash": tx_hash, "ledger": 7, "successful": True}


def pool_of(a: StandIn, b: StandIn, rpc=None) -> HorizonPool:
    return HorizonPool([A, B], health=HorizonHealth([A, B])).attach(None, rpc, members=[a, b])


# ----- reads -----

async def test_a_read_failing_on_the_active_horizon_goes_to_the_next_at_once_and_later_reads_stay_there():
    a = StandIn(A, get_account=[refused()])
    b = StandIn(B, get_account=[{"id": "G1"}])
    pool = pool_of(a, b)
    assert await pool.get_account("G1") == {"id": "G1"}
    assert pool.active_url == B and pool.url("/ledgers") == B + "/ledgers"
    switch = pool.switches()[0]
    assert (switch.from_url, switch.to_url) == (A, B) and "ClientConnectorError" in switch.reason
    await pool.get_account("G1")
    assert len(a.calls) == 1 and len(b.calls) == 2


@pytest.mark.parametrize("error", [HorizonError("GET", "/accounts/G1", 429, {}, retry_after=30.0),
                                   HorizonUnavailableError("GET", "/accounts/G1", 503, {}),
                                   TimeoutError()])
async def test_429_5xx_and_timeouts_fail_over(error):
    pool = pool_of(StandIn(A, get_account=[error]), StandIn(B, get_account=[{"id": "G1"}]))
    assert await pool.get_account("G1") == {"id": "G1"} and pool.active_url == B


async def test_an_answer_such_as_a_404_is_no_failover():
    missing = HorizonError("GET", "/accounts/G1", 404, {"title": "Resource Missing"})
    b = StandIn(B, get_account=[{"id": "G1"}])
    pool = pool_of(StandIn(A, get_account=[missing]), b)
    with pytest.raises(HorizonError):
        await pool.get_account("G1")
    assert pool.active_url == A and b.calls == []


async def test_a_read_every_horizon_fails_raises_the_last_error():
    pool = pool_of(StandIn(A, get_json=[refused()]), StandIn(B, get_json=[TimeoutError()]))
    with pytest.raises(TimeoutError):
        await pool.get_json("/fee_stats")


async def test_request_fails_over_on_429_and_5xx_answers_and_returns_the_last_when_all_fail():
    pool = pool_of(StandIn(A, request=[(503, {})]), StandIn(B, request=[(200, {"ok": 1})]))
    assert await pool.request("/") == (200, {"ok": 1}) and pool.active_url == B
    pool = pool_of(StandIn(A, request=[(429, {"a": 1})]), StandIn(B, request=[(500, {"b": 1})]))
    assert await pool.request("/") == (500, {"b": 1})


# ----- submissions -----

async def test_a_submission_refused_unread_goes_to_the_next_horizon_at_once():
    a = StandIn(A, submit_transaction_async=[refused()])
    b = StandIn(B, submit_transaction_async=[PENDING])
    pool = pool_of(a, b)
    assert await pool.submit_transaction_async("AAAA") == PENDING
    pool = pool_of(StandIn(A, submit_transaction_async=[HorizonError("POST", "/transactions_async", 429, {})]),
                   StandIn(B, submit_transaction_async=[PENDING]))
    assert await pool.submit_transaction_async("AAAA") == PENDING


@pytest.mark.parametrize("error", [TimeoutError(), aiohttp.ServerDisconnectedError(),
                                   HorizonUnavailableError("POST", "/transactions_async", 504, {})])
async def test_a_submission_of_unknown_outcome_is_raised_and_the_same_envelope_goes_to_the_next_after(error):
    a = StandIn(A, submit_transaction_async=[error])
    b = StandIn(B, submit_transaction_async=[PENDING])
    pool = pool_of(a, b)
    with pytest.raises(type(error)):   # it may be in stellar-core: the pipeline decides, with maybe_in_core set
        await pool.submit_transaction_async("AAAA")
    assert b.calls == [] and pool.active_url == B
    assert await pool.submit_transaction_async("AAAA") == PENDING and b.calls == [("submit_transaction_async", "AAAA")]


async def test_a_rejection_is_an_answer():
    rejected = {"tx_status": "ERROR", "error_result_xdr": "AAAA"}
    b = StandIn(B)
    pool = pool_of(StandIn(A, submit_transaction_async=[rejected]), b)
    assert await pool.submit_transaction_async("AAAA") == rejected and b.calls == [] and pool.active_url == A


async def test_with_every_horizon_failing_the_rpc_carries_submissions_and_resolves_them():
    rpc = StandInRpc()
    a = StandIn(A, submit_transaction_async=[refused()], get_transaction=[refused()])
    b = StandIn(B, submit_transaction_async=[refused()], get_transaction=[refused()])
    pool = pool_of(a, b, rpc)
    assert await pool.submit_transaction_async("AAAA") == PENDING and pool.rpc_submissions == 1
    horizon_calls = len(a.calls) + len(b.calls)
    assert await pool.submit_transaction_async("AAAA") == PENDING     # both failing now: straight to the RPC
    assert (await pool.get_transaction(TX_HASH))["ledger"] == 7
    assert await pool.transaction_after(TX_HASH, 1_700_000_000.0) == (1_700_000_100.0, {
        "hash": TX_HASH, "ledger": 7, "successful": True})
    assert len(a.calls) + len(b.calls) == horizon_calls
    assert [call[0] for call in rpc.calls] == ["sendTransaction", "sendTransaction", "getTransaction", "getTransaction"]


async def test_a_lookup_every_horizon_fails_goes_to_the_rpc():
    rpc = StandInRpc()
    pool = pool_of(StandIn(A, get_transaction=[refused()]), StandIn(B, get_transaction=[TimeoutError()]), rpc)
    assert (await pool.get_transaction(TX_HASH))["ledger"] == 7 and rpc.calls == [("getTransaction", TX_HASH, None)]


async def test_without_an_rpc_failing_horizons_are_asked_all_the_same():
    a = StandIn(A, submit_transaction_async=[refused(), PENDING])
    b = StandIn(B, submit_transaction_async=[refused()])
    pool = pool_of(a, b)
    with pytest.raises(aiohttp.ClientConnectorError):
        await pool.submit_transaction_async("AAAA")
    assert pool.health.submission_order() == []
    assert await pool.submit_transaction_async("AAAA") == PENDING   # A is back


async def test_the_expiry_lookup_reads_the_ledger_and_the_hash_from_one_horizon():
    a = StandIn(A, transaction_after=[refused()])
    b = StandIn(B, transaction_after=[(1_700_000_050.0, None)])
    pool = pool_of(a, b)
    assert await pool.transaction_after(TX_HASH, 1_700_000_000.0) == (1_700_000_050.0, None)
    assert b.calls == [("transaction_after", TX_HASH, 1_700_000_000.0)]


# ----- streams and heartbeats -----

def test_stream_errors_mark_the_horizon_they_came_from():
    pool = pool_of(StandIn(A), StandIn(B))
    pool.stream_error(A + "/accounts/G1", aiohttp.ClientPayloadError("reset"), dropped=True)   # a sign only
    assert pool.active_url == A
    pool.stream_error(A + "/accounts/G1", SSEStreamError("HTTP 404 Not Found", 404), dropped=False)
    assert pool.active_url == A
    pool.stream_error(B + "/ledgers", SSEStreamError("HTTP 503", 503), dropped=False)
    assert pool.active_url == A and pool.health.state(1)[0] == "failing"
    pool.health.answered(1, 0.01)
    pool.stream_error("http://elsewhere/x", refused(), dropped=False)
    pool.stream_error(A + "/order_book", refused(), dropped=False)
    assert pool.active_url == B


def test_listeners_hear_the_url_to_be_on():
    pool = pool_of(StandIn(A), StandIn(B))
    heard = []
    pool.add_switch_listener(heard.append)
    pool.stream_error(A + "/ledgers", refused(), dropped=False)
    assert heard == [B]


async def test_one_horizon_starts_no_heartbeat():
    pool = HorizonPool([A]).attach(web_utils.build_api_factory(), None)
    pool.start()
    assert pool._session is None and pool._tasks == []
    await pool.stop()


# ----- rate limits, budgets, settings -----

def test_each_horizon_has_its_own_limits_and_budget():
    pool = HorizonPool([A, "https://horizon.stellar.org"], rate_limits_share_pct=Decimal("50"))
    ids = {limit.limit_id for limit in pool.rate_limits}
    assert CONSTANTS.LEDGERS_PATH in ids and CONSTANTS.LEDGERS_PATH + "@horizon1" in ids
    assert sum(limit.limit_id.startswith(CONSTANTS.RPC_LIMIT_ID) for limit in pool.rate_limits) == 1
    public_pool = next(limit for limit in pool.rate_limits
                       if limit.limit_id == CONSTANTS.HORIZON_REQUESTS_POOL + "@horizon1")
    assert public_pool.limit == 60 and public_pool.time_interval == 60    # SDF's 3,600 an hour
    linked = next(limit for limit in pool.rate_limits if limit.limit_id == CONSTANTS.ACCOUNT_PATH + "@horizon1")
    assert [link.limit_id for link in linked.linked_limits] == [CONSTANTS.HORIZON_REQUESTS_POOL + "@horizon1"]
    assert [b.horizon_url for b in pool.budgets] == [A, "https://horizon.stellar.org"]
    assert pool.budgets[1].requests_per_hour == 1800
    assert pool.budgets[0].requests_per_hour == CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR / 2


def test_one_horizons_limits_are_exactly_todays():
    def described(limits):
        return [(limit.limit_id, limit.limit, limit.time_interval, [link.limit_id for link in limit.linked_limits])
                for limit in limits]

    assert described(HorizonPool([A]).rate_limits) == described(web_utils.rate_limits_for(A))
    assert HorizonPool(["https://horizon.stellar.org"]).rate_limits is CONSTANTS.RATE_LIMITS


def test_several_urls_in_the_settings():
    assert split_urls(f" {A}/ , {B},,{A} ") == (A, B)
    assert split_urls([A, B]) == (A, B) and split_urls("  ") == ()
    settings = resolve_network_settings("stellar", f"{A},{B}/", CONSTANTS.SANDBOX_PASSPHRASE)
    assert settings.horizon_urls == (A, B) and settings.horizon_url == A
    assert resolve_network_settings("stellar").horizon_urls == ("https://horizon.stellar.org",)
    assert validate_horizon_urls(f"{A}/, {B}") == f"{A},{B}"
    with pytest.raises(ValueError, match="URL"):
        validate_horizon_urls(f"{A}, horizon.stellar.org")


async def test_horizon_api_uses_its_horizons_limit_ids_and_reads_retry_after():
    throttler = web_utils.create_throttler(web_utils.rate_limits_for_horizons([A, B]))
    api = HorizonApi(web_utils.build_api_factory(throttler), B, index=1)
    assert api.limit_id(CONSTANTS.LEDGERS_PATH) == CONSTANTS.LEDGERS_PATH + "@horizon1"
    with aioresponses() as mock:
        mock.get(f"{B}/accounts/G1", status=429, headers={"Retry-After": "7"}, payload={"status": 429})
        with pytest.raises(HorizonError) as info:
            await api.get_account("G1")
    assert info.value.status == 429 and info.value.retry_after == 7.0


# ----- the Stellar RPC's answers in Horizon's shapes -----

class CannedRpc(StellarRpc):
    def __init__(self, answers: Dict[str, Any]):
        super().__init__(None, "http://127.0.0.1:8003/rpc")
        self.answers = answers

    async def call(self, method, params=None):
        return self.answers[method]


async def test_send_transaction_answers_like_transactions_async():
    rpc = CannedRpc({"sendTransaction": {"status": "ERROR", "hash": TX_HASH, "errorResultXdr": "AAAB",
                                         "latestLedger": 9, "latestLedgerCloseTime": "1700000000"}})
    assert await rpc.submit_transaction_async("AAAA") == {"tx_status": "ERROR", "hash": TX_HASH,
                                                          "error_result_xdr": "AAAB"}
    rpc.answers["sendTransaction"] = {"status": "PENDING", "hash": TX_HASH}
    assert await rpc.submit_transaction_async("AAAA") == {"tx_status": "PENDING", "hash": TX_HASH}
    rpc.answers["sendTransaction"] = {}
    with pytest.raises(StellarRpcError):
        await rpc.submit_transaction_async("AAAA")


async def test_get_transaction_gives_horizons_record_with_its_paging_token():
    rpc = CannedRpc({"getTransaction": {
        "status": "SUCCESS", "txHash": TX_HASH, "ledger": 70, "applicationOrder": 2, "resultXdr": "AAAC",
        "envelopeXdr": "AAAD", "latestLedger": 71, "latestLedgerCloseTime": "1700000010",
        "oldestLedger": 1, "oldestLedgerCloseTime": "1690000000"}})
    closed_at, record = await rpc.transaction_after(TX_HASH)
    assert closed_at == 1_700_000_010.0
    assert record["paging_token"] == str((70 << 32) | (2 << 12))     # Horizon's TOID of the transaction
    assert record["ledger"] == 70 and record["successful"] and record["result_xdr"] == "AAAC"
    rpc.answers["getTransaction"]["status"] = "FAILED"
    assert not (await rpc.transaction_after(TX_HASH))[1]["successful"]


async def test_not_found_proves_nothing_unless_the_rpcs_history_covers_the_transaction():
    answer = {"status": "NOT_FOUND", "latestLedger": 71, "latestLedgerCloseTime": "1700000100",
              "oldestLedger": 1, "oldestLedgerCloseTime": "1690000000"}
    rpc = CannedRpc({"getTransaction": answer})
    assert await rpc.transaction_after(TX_HASH, 1_700_000_000.0) == (1_700_000_100.0, None)
    answer["oldestLedgerCloseTime"] = "1699999990"    # history starts after the transaction could have applied
    assert await rpc.transaction_after(TX_HASH, 1_700_000_000.0) == (0.0, None)
    answer["status"] = "SOMETHING"
    with pytest.raises(StellarRpcError):
        await rpc.transaction_after(TX_HASH)


async def test_the_expiry_lookup_never_mixes_one_horizons_ledger_with_anothers_hash_lookup():
    # A has ingested a ledger closed after max_time, then fails on the hash: both are read again from B,
    # which has not ingested that far (so the lookup proves nothing yet), never A's ledger with B's hash.
    throttler = web_utils.create_throttler(web_utils.rate_limits_for_horizons([A, B]))
    factory = web_utils.build_api_factory(throttler)
    pool = HorizonPool([A, B], health=HorizonHealth([A, B])).attach(factory)
    page = "{}/ledgers?limit=1&order=desc"
    with aioresponses() as mock:
        mock.get(page.format(A), payload={"_embedded": {"records": [{"closed_at": "2023-11-14T22:15:00Z"}]}})
        mock.get(f"{A}/transactions/{TX_HASH}", status=503, payload={"status": 503})
        mock.get(page.format(B), payload={"_embedded": {"records": [{"closed_at": "2023-11-14T22:13:00Z"}]}})
        closed_at, record = await pool.transaction_after(TX_HASH, after=1_700_000_000.0)   # 22:13:20
        asked = [str(url) for (_method, url) in mock.requests]
    assert closed_at == 1_699_999_980.0 and record is None       # B's ledger, B's answer: not yet after max_time
    assert not any(url.startswith(f"{B}/transactions") for url in asked)


def test_a_silent_horizons_heartbeat_is_reopened_now_and_then():
    class Heartbeat:
        moves = 0

        def move(self):
            self.moves += 1

    now = [100.0]
    health = HorizonHealth([A, B], clock=lambda: now[0], lag_ledgers=100, min_silence_s=1.0, max_silence_s=2.0)
    pool = HorizonPool([A, B], health=health).attach(None, members=[StandIn(A), StandIn(B)])
    pool._heartbeats, pool._reopened_at = [Heartbeat(), Heartbeat()], [float("-inf")] * 2
    for sequence in range(10, 15):       # A streams ledgers, B none: B is silent
        now[0] += 1.0
        health.ledger(0, sequence)
    pool._reopen_silent_heartbeats()
    pool._reopen_silent_heartbeats()     # not again so soon
    assert [beat.moves for beat in pool._heartbeats] == [0, 1]
