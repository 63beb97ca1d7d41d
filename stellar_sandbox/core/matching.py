"""Crossing the order book, as stellar-core's convertWithOffers/crossOfferV10 do.

Vocabulary from stellar-core: the taker sends *sheep* and receives *wheat*; the resting (maker)
offers it crosses sell wheat for sheep. Offers are taken best price first, then oldest (lowest id),
each at the maker's own price, with exchange rounding in favour of the offer that stays on the book.
Liquidity pools are `venues`' business: offers never cross them, path payments choose per hop.
"""

from __future__ import annotations

from dataclasses import dataclass

from stellar_sdk import xdr as stellar_xdr

from stellar_sandbox.core.amounts import ROUND_NORMAL, adjust_offer, exchange_v10
from stellar_sandbox.core.assets import account_id_to_xdr, xdr_from_key
from stellar_sandbox.core.state import LedgerState, Offer

MAX_OFFERS_TO_CROSS = 1000

# results of convert_with_offers (stellar-core's ConvertResult)
CONVERT_OK = "ok"  # done: the taker's limit was reached
CONVERT_PARTIAL = "partial"  # the book ran out (or an offer could only be crossed partly)
CONVERT_BAD_PRICE = "bad_price"  # stopped at an offer worse than the taker's limit price
CONVERT_CROSS_SELF = "cross_self"  # stopped at an offer of the taker itself
CONVERT_TOO_MANY = "too_many"  # would cross more than the allowed number of offers


@dataclass(slots=True)
class Claim:
    """One crossed offer: what its seller sold and bought (stellar-core's ClaimOfferAtom)."""

    seller: str
    offer_id: int
    asset_sold: str  # wheat: the maker's selling asset
    amount_sold: int
    asset_bought: str  # sheep
    amount_bought: int
    price_n: int  # the maker offer's price (bought per sold)
    price_d: int
    offer_removed: bool  # the maker's offer left the book

    def to_xdr(self) -> stellar_xdr.ClaimAtom:
        return stellar_xdr.ClaimAtom(
            stellar_xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK,
            order_book=stellar_xdr.ClaimOfferAtom(
                seller_id=account_id_to_xdr(self.seller),
                offer_id=stellar_xdr.Int64(self.offer_id),
                asset_sold=xdr_from_key(self.asset_sold),
                amount_sold=stellar_xdr.Int64(self.amount_sold),
                asset_bought=xdr_from_key(self.asset_bought),
                amount_bought=stellar_xdr.Int64(self.amount_bought),
            ),
        )


@dataclass(slots=True)
class Conversion:
    code: str
    sheep_sent: int
    wheat_received: int


def cross_offer(
    state: LedgerState, offer: Offer, max_wheat_receive: int, max_sheep_send: int, rounding: int
) -> tuple[Claim, bool]:
    """Cross one maker offer; moves the maker's balances and updates or removes the offer.

    Returns the claim and whether the maker's offer stays on the book (wheatStays).
    """
    seller, wheat, sheep = offer.seller, offer.selling, offer.buying
    n, d, offer_id = offer.price_n, offer.price_d, offer.offer_id
    state.release_liabilities(offer)
    # stellar-core re-adjusts the offer to what its seller can still deliver (a no-op when liabilities hold)
    amount = adjust_offer(
        n, d, min(offer.amount, state.available_to_sell(seller, wheat)), state.available_to_receive(seller, sheep)
    )
    max_wheat_send = min(amount, state.available_to_sell(seller, wheat))
    max_sheep_receive = state.available_to_receive(seller, sheep)
    wheat_received, sheep_sent, wheat_stays = exchange_v10(
        n, d, max_wheat_send, max_wheat_receive, max_sheep_send, max_sheep_receive, rounding
    )
    if sheep_sent and not state.add_balance(seller, sheep, sheep_sent):
        raise AssertionError(f"offer {offer_id}: maker cannot receive {sheep_sent} of {sheep}")
    if wheat_received and not state.add_balance(seller, wheat, -wheat_received):
        raise AssertionError(f"offer {offer_id}: maker cannot deliver {wheat_received} of {wheat}")
    if wheat_stays:
        remaining = amount - wheat_received
        remaining = adjust_offer(
            n, d, min(remaining, state.available_to_sell(seller, wheat)), state.available_to_receive(seller, sheep)
        )
    else:
        remaining = 0
    if remaining == 0:
        state.delete_offer(offer_id)
        state.add_subentries(seller, -1)
    else:
        kept = state.mut_offer(offer_id)
        kept.amount = remaining
        state.acquire_liabilities(kept)
    claim = Claim(seller, offer_id, wheat, wheat_received, sheep, sheep_sent, n, d, remaining == 0)
    return claim, wheat_stays


def convert_with_offers(
    state: LedgerState,
    taker: str,
    sheep: str,
    max_sheep_send: int,
    wheat: str,
    max_wheat_receive: int,
    claims: list[Claim],
    *,
    rounding: int = ROUND_NORMAL,
    max_wheat_price: tuple[int, int] | None = None,
    passive: bool = False,
    max_offers: int = MAX_OFFERS_TO_CROSS,
) -> Conversion:
    """Take offers selling ``wheat`` for ``sheep`` until a limit, the price limit or the book's end.

    ``max_wheat_price`` (n, d) is the worst maker price (sheep per wheat) the taker accepts; a
    passive taker also stops at an equal price. Crossed offers are appended to ``claims``.
    """
    sheep_sent = wheat_received = 0
    need_more = max_wheat_receive > 0 and max_sheep_send > 0
    if need_more and max_offers <= 0:
        return Conversion(CONVERT_TOO_MANY, 0, 0)
    crossed = 0
    while need_more:
        offer = state.best_offer(wheat, sheep)
        if offer is None:
            break
        if max_wheat_price is not None:
            # exact rational comparison of the maker's price against the limit
            lhs = offer.price_n * max_wheat_price[1]
            rhs = max_wheat_price[0] * offer.price_d
            if lhs > rhs or (passive and lhs == rhs):
                return Conversion(CONVERT_BAD_PRICE, sheep_sent, wheat_received)
        if offer.seller == taker:
            return Conversion(CONVERT_CROSS_SELF, sheep_sent, wheat_received)
        if crossed >= max_offers:
            return Conversion(CONVERT_TOO_MANY, sheep_sent, wheat_received)
        claim, wheat_stays = cross_offer(state, offer, max_wheat_receive, max_sheep_send, rounding)
        claims.append(claim)
        crossed += 1
        sheep_sent += claim.amount_bought
        max_sheep_send -= claim.amount_bought
        wheat_received += claim.amount_sold
        max_wheat_receive -= claim.amount_sold
        need_more = not wheat_stays and max_wheat_receive > 0 and max_sheep_send > 0
        if not need_more:
            return Conversion(CONVERT_OK, sheep_sent, wheat_received)
        if not claim.offer_removed:
            return Conversion(CONVERT_PARTIAL, sheep_sent, wheat_received)
    return Conversion(CONVERT_OK if not need_more else CONVERT_PARTIAL, sheep_sent, wheat_received)
