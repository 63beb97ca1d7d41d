"""Consistency checks of liquidity pools against the trustlines holding their shares (tests and debugging)."""

from __future__ import annotations

from typing import Any

from stellar_sandbox.core.assets import NATIVE, issuer_of
from stellar_sandbox.core.pools import is_pool_share, pool_id_of_share


def check_pools(state: Any) -> None:
    """Raise AssertionError unless every pool's trustline count, share total and reserves agree with the
    pool-share trustlines, and every asset trustline's pool use count with the pools its account is in."""
    holders: dict[str, list[Any]] = {}
    uses: dict[tuple[str, str], int] = {}
    for account_id in state.accounts:
        for line in state.trustlines_of(account_id):
            if not is_pool_share(line.asset):
                continue
            pool = state.pools.get(pool_id_of_share(line.asset))
            if pool is None:
                raise AssertionError(f"{account_id}: shares of a missing pool {line.asset}")
            holders.setdefault(pool.pool_id, []).append(line)
            for asset in (pool.asset_a, pool.asset_b):
                if asset != NATIVE and issuer_of(asset) != account_id:
                    uses[(account_id, asset)] = uses.get((account_id, asset), 0) + 1
    for pool in state.pools.values():
        lines = holders.get(pool.pool_id, [])
        if pool.trustline_count != len(lines) or not lines:
            raise AssertionError(f"pool {pool.pool_id}: {pool.trustline_count} trustlines counted, {len(lines)} held")
        if pool.total_shares != sum(line.balance for line in lines):
            raise AssertionError(f"pool {pool.pool_id}: total shares differ from the holders' balances")
        if min(pool.reserve_a, pool.reserve_b) < 0 or (pool.total_shares == 0) != (pool.reserve_a == 0):
            raise AssertionError(f"pool {pool.pool_id}: reserves {pool.reserve_a}/{pool.reserve_b} inconsistent")
    for account_id in state.accounts:
        for line in state.trustlines_of(account_id):
            if line.pool_use_count != uses.get((account_id, line.asset), 0):
                raise AssertionError(f"{account_id}/{line.asset}: pool use count {line.pool_use_count}")
