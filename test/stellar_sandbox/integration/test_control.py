"""The control routes under `/_sandbox/`: faults and market activity set at run time over HTTP."""
from __future__ import annotations

import aiohttp
import pytest

pytestmark = pytest.mark.integration

PROBLEM = "https://stellar.org/horizon-errors/"
SSE = {"Accept": "text/event-stream"}
KINDS = ("latency", "errors", "submission_timeout", "stream_drop", "silent_streams")


async def call(method: str, url: str, body=None, raw: str | None = None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        options = {"data": raw, "headers": {"Content-Type": "application/json"}} if raw is not None else {"json": body}
        async with session.request(method, url, **options) as response:
            return response.status, await response.json(content_type=None)


def field_error(status: int, body: dict) -> str:
    assert status == 400 and body["type"] == PROBLEM + "bad_request", body
    assert body["extras"]["reason"]
    return body["extras"]["invalid_field"]


async def test_faults_start_cleared(net):
    status, body = await call("GET", f"{net.horizon_url}/_sandbox/faults")
    assert status == 200
    assert all(body[kind] is None for kind in KINDS) and body["ledger_stall"] is False
    assert body["injected"] == {kind: 0 for kind in KINDS}


async def test_post_sets_faults_get_reports_them_delete_clears(net):
    url = f"{net.horizon_url}/_sandbox/faults"
    status, body = await call("POST", url, {"latency": {"seconds": 0.01, "jitter": 0.02},
                                            "errors": {"rate": 0.5, "statuses": [429, 504], "paths": ["/offers*"]},
                                            "ledger_stall": True})
    assert status == 200
    assert body["latency"] == {"seconds": 0.01, "jitter": 0.02, "paths": []}
    assert body["errors"] == {"rate": 0.5, "statuses": [429, 504], "retry_after": 1, "paths": ["/offers*"]}
    assert body["ledger_stall"] is True and net.faults.ledgers_stalled  # the in-process view is the same
    assert net.faults.errors.statuses == (429, 504)
    _, again = await call("GET", url)
    assert again["latency"] == body["latency"] and again["errors"] == body["errors"]
    # a later POST replaces only the kinds it names
    _, changed = await call("POST", url, {"latency": None, "submission_timeout": {"hold": 0.5}})
    assert changed["latency"] is None and changed["errors"] == body["errors"]
    submissions = ["/transactions", "/transactions_async"]
    assert changed["submission_timeout"] == {"rate": 1.0, "hold": 0.5, "paths": submissions}
    status, cleared = await call("DELETE", url)
    assert status == 200 and all(cleared[kind] is None for kind in KINDS) and cleared["ledger_stall"] is False
    assert not net.faults.ledgers_stalled


async def test_post_drop_streams_cuts_open_streams(net):
    async with aiohttp.ClientSession() as session, session.get(f"{net.horizon_url}/ledgers",
                                                               params={"cursor": "now"}, headers=SSE) as stream:
        await stream.content.readline()
        status, body = await call("POST", f"{net.horizon_url}/_sandbox/faults", {"drop_streams": True})
        assert status == 200 and body["dropped_streams"] == 1
        with pytest.raises(aiohttp.ClientError):
            while await stream.content.readline():
                pass


@pytest.mark.parametrize("body, field", [
    ({"latency": {"seconds": -1}}, "latency.seconds"),
    ({"latency": "slow"}, "latency"),
    ({"latency": {"secs": 1}}, "latency"),
    ({"errors": {"rate": 2}}, "errors.rate"),
    ({"errors": {"statuses": [418]}}, "errors.statuses"),
    ({"errors": {"paths": ["ledgers"]}}, "errors.paths"),
    ({"submission_timeout": {"hold": "long"}}, "submission_timeout.hold"),
    ({"stream_drop": {"every": 0}}, "stream_drop.every"),
    ({"ledger_stall": "yes"}, "ledger_stall"),
    ({"earthquake": {}}, "earthquake"),
])
async def test_bad_fault_settings_are_400_naming_the_field_and_change_nothing(net, body, field):
    url = f"{net.horizon_url}/_sandbox/faults"
    await call("POST", url, {"latency": 0.01})
    status, problem = await call("POST", url, body)
    assert field_error(status, problem) == field
    _, settings = await call("GET", url)
    assert settings["latency"]["seconds"] == 0.01 and settings["errors"] is None and settings["ledger_stall"] is False


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]"])
async def test_fault_body_must_be_a_json_object(net, raw):
    status, problem = await call("POST", f"{net.horizon_url}/_sandbox/faults", raw=raw)
    assert status == 400 and problem["type"] == PROBLEM + "bad_request" and "JSON" in problem["detail"]


