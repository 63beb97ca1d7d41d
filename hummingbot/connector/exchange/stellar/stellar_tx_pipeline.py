"""TransactionPipeline: order intents → signed transactions → Horizon → one outcome per operation.

The pipeline is the only owner of sequence numbers. Its rules, in the order an intent meets them:

1. Validation: `submit(intent)` turns the intent into its operation at once (`offer_terms`, or
   `path_payment_terms` for a MARKET order's `MarketOrderIntent`), so bad input raises
   `StellarOrderError` before anything is queued (in `submit_many`, that intent alone gets a failed
   outcome with code `invalid_order`).
2. Queue and coalescing: stellar-core keeps one pending transaction per source account. Each
   source account (the trading account, or each channel account) is a *lane* with at most one
   transaction in flight; intents wait in one shared queue, which idle lanes share evenly, up to
   `MAX_OPS_PER_TX` operations a transaction. Lanes woken together take their shares one loop turn
   apart, so that each transaction is on its way to Horizon before the next is built. A channel is its
   transaction's source (sequence, fee) and the trading account every operation's source.
3. Build and sign: sequence from the local `SequenceManager` (each lane's account read once, at start:
   `read_sequences`), fee per operation from
   `ConfigCache.fee_per_op(cap)` (cap: the user's `stellar_max_fee_stroops`), time bounds
   `[0, now + TX_TIME_BOUND_SECONDS]`; no Horizon read.
   Built by `stellar_tx_builder.EnvelopeBuilder`, signed as `StellarAuth.transaction_sources()` says.
4-6. Submit, and learn the transaction's fate: `stellar_tx_submission.TransactionSubmitter` (same
   envelope until stellar-core answers; result from the stream or by polling; expiry proven, never guessed).
7. Settle: in a ledger, each operation gets its result (a transaction in a ledger consumed its sequence
   number whether it succeeded or failed); on `tx_failed` the failing operations get their error and the
   others are queued again. Rejected at submission (it never applies, its sequence is free): `tx_bad_seq` →
   resync and rebuild; `tx_failed` → as in a ledger; `tx_insufficient_fee` (a fee surge) → the fee figures
   read at once, and the same operations rebuilt ONCE at a higher bid (`bid_after_fee_refusal`: what the
   network asks, within the cap), else they fail with `fee_surge` and a message naming the cap and the fee
   asked; else every operation gets the error. Never applied
   (expired, or in a ledger as `tx_too_late`): the sequence is resynced and the operations queued again in
   a new transaction (`expired_policy="requeue"`, the default) or failed with `tx_too_late`
   (`expired_policy="fail"`). An operation queued again `max_attempts_per_intent` times fails with
   `submit_failed`.

Each intent gets one `OpOutcome` (stellar_tx_results). Measuring points: `TX_BUILD_SIGN`, `TX_SUBMIT`
(build start → accepted) per transaction; once per intent `ORDER_*_ACK` (submit call → first
accepted by Horizon) and `ORDER_*_CONFIRM` (submit call → outcome known).

Stopping (`stop()`) fails the intents still waiting with `PipelineStoppedError`; an intent whose
transaction was already submitted may still apply, so the exchange reconciles its open orders.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Deque, Dict, Iterable, KeysView, List, Optional, Sequence, Tuple, Union

from stellar_sdk import MuxedAccount

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar.stellar_auth import TransactionSigner
from hummingbot.connector.exchange.stellar.stellar_horizon_api import TRANSIENT_ERRORS, HorizonApi, HorizonError
from hummingbot.connector.exchange.stellar.stellar_order_ops import OrderIntent, offer_terms
from hummingbot.connector.exchange.stellar.stellar_path_payments import MarketOrderIntent, path_payment_terms
from hummingbot.connector.exchange.stellar.stellar_sequence import SequenceManager
from hummingbot.connector.exchange.stellar.stellar_tx_builder import EnvelopeBuilder, SignedEnvelope
from hummingbot.connector.exchange.stellar.stellar_tx_results import (
    OpOutcome,
    TxResult,
    decode_transaction_result,
    failed_outcome,
)
from hummingbot.connector.exchange.stellar.stellar_tx_submission import TransactionSubmitter

Intent = Union[OrderIntent, MarketOrderIntent]   # whatever becomes one operation

REQUEUE = "requeue"
FAIL = "fail"

INVALID_ORDER = "invalid_order"           # error code of a batch intent that failed validation
TX_EXPIRED = "tx_too_late"
SUBMIT_FAILED = "submit_failed"           # the pipeline could not get a sequence number or an answer
FEE_SURGE = "fee_surge"                   # refused for its fee, and no retry within the user's maximum would do
TX_INSUFFICIENT_FEE = "tx_insufficient_fee"


def bid_after_fee_refusal(refused_bid: int, fee_needed: int, operations: int, figures_bid: int, max_fee: int,
                          retried: bool) -> Tuple[Optional[int], str]:
    """After a transaction bidding `refused_bid` per operation was refused for its fee (`tx_insufficient_fee`,
    whose result carries the fee the network needs for the whole transaction; 0: it does not say): the bid per
    operation to retry at, or None and why not. The retry bids what the network asks, or the fresh figures'
    bid (`figures_bid`, capped) if higher; only once, only above the refused bid and within `max_fee`."""
    asked = -(-fee_needed // operations) if fee_needed > 0 else None
    asks = f"it asks {asked} stroops per operation" if asked else "it does not say how much it asks"
    if retried:
        return None, (f"Fee surge: the network refused the fee again at {refused_bid} stroops per operation ({asks}); "
                      f"the configured maximum is stellar_max_fee_stroops = {max_fee}.")
    if asked is not None and asked > max_fee:
        return None, (f"Fee surge: the network asks {asked} stroops per operation, above the configured maximum "
                      f"stellar_max_fee_stroops = {max_fee}; raise it to trade during the surge.")
    bid = max(asked or 0, figures_bid)
    if bid <= refused_bid:
        return None, (f"Fee surge: the network refused {refused_bid} stroops per operation ({asks}) and its fee "
                      f"figures give no higher bid within the configured maximum stellar_max_fee_stroops = {max_fee}.")
    return bid, ""


class PipelineStoppedError(RuntimeError):
    """The pipeline stopped before this intent's outcome was known."""


