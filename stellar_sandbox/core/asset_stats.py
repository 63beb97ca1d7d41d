"""Horizon's ``/assets`` records (AssetStat, without ``_links``), computed from the ledger's entries.

An asset is listed while anything holds it: a trustline or a liquidity pool. Counts and balances split
trustlines by authorization as Horizon does (authorized; authorized to maintain liabilities only;
unauthorized); pool reserves count under ``liquidity_pools_amount``. The sandbox has no claimable
balances and no contracts: those fields are zero. Paging tokens are Horizon's ``CODE_ISSUER_TYPE``, and
records come in that token's order.
"""

from __future__ import annotations

from typing import Any

from stellar_sandbox.core.amounts import format_amount
from stellar_sandbox.core.assets import asset_type, horizon_fields, parse_key
from stellar_sandbox.core.pools import is_pool_share

Record = dict[str, Any]
_AUTHORIZED, _MAINTAIN_ONLY = 1, 2


def paging_token(key: str) -> str:
    code, issuer = parse_key(key)
    return f"{code}_{issuer}_{asset_type(key)}"


def asset_stats(state: Any, code: str | None = None, issuer: str | None = None) -> list[Record]:
    """Every held credit asset (optionally of one code and/or issuer), by paging token."""
    tallies: dict[str, dict[str, int]] = {}

    def tally(key: str) -> dict[str, int]:
        return tallies.setdefault(key, dict.fromkeys(
            ("authorized", "maintain", "unauthorized", "authorized_amount", "maintain_amount",
             "unauthorized_amount", "pools", "pools_amount"), 0))

    for account_id in state.accounts:
        for line in state.trustlines_of(account_id):
            if is_pool_share(line.asset):
                continue
            kind = ("authorized" if line.flags & _AUTHORIZED else
                    "maintain" if line.flags & _MAINTAIN_ONLY else "unauthorized")
            entry = tally(line.asset)
            entry[kind] += 1
            entry[kind + "_amount"] += line.balance
    for pool in state.pools.values():
        for asset, reserve in ((pool.asset_a, pool.reserve_a), (pool.asset_b, pool.reserve_b)):
            if asset != "native":
                entry = tally(asset)
                entry["pools"] += 1
                entry["pools_amount"] += reserve
    records = []
    for key, entry in tallies.items():
        asset_code, asset_issuer = parse_key(key)
        if (code and asset_code != code) or (issuer and asset_issuer != issuer):
            continue
        records.append(_record(state, key, entry))
    records.sort(key=lambda r: r["paging_token"])
    return records


def _record(state: Any, key: str, entry: dict[str, int]) -> Record:
    _, issuer = parse_key(key)
    issuer_account = state.accounts.get(issuer)
    flags = issuer_account.flags if issuer_account is not None else 0
    record: Record = dict(horizon_fields(key))
    record.update({
        "paging_token": paging_token(key),
        "num_claimable_balances": 0,
        "num_liquidity_pools": entry["pools"],
        "num_contracts": 0,
        "accounts": {
            "authorized": entry["authorized"],
            "authorized_to_maintain_liabilities": entry["maintain"],
            "unauthorized": entry["unauthorized"],
        },
        "claimable_balances_amount": format_amount(0),
        "liquidity_pools_amount": format_amount(entry["pools_amount"]),
        "contracts_amount": format_amount(0),
        "balances": {
            "authorized": format_amount(entry["authorized_amount"]),
            "authorized_to_maintain_liabilities": format_amount(entry["maintain_amount"]),
            "unauthorized": format_amount(entry["unauthorized_amount"]),
        },
        "flags": {
            "auth_required": bool(flags & 1),
            "auth_revocable": bool(flags & 2),
            "auth_immutable": bool(flags & 4),
            "auth_clawback_enabled": bool(flags & 8),
        },
    })
    return record
