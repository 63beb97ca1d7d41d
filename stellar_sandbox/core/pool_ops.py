"""Operations on liquidity pools: ChangeTrust with a pool-share asset, LiquidityPoolDeposit, LiquidityPoolWithdraw.

Checks in stellar-core's order with its result codes (ChangeTrustOpFrame, LiquidityPoolDepositOpFrame,
LiquidityPoolWithdrawOpFrame; CAP-38):

- a pool-share trustline needs a trustline at least authorized to maintain liabilities for each asset the
  account does not issue (``TRUST_LINE_MISSING``, ``NOT_AUTH_MAINTAIN_LIABILITIES``), costs two base reserves
  (two subentries), creates the pool with the first share trustline and erases it with the last; while a
  pool-share trustline exists its asset trustlines cannot be deleted (``CANNOT_DELETE``);
- a deposit needs the share trustline (``NO_TRUST``), fully authorized asset trustlines (``NOT_AUTHORIZED``),
  then ``UNDERFUNDED``, ``BAD_PRICE`` (depositA/depositB outside [minPrice, maxPrice]), ``LINE_FULL`` (shares
  over the share trustline's limit), ``POOL_FULL`` (a reserve or the share total over int64);
- a withdrawal: ``NO_TRUST``, ``UNDERFUNDED`` (shares), then per asset ``UNDER_MINIMUM`` and ``LINE_FULL``.
"""

from __future__ import annotations

from stellar_sdk import xdr as stellar_xdr

from stellar_sandbox.core.amounts import INT64_MAX, format_amount, price_to_str
from stellar_sandbox.core.assets import NATIVE
from stellar_sandbox.core.op_base import OP_CODE, Failed, OpContext, OpOutcome, OpType, effect, inner, op_failure
from stellar_sandbox.core.pool_records import asset_amounts, pool_details, pool_share_fields
from stellar_sandbox.core.pools import (
    LiquidityPool,
    deposit_amounts,
    is_bad_deposit_price,
    pool_from_change_trust,
    pool_share_key,
    withdrawal_amounts,
)
from stellar_sandbox.core.state import LedgerState

SHARE_TRUSTLINE_SUBENTRIES = 2
_CT = stellar_xdr.ChangeTrustResultCode
_DEPOSIT = stellar_xdr.LiquidityPoolDepositResultCode
_WITHDRAW = stellar_xdr.LiquidityPoolWithdrawResultCode


def _asset_lines(state: LedgerState, account_id: str, pool: LiquidityPool) -> list[str]:
    """The pool's assets for which the account needs a trustline (neither native nor its own)."""
    return [a for a in (pool.asset_a, pool.asset_b) if a != NATIVE and not state.is_issuer(account_id, a)]


# ----- ChangeTrust with a pool-share asset -----


def change_trust_pool_share(state: LedgerState, op: stellar_xdr.ChangeTrustOp, source: str) -> OpOutcome:
    def fail(code: stellar_xdr.ChangeTrustResultCode) -> Failed:
        return Failed(inner(OpType.CHANGE_TRUST, change_trust_result=stellar_xdr.ChangeTrustResult(code)))

    limit = op.limit.int64
    parsed = pool_from_change_trust(op.line)
    if parsed is None or limit < 0:
        raise fail(_CT.CHANGE_TRUST_MALFORMED)
    pool_id, asset_a, asset_b = parsed
    key = pool_share_key(pool_id)
    outcome = OpOutcome(inner(OpType.CHANGE_TRUST, change_trust_result=stellar_xdr.ChangeTrustResult(
        _CT.CHANGE_TRUST_SUCCESS)))
    line = state.trustline(source, key)
    pool_effect = None
    if line is not None:
        if limit < line.balance + line.buying_liabilities:
            raise fail(_CT.CHANGE_TRUST_INVALID_LIMIT)
        if limit == 0:
            state.delete_trustline(source, key)
            state.add_subentries(source, -SHARE_TRUSTLINE_SUBENTRIES)
            pool = state.mut_pool(pool_id)
            for asset in _asset_lines(state, source, pool):
                state.mut_trustline(source, asset).pool_use_count -= 1
            pool.trustline_count -= 1
            if pool.trustline_count == 0:
                state.delete_pool(pool_id)
                pool_effect = effect(source, "liquidity_pool_removed", liquidity_pool_id=pool_id)
            outcome.pools.add(pool_id)
            kind = "trustline_removed"
        else:
            state.mut_trustline(source, key).limit = limit
            kind = "trustline_updated"
    else:
        if limit == 0:
            raise fail(_CT.CHANGE_TRUST_INVALID_LIMIT)
        pool = state.pool(pool_id) or LiquidityPool(pool_id, asset_a, asset_b)
        for asset in _asset_lines(state, source, pool):
            asset_line = state.trustline(source, asset)
            if asset_line is None:
                raise fail(_CT.CHANGE_TRUST_TRUST_LINE_MISSING)
            if not asset_line.can_maintain_liabilities:
                raise fail(_CT.CHANGE_TRUST_NOT_AUTH_MAINTAIN_LIABILITIES)
            state.mut_trustline(source, asset).pool_use_count += 1
        if state.pool(pool_id) is None:
            state.create_pool(pool)
            pool_effect = "created"
        state.mut_pool(pool_id).trustline_count += 1
        refusal = state.can_add_subentry(source, SHARE_TRUSTLINE_SUBENTRIES)
        if refusal == "LOW_RESERVE":
            raise fail(_CT.CHANGE_TRUST_LOW_RESERVE)
        if refusal is not None:
            raise op_failure(OP_CODE.opTOO_MANY_SUBENTRIES)
        state.add_subentries(source, SHARE_TRUSTLINE_SUBENTRIES)
        state.create_trustline(source, key, limit, flags=0)  # pool-share trustlines carry no flags
        outcome.pools.add(pool_id)
        kind = "trustline_created"
        if pool_effect == "created":
            pool_effect = effect(source, "liquidity_pool_created", liquidity_pool=pool_details(state.pools[pool_id]))
    trust_effect = effect(source, kind, limit=format_amount(limit))
    trust_effect.update(pool_share_fields(pool_id))
    outcome.effects = [trust_effect] if pool_effect is None else [trust_effect, pool_effect]
    return outcome


