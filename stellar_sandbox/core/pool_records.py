"""Horizon's JSON for liquidity pools (without ``_links``): the pool resource, the pool inside effects,
pool trades and their effects, and the pool fields of operation records.

Shapes follow Horizon's Go response types (protocols/horizon: ``LiquidityPool``, effects'
``LiquidityPool``/``LiquidityPoolTrade``, ``Trade``) and its ingestion processors: assets in pool records
are canonical strings (``native`` or ``CODE:ISSUER``), which are exactly the sandbox's asset keys; a pool
trade names the pool (``*_liquidity_pool_id``) where an order book trade names an offer and an account.
"""

from __future__ import annotations

from typing import Any

from stellar_sandbox.core.amounts import format_amount
from stellar_sandbox.core.assets import canonical_pair, horizon_fields
from stellar_sandbox.core.op_base import effect
from stellar_sandbox.core.pools import LIQUIDITY_POOL_FEE_V18, LiquidityPool
from stellar_sandbox.core.state import iso_time

Record = dict[str, Any]
POOL_TYPE = "constant_product"
POOL_SHARES = "liquidity_pool_shares"


def asset_amounts(assets: tuple[str, str], amounts: tuple[int, int]) -> list[Record]:
    """Horizon's ``[{asset, amount}, ...]``; an empty asset name (a failed operation's) is left out."""
    return [{"asset": a, "amount": format_amount(n)} if a else {"amount": format_amount(n)}
            for a, n in zip(assets, amounts, strict=True)]


def pool_details(pool: LiquidityPool) -> Record:
    """The pool as effects embed it (``liquidity_pool``)."""
    return {
        "id": pool.pool_id,
        "fee_bp": pool.fee_bp,
        "type": POOL_TYPE,
        "total_trustlines": str(pool.trustline_count),
        "total_shares": format_amount(pool.total_shares),
        "reserves": asset_amounts((pool.asset_a, pool.asset_b), (pool.reserve_a, pool.reserve_b)),
    }


def pool_json(pool: LiquidityPool) -> Record:
    """Horizon's liquidity pool resource without ``_links`` (paged by its id)."""
    record = {"id": pool.pool_id, "paging_token": pool.pool_id}
    record.update((name, value) for name, value in pool_details(pool).items() if name != "id")
    record["last_modified_ledger"] = pool.last_modified_ledger
    record["last_modified_time"] = iso_time(pool.last_modified_time)
    return record


def pool_share_fields(pool_id: str) -> Record:
    """The asset fields Horizon gives a pool-share trustline in effects and change_trust operations."""
    return {"asset_type": POOL_SHARES, "liquidity_pool_id": pool_id}


def pool_trade_json(claim: Any, taker: str, taker_offer_id: int, close_time: str) -> Record:
    """Horizon's trade resource (no id/paging_token) for one exchange with a pool.

    The pool is the seller (it sold ``asset_sold``), the taker the counterparty with its synthetic offer
    id; base/counter in canonical asset order, the price the pool's (bought per sold), inverted with a swap.
    """
    pool_side = {"liquidity_pool_id": claim.pool_id, "amount": claim.amount_sold, "asset": claim.asset_sold}
    taker_side = {"offer_id": str(taker_offer_id), "account": taker, "amount": claim.amount_bought,
                  "asset": claim.asset_bought}
    price_n, price_d = claim.amount_bought, claim.amount_sold
    base_is_seller = canonical_pair(claim.asset_sold, claim.asset_bought)[0] == claim.asset_sold
    base, counter = (pool_side, taker_side) if base_is_seller else (taker_side, pool_side)
    if not base_is_seller:
        price_n, price_d = price_d, price_n
    trade: Record = {"ledger_close_time": close_time, "trade_type": "liquidity_pool",
                     "liquidity_pool_fee_bp": LIQUIDITY_POOL_FEE_V18}
    for prefix, side in (("base_", base), ("counter_", counter)):
        for name in ("liquidity_pool_id", "offer_id", "account"):
            if name in side:
                trade[prefix + name] = side[name]
        trade[prefix + "amount"] = format_amount(side["amount"])
        trade.update(horizon_fields(side["asset"], prefix))
    trade["base_is_seller"] = base_is_seller
    trade["price"] = {"n": str(price_n), "d": str(price_d)}
    return trade


def pool_trade_effect(pool: LiquidityPool, claim: Any, taker: str) -> Record:
    """The ``liquidity_pool_trade`` effect of the taker (the pool as it is after the operation)."""
    return effect(
        taker,
        "liquidity_pool_trade",
        liquidity_pool=pool_details(pool),
        sold={"asset": claim.asset_sold, "amount": format_amount(claim.amount_sold)},
        bought={"asset": claim.asset_bought, "amount": format_amount(claim.amount_bought)},
    )
