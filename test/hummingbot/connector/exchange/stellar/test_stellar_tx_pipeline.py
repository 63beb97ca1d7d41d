import asyncio
from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from stellar_sdk import Asset, Keypair, ManageBuyOffer, ManageSellOffer, TransactionEnvelope

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar import stellar_tx_submission
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth
from hummingbot.connector.exchange.stellar.stellar_config_cache import ConfigCache
from hummingbot.connector.exchange.stellar.stellar_horizon_api import HorizonApi
from hummingbot.connector.exchange.stellar.stellar_order_ops import (
    CancelOrderIntent,
    CreateOrderIntent,
    StellarOrderError,
)
from hummingbot.connector.exchange.stellar.stellar_tx_pipeline import (
    FEE_SURGE,
    INVALID_ORDER,
    PipelineStoppedError,
    TransactionPipeline,
    bid_after_fee_refusal,
)
from hummingbot.connector.exchange.stellar.stellar_tx_results import OFFER_CREATED, OFFER_DELETED
from test.hummingbot.connector.exchange.stellar.aioresponses_compat import aioresponses
from test.hummingbot.connector.exchange.stellar.fake_horizon import Clock, FakeHorizon

pytestmark = pytest.mark.usefixtures("closed_shared_session")

HORIZON = "http://127.0.0.1:8000"
PASSPHRASE = CONSTANTS.SANDBOX_PASSPHRASE
TRADER = Keypair.from_raw_ed25519_seed(bytes(range(1, 33)))
CHANNELS = [Keypair.from_raw_ed25519_seed(bytes([i]) * 32) for i in (7, 8)]
ISSUER = Keypair.from_raw_ed25519_seed(bytes(range(32))).public_key
BASE = Asset("USDC", ISSUER)
QUOTE = Asset.native()


def sell(n: int, amount: str = "1") -> CreateOrderIntent:
    return CreateOrderIntent(f"HBOT-{n}", BASE, QUOTE, TradeType.SELL, OrderType.LIMIT, Decimal(amount), Decimal("2"))


def buy(n: int, amount: str = "1") -> CreateOrderIntent:
    return CreateOrderIntent(f"HBOT-{n}", BASE, QUOTE, TradeType.BUY, OrderType.LIMIT, Decimal(amount), Decimal("2"))


class Harness:
    def __init__(self, mock, channels=(), fee_figures=False, **pipeline_kwargs):
        """`fee_figures`: the ConfigCache reads /fee_stats from the fake Horizon (else it keeps its defaults)."""
        self.clock = Clock()
        accounts = {TRADER.public_key: 100, **{c.public_key: 5000 for c in channels}}
        self.horizon = FakeHorizon(mock, HORIZON, PASSPHRASE, accounts, self.clock)
        auth = StellarAuth(TRADER.secret, [c.secret for c in channels])
        throttler = web_utils.create_throttler(CONSTANTS.build_rate_limits(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR))
        api = HorizonApi(web_utils.build_api_factory(throttler), HORIZON)
        self.config = config = ConfigCache(horizon_url=HORIZON, network_passphrase=PASSPHRASE)
        if fee_figures:
            config.attach(api.get_json)
        options = dict(poll_initial_delay=0.005, poll_max_delay=0.02, resubmit_delay=0.005, clock=self.clock)
        options.update(pipeline_kwargs)
        self.pipeline = TransactionPipeline(api, auth, config, **options)


@pytest.fixture
async def mock():
    with aioresponses() as m:
        yield m


@pytest.fixture
async def harness(mock):
    h = Harness(mock)
    yield h
    await h.pipeline.stop()


async def in_time(awaitable, timeout: float = 5.0):
    return await asyncio.wait_for(awaitable, timeout)