# ----- deposit -----


def _price(price: stellar_xdr.Price) -> tuple[int, int]:
    return price.n.int32, price.d.int32


def deposit_malformed(op: stellar_xdr.LiquidityPoolDepositOp) -> bool:
    """stellar-core's doCheckValid for LiquidityPoolDeposit."""
    (min_n, min_d), (max_n, max_d) = _price(op.min_price), _price(op.max_price)
    return (op.max_amount_a.int64 <= 0 or op.max_amount_b.int64 <= 0 or min(min_n, min_d, max_n, max_d) <= 0
            or min_n * max_d > min_d * max_n)


def withdraw_malformed(op: stellar_xdr.LiquidityPoolWithdrawOp) -> bool:
    return op.amount.int64 <= 0 or op.min_amount_a.int64 < 0 or op.min_amount_b.int64 < 0


def liquidity_pool_deposit(
    state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext
) -> OpOutcome:
    op = body.liquidity_pool_deposit_op

    def result(code: stellar_xdr.LiquidityPoolDepositResultCode) -> stellar_xdr.OperationResult:
        return inner(OpType.LIQUIDITY_POOL_DEPOSIT,
                     liquidity_pool_deposit_result=stellar_xdr.LiquidityPoolDepositResult(code))

    if deposit_malformed(op):
        raise Failed(result(_DEPOSIT.LIQUIDITY_POOL_DEPOSIT_MALFORMED))
    pool_id = op.liquidity_pool_id.pool_id.hash.hex()
    key = pool_share_key(pool_id)
    share_line = state.trustline(source, key)
    if share_line is None:
        raise Failed(result(_DEPOSIT.LIQUIDITY_POOL_DEPOSIT_NO_TRUST))
    pool = state.pools[pool_id]  # a share trustline exists, so does its pool
    for asset in _asset_lines(state, source, pool):
        if not state.trustline(source, asset).is_authorized:
            raise Failed(result(_DEPOSIT.LIQUIDITY_POOL_DEPOSIT_NOT_AUTHORIZED))
    amount_a, amount_b, shares = deposit_amounts(pool, op.max_amount_a.int64, op.max_amount_b.int64)
    if state.available_balance(source, pool.asset_a) < amount_a or state.available_balance(
            source, pool.asset_b) < amount_b:
        raise Failed(result(_DEPOSIT.LIQUIDITY_POOL_DEPOSIT_UNDERFUNDED))
    if is_bad_deposit_price(amount_a, amount_b, _price(op.min_price), _price(op.max_price)):
        raise Failed(result(_DEPOSIT.LIQUIDITY_POOL_DEPOSIT_BAD_PRICE))
    if share_line.limit - share_line.balance - share_line.buying_liabilities < shares:
        raise Failed(result(_DEPOSIT.LIQUIDITY_POOL_DEPOSIT_LINE_FULL))
    if (INT64_MAX - amount_a < pool.reserve_a or INT64_MAX - amount_b < pool.reserve_b
            or INT64_MAX - shares < pool.total_shares):
        raise Failed(result(_DEPOSIT.LIQUIDITY_POOL_DEPOSIT_POOL_FULL))
    if min(amount_a, amount_b, shares) <= 0:
        raise AssertionError("a deposit must take positive amounts and mint positive shares")
    if not (state.add_balance(source, pool.asset_a, -amount_a) and state.add_balance(source, pool.asset_b, -amount_b)
            and state.add_balance(source, key, shares)):
        raise AssertionError("a checked deposit was refused")
    pool = state.mut_pool(pool_id)
    pool.reserve_a += amount_a
    pool.reserve_b += amount_b
    pool.total_shares += shares
    assets = (pool.asset_a, pool.asset_b)
    outcome = OpOutcome(result(_DEPOSIT.LIQUIDITY_POOL_DEPOSIT_SUCCESS), pools={pool_id})
    deposited = asset_amounts(assets, (amount_a, amount_b))
    outcome.effects.append(effect(source, "liquidity_pool_deposited", liquidity_pool=pool_details(pool),
                                  reserves_deposited=deposited, shares_received=format_amount(shares)))
    outcome.details = {"reserves_max": asset_amounts(assets, (op.max_amount_a.int64, op.max_amount_b.int64)),
                       "reserves_deposited": deposited, "shares_received": format_amount(shares)}
    return outcome


