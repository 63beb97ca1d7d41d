"""Sequence numbers per source account, tracked locally after one read from Horizon.

A transaction must carry its source account's sequence + 1. Reading the account for every
transaction would cost a Horizon round trip per order, so the account is read once and the number
is then tracked here. The rules that keep it right:

- one number out at a time per account: `acquire` refuses while an earlier number of that account
  is unresolved, because that transaction could still apply (the pipeline never asks then);
- `applied(seq)`: the transaction was included in a ledger (successful or failed, both consume
  the number);
- `not_applied(seq)`: the transaction can certainly never apply (rejected at submission, or its
  time bounds passed with no trace of it): the same number is handed out again;
- `resync()`: the local number is no longer trusted (`tx_bad_seq`, an expired transaction, another
  client of the account); the next `acquire` reads the account again.

`read_ahead(account_id)` does that one read before any number is asked for (at start), so the first
transaction of each account need not wait for it; it hands no number out.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, Dict, Optional

AccountReader = Callable[[str], Awaitable[dict]]   # GET /accounts/{id} → Horizon account JSON


class SequenceBusyError(RuntimeError):
    """A number was asked for while an earlier transaction of the account may still apply."""


@dataclass(slots=True)
class _AccountSequence:
    ledger_sequence: Optional[int] = None   # the account's sequence as the ledger has it (None: unknown)
    outstanding: Optional[int] = None       # number handed out, fate unknown


class SequenceManager:
    def __init__(self, read_account: AccountReader):
        self._read_account = read_account
        self._accounts: Dict[str, _AccountSequence] = {}
        self._locks: Dict[str, asyncio.Lock] = {}
        self.fetch_count = 0

    async def acquire(self, account_id: str) -> int:
        """The sequence number for the next transaction of `account_id`."""
        state = self._accounts.get(account_id)
        if state is None:
            state = self._accounts[account_id] = _AccountSequence()
        if state.outstanding is not None:
            raise SequenceBusyError(
                f"Sequence {state.outstanding} of {account_id} is still unresolved; its transaction may apply")
        if state.ledger_sequence is None:
            await self._fetch(account_id, state)
            if state.outstanding is not None:   # someone else acquired while we were reading
                raise SequenceBusyError(
                    f"Sequence {state.outstanding} of {account_id} is still unresolved; its transaction may apply")
        seq = state.ledger_sequence + 1
        state.outstanding = seq
        return seq

    async def read_ahead(self, account_id: str) -> None:
        """Read the account's sequence now if it is not known (an `acquire` meanwhile shares the read)."""
        state = self._state(account_id)
        if state.ledger_sequence is None and state.outstanding is None:
            await self._fetch(account_id, state)

    def applied(self, account_id: str, seq: int) -> None:
        """The transaction with `seq` made it into a ledger: the account's sequence is now `seq`."""
        state = self._state(account_id)
        if state.outstanding == seq:
            state.outstanding = None
        if state.ledger_sequence is None or seq > state.ledger_sequence:
            state.ledger_sequence = seq

    def not_applied(self, account_id: str, seq: int) -> None:
        """The transaction with `seq` can never apply: hand the same number out again."""
        state = self._state(account_id)
        if state.outstanding == seq:
            state.outstanding = None

    def resync(self, account_id: str) -> None:
        """Forget the local number; the next `acquire` reads the account from Horizon.

        Only call it once the account's outstanding transaction (if any) can no longer apply."""
        state = self._state(account_id)
        state.outstanding = None
        state.ledger_sequence = None

    def has_outstanding(self, account_id: str) -> bool:
        state = self._accounts.get(account_id)
        return state is not None and state.outstanding is not None

    def current(self, account_id: str) -> Optional[int]:
        """The locally known ledger sequence of the account (None: unknown)."""
        state = self._accounts.get(account_id)
        return None if state is None else state.ledger_sequence

    def _state(self, account_id: str) -> _AccountSequence:
        state = self._accounts.get(account_id)
        if state is None:
            state = self._accounts[account_id] = _AccountSequence()
        return state

    async def _fetch(self, account_id: str, state: _AccountSequence) -> None:
        lock = self._locks.get(account_id)
        if lock is None:
            lock = self._locks[account_id] = asyncio.Lock()
        async with lock:
            if state.ledger_sequence is not None:   # another caller read it while we waited
                return
            account = await self._read_account(account_id)
            self.fetch_count += 1
            try:
                sequence = int(account["sequence"])
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"Horizon's account record for {account_id} has no valid 'sequence'") from None
            state.ledger_sequence = sequence