async def test_one_order_round_trip(harness):
    outcome = await in_time(harness.pipeline.submit(sell(1)))
    assert outcome.success and outcome.offer_state == OFFER_CREATED and outcome.offer_id == 1001
    envelope = harness.horizon.envelope(0)
    assert outcome.tx_hash == envelope.hash_hex() and outcome.ledger == 2
    assert outcome.fee_charged_share_stroops == 100
    assert outcome.operation_id == ((2 << 32) | (1 << 12)) + 1   # Horizon's TOID: tx paging token + index + 1
    tx = envelope.transaction
    assert tx.sequence == 101 and tx.source.account_id == TRADER.public_key
    assert tx.fee == CONSTANTS.BASE_FEE_STROOPS
    assert tx.preconditions.time_bounds.max_time == int(harness.clock.now) + CONSTANTS.TX_TIME_BOUND_SECONDS
    assert len(envelope.signatures) == 1
    TRADER.verify(envelope.hash(), envelope.signatures[0].signature)


async def test_intents_arriving_while_a_tx_is_pending_share_the_next_tx(harness):
    fake = harness.horizon
    fake.auto_close = False
    first = asyncio.ensure_future(harness.pipeline.submit(sell(0)))
    await fake.wait_posts(1)
    later = [asyncio.ensure_future(harness.pipeline.submit(sell(n, amount=str(n)))) for n in range(1, 11)]
    later.append(asyncio.ensure_future(harness.pipeline.submit(buy(11, amount="11"))))
    await asyncio.sleep(0.03)                   # the pending tx is polled meanwhile; nothing else is posted
    assert len(fake.posts) == 1
    fake.close_ledger()
    assert (await in_time(first)).success
    await fake.wait_posts(2)
    second = fake.envelope(1).transaction
    assert second.sequence == 102
    assert [Decimal(op.amount) for op in second.operations] == list(range(1, 12))
    assert all(isinstance(op, ManageSellOffer) for op in second.operations[:10])
    assert isinstance(second.operations[10], ManageBuyOffer)
    assert second.fee == 11 * CONSTANTS.BASE_FEE_STROOPS
    fake.close_ledger()
    outcomes = await in_time(asyncio.gather(*later))
    assert all(o.success for o in outcomes)
    assert len({o.offer_id for o in outcomes}) == 11
    assert {o.tx_hash for o in outcomes} == {fake.envelope(1).hash_hex()}
    assert len(fake.posts) == 2 and fake.account_reads == 1


async def test_more_than_max_ops_split_into_transactions(mock):
    h = Harness(mock, max_ops_per_tx=3)
    try:
        outcomes = await in_time(h.pipeline.submit_many([sell(n) for n in range(7)]))
        assert all(o.success for o in outcomes)
        sizes = [len(h.horizon.envelope(i).transaction.operations) for i in range(len(h.horizon.posts))]
        assert sizes == [3, 3, 1]
    finally:
        await h.pipeline.stop()


async def test_try_again_later_never_reaches_the_caller(harness):
    harness.horizon.script.extend(["try_again_later", "try_again_later"])
    outcome = await in_time(harness.pipeline.submit(sell(1)))
    assert outcome.success
    assert len(harness.horizon.posts) == 3 and len(set(harness.horizon.posts)) == 1   # the same envelope


async def test_rate_limited_submission_is_resubmitted_not_failed(harness):
    harness.horizon.script.extend(["rate_limited", "rate_limited"])
    outcome = await in_time(harness.pipeline.submit(sell(1)))
    assert outcome.success and outcome.offer_id == 1001
    assert len(harness.horizon.posts) == 3 and len(set(harness.horizon.posts)) == 1   # the same envelope


async def test_504_is_resolved_by_resubmitting_the_same_envelope_and_the_hash(harness):
    fake = harness.horizon
    fake.auto_close = False
    fake.script.append("504_accepted")          # stellar-core got it; the gateway timed out
    task = asyncio.ensure_future(harness.pipeline.submit(sell(1)))
    await fake.wait_posts(2)                    # the resubmission: DUPLICATE
    fake.close_ledger()
    outcome = await in_time(task)
    assert outcome.success and outcome.offer_id == 1001
    assert len(set(fake.posts)) == 1            # never a different envelope
    assert outcome.tx_hash == fake.envelope(0).hash_hex()
    assert len(fake.records) == 1


