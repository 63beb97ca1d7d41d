import asyncio

import pytest

from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_horizon_api import HorizonApi, HorizonError
from hummingbot.connector.exchange.stellar.stellar_sequence import SequenceBusyError, SequenceManager
from test.hummingbot.connector.exchange.stellar.aioresponses_compat import aioresponses

pytestmark = pytest.mark.usefixtures("closed_shared_session")

ACCOUNT = "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ"
HORIZON = "http://127.0.0.1:8000"


class AccountRecords:
    """Answers GET /accounts/{id} with a sequence the test moves, and counts the reads."""

    def __init__(self, sequence: int):
        self.sequence = sequence
        self.reads = 0

    async def __call__(self, account_id: str) -> dict:
        self.reads += 1
        await asyncio.sleep(0)
        return {"id": account_id, "sequence": str(self.sequence)}


async def test_reads_once_then_tracks_locally():
    records = AccountRecords(100)
    manager = SequenceManager(records)
    assert await manager.acquire(ACCOUNT) == 101
    manager.applied(ACCOUNT, 101)
    assert await manager.acquire(ACCOUNT) == 102
    manager.applied(ACCOUNT, 102)
    assert await manager.acquire(ACCOUNT) == 103
    assert records.reads == 1 and manager.fetch_count == 1


async def test_refuses_a_second_number_while_one_is_unresolved():
    manager = SequenceManager(AccountRecords(5))
    assert await manager.acquire(ACCOUNT) == 6
    assert manager.has_outstanding(ACCOUNT)
    with pytest.raises(SequenceBusyError, match="still unresolved"):
        await manager.acquire(ACCOUNT)


async def test_not_applied_hands_out_the_same_number_again():
    records = AccountRecords(5)
    manager = SequenceManager(records)
    assert await manager.acquire(ACCOUNT) == 6
    manager.not_applied(ACCOUNT, 6)
    assert await manager.acquire(ACCOUNT) == 6
    assert records.reads == 1


async def test_resync_reads_the_account_again():
    records = AccountRecords(5)
    manager = SequenceManager(records)
    assert await manager.acquire(ACCOUNT) == 6
    records.sequence = 40                 # another client used the account meanwhile
    manager.resync(ACCOUNT)
    assert manager.current(ACCOUNT) is None
    assert await manager.acquire(ACCOUNT) == 41
    assert records.reads == 2


async def test_accounts_are_independent():
    manager = SequenceManager(AccountRecords(5))
    other = "GBRPYHIL2CI3FNQ4BXLFMNDLFJUNPU2HY3ZMFSHONUCEOASW7QC7OX2H"
    assert await manager.acquire(ACCOUNT) == 6
    assert await manager.acquire(other) == 6


async def test_concurrent_first_reads_share_one_fetch():
    records = AccountRecords(9)
    manager = SequenceManager(records)
    first = asyncio.ensure_future(manager.acquire(ACCOUNT))
    second = asyncio.ensure_future(manager.acquire(ACCOUNT))
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert results.count(10) == 1
    assert sum(isinstance(r, SequenceBusyError) for r in results) == 1
    assert records.reads == 1


async def test_read_ahead_reads_once_and_hands_no_number_out():
    records = AccountRecords(100)
    manager = SequenceManager(records)
    await manager.read_ahead(ACCOUNT)
    assert records.reads == 1 and manager.current(ACCOUNT) == 100 and not manager.has_outstanding(ACCOUNT)
    await manager.read_ahead(ACCOUNT)           # known: no second read
    assert await manager.acquire(ACCOUNT) == 101
    await manager.read_ahead(ACCOUNT)           # a number is out: nothing to read
    assert records.reads == 1


async def test_read_ahead_and_a_first_acquire_share_one_read():
    records = AccountRecords(9)
    manager = SequenceManager(records)
    ahead = asyncio.ensure_future(manager.read_ahead(ACCOUNT))
    await asyncio.sleep(0)                      # the read is under way
    assert await manager.acquire(ACCOUNT) == 10
    await ahead
    assert records.reads == 1 and manager.has_outstanding(ACCOUNT)


async def test_read_ahead_after_resync_reads_the_account_again():
    records = AccountRecords(5)
    manager = SequenceManager(records)
    assert await manager.acquire(ACCOUNT) == 6
    manager.resync(ACCOUNT)
    records.sequence = 30
    await manager.read_ahead(ACCOUNT)
    assert manager.current(ACCOUNT) == 30 and records.reads == 2


async def test_bad_account_record_is_a_clear_error():
    async def no_sequence(account_id):
        return {"id": account_id}

    with pytest.raises(ValueError, match="no valid 'sequence'"):
        await SequenceManager(no_sequence).acquire(ACCOUNT)


async def test_reads_through_horizon_api():
    api = HorizonApi(web_utils.build_api_factory(), HORIZON)
    with aioresponses() as mock:
        mock.get(f"{HORIZON}/accounts/{ACCOUNT}", payload={"id": ACCOUNT, "sequence": "77"})
        manager = SequenceManager(api.get_account)
        assert await manager.acquire(ACCOUNT) == 78


async def test_missing_account_raises_horizon_error():
    api = HorizonApi(web_utils.build_api_factory(), HORIZON)
    with aioresponses() as mock:
        mock.get(f"{HORIZON}/accounts/{ACCOUNT}", status=404,
                 payload={"status": 404, "title": "Resource Missing"}, content_type="application/problem+json")
        with pytest.raises(HorizonError, match="404"):
            await SequenceManager(api.get_account).acquire(ACCOUNT)
