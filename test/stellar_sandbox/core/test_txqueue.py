from dataclasses import dataclass

import pytest

from stellar_sandbox.core.txqueue import DUPLICATE, PENDING, TRY_AGAIN_LATER, TxQueue


@dataclass
class Tx:
    hash: str
    source_id: str
    fee_bid: int = 100
    op_count: int = 1
    max_time: int = 0

    @property
    def fee_op_count(self) -> int:
        return self.op_count


def test_one_pending_per_source_and_duplicates():
    queue = TxQueue()
    assert queue.add(Tx("a", "S1")) == PENDING
    assert queue.add(Tx("a", "S1")) == DUPLICATE
    assert queue.add(Tx("b", "S1")) == TRY_AGAIN_LATER
    assert queue.add(Tx("c", "S2")) == PENDING
    assert len(queue) == 2
    assert queue.pending_for("S1").hash == "a"


def test_take_empties_queue_and_frees_the_source():
    queue = TxQueue()
    queue.add(Tx("a", "S1"))
    selection = queue.take_for_ledger(close_time=10)
    assert [t.hash for t in selection.included] == ["a"]
    assert selection.surge_fee_rate is None
    assert len(queue) == 0
    assert queue.add(Tx("b", "S1")) == PENDING


def test_expired_transactions_are_dropped_and_never_applied():
    queue = TxQueue()
    queue.add(Tx("old", "S1", max_time=99))
    queue.add(Tx("fresh", "S2", max_time=100))
    selection = queue.take_for_ledger(close_time=100)
    assert [t.hash for t in selection.expired] == ["old"]
    assert [t.hash for t in selection.included] == ["fresh"]
    assert "old" not in queue
    assert queue.take_for_ledger(close_time=200).included == []


def test_capacity_takes_highest_fee_per_operation_first_and_the_rest_waits():
    queue = TxQueue(max_ops_per_ledger=3)
    queue.add(Tx("cheap", "S1", fee_bid=100))
    queue.add(Tx("rich_multi", "S2", fee_bid=900, op_count=2))  # 450 per op
    queue.add(Tx("rich", "S3", fee_bid=500))  # 500 per op
    queue.add(Tx("medium", "S4", fee_bid=200))
    first = queue.take_for_ledger(close_time=1)
    assert [t.hash for t in first.included] == ["rich", "rich_multi"]
    assert first.surge_fee_rate == (900, 2)
    second = queue.take_for_ledger(close_time=2)
    assert [t.hash for t in second.included] == ["medium", "cheap"]


def test_equal_fee_rates_keep_arrival_order_and_smaller_txs_fill_gaps():
    queue = TxQueue(max_ops_per_ledger=4)
    queue.add(Tx("big", "S1", fee_bid=300, op_count=3))
    queue.add(Tx("too_big", "S2", fee_bid=300, op_count=3))
    queue.add(Tx("small", "S3", fee_bid=100, op_count=1))
    selection = queue.take_for_ledger(close_time=1)
    assert [t.hash for t in selection.included] == ["big", "small"]
    assert [t.hash for t in queue.take_for_ledger(close_time=2).included] == ["too_big"]


def test_pool_limit_answers_try_again_later():
    queue = TxQueue(max_ops_per_ledger=2, pool_ledgers=1)
    assert queue.add(Tx("a", "S1", fee_bid=200, op_count=2)) == PENDING
    assert queue.add(Tx("b", "S2")) == TRY_AGAIN_LATER


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        TxQueue(max_ops_per_ledger=0)


def test_full_pool_evicts_cheaper_transactions_for_a_better_paying_one():
    queue = TxQueue(max_ops_per_ledger=2, pool_ledgers=1)
    assert queue.add(Tx("cheap", "S1", fee_bid=100)) == PENDING
    assert queue.add(Tx("mid", "S2", fee_bid=200)) == PENDING
    assert queue.add(Tx("same_rate", "S3", fee_bid=100)) == TRY_AGAIN_LATER  # not better than the cheapest
    assert queue.add(Tx("rich", "S4", fee_bid=900, op_count=2)) == PENDING  # 450/op beats both
    assert "cheap" not in queue and "mid" not in queue and queue.evicted_count == 2
    assert queue.pending_ops == 2
    assert [t.hash for t in queue.take_for_ledger(close_time=1).included] == ["rich"]


def test_replace_by_fee_swaps_the_pending_transaction():
    queue = TxQueue()
    old = Tx("old", "S1", fee_bid=100)
    queue.add(old)
    bump = Tx("bump", "S1", fee_bid=2000, op_count=1)
    bump_ops = 2  # a fee bump counts one more operation for its fee
    assert TxQueue.min_replacement_fee(old, Tx("x", "S1", fee_bid=0, op_count=bump_ops)) == 2000
    assert queue.add(bump, replaces=old) == PENDING
    assert "old" not in queue and queue.pending_for("S1") is bump
    with pytest.raises(ValueError):
        queue.add(Tx("other", "S1"), replaces=old)
