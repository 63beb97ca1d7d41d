"""Transaction submission as Horizon does it: synchronous (`POST /transactions`) and async.

Synchronous submission answers once the ledger that includes the transaction has closed: the
transaction resource when it succeeded, 400 `transaction_failed` with its result codes when it
failed (at validation or at apply), 504 `transaction_submission_timeout` when it is not in a
ledger in time (a lost answer: the client looks the hash up or resubmits the same envelope). A
hash already in a ledger is answered from history at once, as Horizon's txsub does. When the
queue answers TRY_AGAIN_LATER (the source account already has a pending transaction) the
submission is retried after each ledger close until the timeout.
"""
from __future__ import annotations

import asyncio
from typing import Any

from stellar_sandbox.horizon import errors
from stellar_sandbox.horizon.result_codes import result_codes

Record = dict[str, Any]

PENDING = "PENDING"
DUPLICATE = "DUPLICATE"
TRY_AGAIN_LATER = "TRY_AGAIN_LATER"
ERROR = "ERROR"
ASYNC_STATUS_CODES = {PENDING: 201, DUPLICATE: 409, TRY_AGAIN_LATER: 503, ERROR: 400}


class Submitter:
    """Submits envelopes to the `Network` and waits for their ledgers."""

    def __init__(self, network: Any, timeout: float = 30.0) -> None:
        self.network = network
        self.timeout = timeout
        self._by_hash: dict[str, list[asyncio.Future]] = {}
        self._next_ledger: list[asyncio.Future] = []
        network.add_listener(self._on_network_event)

    def _on_network_event(self, kind: str, record: Record) -> None:
        if kind == "transactions":
            self._resolve(self._by_hash.pop(record["hash"], ()), record)
            inner = record.get("inner_transaction")
            if inner:
                self._resolve(self._by_hash.pop(inner["hash"], ()), record)
        elif kind == "ledgers" and self._next_ledger:
            waiters, self._next_ledger = self._next_ledger, []
            self._resolve(waiters, record)

    @staticmethod
    def _resolve(futures, record: Record) -> None:
        for future in futures:
            if not future.done():
                future.set_result(record)

    def submit_async(self, envelope_xdr: str) -> tuple[int, Record]:
        """`POST /transactions_async`: (HTTP status, body) straight from the queue's answer."""
        outcome = self._submit(envelope_xdr)
        body: Record = {"tx_status": outcome.status, "hash": outcome.hash}
        if outcome.status == ERROR:
            body["error_result_xdr"] = outcome.error_result_xdr
        return ASYNC_STATUS_CODES[outcome.status], body

    async def submit_and_wait(self, envelope_xdr: str) -> Record:
        """`POST /transactions`: the applied transaction record, or raises the Horizon problem."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            outcome = self._submit(envelope_xdr)
            applied = self.network.transaction(outcome.hash)
            if applied is not None:
                return self._applied(applied, envelope_xdr)
            if outcome.status == ERROR:
                raise errors.transaction_failed(envelope_xdr, outcome.error_result_xdr,
                                                result_codes(outcome.error_result_xdr, outcome.hash))
            waiter = loop.create_future()
            if outcome.status == TRY_AGAIN_LATER:
                self._next_ledger.append(waiter)
            else:  # PENDING or DUPLICATE of a pending one
                self._by_hash.setdefault(outcome.hash, []).append(waiter)
            try:
                await asyncio.wait_for(waiter, max(0.0, deadline - loop.time()))
            except TimeoutError:
                self._forget(outcome.hash, waiter)
                raise errors.submission_timeout(outcome.hash, envelope_xdr) from None
            if outcome.status != TRY_AGAIN_LATER:
                return self._applied(waiter.result(), envelope_xdr)

    def _forget(self, tx_hash: str, waiter: asyncio.Future) -> None:
        waiters = self._by_hash.get(tx_hash)
        if waiters and waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                del self._by_hash[tx_hash]
        if waiter in self._next_ledger:
            self._next_ledger.remove(waiter)

    @staticmethod
    def _applied(record: Record, envelope_xdr: str) -> Record:
        if record.get("successful", True):
            return record
        raise errors.transaction_failed(envelope_xdr, record["result_xdr"],
                                        result_codes(record["result_xdr"], record["hash"]))

    def _submit(self, envelope_xdr: str):
        try:
            return self.network.submit(envelope_xdr)
        except ValueError:  # the envelope does not decode
            raise errors.transaction_malformed(envelope_xdr) from None
