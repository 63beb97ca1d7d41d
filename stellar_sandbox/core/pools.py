"""Constant-product liquidity pools (CAP-38): pool ids, the pool entry, and the protocol's integer math.

Every formula is stellar-core's, in basis points and exact integers (Python ints stand in for its
128-bit intermediates):

- trading (path payments only): for ``x`` received the pool disburses
  ``floor[(10000 − fee)·Y·x / (10000·X + (10000 − fee)·x)]`` (``(1−F)·Y·x / (X + x − F·x)``), and to
  disburse ``y`` it needs ``ceil[10000·X·y / ((Y − y)·(10000 − fee))]`` (``X·y / (Y − y) / (1 − F)``);
- deposits: into an empty pool exactly the maximum amounts, for ``floor(sqrt(a·b))`` shares (stellar-core
  rounds down where the CAP text says ceil); into a non-empty pool ``min(floor(T·maxA/A), floor(T·maxB/B))``
  shares for ``ceil(shares·A/T)`` and ``ceil(shares·B/T)``;
- withdrawals: ``floor(shares·A/T)`` and ``floor(shares·B/T)``.

Pool ids are SHA-256 of the ``LiquidityPoolParameters`` XDR with the assets in stellar-core's XDR order
(type, then the zero-padded code bytes, then the issuer's raw key bytes: not the G... strings that some
SDKs compare, which can order two issuers differently).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from math import isqrt

from stellar_sdk import xdr as sx
from stellar_sdk.strkey import StrKey

from stellar_sandbox.core.amounts import INT64_MAX
from stellar_sandbox.core.assets import NATIVE, asset_type, is_valid_xdr_asset, key_from_xdr, xdr_from_key

LIQUIDITY_POOL_FEE_V18 = 30  # basis points
MAX_BPS = 10_000
POOL_SHARE_PREFIX = "pool:"  # trustline key of pool shares: "pool:<hex pool id>"
_TYPE_RANK = {"native": 0, "credit_alphanum4": 1, "credit_alphanum12": 2}


@dataclass(slots=True)
class LiquidityPool:
    """A LiquidityPoolEntry (constant product); ``asset_a`` < ``asset_b`` in XDR order."""

    pool_id: str  # 64 hex digits
    asset_a: str
    asset_b: str
    fee_bp: int = LIQUIDITY_POOL_FEE_V18
    reserve_a: int = 0
    reserve_b: int = 0
    total_shares: int = 0
    trustline_count: int = 0  # poolSharesTrustLineCount
    last_modified_ledger: int = 0
    last_modified_time: int = 0

    def reserves_for(self, to_pool: str) -> tuple[int, int]:
        """(reserve of the asset sent to the pool, reserve of the asset it pays out)."""
        return (self.reserve_a, self.reserve_b) if to_pool == self.asset_a else (self.reserve_b, self.reserve_a)


# ----- ids and asset order -----


def pool_share_key(pool_id: str) -> str:
    return POOL_SHARE_PREFIX + pool_id


def is_pool_share(key: str) -> bool:
    return key.startswith(POOL_SHARE_PREFIX)


def pool_id_of_share(key: str) -> str:
    return key[len(POOL_SHARE_PREFIX):]


@lru_cache(maxsize=4096)
def xdr_order_key(key: str) -> tuple[int, bytes, bytes]:
    """stellar-core's Asset ``operator<``: type, then the code as zero-padded bytes, then raw issuer bytes."""
    if key == NATIVE:
        return 0, b"", b""
    code, _, issuer = key.partition(":")
    kind = asset_type(key)
    width = 4 if kind == "credit_alphanum4" else 12
    return _TYPE_RANK[kind], code.encode("ascii").ljust(width, b"\0"), StrKey.decode_ed25519_public_key(issuer)


def ordered(a: str, b: str) -> tuple[str, str]:
    """The two assets in pool order (assetA < assetB)."""
    return (a, b) if xdr_order_key(a) < xdr_order_key(b) else (b, a)


def pool_parameters(asset_a: str, asset_b: str, fee_bp: int = LIQUIDITY_POOL_FEE_V18) -> sx.LiquidityPoolParameters:
    return sx.LiquidityPoolParameters(
        sx.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT,
        constant_product=sx.LiquidityPoolConstantProductParameters(
            xdr_from_key(asset_a), xdr_from_key(asset_b), sx.Int32(fee_bp)
        ),
    )