async def test_lost_submission_is_resubmitted_identically(harness):
    harness.horizon.script.extend(["timeout", "504_lost"])
    outcome = await in_time(harness.pipeline.submit(sell(1)))
    assert outcome.success
    assert len(harness.horizon.posts) == 3 and len(set(harness.horizon.posts)) == 1


async def test_resubmission_of_an_applied_tx_is_resolved_by_hash_not_rebuilt(harness):
    fake = harness.horizon
    fake.auto_close = False
    fake.script.append("504_accepted")
    task = asyncio.ensure_future(harness.pipeline.submit(sell(1)))
    await fake.wait_posts(1)
    fake.close_ledger()                         # applied before the resubmission: that copy gets tx_bad_seq
    outcome = await in_time(task)
    assert outcome.success and len(set(fake.posts)) == 1 and len(fake.records) == 1


@pytest.fixture
def pipeline_waits(monkeypatch):
    """The submitter's pauses (their delays, in order): each pause draws its delay from one of its Backoffs."""
    waits = []

    class RecordingBackoff(stellar_tx_submission.Backoff):
        def next_delay(self):
            delay = super().next_delay()
            waits.append(delay)
            return delay
    monkeypatch.setattr(stellar_tx_submission, "Backoff", RecordingBackoff)
    return waits


async def test_poll_delay_doubles_from_poll_initial_up_to_poll_max(mock, pipeline_waits):
    h = Harness(mock, poll_initial_delay=0.001, poll_max_delay=0.004, resubmit_delay=0.001)
    try:
        h.horizon.auto_close = False
        task = asyncio.ensure_future(h.pipeline.submit(sell(1)))
        await h.horizon.wait_posts(1)
        while h.horizon.tx_lookups < 5:
            await asyncio.sleep(0.001)
        h.horizon.close_ledger()
        assert (await in_time(task)).success
        assert pipeline_waits[:5] == [0.001, 0.002, 0.004, 0.004, 0.004]
    finally:
        await h.pipeline.stop()


async def test_resubmit_delay_doubles_from_resubmit_delay_up_to_poll_max(mock, pipeline_waits):
    h = Harness(mock, poll_initial_delay=0.003, poll_max_delay=0.004, resubmit_delay=0.001)
    try:
        h.horizon.script.extend(["try_again_later"] * 4)
        assert (await in_time(h.pipeline.submit(sell(1)))).success
        assert pipeline_waits == [0.001, 0.002, 0.004, 0.004, 0.003]   # 4 pauses, then the first poll
    finally:
        await h.pipeline.stop()


@pytest.mark.parametrize("delays", [dict(poll_initial_delay=0.1, poll_max_delay=0.05),
                                    dict(resubmit_delay=0.1, poll_max_delay=0.05), dict(poll_initial_delay=0)])
async def test_delays_must_be_positive_and_at_most_poll_max(mock, delays):
    with pytest.raises(ValueError, match="poll_max_delay"):
        Harness(mock, **delays)


async def test_expired_transaction_leads_to_resync_and_a_new_transaction(harness):
    fake = harness.horizon
    fake.auto_close = False
    fake.script.append("pending_lost")          # PENDING, then stellar-core drops it
    task = asyncio.ensure_future(harness.pipeline.submit(sell(1)))
    await fake.wait_posts(1)
    await asyncio.sleep(0.02)
    assert not task.done()                      # unknown fate: keep waiting, never rebuild
    first = fake.envelope(0).transaction
    harness.clock.now += CONSTANTS.TX_TIME_BOUND_SECONDS + 1
    fake.close_ledger()                         # a ledger closed after max_time: it can never apply
    await fake.wait_posts(2)
    fake.close_ledger()
    outcome = await in_time(task)
    second = fake.envelope(1).transaction
    assert outcome.success and outcome.tx_hash == fake.envelope(1).hash_hex()
    assert second.sequence == first.sequence    # the lost tx never used its number
    assert second.preconditions.time_bounds.max_time > first.preconditions.time_bounds.max_time
    assert fake.account_reads == 2              # resynced


