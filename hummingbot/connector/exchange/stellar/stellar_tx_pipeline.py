"""TransactionPipeline: order intents → signed transactions → Horizon → one outcome per operation.

The pipeline is the only owner of sequence numbers. Its rules, in the order an intent meets them:

1. Validation: `submit(intent)` turns the intent into its operation at once (`operation_for`), so
   bad input raises `StellarOrderError` before anything is queued (in `submit_many`, that intent
   alone gets a failed outcome with code `invalid_order`).
2. Queue and coalescing: stellar-core keeps at most one pending transaction per source account.
   Each source account (the trading account, or each channel account when channel keys are
   configured) is a *lane* that has at most one transaction in flight; intents that arrive
   meanwhile wait in one shared queue and go together into the lane's next transaction, up to
   `MAX_OPS_PER_TX` operations. With channels, the channel is the transaction's source (consumes
   its own sequence numbers and pays the fee), the trading account is every operation's source,
   and both sign.
3. Build and sign: sequence from the local `SequenceManager`, fee per operation from
   `ConfigCache.fee_per_op(cap)`, time bounds `[0, now + TX_TIME_BOUND_SECONDS]`. No Horizon read.
   The envelope is `stellar_tx_builder.EnvelopeBuilder`'s; the signers are `StellarAuth`'s.
4. Submit to `/transactions_async`:
   - PENDING / DUPLICATE: stellar-core has it; wait for the result (below).
   - TRY_AGAIN_LATER, or HTTP 429 (rate limited): not accepted; wait and resubmit the same envelope
     (never reaches the caller; if it lasts past max_time, the transaction is expired by rule 6
     without asking Horizon).
   - ERROR: rejected, the transaction never applies and its sequence number is not used.
     `tx_bad_seq` → resync the sequence and rebuild (same operations, new transaction);
     `tx_failed` → the failing operations get their error, the others go back to the queue;
     any other code → every operation gets that error.
   - timeout, connection error, 504 or another 5xx without an answer: unknown. Resubmit the SAME
     envelope (same hash: it applies at most once) and look the hash up, until it is found or
     proven expired. An ERROR answer to a *resubmission* proves nothing (the first copy may have
     applied, after which the copy is `tx_bad_seq`), so it only stops the resubmitting.
5. Result: from the account's transaction stream (`notify_transaction`, called by the exchange) or
   by polling `/transactions/{hash}` with a growing delay, whichever comes first. A transaction in
   a ledger consumed its sequence number whether it succeeded or failed. On `tx_failed` the
   failing operations get their error and the others are queued again for the next transaction.
6. Expiry rule: a transaction whose fate is unknown is declared *never applied* only once the
   local clock is past its max_time AND Horizon has ingested a ledger that closed after max_time
   AND the hash is still unknown to Horizon. Then (and only then) its sequence is resynced and its
   operations are queued again in a new transaction (`expired_policy="requeue"`, the default) or
   fail with `tx_too_late` (`expired_policy="fail"`). An operation is never in two transactions
   that could both apply. An operation queued again `max_attempts_per_intent` times fails with
   `submit_failed`.

Each intent's `OpOutcome` carries success, offer id and state, fills in the order's terms, error
code and message, tx hash, ledger, operation id (Horizon's, once in a ledger) and its share of the
fee. Measuring points: `TX_BUILD_SIGN` per transaction, `TX_SUBMIT` per transaction (build start →
accepted), `ORDER_*_ACK` (submit call → accepted by Horizon) and `ORDER_*_CONFIRM` (submit call →
outcome known) per intent.

Stopping (`stop()`) fails the intents still waiting with `PipelineStoppedError`; an intent whose
transaction was already submitted may still apply, so the exchange reconciles its open orders.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, Iterable, KeysView, List, Optional, Sequence

from stellar_sdk import MuxedAccount

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar.stellar_auth import TransactionSigner
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff
from hummingbot.connector.exchange.stellar.stellar_horizon_api import TRANSIENT_ERRORS, HorizonApi, HorizonError
from hummingbot.connector.exchange.stellar.stellar_horizon_records import close_timestamp
from hummingbot.connector.exchange.stellar.stellar_order_ops import OrderIntent, operation_for
from hummingbot.connector.exchange.stellar.stellar_sequence import SequenceManager
from hummingbot.connector.exchange.stellar.stellar_tx_builder import EnvelopeBuilder
from hummingbot.connector.exchange.stellar.stellar_tx_results import (
    OpOutcome,
    TxResult,
    decode_transaction_result,
)

REQUEUE = "requeue"
FAIL = "fail"

INVALID_ORDER = "invalid_order"           # error code of a batch intent that failed validation
TX_EXPIRED = "tx_too_late"
SUBMIT_FAILED = "submit_failed"           # the pipeline could not get a sequence number or an answer

_RETRYABLE_IN_LEDGER = frozenset({"tx_too_late", "tx_bad_seq"})  # in a ledger, but no operation ran
_NO_JITTER = random.Random(0)   # for Backoff(jitter=False), which never draws from it (saves seeding one per tx)


def _first_operation_id(tx_record: Dict[str, Any]) -> Optional[int]:
    """Horizon's id of a transaction's first operation: its TOID is the transaction's (the paging
    token) + 1, and the next operations follow it. None when the record has no usable token."""
    try:
        return int(tx_record["paging_token"]) + 1
    except (KeyError, TypeError, ValueError):
        return None


class PipelineStoppedError(RuntimeError):
    """The pipeline stopped before this intent's outcome was known."""