@lru_cache(maxsize=4096)
def pool_id_for(x: str, y: str, fee_bp: int = LIQUIDITY_POOL_FEE_V18) -> str:
    """The id of the pool of assets ``x`` and ``y`` (either order), as stellar-core's getPoolID."""
    asset_a, asset_b = ordered(x, y)
    return hashlib.sha256(pool_parameters(asset_a, asset_b, fee_bp).to_xdr_bytes()).hexdigest()


def pool_from_change_trust(line: sx.ChangeTrustAsset) -> tuple[str, str, str] | None:
    """(pool id, asset A, asset B) of a pool-share ChangeTrustAsset, None when malformed (doCheckValid):
    an unknown pool type, an invalid asset, assets not strictly in order, or a fee other than 30 bp."""
    params = line.liquidity_pool
    if params is None or params.type != sx.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT:
        return None
    cp = params.constant_product
    if not (is_valid_xdr_asset(cp.asset_a) and is_valid_xdr_asset(cp.asset_b)):
        return None
    asset_a, asset_b = key_from_xdr(cp.asset_a), key_from_xdr(cp.asset_b)
    if not xdr_order_key(asset_a) < xdr_order_key(asset_b) or cp.fee.int32 != LIQUIDITY_POOL_FEE_V18:
        return None
    return hashlib.sha256(params.to_xdr_bytes()).hexdigest(), asset_a, asset_b


def pool_id_xdr(pool_id: str) -> sx.PoolID:
    return sx.PoolID(sx.Hash(bytes.fromhex(pool_id)))


# ----- trading -----


def pool_payout(reserve_in: int, reserve_out: int, amount_in: int, fee_bp: int = LIQUIDITY_POOL_FEE_V18) -> int | None:
    """What the pool disburses for ``amount_in`` (strict send); None when it cannot trade (as exchangeWithPool:
    empty reserves, a reserve that would overflow int64, or a payout that rounds to zero)."""
    if reserve_in <= 0 or reserve_out <= 0 or amount_in <= 0 or amount_in > INT64_MAX - reserve_in:
        return None
    kept = MAX_BPS - fee_bp
    out = kept * reserve_out * amount_in // (MAX_BPS * reserve_in + kept * amount_in)
    return out if 0 < out <= INT64_MAX else None


def pool_cost(reserve_in: int, reserve_out: int, amount_out: int, fee_bp: int = LIQUIDITY_POOL_FEE_V18) -> int | None:
    """What the pool needs to disburse ``amount_out`` (strict receive); None when it cannot (it would empty
    the reserve, or the amount in would overflow the other reserve)."""
    if reserve_in <= 0 or reserve_out <= 0 or amount_out <= 0 or amount_out >= reserve_out:
        return None
    needed = -(-(MAX_BPS * reserve_in * amount_out) // ((reserve_out - amount_out) * (MAX_BPS - fee_bp)))
    return needed if needed <= INT64_MAX - reserve_in else None


# ----- deposits and withdrawals -----


def is_bad_deposit_price(amount_a: int, amount_b: int, min_price: tuple[int, int], max_price: tuple[int, int]) -> bool:
    """Whether amount_a/amount_b lies outside [min_price, max_price] (or either amount is zero)."""
    (min_n, min_d), (max_n, max_d) = min_price, max_price
    return amount_a == 0 or amount_b == 0 or amount_a * min_d < amount_b * min_n or amount_a * max_d > amount_b * max_n


def deposit_amounts(pool: LiquidityPool, max_a: int, max_b: int) -> tuple[int, int, int]:
    """(amount A, amount B, shares) a deposit of at most ``max_a``/``max_b`` takes and mints."""
    if pool.total_shares == 0:
        return max_a, max_b, isqrt(max_a * max_b)
    total = pool.total_shares
    candidates = [s for s in (total * max_a // pool.reserve_a, total * max_b // pool.reserve_b) if s <= INT64_MAX]
    shares = min(candidates)
    return -(-shares * pool.reserve_a // total), -(-shares * pool.reserve_b // total), shares


def withdrawal_amounts(pool: LiquidityPool, shares: int) -> tuple[int, int]:
    """(amount A, amount B) that redeeming ``shares`` pays out (rounded down)."""
    if pool.total_shares == 0:
        return 0, 0
    return shares * pool.reserve_a // pool.total_shares, shares * pool.reserve_b // pool.total_shares