async def test_expired_transaction_fails_when_policy_says_so(mock):
    h = Harness(mock, expired_policy="fail")
    try:
        h.horizon.auto_close = False
        h.horizon.script.append("pending_lost")
        task = asyncio.ensure_future(h.pipeline.submit(sell(1)))
        await h.horizon.wait_posts(1)
        h.clock.now += CONSTANTS.TX_TIME_BOUND_SECONDS + 1
        h.horizon.close_ledger()
        outcome = await in_time(task)
        assert not outcome.success and outcome.error_code == "tx_too_late"
        assert len(h.horizon.posts) == 1
    finally:
        await h.pipeline.stop()


async def test_in_a_ledger_as_too_late_resyncs_and_requeues(harness):
    fake = harness.horizon
    fake.script.append("in_ledger_too_late")    # included, fee and sequence taken, no operation ran
    outcome = await in_time(harness.pipeline.submit(sell(1)))
    assert outcome.success and outcome.tx_hash == fake.envelope(1).hash_hex()
    assert [fake.envelope(i).transaction.sequence for i in range(2)] == [101, 102]
    assert fake.account_reads == 2             # resynced


async def test_in_a_ledger_as_too_late_fails_when_policy_says_so(mock):
    h = Harness(mock, expired_policy="fail")
    try:
        h.horizon.script.append("in_ledger_too_late")
        outcome = await in_time(h.pipeline.submit(sell(1)))
        assert not outcome.success and outcome.error_code == outcome.tx_code == "tx_too_late"
        assert outcome.tx_hash == h.horizon.envelope(0).hash_hex() and outcome.ledger == 2
        assert len(h.horizon.posts) == 1
    finally:
        await h.pipeline.stop()


async def test_bad_seq_resyncs_and_rebuilds(harness):
    fake = harness.horizon
    assert (await in_time(harness.pipeline.submit(sell(1)))).success
    fake.accounts[TRADER.public_key] += 5       # another client used the account
    outcome = await in_time(harness.pipeline.submit(sell(2)))
    assert outcome.success
    assert [fake.envelope(i).transaction.sequence for i in range(3)] == [101, 102, 107]
    assert fake.account_reads == 2


async def test_failed_op_in_a_batch_does_not_fail_the_others(harness):
    fake = harness.horizon
    fake.failing_amounts.add(Decimal(2))
    outcomes = await in_time(harness.pipeline.submit_many([sell(1, "1"), sell(2, "2"), buy(3, "3")]))
    ok1, failed, ok3 = outcomes
    assert not failed.success and failed.error_code == "op_underfunded" and failed.tx_code == "tx_failed"
    assert failed.tx_hash == fake.envelope(0).hash_hex() and failed.fee_charged_share_stroops == 100
    assert ok1.success and ok3.success and ok1.tx_hash == ok3.tx_hash == fake.envelope(1).hash_hex()
    assert [Decimal(op.amount) for op in fake.envelope(1).transaction.operations] == [1, 3]
    assert fake.envelope(1).transaction.sequence == 102   # the failed tx consumed 101
    first_tx_id, second_tx_id = (int(fake.records[fake.envelope(i).hash_hex()]["paging_token"]) for i in (0, 1))
    assert failed.operation_id == first_tx_id + 2         # the second operation of the failed transaction
    assert (ok1.operation_id, ok3.operation_id) == (second_tx_id + 1, second_tx_id + 2)


