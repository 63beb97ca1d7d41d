"""stellar-core's pending transaction queue (protocol 20 and later), without I/O.

- at most one pending transaction per source account: another one gets TRY_AGAIN_LATER;
- the same hash again is DUPLICATE while it is queued (once applied, the network answers tx_bad_seq);
- a transaction whose ``max_time`` passes before it is included is dropped and never applies;
- each ledger takes at most ``max_ops_per_ledger`` operations, highest fee per operation first
  (ties: first come), the rest wait for the next ledger; when some did not fit, every included
  transaction pays the lowest included fee per operation (rounded down, as from protocol 20);
- a transaction left out of ``pending_depth`` (4) ledgers in a row is dropped and never applies
  (stellar-core's TRANSACTION_QUEUE_TIMEOUT_LEDGERS);
- the whole queue holds at most ``pool_ledgers`` (2) ledgers' worth of operations
  (TRANSACTION_QUEUE_SIZE_MULTIPLIER): when full, a newcomer paying strictly more per operation
  evicts the cheapest pending transactions (they never apply); otherwise it is refused with the
  fee it would need (``check_admission``), which the network answers as ERROR txINSUFFICIENT_FEE;
  until the next ledger a newcomer must also beat the best bid evicted;
- dropped, evicted and refused transactions are banned for ``ban_depth`` (10) ledgers: the same
  hash gets TRY_AGAIN_LATER meanwhile (TRANSACTION_QUEUE_BAN_LEDGERS);
- a fee-bump of the pending transaction's sequence number replaces it when it pays at least
  ``REPLACE_BY_FEE_MULTIPLIER`` times its fee per operation (``min_replacement_fee``);
- ``background_fee``: other traffic (not modelled as transactions) bidding that much per
  operation keeps the queue and every ledger full, as on a network under load: a newcomer must bid
  strictly more per operation; pending transactions that do not are left out (and age out); the
  ledger's spare room goes to that traffic, so the included transactions pay its bid per operation.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field
from functools import cmp_to_key
from typing import Optional, Protocol

PENDING = "PENDING"
DUPLICATE = "DUPLICATE"
TRY_AGAIN_LATER = "TRY_AGAIN_LATER"
REPLACE_BY_FEE_MULTIPLIER = 10
POOL_LEDGERS = 2  # stellar-core's TRANSACTION_QUEUE_SIZE_MULTIPLIER
PENDING_DEPTH = 4  # TRANSACTION_QUEUE_TIMEOUT_LEDGERS
BAN_DEPTH = 10  # TRANSACTION_QUEUE_BAN_LEDGERS


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
    age: int = 0  # ledgers closed without it


def _by_fee_rate_then_arrival(a: _Entry, b: _Entry) -> int:
    # a before b when a's fee per op is higher; compare fee_a/ops_a with fee_b/ops_b exactly
    left = a.tx.fee_bid * b.tx.fee_op_count
    right = b.tx.fee_bid * a.tx.fee_op_count
    if left != right:
        return -1 if left > right else 1
    return a.arrival - b.arrival


_PRIORITY = cmp_to_key(_by_fee_rate_then_arrival)


def _ops(tx: Queueable) -> int:
    return max(tx.fee_op_count, 1)


def beats(fee: int, ops: int, ref_fee: int, ref_ops: int) -> bool:
    """Whether ``fee`` for ``ops`` operations pays strictly more per operation than ``ref_fee``/``ref_ops``."""
    return fee * ref_ops > ref_fee * ops


def better_fee(ops: int, ref_fee: int, ref_ops: int) -> int:
    """The smallest fee for ``ops`` operations that beats ``ref_fee``/``ref_ops`` (stellar-core's computeBetterFee)."""
    return ref_fee * ops // max(ref_ops, 1) + 1


@dataclass
class LedgerSelection:
    """Transactions chosen for one ledger, in apply order, and what the choice did to the queue."""

    included: list  # of Queueable, highest fee rate first
    expired: list  # dropped because their max_time passed
    base_fee_rate: Optional[int] = None  # per-op fee every included tx pays when some did not fit (surge)
    background_ops: int = 0  # room taken by background traffic (``background_fee``)
    aged_out: list = field(default_factory=list)  # left out of `pending_depth` ledgers: dropped and banned


class TxQueue:
    def __init__(self, max_ops_per_ledger: int = 1000, pool_ledgers: int = POOL_LEDGERS,
                 pending_depth: int = PENDING_DEPTH, ban_depth: int = BAN_DEPTH) -> None:
        if max_ops_per_ledger < 1:
            raise ValueError(f"max_ops_per_ledger must be positive, got {max_ops_per_ledger}")
        self.max_ops_per_ledger = max_ops_per_ledger
        self.max_pool_ops = max_ops_per_ledger * pool_ledgers
        self.pending_depth = pending_depth
        self.background_fee: Optional[int] = None  # per-op bid of background traffic filling every ledger
        self._by_hash: dict[str, _Entry] = {}
        self._by_source: dict[str, _Entry] = {}
        self._by_inner_hash: dict[str, str] = {}  # inner hash of a pending fee-bump -> its hash
        self._pool_ops = 0
        self._arrivals = 0
        # eviction candidates, cheapest first: (fee per op, -arrival, hash); stale items skipped lazily
        self._cheapest: list[tuple[float, int, str]] = []
        self._evicted_bid: Optional[tuple[int, int]] = None  # best (fee, ops) evicted since the last ledger
        self._banned: deque[set[str]] = deque(set() for _ in range(max(ban_depth, 1)))
        self.evicted_count = 0  # transactions dropped to make room for better paying ones
        self.aged_out_count = 0  # transactions dropped after `pending_depth` ledgers without inclusion

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

    # ----- bans -----

    def is_banned(self, tx_hash: str) -> bool:
        return any(tx_hash in banned for banned in self._banned)

    def ban(self, tx_hash: str) -> None:
        self._banned[0].add(tx_hash)

    # ----- admission -----

    @staticmethod
    def min_replacement_fee(pending: Queueable, tx: Queueable) -> int:
        """Fee ``tx`` must offer to replace ``pending`` (stellar-core's canReplaceByFee, rounded up)."""
        needed = REPLACE_BY_FEE_MULTIPLIER * pending.fee_bid * tx.fee_op_count
        return -(-needed // max(pending.fee_op_count, 1))

    def check_admission(self, tx: Queueable, replaces: Optional[Queueable] = None) -> Optional[int]:
        """None when ``tx`` fits the queue (evicting cheaper ones if need be); else the fee it would need
        (stellar-core's txINSUFFICIENT_FEE with that fee charged), or 0 when no fee would do (TRY_AGAIN_LATER).
        """
        fee, ops = tx.fee_bid, _ops(tx)
        if self._evicted_bid is not None and not beats(fee, ops, *self._evicted_bid):
            return better_fee(ops, *self._evicted_bid)
        if self.background_fee is not None and not beats(fee, ops, self.background_fee, 1):
            return better_fee(ops, self.background_fee, 1)
        needed = self._pool_ops + tx.op_count - self.max_pool_ops - (replaces.op_count if replaces else 0)
        if needed <= 0:
            return None
        if tx.op_count > self.max_pool_ops:
            return 0
        freed = 0
        for entry in sorted(self._by_hash.values(), key=_PRIORITY, reverse=True):  # cheapest first
            if replaces is not None and entry.tx is replaces:
                continue
            if not beats(fee, ops, entry.tx.fee_bid, _ops(entry.tx)):
                return better_fee(ops, entry.tx.fee_bid, _ops(entry.tx))
            if entry.tx.source_id == tx.source_id:
                return 0
            freed += entry.tx.op_count
            if freed >= needed:
                return None
        return 0

    def add(self, tx: Queueable, replaces: Optional[Queueable] = None) -> str:
        """PENDING, DUPLICATE or TRY_AGAIN_LATER; ``replaces``: the pending transaction a fee-bump replaces.

        Refusals for the fee (``check_admission``) are TRY_AGAIN_LATER here; the network asks
        ``check_admission`` first to answer them with the fee needed.
        """
        if tx.hash in self._by_hash:
            return DUPLICATE
        if replaces is not None:
            if self._by_source.get(tx.source_id) is None or self._by_source[tx.source_id].tx is not replaces:
                raise ValueError("only the pending transaction of the same source account can be replaced")
        elif tx.source_id in self._by_source:
            return TRY_AGAIN_LATER
        if self.check_admission(tx, replaces) is not None:
            return TRY_AGAIN_LATER
        if replaces is not None:
            self.remove(replaces.hash)
        if self._pool_ops + tx.op_count > self.max_pool_ops:
            self._evict_for(tx)
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
        heapq.heappush(self._cheapest, (tx.fee_bid / _ops(tx), -entry.arrival, tx.hash))
        if len(self._cheapest) > 2 * len(self._by_hash) + 64:
            self._cheapest = [item for item in self._cheapest if item[2] in self._by_hash]
            heapq.heapify(self._cheapest)

    def _evict_for(self, tx: Queueable) -> None:
        """Drop the cheapest pending transactions to make room for ``tx`` (``check_admission`` said it may)."""
        needed = self._pool_ops + tx.op_count - self.max_pool_ops
        heap = self._cheapest
        while needed > 0 and heap:
            _rate, neg_arrival, tx_hash = heapq.heappop(heap)
            entry = self._by_hash.get(tx_hash)
            if entry is None or -entry.arrival != neg_arrival:
                continue  # stale: already applied, dropped or replaced
            self.remove(tx_hash)
            self.ban(tx_hash)
            self.evicted_count += 1
            needed -= entry.tx.op_count
            bid = (entry.tx.fee_bid, _ops(entry.tx))
            if self._evicted_bid is None or beats(*bid, *self._evicted_bid):
                self._evicted_bid = bid

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

    # ----- a ledger closes -----

    def take_for_ledger(self, close_time: int) -> LedgerSelection:
        """Remove and return what the next ledger (closing at ``close_time``) applies, then age the rest.

        Expired transactions are dropped for good. Candidates are taken highest fee per operation
        first; one that does not fit the remaining capacity waits, smaller ones may still fit.
        """
        expired = [e.tx for e in self._by_hash.values() if e.tx.max_time and e.tx.max_time < close_time]
        for tx in expired:
            self.remove(tx.hash)
        background = self.background_fee
        candidates = sorted(self._by_hash.values(), key=_PRIORITY)
        if background is not None:  # only bids above the background traffic's compete with it
            candidates = [e for e in candidates if beats(e.tx.fee_bid, _ops(e.tx), background, 1)]
        chosen: list[_Entry] = []
        room = self.max_ops_per_ledger
        left_out = False
        for entry in candidates:
            if entry.tx.op_count <= room:
                chosen.append(entry)
                room -= entry.tx.op_count
            else:
                left_out = True
        background_ops = room if background is not None else 0
        base_fee_rate = None
        if left_out or background is not None:  # surge pricing: the lowest included rate, rounded down
            rates = [entry.tx.fee_bid // _ops(entry.tx) for entry in chosen]
            if background_ops:
                rates.append(background)
            base_fee_rate = min(rates) if rates else None
        for entry in chosen:
            self.remove(entry.tx.hash)
        aged_out = self._shift()
        return LedgerSelection([e.tx for e in chosen], expired, base_fee_rate, background_ops, aged_out)

    def _shift(self) -> list:
        """After a ledger: bans move one ledger older; what is still pending ages, and drops at `pending_depth`."""
        self._banned.pop()
        self._banned.appendleft(set())
        self._evicted_bid = None
        aged_out = []
        for entry in list(self._by_hash.values()):
            entry.age += 1
            if entry.age >= self.pending_depth:
                self.remove(entry.tx.hash)
                self.ban(entry.tx.hash)
                aged_out.append(entry.tx)
        self.aged_out_count += len(aged_out)
        return aged_out
