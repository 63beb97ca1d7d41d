"""TransactionSubmitter: carries one signed envelope to a known fate (in a ledger, rejected, or expired).

The pipeline (stellar_tx_pipeline) builds and signs a transaction and settles its operations; in between,
this module submits it and finds out what became of it, by these rules:

4. Submit to `/transactions_async`:
   - PENDING / DUPLICATE: stellar-core has it; wait for the result (below).
   - TRY_AGAIN_LATER, or HTTP 429 (rate limited): not accepted; wait and resubmit the same envelope
     (never reaches the caller; past max_time it is expired by rule 6 without asking Horizon).
   - ERROR: rejected, never applies, its sequence unused: the fate is that rejection (the pipeline decides
     what follows: `tx_bad_seq` → resync and rebuild; `tx_insufficient_fee` → one rebuild at a higher bid;
     `tx_failed` → the failing operations get their error, the others a new transaction; else all get it).
   - timeout, connection error, 504 or another 5xx without an answer: unknown. Resubmit the SAME
     envelope (same hash: it applies at most once) and look the hash up, until it is found or
     proven expired. An ERROR answer to a *resubmission* proves nothing (the first copy may have
     applied, after which the copy is `tx_bad_seq`), so it only stops the resubmitting.
5. Result: from the account's transaction stream (`notify_transaction`, called by the exchange) or
   by polling `/transactions/{hash}` with a growing delay, whichever comes first. While the stream is
   connected (`results_streamed()`), a poll waits at least `streamed_poll_delay`, a ledger and its
   ingestion: the stream tells first, and a poll before the ledger closes only spends the request
   budget (on 5 s ledgers, two lookups a transaction). A transaction in
   a ledger consumed its sequence number whether it succeeded or failed.
6. Expiry rule: a transaction whose fate is unknown is declared *never applied* only once the
   local clock is past its max_time AND Horizon has ingested a ledger that closed after max_time
   AND the hash is still unknown to that same Horizon (`_expiry_check`; both read from one,
   `transaction_after`: of several Horizons, one may lag another). Only then may the pipeline put its
   operations in a new transaction: an operation is never in two transactions that could both apply.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, KeysView, Optional

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff
from hummingbot.connector.exchange.stellar.stellar_horizon_api import TRANSIENT_ERRORS, HorizonApi, HorizonError
from hummingbot.connector.exchange.stellar.stellar_tx_builder import SignedEnvelope

_NO_JITTER = random.Random(0)   # for Backoff(jitter=False), which never draws from it (saves seeding one per tx)


@dataclass(slots=True)
class TxFate:
    """Of a submitted transaction: in a ledger (`record`), rejected (`rejection`), or neither: expired."""
    record: Optional[Dict[str, Any]] = None
    rejection: Optional[Dict[str, Any]] = None


class _Awaited:
    """The wait for one transaction's record: the record once known, and the future a pause awaits."""
    __slots__ = ("record", "wake")

    def __init__(self) -> None:
        self.record: Optional[Dict[str, Any]] = None
        self.wake: Optional[asyncio.Future] = None


def _wake_up(wake: asyncio.Future) -> None:
    if not wake.done():
        wake.set_result(None)