async def test_an_operation_carried_by_two_transactions_is_acknowledged_and_confirmed_once(harness):
    class Points:
        def __init__(self):
            self.names = []

        def add(self, point, duration_ns):
            self.names.append(point)

        def incr(self, point, n):
            pass

    points = Points()
    measurement.install(points)
    try:
        harness.horizon.failing_amounts.add(Decimal(2))
        outcomes = await in_time(harness.pipeline.submit_many([sell(1, "1"), sell(2, "2"), buy(3, "3")]))
    finally:
        measurement.uninstall()
    assert [o.success for o in outcomes] == [True, False, True]
    assert len(harness.horizon.posts) == 2                      # 1 and 3 went again after 2 failed the first
    assert points.names.count(measurement.ORDER_CREATE_ACK) == 3
    assert points.names.count(measurement.ORDER_CREATE_CONFIRM) == 3
    assert points.names.count(measurement.TX_SUBMIT) == 2


async def test_invalid_intent_in_a_batch_does_not_stop_the_others(harness):
    bad = CreateOrderIntent("HBOT-bad", BASE, QUOTE, TradeType.SELL, OrderType.LIMIT, Decimal("1.123456789"),
                            Decimal(1))
    good, invalid = await in_time(harness.pipeline.submit_many([sell(1), bad]))
    assert good.success
    assert not invalid.success and invalid.error_code == INVALID_ORDER and "HBOT-bad" in invalid.error_message
    assert len(harness.horizon.envelope(0).transaction.operations) == 1


async def test_invalid_intent_raises_before_anything_is_queued(harness):
    with pytest.raises(StellarOrderError, match="positive"):
        await harness.pipeline.submit(sell(1, "0"))
    assert harness.horizon.posts == [] and harness.pipeline.queued_count == 0


async def test_an_outcome_without_a_ledger_has_no_operation_id(harness):
    harness.horizon.script.append("insufficient_fee")     # rejected at submission: in no ledger
    outcome = await in_time(harness.pipeline.submit(sell(1)))
    assert not outcome.success and outcome.operation_id is None


async def test_rejection_fails_every_op_and_frees_the_sequence(harness):
    harness.horizon.script.append("insufficient_fee")   # no fee named, no fee figures: nothing higher to bid
    outcome = await in_time(harness.pipeline.submit(sell(1)))
    assert not outcome.success and outcome.error_code == FEE_SURGE and outcome.tx_code == "tx_insufficient_fee"
    assert len(harness.horizon.posts) == 1
    assert (await in_time(harness.pipeline.submit(sell(2)))).success
    assert harness.horizon.envelope(1).transaction.sequence == 101


# Fee surges: a bid refused for its fee is retried once, higher, within the user's maximum

def fees_per_op(fake):
    return [fake.envelope(i).transaction.fee // len(fake.envelope(i).transaction.operations)
            for i in range(len(fake.posts))]


async def test_a_bid_refused_for_its_fee_is_rebuilt_once_at_what_the_network_asks(mock):
    h = Harness(mock, fee_figures=True)
    try:
        fake = h.horizon
        fake.surge_fee = 1000                   # the figures (never read yet) do not show it
        outcomes = await in_time(h.pipeline.submit_many([sell(1, "1"), sell(2, "2")]))
        assert all(o.success for o in outcomes)
        assert fees_per_op(fake) == [100, 1001]   # refused at the base fee; then one stroop over the surge
        assert fake.fee_stats_reads == 1          # the figures read at once after the refusal
        first, second = fake.envelope(0).transaction, fake.envelope(1).transaction
        assert first.sequence == second.sequence == 101     # the refused one never applied: same number
        assert [op.amount for op in second.operations] == [op.amount for op in first.operations]
        assert len(fake.records) == 1 and {o.tx_hash for o in outcomes} == {fake.envelope(1).hash_hex()}
        fake.surge_fee = None
        assert (await in_time(h.pipeline.submit(sell(3)))).success
        assert fees_per_op(fake)[-1] == 100       # the next transaction bids from the figures again
    finally:
        await h.pipeline.stop()


