"""One hop of a path payment, routed whole to the better venue: the order book or the liquidity pool.

As stellar-core's convertWithOffersAndPools (CAP-38): the pool's exchange is priced first without
touching the ledger; then the book is crossed inside a savepoint. The book is kept only when it filled
the whole hop and its price is strictly better (``pool_sent · book_received > pool_received · book_sent``);
otherwise the book's changes are undone and the hop trades with the pool, whole. When the pool cannot
trade (no pool, empty reserves, a payout that rounds to zero, a reserve overflow, no room left in the
result's claim list), the book's result stands, failure included. Offers (ManageSellOffer and friends)
never reach this module: they cross the book only.
"""

from __future__ import annotations

from dataclasses import dataclass

from stellar_sdk import xdr as stellar_xdr

from stellar_sandbox.core.amounts import ROUND_PATH_STRICT_RECEIVE, ROUND_PATH_STRICT_SEND
from stellar_sandbox.core.assets import xdr_from_key
from stellar_sandbox.core.matching import CONVERT_OK, Claim, Conversion, convert_with_offers
from stellar_sandbox.core.pools import pool_cost, pool_id_for, pool_id_xdr, pool_payout
from stellar_sandbox.core.state import LedgerState


@dataclass(slots=True)
class PoolClaim:
    """One exchange with a pool (stellar-core's ClaimLiquidityAtom): what the pool sold and bought."""

    pool_id: str
    asset_sold: str  # wheat: paid out by the pool
    amount_sold: int
    asset_bought: str  # sheep: received by the pool
    amount_bought: int

    def to_xdr(self) -> stellar_xdr.ClaimAtom:
        return stellar_xdr.ClaimAtom(
            stellar_xdr.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL,
            liquidity_pool=stellar_xdr.ClaimLiquidityAtom(
                liquidity_pool_id=pool_id_xdr(self.pool_id),
                asset_sold=xdr_from_key(self.asset_sold),
                amount_sold=stellar_xdr.Int64(self.amount_sold),
                asset_bought=xdr_from_key(self.asset_bought),
                amount_bought=stellar_xdr.Int64(self.amount_bought),
            ),
        )


def quote_pool(
    state: LedgerState, sheep: str, max_send: int, wheat: str, max_receive: int, rounding: int, max_offers: int
) -> tuple[int, int] | None:
    """(sheep sent, wheat received) if the hop can trade with the pool of the pair, whole; else None.

    Strict send gives the pool exactly ``max_send``; strict receive takes exactly ``max_receive`` from it.
    """
    if max_offers <= 0 or rounding not in (ROUND_PATH_STRICT_SEND, ROUND_PATH_STRICT_RECEIVE):
        return None
    pool = state.pool(pool_id_for(sheep, wheat))
    if pool is None or pool.reserve_a <= 0 or pool.reserve_b <= 0:
        return None
    reserve_in, reserve_out = pool.reserves_for(sheep)
    if rounding == ROUND_PATH_STRICT_SEND:
        received = pool_payout(reserve_in, reserve_out, max_send, pool.fee_bp)
        return None if received is None else (max_send, received)
    sent = pool_cost(reserve_in, reserve_out, max_receive, pool.fee_bp)
    return None if sent is None else (sent, max_receive)


def exchange_with_pool(state: LedgerState, sheep: str, sent: int, wheat: str, received: int) -> PoolClaim:
    """Move the pool's reserves by a quoted exchange: ``sent`` of sheep in, ``received`` of wheat out."""
    pool = state.mut_pool(pool_id_for(sheep, wheat))
    if sheep == pool.asset_a:
        pool.reserve_a += sent
        pool.reserve_b -= received
    else:
        pool.reserve_b += sent
        pool.reserve_a -= received
    return PoolClaim(pool.pool_id, wheat, received, sheep, sent)


def convert_hop(
    state: LedgerState,
    taker: str,
    sheep: str,
    max_send: int,
    wheat: str,
    max_receive: int,
    rounding: int,
    max_offers: int,
) -> tuple[Conversion, list[Claim | PoolClaim]]:
    """Exchange sheep for wheat on the better venue; the conversion and its claims (offers or one pool)."""
    quote = quote_pool(state, sheep, max_send, wheat, max_receive, rounding, max_offers)
    token = state.snapshot()
    claims: list[Claim | PoolClaim] = []
    try:
        book = convert_with_offers(
            state, taker, sheep, max_send, wheat, max_receive, claims, rounding=rounding, max_offers=max_offers
        )
    except BaseException:
        state.restore(token)
        raise
    book_is_better = book.code == CONVERT_OK and (
        quote is None or quote[0] * book.wheat_received > quote[1] * book.sheep_sent
    )
    if quote is None or book_is_better:
        state.commit(token)
        return book, claims
    state.restore(token)
    sent, received = quote
    return Conversion(CONVERT_OK, sent, received), [exchange_with_pool(state, sheep, sent, wheat, received)]
