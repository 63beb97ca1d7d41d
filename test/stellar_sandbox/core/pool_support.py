"""A ledger with pools for the core pool tests: stellar-sdk operations applied straight to a LedgerState."""
from __future__ import annotations

from fractions import Fraction
from math import floor, isqrt

from stellar_sdk import Asset, ChangeTrust, LiquidityPoolAsset, LiquidityPoolDeposit, Price, xdr

from stellar_sandbox.core.amounts import to_stroops
from stellar_sandbox.core.assets import key_from_sdk
from stellar_sandbox.core.operations import OpOutcome
from stellar_sandbox.core.pools import pool_share_key
from test.stellar_sandbox.core.test_operations import Ledger

S = to_stroops
XLM = Asset.native()
FEE = Fraction(3, 1000)  # the CAP's F, for checking the basis point formulas against the CAP's own
WIDE = (Price(1, 1_000_000), Price(1_000_000, 1))  # deposit price bounds that accept anything reasonable

_ARMS = ("change_trust_result", "liquidity_pool_deposit_result", "liquidity_pool_withdraw_result",
         "manage_sell_offer_result", "manage_buy_offer_result", "path_payment_strict_receive_result",
         "path_payment_strict_send_result", "payment_result")


def code_name(outcome: OpOutcome) -> str:
    """The result code's name, decoded again from the result XDR as a client would."""
    decoded = xdr.OperationResult.from_xdr(outcome.result.to_xdr())
    if decoded.code != xdr.OperationResultCode.opINNER:
        return decoded.code.name
    for arm in _ARMS:
        value = getattr(decoded.tr, arm)
        if value is not None:
            return value.code.name
    raise AssertionError("no inner result")


def cap_payout(reserve_in: int, reserve_out: int, x: int) -> int:
    """The CAP's y = floor[(1 − F)·Y·x / (X + x − F·x)], with exact fractions."""
    return floor((1 - FEE) * reserve_out * x / (reserve_in + x - FEE * x))


def cap_cost(reserve_in: int, reserve_out: int, y: int) -> int:
    """The CAP's x = ceil[X·y / (Y − y) / (1 − F)], with exact fractions."""
    value = Fraction(reserve_in * y, reserve_out - y) / (1 - FEE)
    return -floor(-value)


class PoolLedger(Ledger):
    """`Ledger` plus pools: pool assets, share trustlines, deposits."""

    def pool_asset(self, a: Asset, b: Asset) -> LiquidityPoolAsset:
        return LiquidityPoolAsset(a, b) if LiquidityPoolAsset.is_valid_lexicographic_order(a, b) else \
            LiquidityPoolAsset(b, a)

    def pool_id(self, a: Asset, b: Asset) -> str:
        return self.pool_asset(a, b).liquidity_pool_id

    def trader(self, xlm: str = "100000", **holdings: tuple[Asset, str]) -> str:
        who = self.account(xlm)
        for asset, amount in holdings.values():
            if S(amount):
                self.fund(who, asset, amount, limit="100000000")
            else:
                self.ok(ChangeTrust(asset, "100000000"), who)
        return who

    def join(self, who: str, a: Asset, b: Asset, limit: str | None = None) -> str:
        self.ok(ChangeTrust(self.pool_asset(a, b), limit), who)
        return self.pool_id(a, b)

    def deposit(self, who: str, a: Asset, amount_a: str, b: Asset, amount_b: str) -> OpOutcome:
        """Deposit into the pool of a and b, amounts given per asset (ordered for the operation here)."""
        pool = self.pool_asset(a, b)
        amounts = {key_from_sdk(a): amount_a, key_from_sdk(b): amount_b}
        first, second = amounts[key_from_sdk(pool.asset_a)], amounts[key_from_sdk(pool.asset_b)]
        return self.ok(LiquidityPoolDeposit(pool.liquidity_pool_id, first, second, *WIDE), who)

    def shares(self, who: str, pool_id: str) -> int:
        line = self.state.trustline(who, pool_share_key(pool_id))
        return 0 if line is None else line.balance

    def reserves(self, pool_id: str, a: Asset) -> tuple[int, int]:
        """(reserve of a, reserve of the other asset)."""
        pool = self.state.pools[pool_id]
        return (pool.reserve_a, pool.reserve_b) if pool.asset_a == key_from_sdk(a) else \
            (pool.reserve_b, pool.reserve_a)


def first_deposit_shares(amount_a: int, amount_b: int) -> int:
    return isqrt(amount_a * amount_b)