async def test_the_retry_bids_the_fresh_figures_when_they_ask_more_than_the_refusal(mock):
    h = Harness(mock, fee_figures=True)
    try:
        h.horizon.surge_fee = 1000
        h.horizon.fee_charged_p70 = 1500        # recent ledgers paid more than this refusal asks
        assert (await in_time(h.pipeline.submit(sell(1)))).success
        assert fees_per_op(h.horizon) == [100, 1501]
    finally:
        await h.pipeline.stop()


async def test_a_second_refusal_for_the_fee_fails_the_orders_without_a_third_try(mock):
    h = Harness(mock, fee_figures=True)
    try:
        fake = h.horizon
        fake.surge_fee = 1000

        def surge_rises():                       # between the refusal and the retry, the surge climbs
            if len(fake.posts) == 2:
                fake.surge_fee = 5000
        fake.before_answer = surge_rises
        outcome = await in_time(h.pipeline.submit(sell(1)))
        assert not outcome.success and outcome.error_code == FEE_SURGE
        assert fees_per_op(fake) == [100, 1001]
        assert "again at 1001" in outcome.error_message and "asks 5001" in outcome.error_message
        assert "stellar_max_fee_stroops = 10000" in outcome.error_message
        fake.surge_fee = None
        assert (await in_time(h.pipeline.submit(sell(2)))).success
        assert fake.envelope(2).transaction.sequence == 101   # neither refused one used the number
    finally:
        await h.pipeline.stop()


async def test_a_surge_above_the_users_maximum_fails_the_orders_naming_both_fees(mock):
    h = Harness(mock, fee_figures=True, max_fee_per_op=500)
    try:
        h.horizon.surge_fee = 1000
        outcome = await in_time(h.pipeline.submit(sell(1)))
        assert not outcome.success and outcome.error_code == FEE_SURGE and outcome.tx_code == "tx_insufficient_fee"
        assert "asks 1001 stroops per operation" in outcome.error_message
        assert "stellar_max_fee_stroops = 500" in outcome.error_message
        assert len(h.horizon.posts) == 1 and not h.horizon.records
    finally:
        await h.pipeline.stop()


async def test_a_surge_the_figures_show_is_bid_at_once_within_the_maximum(mock):
    h = Harness(mock, fee_figures=True, max_fee_per_op=800)
    try:
        h.horizon.fee_charged_p70 = 700
        await h.config.refresh_fees_now()
        assert (await in_time(h.pipeline.submit(sell(1)))).success
        h.horizon.fee_charged_p70 = 5000
        await h.config.refresh_fees_now(min_age=0)
        assert (await in_time(h.pipeline.submit(sell(2)))).success
        assert fees_per_op(h.horizon) == [701, 800]   # one stroop over the surge; then capped
    finally:
        await h.pipeline.stop()


@pytest.mark.parametrize("refused, needed, ops, figures, cap, retried, bid, words", [
    (100, 2002, 2, 100, 10_000, False, 1001, ""),                    # what the network asks, per operation
    (100, 2001, 2, 100, 10_000, False, 1001, ""),                    # rounded up
    (100, 1001, 1, 1501, 10_000, False, 1501, ""),                   # the fresh figures ask more
    (100, 1001, 1, 100, 1000, False, None, "asks 1001 stroops per operation, above the configured maximum "
                                           "stellar_max_fee_stroops = 1000"),
    (1001, 5001, 1, 1001, 10_000, True, None, "again at 1001"),      # once only
    (100, 0, 1, 100, 10_000, False, None, "does not say"),           # nothing higher to bid
    (500, 0, 1, 500, 500, False, None, "no higher bid within the configured maximum stellar_max_fee_stroops = 500"),
    (100, 0, 1, 300, 10_000, False, 300, ""),                        # the figures alone
])
def test_bid_after_fee_refusal(refused, needed, ops, figures, cap, retried, bid, words):
    got, why_not = bid_after_fee_refusal(refused, needed, ops, figures, cap, retried)
    assert got == bid
    assert (why_not == "") if bid is not None else (words in why_not and why_not.startswith("Fee surge"))


