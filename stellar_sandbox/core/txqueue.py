"""stellar-core's pending transaction queue (protocol 20 and later), without I/O.

- at most one pending transaction per source account: another one gets TRY_AGAIN_LATER;
- the same hash again is DUPLICATE while it is queued (once applied, the network answers tx_bad_seq);
- a transaction whose ``max_time`` passes before it is included is dropped and never applies;
- each ledger takes at most ``max_ops_per_ledger`` operations, highest fee per operation first
  (ties: first come), the rest wait for the next ledger;
- the whole queue holds at most ``pool_ledgers`` ledgers' worth of operations: when full, a newcomer
  paying a higher fee per operation evicts the cheapest pending transactions (they never apply),
  otherwise it gets TRY_AGAIN_LATER;
- a fee-bump of the pending transaction's sequence number replaces it when it pays at least
  ``REPLACE_BY_FEE_MULTIPLIER`` times its fee per operation (``min_replacement_fee``).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Optional, Protocol

PENDING = "PENDING"
DUPLICATE = "DUPLICATE"
TRY_AGAIN_LATER = "TRY_AGAIN_LATER"
REPLACE_BY_FEE_MULTIPLIER = 10


class Queueable(Protocol):
    """What the queue needs to know about a validated transaction."""

    hash: str  # hex
    source_id: str  # the account whose sequence number the transaction consumes
    fee_bid: int  # max fee offered, in stroops
    fee_op_count: int  # operations counted for the fee (+1 for a fee bump)
    op_count: int  # operations counted against ledger capacity
    max_time: int  # 0: no upper time bound


@dataclass
class _Entry:
    tx: Queueable
    arrival: int


def _by_fee_rate_then_arrival(a: _Entry, b: _Entry) -> int:
    # a before b when a's fee per op is higher; compare fee_a/ops_a with fee_b/ops_b exactly
    left = a.tx.fee_bid * b.tx.fee_op_count
    right = b.tx.fee_bid * a.tx.fee_op_count
    if left != right:
        return -1 if left > right else 1
    return a.arrival - b.arrival


_PRIORITY = cmp_to_key(_by_fee_rate_then_arrival)


@dataclass
class LedgerSelection:
    """Transactions chosen for one ledger, in apply order, and what the choice did to the queue."""

    included: list  # of Queueable, highest fee rate first
    expired: list  # dropped because their max_time passed
    surge_fee_rate: Optional[tuple[int, int]]  # (fee, ops) of the lowest included rate when capacity was exceeded


class TxQueue:
    def __init__(self, max_ops_per_ledger: int = 1000, pool_ledgers: int = 4) -> None:
        if max_ops_per_ledger < 1:
            raise ValueError(f"max_ops_per_ledger must be positive, got {max_ops_per_ledger}")
        self.max_ops_per_ledger = max_ops_per_ledger
        self.max_pool_ops = max_ops_per_ledger * pool_ledgers
        self._by_hash: dict[str, _Entry] = {}
        self._by_source: dict[str, _Entry] = {}
        self._by_inner_hash: dict[str, str] = {}  # inner hash of a pending fee-bump -> its hash
        self._pool_ops = 0
        self._arrivals = 0
        # eviction candidates, cheapest first: (fee per op, -arrival, hash); stale items skipped lazily
        self._cheapest: list[tuple[float, int, str]] = []
        self.evicted_count = 0  # transactions dropped to make room for better paying ones

    def __len__(self) -> int:
        return len(self._by_hash)

    def __contains__(self, tx_hash: str) -> bool:
        return tx_hash in self._by_hash

    def contains_inner(self, tx_hash: str) -> bool:
        """Whether a pending fee-bump wraps the transaction ``tx_hash``."""
        return tx_hash in self._by_inner_hash

    @property
    def pending_ops(self) -> int:
        return self._pool_ops

    def get(self, tx_hash: str) -> Optional[Queueable]:
        entry = self._by_hash.get(tx_hash)
        return None if entry is None else entry.tx

    def pending_for(self, source_id: str) -> Optional[Queueable]:
        entry = self._by_source.get(source_id)
        return None if entry is None else entry.tx

    @staticmethod
    def min_replacement_fee(pending: Queueable, tx: Queueable) -> int:
        """Fee ``tx`` must offer to replace ``pending`` (stellar-core's canReplaceByFee, rounded up)."""
        needed = REPLACE_BY_FEE_MULTIPLIER * pending.fee_bid * tx.fee_op_count
        return -(-needed // max(pending.fee_op_count, 1))

    def add(self, tx: Queueable, replaces: Optional[Queueable] = None) -> str:
        """PENDING, DUPLICATE or TRY_AGAIN_LATER; ``replaces``: the pending transaction a fee-bump replaces."""
        if tx.hash in self._by_hash:
            return DUPLICATE
        if replaces is not None:
            if self._by_source.get(tx.source_id) is None or self._by_source[tx.source_id].tx is not replaces:
                raise ValueError("only the pending transaction of the same source account can be replaced")
            self.remove(replaces.hash)
        elif tx.source_id in self._by_source:
            return TRY_AGAIN_LATER
        if self._pool_ops + tx.op_count > self.max_pool_ops and not self._evict_for(tx):
            if replaces is not None:
                self._insert(replaces)
            return TRY_AGAIN_LATER
        self._insert(tx)
        return PENDING

    def _insert(self, tx: Queueable) -> None:
        entry = _Entry(tx, self._arrivals)
        self._arrivals += 1
        self._by_hash[tx.hash] = entry
        self._by_source[tx.source_id] = entry
        inner_hash = getattr(tx, "inner_hash", None)
        if inner_hash:
            self._by_inner_hash[inner_hash] = tx.hash
        self._pool_ops += tx.op_count
        heapq.heappush(self._cheapest, (tx.fee_bid / max(tx.fee_op_count, 1), -entry.arrival, tx.hash))
        if len(self._cheapest) > 2 * len(self._by_hash) + 64:
            self._cheapest = [item for item in self._cheapest if item[2] in self._by_hash]
            heapq.heapify(self._cheapest)

    def _evict_for(self, tx: Queueable) -> bool:
        """Drop the cheapest pending transactions if ``tx`` pays more per operation than each of them."""
        rate = tx.fee_bid / max(tx.fee_op_count, 1)
        needed = self._pool_ops + tx.op_count - self.max_pool_ops
        heap = self._cheapest
        popped: list[tuple[float, int, str]] = []
        freed = 0
        while freed < needed and heap:
            item = heapq.heappop(heap)
            entry = self._by_hash.get(item[2])
            if entry is None or -entry.arrival != item[1]:
                continue  # stale: already applied, dropped or replaced
            popped.append(item)
            if item[0] >= rate:
                break
            freed += entry.tx.op_count
        if freed < needed or (popped and popped[-1][0] >= rate):
            for item in popped:
                heapq.heappush(heap, item)
            return False
        for item in popped:
            self.remove(item[2])
        self.evicted_count += len(popped)
        return True

    def remove(self, tx_hash: str) -> Optional[Queueable]:
        entry = self._by_hash.pop(tx_hash, None)
        if entry is None:
            return None
        if self._by_source.get(entry.tx.source_id) is entry:
            del self._by_source[entry.tx.source_id]
        inner_hash = getattr(entry.tx, "inner_hash", None)
        if inner_hash and self._by_inner_hash.get(inner_hash) == tx_hash:
            del self._by_inner_hash[inner_hash]
        self._pool_ops -= entry.tx.op_count
        return entry.tx

    def take_for_ledger(self, close_time: int) -> LedgerSelection:
        """Remove and return what the next ledger (closing at ``close_time``) applies.

        Expired transactions are dropped for good. Candidates are taken highest fee per operation
        first; one that does not fit the remaining capacity waits, smaller ones may still fit.
        """
        expired = [e.tx for e in self._by_hash.values() if e.tx.max_time and e.tx.max_time < close_time]
        for tx in expired:
            self.remove(tx.hash)
        entries = list(self._by_hash.values())
        if self._pool_ops <= self.max_ops_per_ledger:
            chosen = sorted(entries, key=_PRIORITY)  # all fit: no surge pricing
            surge = None
        else:
            chosen = []
            room = self.max_ops_per_ledger
            for entry in sorted(entries, key=_PRIORITY):
                if entry.tx.op_count <= room:
                    chosen.append(entry)
                    room -= entry.tx.op_count
                    if room == 0:
                        break
            lowest = chosen[-1].tx if chosen else None
            surge = (lowest.fee_bid, lowest.fee_op_count) if lowest is not None else None
        for entry in chosen:
            self.remove(entry.tx.hash)
        return LedgerSelection([e.tx for e in chosen], expired, surge)