class TransactionSubmitter:
    def __init__(self,
                 horizon: HorizonApi,
                 *,
                 poll_initial_delay: float = 1.0,
                 poll_max_delay: float = 5.0,
                 resubmit_delay: float = 0.5,
                 results_streamed: Callable[[], bool] = lambda: False,
                 streamed_poll_delay: float = CONSTANTS.STREAMED_RESULT_POLL_DELAY_S,
                 clock: Callable[[], float] = time.time):
        if not (0 < poll_initial_delay <= poll_max_delay and 0 < resubmit_delay <= poll_max_delay):
            raise ValueError(f"poll_initial_delay ({poll_initial_delay}) and resubmit_delay ({resubmit_delay}) must be "
                             f"positive and at most poll_max_delay ({poll_max_delay})")
        self._horizon = horizon
        self._poll_initial = poll_initial_delay
        self._poll_max = poll_max_delay
        self._resubmit_delay = resubmit_delay
        self._results_streamed = results_streamed
        self._streamed_poll_delay = streamed_poll_delay
        self._clock = clock
        self._awaited: Dict[str, _Awaited] = {}
        self.logger = logging.getLogger(__name__)

    @property
    def awaited_hashes(self) -> KeysView[str]:
        """Hashes of submitted transactions whose fate is awaited (live, read-only)."""
        return self._awaited.keys()

    def notify_transaction(self, tx_json: Dict[str, Any]) -> None:
        """A transaction record from the account's transaction stream. Resolves the wait for that
        hash if one is under way; anything else is ignored."""
        awaited = self._awaited.get(tx_json.get("hash") or tx_json.get("id") or "")
        if awaited is not None and awaited.record is None:
            awaited.record = tx_json
            wake = awaited.wake
            if wake is not None and not wake.done():
                wake.set_result(None)

    async def submit_until_known(self, signed: SignedEnvelope, on_accepted: Callable[[], None]) -> TxFate:
        """Submit `signed` and follow it until its fate is known (rules 4-6). `on_accepted` is called
        once, when stellar-core first accepts it (PENDING or DUPLICATE)."""
        awaited = self._awaited[signed.tx_hash] = _Awaited()
        try:
            return await self._drive(signed, awaited, on_accepted)
        finally:
            self._awaited.pop(signed.tx_hash, None)

    async def _drive(self, signed: SignedEnvelope, awaited: _Awaited, on_accepted: Callable[[], None]) -> TxFate:
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
                    body = None
                    # 429, rate limited: Horizon refused it unread, like TRY_AGAIN_LATER; it goes again after a pause.
                    if e.status != 429:
                        if not maybe_in_core:
                            return TxFate(rejection={"tx_status": CONSTANTS.TX_STATUS_ERROR, "detail": str(e)})
                        must_submit = False
                if body is not None:
                    status = body.get("tx_status")
                    if status in (CONSTANTS.TX_STATUS_PENDING, CONSTANTS.TX_STATUS_DUPLICATE):
                        maybe_in_core = True
                        must_submit = False
                        if not acked:
                            acked = True
                            on_accepted()
                    elif status == CONSTANTS.TX_STATUS_ERROR:
                        if not maybe_in_core:
                            return TxFate(rejection=body)
                        must_submit = False   # an earlier copy may have applied: only the hash can tell
                    # TRY_AGAIN_LATER: not accepted; the same envelope goes again after a pause
            # Pause (to poll for the result, or before resubmitting); the stream may tell us first.
            if awaited.record is None:
                polling = maybe_in_core and not must_submit
                delay = (poll if polling else resubmit).next_delay()
                if polling and self._results_streamed():
                    delay = max(delay, self._streamed_poll_delay)
                # A plain future woken by the record or by a timer: asyncio.wait would cost a set, callbacks and
                # one more loop turn per transaction.
                loop = asyncio.get_running_loop()
                wake = awaited.wake = loop.create_future()
                timer = loop.call_later(delay, _wake_up, wake)
                try:
                    await wake
                finally:
                    timer.cancel()
                    awaited.wake = None
            if awaited.record is not None:
                return TxFate(awaited.record)
            if maybe_in_core:       # only then can Horizon have it
                try:
                    record = await self._horizon.get_transaction(signed.tx_hash)
                except TRANSIENT_ERRORS + (HorizonError,) as e:
                    self.logger.debug("Looking up %s failed: %r", signed.tx_hash, e)
                    record = None
                if record is not None:
                    return TxFate(record)
            if self._clock() > signed.max_time:
                if not maybe_in_core:
                    return TxFate()        # expired, and never accepted anywhere: nothing can apply
                fate = await self._expiry_check(signed)
                if fate is not None:
                    return fate

    async def _expiry_check(self, signed: SignedEnvelope) -> Optional[TxFate]:
        """Expired when Horizon has ingested a ledger closed after max_time and still lacks the hash;
        in a ledger if it has it; None when that cannot be told yet. Both reads come from ONE Horizon
        (`transaction_after`): of several, one behind another may lack a hash the other has."""
        try:
            closed_at, record = await self._horizon.transaction_after(signed.tx_hash, signed.max_time)
        except TRANSIENT_ERRORS + (HorizonError, KeyError, ValueError) as e:
            self.logger.debug("Cannot tell yet whether %s expired: %r", signed.tx_hash, e)
            return None
        if closed_at <= signed.max_time:
            return None
        # Ledgers are ingested in order: if a ledger closed after max_time is in, so is ours (if any).
        return TxFate(record)       # expired when record is None