async def test_market_start_rate_stop_over_http(net):
    url = f"{net.horizon_url}/_sandbox/market"
    status, idle = await call("GET", url)
    assert status == 200 and idle["running"] is False and idle["participants"] == 0
    status, started = await call("POST", url, {"action": "start", "rate": 20, "participants": 3, "seed": 3})
    assert status == 201 and started["running"] and started["rate"] == 20 and started["participants"] == 3
    assert started["counter"] == "native" and started["base"].startswith("MKT:")
    status, again = await call("POST", url, {"rate": 20})  # the default action is start
    assert status == 400 and "already running" in again["detail"]
    status, faster = await call("POST", url, {"action": "rate", "rate": 40})
    assert status == 200 and faster["rate"] == 40 and net.market.controller.rate == 40
    status, stopped = await call("POST", url, {"action": "stop"})
    assert status == 200 and stopped["running"] is False and stopped["rate"] == 0
    status, not_running = await call("POST", url, {"action": "rate", "rate": 5})
    assert status == 400 and "not running" in not_running["detail"]


@pytest.mark.parametrize("body, field", [
    ({"action": "dance"}, "action"),
    ({"action": "start", "rate": -5}, "rate"),
    ({"action": "start", "rate": "fast"}, "rate"),
    ({"action": "start", "ops_per_tx": 0}, "ops_per_tx"),
    ({"action": "start", "take_share": 1}, "take_share"),
    ({"action": "start", "participants": 1}, "participants"),
    ({"action": "start", "mid": 0}, "mid"),
    ({"action": "start", "colour": "red"}, "colour"),
    ({"action": "start", "base": "MKT"}, "base"),
    ({"action": "rate"}, "rate"),
    ({"action": "rate", "rate": None}, "rate"),
])
async def test_bad_market_requests_are_400_naming_the_field(net, body, field):
    status, problem = await call("POST", f"{net.horizon_url}/_sandbox/market", body)
    assert field_error(status, problem) == field
    assert not net.market.running and net.market.participants == []  # nothing was created


async def test_requests_are_counted_by_route_and_kind_refused_ones_too_and_delete_clears(net):
    url = f"{net.horizon_url}/_sandbox/requests"
    await call("DELETE", url)
    account = net.network.root_keypair.public_key
    async with aiohttp.ClientSession() as session:
        for _ in range(2):
            async with session.get(f"{net.horizon_url}/accounts/{account}") as response:
                assert response.status == 200
        await call("POST", f"{net.horizon_url}/_sandbox/faults", {"errors": {"rate": 1.0, "statuses": [503]}})
        async with session.get(f"{net.horizon_url}/fee_stats") as response:
            assert response.status == 503
        await call("DELETE", f"{net.horizon_url}/_sandbox/faults")
    status, body = await call("GET", url)
    assert status == 200
    assert body["requests"] == [{"method": "GET", "route": "/accounts/{account_id}", "kind": "rest", "count": 2},
                                {"method": "GET", "route": "/fee_stats", "kind": "rest", "count": 1}]
    assert net.requests.count("/accounts/{account_id}") == 2 and net.requests.total() == 3
    status, body = await call("DELETE", url)
    assert status == 200 and body["requests"] == []