# ----- withdraw -----


def liquidity_pool_withdraw(
    state: LedgerState, body: stellar_xdr.OperationBody, source: str, ctx: OpContext
) -> OpOutcome:
    op = body.liquidity_pool_withdraw_op

    def result(code: stellar_xdr.LiquidityPoolWithdrawResultCode) -> stellar_xdr.OperationResult:
        return inner(OpType.LIQUIDITY_POOL_WITHDRAW,
                     liquidity_pool_withdraw_result=stellar_xdr.LiquidityPoolWithdrawResult(code))

    if withdraw_malformed(op):
        raise Failed(result(_WITHDRAW.LIQUIDITY_POOL_WITHDRAW_MALFORMED))
    pool_id = op.liquidity_pool_id.pool_id.hash.hex()
    key = pool_share_key(pool_id)
    share_line = state.trustline(source, key)
    if share_line is None:
        raise Failed(result(_WITHDRAW.LIQUIDITY_POOL_WITHDRAW_NO_TRUST))
    shares = op.amount.int64
    if share_line.balance - share_line.selling_liabilities < shares:
        raise Failed(result(_WITHDRAW.LIQUIDITY_POOL_WITHDRAW_UNDERFUNDED))
    pool = state.pools[pool_id]
    amounts = withdrawal_amounts(pool, shares)
    for asset, amount, minimum in ((pool.asset_a, amounts[0], op.min_amount_a.int64),
                                   (pool.asset_b, amounts[1], op.min_amount_b.int64)):
        if amount < minimum:
            raise Failed(result(_WITHDRAW.LIQUIDITY_POOL_WITHDRAW_UNDER_MINIMUM))
        if not state.add_balance(source, asset, amount):
            raise Failed(result(_WITHDRAW.LIQUIDITY_POOL_WITHDRAW_LINE_FULL))
    if not state.add_balance(source, key, -shares):
        raise AssertionError("a checked withdrawal was refused")
    pool = state.mut_pool(pool_id)
    pool.total_shares -= shares
    pool.reserve_a -= amounts[0]
    pool.reserve_b -= amounts[1]
    assets = (pool.asset_a, pool.asset_b)
    outcome = OpOutcome(result(_WITHDRAW.LIQUIDITY_POOL_WITHDRAW_SUCCESS), pools={pool_id})
    received = asset_amounts(assets, amounts)
    outcome.effects.append(effect(source, "liquidity_pool_withdrew", liquidity_pool=pool_details(pool),
                                  reserves_received=received, shares_redeemed=format_amount(shares)))
    outcome.details = {"reserves_min": asset_amounts(assets, (op.min_amount_a.int64, op.min_amount_b.int64)),
                       "reserves_received": received}
    return outcome


def deposit_prices(op: stellar_xdr.LiquidityPoolDepositOp) -> dict:
    """The price bounds of a deposit as Horizon's operation record shows them."""
    (min_n, min_d), (max_n, max_d) = _price(op.min_price), _price(op.max_price)
    return {
        "min_price": price_to_str(min_n, min_d) if min_d > 0 else "0.0000000",
        "min_price_r": {"n": min_n, "d": min_d},
        "max_price": price_to_str(max_n, max_d) if max_d > 0 else "0.0000000",
        "max_price_r": {"n": max_n, "d": max_d},
    }
