from dataclasses import dataclass

import pytest

from stellar_sandbox.core.txqueue import BAN_DEPTH, DUPLICATE, PENDING, PENDING_DEPTH, TRY_AGAIN_LATER, TxQueue


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
    assert selection.base_fee_rate is None and selection.background_ops == 0
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
    assert first.base_fee_rate == 450  # the lowest included fee per operation
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


def test_full_pool_names_the_fee_that_would_evict():
    queue = TxQueue(max_ops_per_ledger=2, pool_ledgers=1)
    assert queue.add(Tx("a", "S1", fee_bid=200, op_count=2)) == PENDING
    assert queue.check_admission(Tx("b", "S2")) == 101  # stellar-core's computeBetterFee: 100/op + 1
    assert queue.check_admission(Tx("c", "S2", fee_bid=200, op_count=2)) == 201
    assert queue.check_admission(Tx("huge", "S2", fee_bid=9000, op_count=3)) == 0  # larger than the pool
    assert queue.add(Tx("b", "S2")) == TRY_AGAIN_LATER
    assert queue.check_admission(Tx("d", "S1", fee_bid=500)) == 0  # would evict its own account's: no fee helps


def test_surge_rounds_the_lowest_rate_down():
    queue = TxQueue(max_ops_per_ledger=3)
    queue.add(Tx("odd", "S1", fee_bid=301, op_count=2))  # 150.5 per op
    queue.add(Tx("rich", "S2", fee_bid=1000))
    queue.add(Tx("left", "S3", fee_bid=100))
    assert queue.take_for_ledger(close_time=1).base_fee_rate == 150  # ROUND_DOWN from protocol 20


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        TxQueue(max_ops_per_ledger=0)


def test_full_pool_evicts_cheaper_transactions_for_a_better_paying_one():
    queue = TxQueue(max_ops_per_ledger=2, pool_ledgers=1)
    assert queue.add(Tx("cheap", "S1", fee_bid=100)) == PENDING
    assert queue.add(Tx("mid", "S2", fee_bid=200)) == PENDING
    assert queue.check_admission(Tx("same_rate", "S3", fee_bid=100)) == 101  # not better than the cheapest
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


def test_left_out_transactions_age_out_and_are_banned():
    queue = TxQueue(max_ops_per_ledger=1)
    queue.add(Tx("rich", "S1", fee_bid=500))
    queue.add(Tx("poor", "S2", fee_bid=100))
    for close in range(1, PENDING_DEPTH):
        selection = queue.take_for_ledger(close_time=close)
        assert not selection.aged_out and "poor" in queue
        queue.add(Tx(f"rich{close}", f"R{close}", fee_bid=500))  # always someone richer
    last = queue.take_for_ledger(close_time=PENDING_DEPTH)
    assert [t.hash for t in last.aged_out] == ["poor"] and "poor" not in queue
    assert queue.is_banned("poor") and queue.aged_out_count == 1
    for close in range(BAN_DEPTH - 1):
        queue.take_for_ledger(close_time=100 + close)
    assert queue.is_banned("poor")
    queue.take_for_ledger(close_time=200)
    assert not queue.is_banned("poor")


def test_background_traffic_sets_the_floor_and_fills_the_ledger():
    queue = TxQueue(max_ops_per_ledger=10)
    queue.add(Tx("early", "S0", fee_bid=100))  # pending before the surge
    queue.background_fee = 5000
    assert queue.check_admission(Tx("low", "S1", fee_bid=5000)) == 5001  # must beat the background bid
    assert queue.check_admission(Tx("two_ops", "S1", fee_bid=9000, op_count=2)) == 10_001
    assert queue.add(Tx("high", "S2", fee_bid=20_002, op_count=2)) == PENDING
    selection = queue.take_for_ledger(close_time=1)
    assert [t.hash for t in selection.included] == ["high"]
    assert selection.background_ops == 8 and selection.base_fee_rate == 5000
    assert "early" in queue  # left out while the surge lasts
    queue.background_fee = None
    assert [t.hash for t in queue.take_for_ledger(close_time=2).included] == ["early"]


def test_eviction_raises_the_bar_until_the_next_ledger():
    queue = TxQueue(max_ops_per_ledger=1, pool_ledgers=1)
    queue.add(Tx("cheap", "S1", fee_bid=100))
    assert queue.add(Tx("mid", "S2", fee_bid=300)) == PENDING  # evicts cheap (banned)
    assert queue.is_banned("cheap")
    queue.remove("mid")
    assert queue.check_admission(Tx("low", "S3", fee_bid=100)) == 101  # must beat the evicted bid
    queue.take_for_ledger(close_time=1)
    assert queue.check_admission(Tx("low", "S3", fee_bid=100)) is None
