import asyncio
import base64
import random
import re
from urllib.parse import parse_qs, urlencode

import pytest

from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_horizon_api import (
    HorizonApi,
    HorizonError,
    HorizonUnavailableError,
    submission_form,
)
from test.hummingbot.connector.exchange.stellar.aioresponses_compat import aioresponses

pytestmark = pytest.mark.usefixtures("closed_shared_session")

HORIZON = "http://127.0.0.1:8000"
TX_HASH = "ab" * 32
ENVELOPE = "AAAAAgAAAAB+/+=="   # base64 with characters a form body must escape


class Samples:
    def __init__(self):
        self.points = []

    def add(self, point, duration_ns):
        self.points.append(point)

    def incr(self, point, n):
        pass


@pytest.fixture
def api():
    return HorizonApi(web_utils.build_api_factory(), HORIZON)


@pytest.fixture
def samples():
    recorder = Samples()
    measurement.install(recorder)
    yield recorder
    measurement.uninstall()


async def test_get_transaction_returns_none_for_404(api, samples):
    with aioresponses() as mock:
        mock.get(f"{HORIZON}/transactions/{TX_HASH}", status=404, content_type="application/problem+json",
                 payload={"status": 404, "title": "Resource Missing"})
        assert await api.get_transaction(TX_HASH) is None
    assert samples.points == ["horizon./transactions/{tx_hash}"]


async def test_get_transaction_returns_the_record(api):
    with aioresponses() as mock:
        mock.get(f"{HORIZON}/transactions/{TX_HASH}", payload={"hash": TX_HASH, "ledger": 9})
        assert (await api.get_transaction(TX_HASH))["ledger"] == 9


@pytest.mark.parametrize("status,tx_status", [(201, "PENDING"), (409, "DUPLICATE"), (503, "TRY_AGAIN_LATER"),
                                              (400, "ERROR")])
async def test_submit_returns_horizon_answers_as_bodies(api, samples, status, tx_status):
    with aioresponses() as mock:
        mock.post(f"{HORIZON}/transactions_async", status=status,
                  payload={"tx_status": tx_status, "hash": TX_HASH, "error_result_xdr": "AAAA"})
        body = await api.submit_transaction_async(ENVELOPE)
        assert body["tx_status"] == tx_status
        (request,) = mock.requests[("POST", next(iter(mock.requests))[1])]
        assert parse_qs(request.kwargs["data"]) == {"tx": [ENVELOPE]}   # form encoded, escaped
        assert request.kwargs["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert samples.points == ["horizon./transactions_async"]


def test_the_submission_form_is_what_urlencode_writes():
    rng = random.Random(7)
    envelopes = [base64.b64encode(rng.randbytes(rng.randrange(0, 900))).decode() for _ in range(300)]
    envelopes += ["", ENVELOPE, "+/=" * 50]
    envelopes += ["not base64: é & ?x=1", "AAAA\n", "AA AA", "A%2B"]   # anything else: urlencode itself
    for envelope in envelopes:
        assert submission_form(envelope) == urlencode({"tx": envelope}), envelope
        assert parse_qs(submission_form(envelope), keep_blank_values=True) == {"tx": [envelope]}


async def test_a_submission_without_an_answer_in_time_raises_a_timeout():
    api = HorizonApi(web_utils.build_api_factory(), HORIZON, request_timeout=0.05)
    answered = asyncio.Event()

    async def silent(url, **kwargs):
        await asyncio.sleep(5)
        answered.set()

    with aioresponses() as mock:
        mock.post(f"{HORIZON}/transactions_async", callback=silent)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(api.submit_transaction_async(ENVELOPE), 2)   # the API's own 0.05 s, not this
    assert not answered.is_set()


async def test_a_cancelled_submission_stays_cancelled():
    api = HorizonApi(web_utils.build_api_factory(), HORIZON)
    started = asyncio.Event()

    async def slow(url, **kwargs):
        started.set()
        await asyncio.sleep(5)

    with aioresponses() as mock:
        mock.post(f"{HORIZON}/transactions_async", callback=slow)
        task = asyncio.ensure_future(api.submit_transaction_async(ENVELOPE))
        await asyncio.wait_for(started.wait(), 2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_submit_raises_unavailable_for_a_gateway_timeout(api):
    with aioresponses() as mock:
        mock.post(f"{HORIZON}/transactions_async", status=504, body="<html>504</html>", content_type="text/html")
        with pytest.raises(HorizonUnavailableError, match="504"):
            await api.submit_transaction_async(ENVELOPE)


async def test_submit_raises_for_an_unexpected_problem(api):
    with aioresponses() as mock:
        mock.post(f"{HORIZON}/transactions_async", status=400, content_type="application/problem+json",
                  payload={"status": 400, "title": "Transaction Malformed", "detail": "tx is not base64"})
        with pytest.raises(HorizonError, match="tx is not base64") as info:
            await api.submit_transaction_async(ENVELOPE)
        assert not isinstance(info.value, HorizonUnavailableError)


async def test_get_latest_ledger(api):
    with aioresponses() as mock:
        mock.get(re.compile(rf"^{re.escape(HORIZON)}/ledgers\?.*"),
                 payload={"_embedded": {"records": [{"sequence": 42, "closed_at": "2026-11-25T06:00:00Z"}]}})
        assert (await api.get_latest_ledger())["sequence"] == 42


async def test_get_json_raises_with_horizon_detail(api):
    with aioresponses() as mock:
        mock.get(f"{HORIZON}/fee_stats", status=500, payload={"title": "Internal Server Error"})
        with pytest.raises(HorizonUnavailableError, match="Internal Server Error"):
            await api.get_json("/fee_stats")