async def test_cancel_outcome_and_stream_notification(mock):
    harness = Harness(mock, poll_initial_delay=30.0, poll_max_delay=30.0)   # only the stream can resolve it in time
    try:
        fake = harness.horizon
        fake.auto_close = False
        pipeline = harness.pipeline
        task = asyncio.ensure_future(pipeline.submit(CancelOrderIntent("HBOT-1", BASE, QUOTE, TradeType.BUY, 77)))
        await fake.wait_posts(1)
        assert list(pipeline.awaited_hashes) == [fake.envelope(0).hash_hex()]
        (record,) = fake.close_ledger()
        lookups = fake.tx_lookups
        pipeline.notify_transaction({"hash": "00" * 32})     # someone else's transaction: ignored
        pipeline.notify_transaction(record)
        outcome = await in_time(task, 2.0)
        assert not pipeline.awaited_hashes
        assert outcome.success and outcome.offer_state == OFFER_DELETED and outcome.offer_id is None
        assert fake.tx_lookups == lookups
        op = fake.envelope(0).transaction.operations[0]
        assert isinstance(op, ManageBuyOffer) and op.offer_id == 77 and Decimal(op.amount) == 0
    finally:
        await harness.pipeline.stop()


async def test_channel_accounts_source_the_tx_while_the_trader_sources_the_ops(mock):
    h = Harness(mock, channels=CHANNELS)
    try:
        outcomes = await in_time(h.pipeline.submit_many([sell(n) for n in range(150)]))
        assert all(o.success for o in outcomes)
        fake = h.horizon
        sources = set()
        for i in range(len(fake.posts)):
            envelope = fake.envelope(i)
            tx = envelope.transaction
            sources.add(tx.source.account_id)
            channel = next(c for c in CHANNELS if c.public_key == tx.source.account_id)
            assert tx.sequence == 5001
            assert all(op.source.account_id == TRADER.public_key for op in tx.operations)
            assert len(envelope.signatures) == 2
            channel.verify(envelope.hash(), envelope.signatures[0].signature)
            TRADER.verify(envelope.hash(), envelope.signatures[1].signature)
        assert sources == {c.public_key for c in CHANNELS}   # both lanes worked in parallel
        assert sorted(len(fake.envelope(i).transaction.operations) for i in range(2)) == [75, 75]   # even shares
        assert fake.accounts[TRADER.public_key] == 100       # the trader's sequence is untouched
    finally:
        await h.pipeline.stop()


async def test_read_sequences_reads_every_lane_ahead_so_the_first_orders_read_nothing(mock):
    h = Harness(mock, channels=CHANNELS)
    try:
        fake = h.horizon
        await in_time(h.pipeline.read_sequences())
        assert fake.account_reads == len(CHANNELS)
        assert [h.pipeline.sequences.current(c.public_key) for c in CHANNELS] == [5000, 5000]
        assert not fake.posts                                  # nothing submitted, no number handed out
        outcomes = await in_time(h.pipeline.submit_many([sell(1), buy(2)]))
        assert all(o.success for o in outcomes)
        assert fake.account_reads == len(CHANNELS)             # the lanes used what was read ahead
        assert {fake.envelope(i).transaction.sequence for i in range(len(fake.posts))} == {5001}
        await in_time(h.pipeline.read_sequences())            # known now: no read
        assert fake.account_reads == len(CHANNELS)
    finally:
        await h.pipeline.stop()


async def test_a_lane_whose_read_ahead_failed_reads_at_its_first_transaction(mock):
    h = Harness(mock, channels=CHANNELS[:1])
    try:
        fake = h.horizon
        channel = CHANNELS[0].public_key
        balance = fake.accounts.pop(channel)                   # its read fails
        await in_time(h.pipeline.read_sequences())             # ... and does not raise
        assert h.pipeline.sequences.current(channel) is None
        fake.accounts[channel] = balance
        outcome = await in_time(h.pipeline.submit(sell(1)))
        assert outcome.success and fake.envelope(0).transaction.sequence == 5001
        assert fake.account_reads == 2
    finally:
        await h.pipeline.stop()