@dataclass(slots=True)
class _Job:
    intent: Intent
    operation_xdr: bytes          # packed once, at submission
    future: asyncio.Future
    start_ns: int
    attempts: int = 0
    acked: bool = False           # one ack sample per order, however many transactions carry it


@dataclass(slots=True)
class _Lane:
    account_id: str
    source: MuxedAccount
    signer: TransactionSigner     # from StellarAuth's signing rule
    task: Optional[asyncio.Task] = None
    in_flight: Sequence[_Job] = ()


class TransactionPipeline:
    def __init__(self,
                 horizon: HorizonApi,
                 auth: Any,                      # StellarAuth: account_id, channel_account_ids, transaction_sources
                 config: Any,                    # ConfigCache: fee_per_op(cap), refresh_fees_now(), network_passphrase
                 sequences: Optional[SequenceManager] = None,
                 *,
                 network_passphrase: Optional[str] = None,
                 max_fee_per_op: int = CONSTANTS.DEFAULT_MAX_FEE_STROOPS,
                 time_bound_seconds: int = CONSTANTS.TX_TIME_BOUND_SECONDS,
                 max_ops_per_tx: int = CONSTANTS.MAX_OPS_PER_TX,
                 expired_policy: str = REQUEUE,
                 poll_initial_delay: float = 1.0,
                 poll_max_delay: float = 5.0,
                 resubmit_delay: float = 0.5,
                 results_streamed: Callable[[], bool] = lambda: False,
                 streamed_poll_delay: float = CONSTANTS.STREAMED_RESULT_POLL_DELAY_S,
                 max_rebuilds: int = 3,
                 max_attempts_per_intent: int = 5,
                 clock: Callable[[], float] = time.time):
        if expired_policy not in (REQUEUE, FAIL):
            raise ValueError(f"expired_policy must be {REQUEUE!r} or {FAIL!r}, got {expired_policy!r}")
        if not 1 <= max_ops_per_tx <= CONSTANTS.MAX_OPS_PER_TX:
            raise ValueError(f"max_ops_per_tx must be 1..{CONSTANTS.MAX_OPS_PER_TX}, got {max_ops_per_tx}")
        self._submitter = TransactionSubmitter(horizon, poll_initial_delay=poll_initial_delay,
                                               poll_max_delay=poll_max_delay, resubmit_delay=resubmit_delay,
                                               results_streamed=results_streamed,
                                               streamed_poll_delay=streamed_poll_delay, clock=clock)
        self._config = config
        self._sequences = sequences or SequenceManager(horizon.get_account)
        self._builder = EnvelopeBuilder(network_passphrase or config.network_passphrase)
        self._max_fee_per_op = max_fee_per_op
        self._time_bound = int(time_bound_seconds)
        self._max_ops = max_ops_per_tx
        self._expired_policy = expired_policy
        self._max_rebuilds = max_rebuilds
        self._max_attempts = max_attempts_per_intent
        self._clock = clock

        # With channels, each channel is a lane's transaction source and the trading account every operation's.
        self._op_source = MuxedAccount(auth.account_id) if auth.channel_account_ids else None
        self._lanes = [_Lane(source_id, MuxedAccount(source_id), signer)
                       for source_id, signer in auth.transaction_sources()]
        self._queue: Deque[_Job] = deque()
        self._work = asyncio.Event()
        self._batch_taken_this_turn = False   # a lane took a batch in this turn of the event loop (`_lane_loop`)
        self._stopped = False
        self.logger = logging.getLogger(__name__)

    # Public API

    @property
    def sequences(self) -> SequenceManager:
        return self._sequences

    @property
    def queued_count(self) -> int:
        return len(self._queue)

    @property
    def awaited_hashes(self) -> KeysView[str]:
        """Hashes of submitted transactions whose fate is awaited (live, read-only): `notify_transaction`'s."""
        return self._submitter.awaited_hashes

    async def submit(self, intent: Intent, start_ns: Optional[int] = None) -> OpOutcome:
        """Queue one intent and wait for its outcome. Raises StellarOrderError for invalid input,
        before anything is queued. `start_ns` (a `stellar_measurement.now()` value) is when the
        strategy asked, for the ack/confirm measurements."""
        job = self._job(intent, start_ns)
        self._enqueue((job,))
        return await job.future

    async def submit_many(self, intents: Iterable[Intent], start_ns: Optional[int] = None) -> List[OpOutcome]:
        """Queue intents together (they share transactions, MAX_OPS_PER_TX at a time) and wait for all.

        An intent that fails validation does not stop the others: its outcome is a failure with
        error code `invalid_order` and the validation message."""
        start_ns = measurement.now() if start_ns is None else start_ns
        results: List[Any] = []
        for intent in intents:
            try:
                results.append(self._job(intent, start_ns))
            except ValueError as e:
                results.append(OpOutcome(success=False, error_code=INVALID_ORDER, error_message=str(e)))
        jobs = [r for r in results if isinstance(r, _Job)]
        self._enqueue(jobs)
        if jobs:
            await asyncio.wait([job.future for job in jobs])
        return [r.future.result() if isinstance(r, _Job) else r for r in results]

    def notify_transaction(self, tx_json: Dict[str, Any]) -> None:
        """A transaction record from the account's transaction stream. Resolves the wait for that
        hash if the pipeline is waiting for it; anything else is ignored."""
        self._submitter.notify_transaction(tx_json)

    async def read_sequences(self) -> None:
        """Read every lane's sequence number not known yet, all at once: otherwise the first transaction of each
        lane waits for its account's read (and, the lanes' reads and posts being concurrent, for a connection of
        its own). A read that fails is left to that lane's first transaction, which reads again."""
        results = await asyncio.gather(*(self._sequences.read_ahead(lane.account_id) for lane in self._lanes),
                                       return_exceptions=True)
        for lane, result in zip(self._lanes, results, strict=True):
            if isinstance(result, Exception):
                self.logger.debug("Reading the sequence of %s ahead failed: %r", lane.account_id, result)

    def start(self) -> None:
        """Start the lanes (done on first submit; call it to start them earlier)."""
        if self._stopped:
            raise PipelineStoppedError("The transaction pipeline was stopped")
        for lane in self._lanes:
            if lane.task is None or lane.task.done():
                lane.task = asyncio.get_running_loop().create_task(self._lane_loop(lane))

    async def stop(self) -> None:
        self._stopped = True
        tasks = [lane.task for lane in self._lanes if lane.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        for job in [job for lane in self._lanes for job in lane.in_flight]:
            if not job.future.done():
                job.future.set_exception(PipelineStoppedError(
                    "The transaction pipeline stopped while this operation's transaction was in flight; "
                    "it may still apply"))
        for lane in self._lanes:
            lane.in_flight = ()
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(PipelineStoppedError("The transaction pipeline stopped"))

    # Queue

    def _job(self, intent: Intent, start_ns: Optional[int]) -> _Job:
        if self._stopped:
            raise PipelineStoppedError("The transaction pipeline was stopped")
        if isinstance(intent, MarketOrderIntent):
            packed = self._builder.pack_path_payment(path_payment_terms(intent), self._op_source)
        else:
            packed = self._builder.pack_offer(offer_terms(intent), self._op_source)
        return _Job(intent, packed, asyncio.get_running_loop().create_future(),
                    measurement.now() if start_ns is None else start_ns)

    def _enqueue(self, jobs: Sequence[_Job]) -> None:
        if not jobs:
            return
        self._queue.extend(jobs)
        self.start()        # the lanes not running yet (or any more)
        self._work.set()

    def _requeue_front(self, jobs: Sequence[_Job]) -> None:
        """Put jobs back at the head of the queue, in their order, for the next transaction."""
        retry = []
        for job in jobs:
            job.attempts += 1
            if job.attempts >= self._max_attempts:
                self._resolve(job, OpOutcome(success=False, error_code=SUBMIT_FAILED,
                                             error_message=f"gave up after {job.attempts} transactions"))
            else:
                retry.append(job)
        self._queue.extendleft(reversed(retry))
        if retry:
            self._work.set()

    def _take_batch(self) -> List[_Job]:
        # Idle lanes split the queue evenly: an operation failing its transaction (a cancel whose offer just
        # filled) then sends fewer innocent ones back to wait for the next ledger.
        idle = sum(1 for lane in self._lanes if not lane.in_flight)
        share = min(self._max_ops, -(-len(self._queue) // max(idle, 1)))
        batch = []
        while self._queue and len(batch) < share:
            job = self._queue.popleft()
            if not job.future.done():   # the caller may have cancelled while it waited
                batch.append(job)
        return batch

    # Lanes

    async def _lane_loop(self, lane: _Lane) -> None:
        while True:
            while not self._queue:
                self._work.clear()
                await self._work.wait()
            if self._batch_taken_this_turn:
                # Another lane took a batch in this turn of the loop, and its POST is written in the next one (aiohttp
                # writes a body in a task of its own on Python 3.11): ours is built after, while Horizon reads that.
                await asyncio.sleep(0)
                continue
            jobs = self._take_batch()
            if not jobs:
                continue
            self._batch_taken_this_turn = True
            asyncio.get_running_loop().call_soon(self._new_turn)
            try:
                await self._run(lane, jobs)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # a bug, not a network answer: fail loudly, keep the lane alive
                self.logger.exception("Transaction pipeline error on lane %s", lane.account_id)
                self._sequences.resync(lane.account_id)
                for job in (*jobs, *lane.in_flight):
                    if not job.future.done():
                        job.future.set_exception(e)
            lane.in_flight = ()

    def _new_turn(self) -> None:
        self._batch_taken_this_turn = False

    async def _run(self, lane: _Lane, jobs: List[_Job]) -> None:
        """Carry `jobs` through one transaction (rebuilding after rejections that prove it never applied)."""
        rebuilds = 0
        fee_retry_bid: Optional[int] = None   # the bid of the one retry after a refusal for the fee
        while jobs:
            lane.in_flight = jobs
            try:
                sequence = await self._sequences.acquire(lane.account_id)
            except TRANSIENT_ERRORS + (HorizonError, ValueError) as e:
                self._fail_all(jobs, SUBMIT_FAILED, f"cannot read the sequence of {lane.account_id}: {e}")
                return
            start = measurement.now()
            bid = fee_retry_bid or self._config.fee_per_op(self._max_fee_per_op)
            signed = self._build(lane, jobs, sequence, start, bid)
            fate = await self._submitter.submit_until_known(signed, partial(self._record_ack, start, jobs))
            if fate.record is not None:
                self._sequences.applied(lane.account_id, signed.sequence)
                self._settle_in_ledger(lane, jobs, signed, fate.record)
                return
            if fate.rejection is None:    # expired
                self._never_applied(lane, jobs, TX_EXPIRED, signed.tx_hash)
                return
            # Rejected at submission: never applies, the sequence number is free again.
            self._sequences.not_applied(lane.account_id, signed.sequence)
            result = self._decode(fate.rejection.get("error_result_xdr"), jobs, signed.tx_hash)
            if result is None:
                self._fail_all(jobs, SUBMIT_FAILED, f"Horizon rejected the transaction: {fate.rejection}",
                               tx_hash=signed.tx_hash)
                return
            if result.tx_code == "tx_bad_seq" and rebuilds < self._max_rebuilds:
                rebuilds += 1
                self._sequences.resync(lane.account_id)
                continue
            if result.tx_code == TX_INSUFFICIENT_FEE:
                await self._config.refresh_fees_now()   # a surge: what the network's figures say now
                fee_retry_bid, why_not = bid_after_fee_refusal(
                    bid, result.fee_charged, len(jobs), self._config.fee_per_op(self._max_fee_per_op),
                    self._max_fee_per_op, retried=fee_retry_bid is not None)
                if fee_retry_bid is not None:
                    continue     # the same operations, rebuilt on the same (unused) sequence number
                self._fail_all(jobs, FEE_SURGE, why_not, tx_hash=signed.tx_hash, tx_code=TX_INSUFFICIENT_FEE)
                return
            jobs = self._settle_failed(jobs, result)   # the innocent ones go again at once

    def _build(self, lane: _Lane, jobs: List[_Job], sequence: int, start: int, fee_per_op: int) -> SignedEnvelope:
        max_time = int(self._clock()) + self._time_bound
        signed = self._builder.build(lane.source, sequence, fee_per_op * len(jobs), max_time,
                                     [job.operation_xdr for job in jobs], lane.signer)
        measurement.record(measurement.TX_BUILD_SIGN, start)
        return signed

    # Settle

    def _settle_in_ledger(self, lane: _Lane, jobs: List[_Job], signed: SignedEnvelope, record: Dict[str, Any]) -> None:
        ledger = record.get("ledger")
        result = self._decode(record.get("result_xdr"), jobs, signed.tx_hash, ledger, record.get("paging_token"))
        if result is None:
            said = " (Horizon says it succeeded)" if record.get("successful") else ""
            self._fail_all(jobs, SUBMIT_FAILED, f"the transaction record has no readable result_xdr{said}",
                           tx_hash=signed.tx_hash, ledger=ledger)
            return
        if result.successful and len(result.operations) == len(jobs):
            for job, outcome in zip(jobs, result.operations, strict=True):
                self._resolve(job, outcome)
        elif result.no_operation_ran:   # like expiry: the operations never ran
            self._never_applied(lane, jobs, result.tx_code, signed.tx_hash, ledger)
        else:
            self._requeue_front(self._settle_failed(jobs, result))

    def _never_applied(self, lane: _Lane, jobs: List[_Job], code: str, tx_hash: str,
                       ledger: Optional[int] = None) -> None:
        """The jobs' transaction never applied: resync; queue them again or fail them (`expired_policy`)."""
        self._sequences.resync(lane.account_id)
        if self._expired_policy == REQUEUE:
            self._requeue_front(jobs)
        else:
            self._fail_all(jobs, code, None, tx_hash=tx_hash, ledger=ledger)

    def _settle_failed(self, jobs: List[_Job], result: TxResult) -> List[_Job]:
        """Resolve the jobs whose operation failed (`TxResult.blame`); return those rolled back with them."""
        innocent = []
        for job, outcome in zip(jobs, result.blame(len(jobs)), strict=True):
            if outcome is None:
                innocent.append(job)
            else:
                self._resolve(job, outcome)
        return innocent

    def _decode(self, result_xdr: Optional[str], jobs: List[_Job], tx_hash: str, ledger: Optional[int] = None,
                tx_paging_token: Optional[str] = None) -> Optional[TxResult]:
        if not result_xdr:
            return None
        try:
            return decode_transaction_result(result_xdr, [(job.intent.base, job.intent.quote) for job in jobs],
                                             tx_hash=tx_hash, ledger=ledger, tx_paging_token=tx_paging_token)
        except ValueError as e:
            self.logger.warning("Undecodable result for %s: %s", tx_hash, e)
            return None

    def _fail_all(self, jobs: Iterable[_Job], code: str, message: Optional[str], *, tx_hash: Optional[str] = None,
                  ledger: Optional[int] = None, tx_code: Optional[str] = None) -> None:
        """Each job fails with `code` and `message` (None: the code's message); `tx_code`, if not `code`."""
        for job in jobs:
            outcome = failed_outcome(code, message, tx_hash=tx_hash, ledger=ledger)
            if tx_code is not None:
                outcome.tx_code = tx_code
            self._resolve(job, outcome)

    def _resolve(self, job: _Job, outcome: OpOutcome) -> None:
        if job.future.done():
            return
        job.future.set_result(outcome)
        measurement.record(measurement.ORDER_CANCEL_CONFIRM if job.intent.is_cancel
                           else measurement.ORDER_CREATE_CONFIRM, job.start_ns)

    def _record_ack(self, build_start: int, jobs: List[_Job]) -> None:
        first = [job for job in jobs if not job.acked]
        for job in first:
            job.acked = True
        if measurement.is_enabled():
            measurement.record(measurement.TX_SUBMIT, build_start)
            for job in first:
                measurement.record(measurement.ORDER_CANCEL_ACK if job.intent.is_cancel
                                   else measurement.ORDER_CREATE_ACK, job.start_ns)
