"""Transactions from the network's root account: friendbot and the sandbox's funding helpers.

The root account, like any account, may have only one pending transaction, so concurrent requests
are batched: each ledger, one transaction carries up to 100 queued operations (one `CreateAccount`
or `Payment` per request). If a batched transaction fails, its operations are retried one by one,
so each request gets its own outcome (e.g. `op_already_exists` for a friendbot call on an existing
account). An account that already exists is never batched with others.
"""
from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from stellar_sdk import Account, Asset, TransactionBuilder
from stellar_sdk.operation import CreateAccount, Operation, Payment

from stellar_sandbox.horizon.errors import Problem
from stellar_sandbox.horizon.submission import Submitter

Record = dict[str, Any]
MAX_OPS = 100
FRIENDBOT_XLM = Decimal("10000")


class RootAgent:
    def __init__(self, network: Any, submitter: Submitter) -> None:
        self.network = network
        self.submitter = submitter
        self._queue: list[tuple[Operation, asyncio.Future]] = []
        self._worker: asyncio.Task | None = None
        self._lock = asyncio.Lock()  # one root transaction at a time: each needs the next sequence number

    async def create_account(self, account_id: str, xlm: Decimal | str | int = FRIENDBOT_XLM) -> Record:
        """Create and fund `account_id`; the applied transaction record (raises a Problem on failure)."""
        operation = CreateAccount(destination=account_id, starting_balance=str(xlm))
        if self.network.state.account(account_id) is not None:
            return await self._submit([operation])  # fails on its own with op_already_exists
        return await self._enqueue(operation)

    async def pay(self, account_id: str, xlm: Decimal | str | int) -> Record:
        return await self._enqueue(Payment(destination=account_id, asset=Asset.native(), amount=str(xlm)))

    async def _enqueue(self, operation: Operation) -> Record:
        future = asyncio.get_running_loop().create_future()
        self._queue.append((operation, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def close(self) -> None:
        """Stop batching: queued requests fail with CancelledError (server shutdown)."""
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
        queued, self._queue = self._queue, []
        for _, future in queued:
            future.cancel()

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_OPS], self._queue[MAX_OPS:]
            try:
                record = await self._submit([operation for operation, _ in batch])
            except Problem as problem:
                if len(batch) == 1:
                    _settle(batch[0][1], exception=problem)
                    continue
                for operation, future in batch:  # find out which one failed
                    try:
                        _settle(future, result=await self._submit([operation]))
                    except Problem as single:
                        _settle(future, exception=single)
                continue
            except Exception as exc:  # keep the queue alive; report to the waiting callers
                for _, future in batch:
                    _settle(future, exception=exc)
                continue
            for _, future in batch:
                _settle(future, result=record)

    async def _submit(self, operations: list[Operation]) -> Record:
        async with self._lock:
            return await self._submit_unlocked(operations)

    async def _submit_unlocked(self, operations: list[Operation]) -> Record:
        root = self.network.root_keypair
        sequence = self.network.state.account(root.public_key).seq_num
        inclusion_fee = getattr(self.network, "inclusion_fee", None)  # enough to get in under a surge
        base_fee = inclusion_fee(1) if inclusion_fee is not None else int(getattr(self.network, "base_fee", 100))
        builder = TransactionBuilder(Account(root.public_key, sequence), self.network.passphrase, base_fee=base_fee)
        for operation in operations:
            builder.append_operation(operation)
        envelope = builder.add_time_bounds(0, 0).build()
        envelope.sign(root)
        return await self.submitter.submit_and_wait(envelope.to_xdr())


def _settle(future: asyncio.Future, result: Record | None = None, exception: BaseException | None = None) -> None:
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