class UnansweredHorizon:
    """A Horizon whose POST leaves one loop turn after the call, as aiohttp writes a request body (Python 3.11), and
    is never answered; `events` notes each transaction built and each POST written, in order."""

    def __init__(self):
        self.events = []
        self.operations = []   # of each transaction posted

    def add(self, point, duration_ns):   # the measuring points' recorder: a transaction was built and signed
        if point == measurement.TX_BUILD_SIGN:
            self.events.append("built")

    def incr(self, point, n):
        pass

    async def get_account(self, account_id):
        return {"id": account_id, "sequence": "5000"}

    async def submit_transaction_async(self, envelope_xdr):
        self.operations.append(len(TransactionEnvelope.from_xdr(envelope_xdr, PASSPHRASE).transaction.operations))
        asyncio.get_running_loop().call_soon(self.events.append, "written")
        await asyncio.Event().wait()


async def test_lanes_woken_together_build_one_after_the_other_posts_is_written():
    horizon = UnansweredHorizon()
    config = ConfigCache(horizon_url=HORIZON, network_passphrase=PASSPHRASE)
    pipeline = TransactionPipeline(horizon, StellarAuth(TRADER.secret, [c.secret for c in CHANNELS]), config)
    measurement.install(horizon)
    try:
        await in_time(pipeline.read_sequences())
        orders = asyncio.ensure_future(pipeline.submit_many([sell(1), buy(2), sell(3), buy(4)]))
        while len(horizon.events) < 4:
            await asyncio.sleep(0)
        assert horizon.events == ["built", "written", "built", "written"]   # the second built once the first left
        assert horizon.operations == [2, 2]   # shares as even as ever
    finally:
        measurement.uninstall()
        await pipeline.stop()
    with pytest.raises(PipelineStoppedError):
        await orders


async def test_stop_fails_waiting_intents(mock):
    h = Harness(mock)
    h.horizon.auto_close = False
    first = asyncio.ensure_future(h.pipeline.submit(sell(1)))
    await h.horizon.wait_posts(1)
    queued = asyncio.ensure_future(h.pipeline.submit(sell(2)))
    await asyncio.sleep(0)
    await h.pipeline.stop()
    with pytest.raises(PipelineStoppedError):
        await in_time(queued)
    with pytest.raises(PipelineStoppedError, match="may still apply"):
        await in_time(first)
    with pytest.raises(PipelineStoppedError):
        await h.pipeline.submit(sell(3))


async def test_while_results_are_streamed_a_poll_waits_the_streamed_delay_and_the_stream_tells_first(
        mock, pipeline_waits):
    streamed = [True]
    h = Harness(mock, poll_initial_delay=0.001, poll_max_delay=0.004, resubmit_delay=0.001,
                results_streamed=lambda: streamed[0], streamed_poll_delay=0.2)
    try:
        h.horizon.auto_close = False
        task = asyncio.ensure_future(h.pipeline.submit(sell(1)))
        await h.horizon.wait_posts(1)
        await asyncio.sleep(0.05)
        assert h.horizon.tx_lookups == 0                  # no lookup before the streamed delay
        (record,) = h.horizon.close_ledger()
        h.pipeline.notify_transaction(record)             # the stream tells
        assert (await in_time(task)).success
        assert h.horizon.tx_lookups == 0

        streamed[0] = False                               # stream down: polls at the plain delays again
        task = asyncio.ensure_future(h.pipeline.submit(sell(2)))
        await h.horizon.wait_posts(2)
        while h.horizon.tx_lookups < 2:
            await asyncio.sleep(0.001)
        h.horizon.close_ledger()
        assert (await in_time(task)).success
    finally:
        await h.pipeline.stop()
