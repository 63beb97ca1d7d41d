"""Fee statistics for Stellar RPC's `getFeeStats` (Horizon's `/fee_stats` comes from the `Network`).

`inclusionFee` describes per-operation fees charged to the transactions of the last ledgers (stellar-rpc's
feewindow: fee charged / operations), with transaction and ledger counts; with no transactions
every statistic is the base fee.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

Record = dict[str, Any]
PERCENTILES = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99)


def distribution(values: Sequence[int], default: int) -> dict[str, int]:
    """max, min, mode and p10…p99 (nearest rank) of `values`, or all `default` if empty."""
    if not values:
        stats = {"max": default, "min": default, "mode": default}
        stats.update({f"p{p}": default for p in PERCENTILES})
        return stats
    ordered = sorted(values)
    counts = Counter(ordered)
    top = max(counts.values())
    mode = min(v for v, c in counts.items() if c == top)
    n = len(ordered)
    stats = {"max": ordered[-1], "min": ordered[0], "mode": mode}
    for p in PERCENTILES:
        rank = max(1, -(-p * n // 100))  # ceil(p/100 * n)
        stats[f"p{p}"] = ordered[rank - 1]
    return stats


def rpc_inclusion_fee(base_fee: int, charged: Sequence[int], ledger_count: int) -> Record:
    """stellar-rpc's fee distribution of `charged` (per-operation fees, one per transaction)."""
    stats: Record = {k: str(v) for k, v in distribution(charged, base_fee).items()}
    stats["transactionCount"] = str(len(charged))
    stats["ledgerCount"] = ledger_count
    return stats