@dataclass(slots=True)
class _Job:
    intent: OrderIntent
    operation_xdr: bytes          # packed once, at submission
    future: asyncio.Future
    start_ns: int
    attempts: int = 0


@dataclass(slots=True)
class _Lane:
    account_id: str
    source: MuxedAccount
    signer: TransactionSigner     # from StellarAuth's signing rule
    task: Optional[asyncio.Task] = None
    in_flight: Sequence[_Job] = ()


@dataclass(slots=True)
class _SignedTx:
    envelope_xdr: str
    tx_hash: str
    sequence: int
    max_time: int
    build_start_ns: int


# Fates of a transaction
@dataclass(slots=True)
class _InLedger:
    record: Dict[str, Any]


@dataclass(slots=True)
class _Rejected:
    body: Dict[str, Any]


class _Expired:
    pass


class TransactionPipeline:
    def __init__(self,
                 horizon: HorizonApi,
                 auth: Any,                      # StellarAuth: account_id, channel_account_ids, transaction_signer
                 config: Any,                    # ConfigCache: fee_per_op(cap), network_passphrase
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
                 max_rebuilds: int = 3,
                 max_attempts_per_intent: int = 5,
                 clock: Callable[[], float] = time.time):
        if expired_policy not in (REQUEUE, FAIL):
            raise ValueError(f"expired_policy must be {REQUEUE!r} or {FAIL!r}, got {expired_policy!r}")
        if not 1 <= max_ops_per_tx <= CONSTANTS.MAX_OPS_PER_TX:
            raise ValueError(f"max_ops_per_tx must be 1..{CONSTANTS.MAX_OPS_PER_TX}, got {max_ops_per_tx}")
        if not (0 < poll_initial_delay <= poll_max_delay and 0 < resubmit_delay <= poll_max_delay):
            raise ValueError(f"poll_initial_delay ({poll_initial_delay}) and resubmit_delay ({resubmit_delay}) must be "
                             f"positive and at most poll_max_delay ({poll_max_delay})")
        self._horizon = horizon
        self._auth = auth
        self._config = config
        self._sequences = sequences or SequenceManager(horizon.get_account)
        self._builder = EnvelopeBuilder(network_passphrase or config.network_passphrase)
        self._max_fee_per_op = max_fee_per_op
        self._time_bound = int(time_bound_seconds)
        self._max_ops = max_ops_per_tx
        self._expired_policy = expired_policy
        self._poll_initial = poll_initial_delay
        self._poll_max = poll_max_delay
        self._resubmit_delay = resubmit_delay
        self._max_rebuilds = max_rebuilds
        self._max_attempts = max_attempts_per_intent
        self._clock = clock

        trading_id = auth.account_id
        channel_ids = list(auth.channel_account_ids)
        if channel_ids:
            # Channel is the tx source; the trading account is each operation's source (so it signs too).
            self._op_source: Optional[MuxedAccount] = MuxedAccount(trading_id)
            self._lanes = [_Lane(cid, MuxedAccount(cid), auth.transaction_signer(cid, trader_sources_operations=True))
                           for cid in channel_ids]
        else:
            self._op_source = None
            self._lanes = [_Lane(trading_id, MuxedAccount(trading_id), auth.transaction_signer(trading_id))]
        self._queue: Deque[_Job] = deque()
        self._work = asyncio.Event()
        self._waiters: Dict[str, asyncio.Future] = {}
        self._stopped = False
        self.logger = logging.getLogger(__name__)

    # Public API

    @property
    def sequences(self) -> SequenceManager:
        return self._sequences

    @property
    def source_account_ids(self) -> List[str]:
        return [lane.account_id for lane in self._lanes]

    @property
    def queued_count(self) -> int:
        return len(self._queue)

    @property
    def awaited_hashes(self) -> KeysView[str]:
        """Hashes of the submitted transactions whose fate the pipeline awaits (a live read-only view):
        the hashes `notify_transaction` resolves."""
        return self._waiters.keys()

    async def submit(self, intent: OrderIntent, start_ns: Optional[int] = None) -> OpOutcome:
        """Queue one intent and wait for its outcome. Raises StellarOrderError for invalid input,
        before anything is queued. `start_ns` (a `stellar_measurement.now()` value) is when the
        strategy asked, for the ack/confirm measurements."""
        job = self._job(intent, start_ns)
        self._enqueue((job,))
        return await job.future

    async def submit_many(self, intents: Iterable[OrderIntent], start_ns: Optional[int] = None) -> List[OpOutcome]:
        """Queue intents together (they share transactions, MAX_OPS_PER_TX at a time) and wait for all.

        An intent that fails validation does not stop the others: its outcome is a failure with
        error code `invalid_order` and the validation message."""
        start_ns = measurement.now() if start_ns is None else start_ns
        results: List[Any] = []
        jobs = []
        for intent in intents:
            try:
                job = self._job(intent, start_ns)
            except ValueError as e:
                results.append(OpOutcome(success=False, error_code=INVALID_ORDER, error_message=str(e)))
            else:
                jobs.append(job)
                results.append(job)
        self._enqueue(jobs)
        if jobs:
            await asyncio.wait([job.future for job in jobs])
        return [r.future.result() if isinstance(r, _Job) else r for r in results]

    def notify_transaction(self, tx_json: Dict[str, Any]) -> None:
        """A transaction record from the account's transaction stream. Resolves the wait for that
        hash if the pipeline is waiting for it; anything else is ignored."""
        waiter = self._waiters.get(tx_json.get("hash") or tx_json.get("id") or "")
        if waiter is not None and not waiter.done():
            waiter.set_result(tx_json)

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
        for lane in self._lanes:
            for job in lane.in_flight:
                if not job.future.done():
                    job.future.set_exception(PipelineStoppedError(
                        "The transaction pipeline stopped while this operation's transaction was in flight; "
                        "it may still apply"))
            lane.in_flight = ()
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(PipelineStoppedError("The transaction pipeline stopped"))

    # Queue

    def _job(self, intent: OrderIntent, start_ns: Optional[int]) -> _Job:
        if self._stopped:
            raise PipelineStoppedError("The transaction pipeline was stopped")
        packed = self._builder.pack(operation_for(intent, self._op_source))
        return _Job(intent, packed, asyncio.get_running_loop().create_future(),
                    measurement.now() if start_ns is None else start_ns)

    def _enqueue(self, jobs: Sequence[_Job]) -> None:
        if not jobs:
            return
        self._queue.extend(jobs)
        self._ensure_started()
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

    def _ensure_started(self) -> None:
        for lane in self._lanes:
            if lane.task is None or lane.task.done():
                self.start()
                return

    def _take_batch(self) -> List[_Job]:
        queue = self._queue
        batch = []
        while queue and len(batch) < self._max_ops:
            job = queue.popleft()
            if not job.future.done():   # the caller may have cancelled while it waited
                batch.append(job)
        return batch

    # Lanes

    async def _lane_loop(self, lane: _Lane) -> None:
        while True:
            while not self._queue:
                self._work.clear()
                await self._work.wait()
            jobs = self._take_batch()
            if not jobs:
                continue
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

    async def _run(self, lane: _Lane, jobs: List[_Job]) -> None:
        """Carry `jobs` through one transaction (rebuilding after rejections that prove it never applied)."""
        rebuilds = 0
        while jobs:
            lane.in_flight = jobs
            try:
                sequence = await self._sequences.acquire(lane.account_id)
            except TRANSIENT_ERRORS + (HorizonError, ValueError) as e:
                self._fail_all(jobs, SUBMIT_FAILED, f"cannot read the sequence of {lane.account_id}: {e}")
                return
            signed = self._build(lane, jobs, sequence)
            fate = await self._submit_until_known(signed, jobs)
            if isinstance(fate, _InLedger):
                self._sequences.applied(lane.account_id, signed.sequence)
                self._settle_in_ledger(lane, jobs, signed, fate.record)
                return
            if isinstance(fate, _Expired):
                self._sequences.resync(lane.account_id)
                if self._expired_policy == REQUEUE:
                    self._requeue_front(jobs)
                else:
                    self._fail_all(jobs, TX_EXPIRED, CONSTANTS.result_code_message(TX_EXPIRED), tx_hash=signed.tx_hash)
                return
            # Rejected at submission: never applies, the sequence number is free again.
            self._sequences.not_applied(lane.account_id, signed.sequence)
            result = self._decode(fate.body.get("error_result_xdr"), jobs, signed.tx_hash, None)
            if result is None:
                self._fail_all(jobs, SUBMIT_FAILED, f"Horizon rejected the transaction: {fate.body}",
                               tx_hash=signed.tx_hash)
                return
            if result.tx_code == "tx_bad_seq" and rebuilds < self._max_rebuilds:
                rebuilds += 1
                self._sequences.resync(lane.account_id)
                continue
            jobs = self._settle_failed(jobs, result, requeue=False)

    # Build and sign

    def _build(self, lane: _Lane, jobs: List[_Job], sequence: int) -> _SignedTx:
        start = measurement.now()
        max_time = int(self._clock()) + self._time_bound
        fee = self._config.fee_per_op(self._max_fee_per_op) * len(jobs)
        built = self._builder.build(lane.source, sequence, fee, max_time, [job.operation_xdr for job in jobs],
                                    lane.signer)
        signed = _SignedTx(built.envelope_xdr, built.tx_hash, sequence, max_time, start)
        measurement.record(measurement.TX_BUILD_SIGN, start)
        return signed

    # Submit and resolve

    async def _submit_until_known(self, signed: _SignedTx, jobs: List[_Job]) -> Any:
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[signed.tx_hash] = waiter
        try:
            return await self._drive(signed, jobs, waiter)
        finally:
            self._waiters.pop(signed.tx_hash, None)

    async def _drive(self, signed: _SignedTx, jobs: List[_Job], waiter: asyncio.Future) -> Any:
        maybe_in_core = False     # some copy may have reached stellar-core (so it may apply)
        must_submit = True
        acked = False
        poll = Backoff(self._poll_initial, 2.0, self._poll_max, rng=_NO_JITTER, jitter=False)
        resubmit = Backoff(self._resubmit_delay, 2.0, self._poll_max, rng=_NO_JITTER, jitter=False)
        while True:
            if must_submit:
                try:
                    body = await self._horizon.submit_transaction_async(signed.envelope_xdr)
                except TRANSIENT_ERRORS as e:
                    self.logger.debug("Submission of %s has an unknown outcome (%r); resubmitting", signed.tx_hash, e)
                    maybe_in_core = True
                    body = None
                except HorizonError as e:
                    if e.status == 429:
                        # Rate limited: Horizon refused it unread, like TRY_AGAIN_LATER; it goes again after a pause.
                        body = None
                    elif not maybe_in_core:
                        return _Rejected({"tx_status": CONSTANTS.TX_STATUS_ERROR, "detail": str(e)})
                    else:
                        body = None
                        must_submit = False
                if body is not None:
                    status = body.get("tx_status")
                    if status in (CONSTANTS.TX_STATUS_PENDING, CONSTANTS.TX_STATUS_DUPLICATE):
                        maybe_in_core = True
                        must_submit = False
                        if not acked:
                            acked = True
                            self._record_ack(signed, jobs)
                    elif status == CONSTANTS.TX_STATUS_ERROR:
                        if not maybe_in_core:
                            return _Rejected(body)
                        must_submit = False   # an earlier copy may have applied: only the hash can tell
                    # TRY_AGAIN_LATER: not accepted; the same envelope goes again after a pause
            if maybe_in_core and not must_submit:
                record = await self._wait_for_record(signed, waiter, poll.next_delay())
                if record is not None:
                    return _InLedger(record)
            else:
                if not waiter.done():   # pause before resubmitting; the stream may still tell us first
                    await asyncio.wait((waiter,), timeout=resubmit.next_delay())
                if waiter.done():
                    return _InLedger(waiter.result())
                if maybe_in_core:
                    record = await self._lookup(signed.tx_hash)
                    if record is not None:
                        return _InLedger(record)
            if self._clock() > signed.max_time:
                if not maybe_in_core:
                    return _Expired()     # never accepted anywhere: nothing can apply
                fate = await self._expiry_check(signed)
                if fate is not None:
                    return fate

    async def _wait_for_record(self, signed: _SignedTx, waiter: asyncio.Future, delay: float) -> Optional[dict]:
        """The transaction record from the stream if it comes within `delay`, else from Horizon."""
        if not waiter.done():
            await asyncio.wait((waiter,), timeout=delay)
        if waiter.done():
            return waiter.result()
        return await self._lookup(signed.tx_hash)

    async def _lookup(self, tx_hash: str) -> Optional[dict]:
        try:
            return await self._horizon.get_transaction(tx_hash)
        except TRANSIENT_ERRORS + (HorizonError,) as e:
            self.logger.debug("Looking up %s failed: %r", tx_hash, e)
            return None

    async def _expiry_check(self, signed: _SignedTx) -> Any:
        """_Expired when Horizon has ingested a ledger closed after max_time and still lacks the hash;
        the record if it has it; None when that cannot be told yet."""
        try:
            ledger = await self._horizon.get_latest_ledger()
            closed_at = close_timestamp(ledger["closed_at"])
        except TRANSIENT_ERRORS + (HorizonError, KeyError, ValueError) as e:
            self.logger.debug("Cannot read the latest ledger: %r", e)
            return None
        if closed_at <= signed.max_time:
            return None
        # Ledgers are ingested in order: if a ledger closed after max_time is in, so is ours (if any).
        try:
            record = await self._horizon.get_transaction(signed.tx_hash)
        except TRANSIENT_ERRORS + (HorizonError,):
            return None
        return _Expired() if record is None else _InLedger(record)

    # Settle

    def _settle_in_ledger(self, lane: _Lane, jobs: List[_Job], signed: _SignedTx, record: Dict[str, Any]) -> None:
        ledger = record.get("ledger")
        result = self._decode(record.get("result_xdr"), jobs, signed.tx_hash, ledger)
        if result is None:
            successful = bool(record.get("successful"))
            self._fail_all(jobs, SUBMIT_FAILED, "the transaction record has no readable result_xdr"
                           + (" (Horizon says it succeeded)" if successful else ""),
                           tx_hash=signed.tx_hash, ledger=ledger)
            return
        first_operation_id = _first_operation_id(record)
        if first_operation_id is not None:
            for index, outcome in enumerate(result.operations):
                outcome.operation_id = first_operation_id + index
        if result.successful and len(result.operations) == len(jobs):
            for job, outcome in zip(jobs, result.operations, strict=True):
                self._resolve(job, outcome)
            return
        if result.tx_code in _RETRYABLE_IN_LEDGER and not any(o.error_code for o in result.operations):
            # Included but no operation ran (closed too late, or its sequence was taken): like expiry.
            self._sequences.resync(lane.account_id)
            if self._expired_policy == REQUEUE:
                self._requeue_front(jobs)
            else:
                self._fail_all(jobs, result.tx_code, CONSTANTS.result_code_message(result.tx_code),
                               tx_hash=signed.tx_hash, ledger=ledger)
            return
        self._settle_failed(jobs, result, requeue=True)

    def _settle_failed(self, jobs: List[_Job], result: TxResult, *, requeue: bool) -> List[_Job]:
        """Failing operations get their error; operations rolled back with them are queued again
        (`requeue`) or returned for the caller to rebuild at once. With no failing operation to
        blame, every operation gets the transaction's error."""
        ops = result.operations
        if len(ops) != len(jobs) or not any(o.error_code for o in ops):
            fee_share = ops[0].fee_charged_share_stroops if ops else 0
            tx_hash = ops[0].tx_hash if ops else None
            ledger = ops[0].ledger if ops else None
            self._fail_all(jobs, result.tx_code, CONSTANTS.result_code_message(result.tx_code), tx_hash=tx_hash,
                           ledger=ledger, fee_share=fee_share)
            return []
        innocent = []
        for job, outcome in zip(jobs, ops, strict=True):
            if outcome.error_code is None:
                innocent.append(job)
            else:
                self._resolve(job, outcome)
        if requeue:
            self._requeue_front(innocent)
            return []
        return innocent

    def _decode(self, result_xdr: Optional[str], jobs: List[_Job], tx_hash: str,
                ledger: Optional[int]) -> Optional[TxResult]:
        if not result_xdr:
            return None
        try:
            return decode_transaction_result(result_xdr, [(job.intent.base, job.intent.quote) for job in jobs],
                                             tx_hash=tx_hash, ledger=ledger)
        except ValueError as e:
            self.logger.warning("Undecodable result for %s: %s", tx_hash, e)
            return None

    def _fail_all(self, jobs: Iterable[_Job], code: str, message: Optional[str], *, tx_hash: Optional[str] = None,
                  ledger: Optional[int] = None, fee_share: int = 0) -> None:
        for job in jobs:
            self._resolve(job, OpOutcome(success=False, error_code=code, error_message=message, tx_code=code,
                                         tx_hash=tx_hash, ledger=ledger, fee_charged_share_stroops=fee_share))

    def _resolve(self, job: _Job, outcome: OpOutcome) -> None:
        if job.future.done():
            return
        job.future.set_result(outcome)
        measurement.record(measurement.ORDER_CANCEL_CONFIRM if job.intent.is_cancel
                           else measurement.ORDER_CREATE_CONFIRM, job.start_ns)

    def _record_ack(self, signed: _SignedTx, jobs: List[_Job]) -> None:
        if not measurement.is_enabled():
            return
        measurement.record(measurement.TX_SUBMIT, signed.build_start_ns)
        for job in jobs:
            measurement.record(measurement.ORDER_CANCEL_ACK if job.intent.is_cancel
                               else measurement.ORDER_CREATE_ACK, job.start_ns)
