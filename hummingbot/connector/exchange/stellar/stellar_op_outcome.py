"""What one operation did, in the order's terms: `OpOutcome` and its `Fill`s, and the rule that turns a
claim atom (an offer or a liquidity pool crossed) into a fill.

Shared by the result decoders: `stellar_tx_results` (transactions, offer operations) and
`stellar_path_payments` (a MARKET order's path payment).
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Optional, Tuple

from stellar_sdk import Asset, StrKey
from stellar_sdk import xdr as stellar_xdr

from hummingbot.connector.exchange.stellar.stellar_amounts import from_stroops

OrderAssets = Optional[Tuple[Asset, Asset]]  # (base, quote) of the order behind an operation


@dataclass(frozen=True, slots=True)
class Fill:
    """One offer or liquidity pool crossed by an operation, in the order's terms."""

    counter_offer_id: int            # 0 for a liquidity pool
    counterparty: str                # account id (G...) or liquidity pool id (hex)
    base_stroops: int
    quote_stroops: int
    is_taker: bool

    @property
    def base_amount(self) -> Decimal:
        return from_stroops(self.base_stroops)

    @property
    def quote_amount(self) -> Decimal:
        return from_stroops(self.quote_stroops)

    @property
    def price(self) -> Decimal:
        """Quote per base of this fill (the maker's price, up to stellar-core's rounding)."""
        return Decimal(self.quote_stroops) / Decimal(self.base_stroops) if self.base_stroops else Decimal(0)


@dataclass(slots=True)
class OpOutcome:
    """What became of one operation (one order intent)."""

    success: bool
    offer_id: Optional[int] = None            # resulting offer; None when no offer rests
    offer_state: Optional[str] = None         # OFFER_CREATED / OFFER_UPDATED / OFFER_DELETED
    fills: Tuple[Fill, ...] = ()
    error_code: Optional[str] = None          # op code (op_underfunded) or tx code (tx_bad_auth)
    error_message: Optional[str] = None
    tx_code: Optional[str] = None
    tx_hash: Optional[str] = None
    ledger: Optional[int] = None
    fee_charged_share_stroops: int = 0
    resting_selling_stroops: Optional[int] = None   # amount of the resting offer, in its selling asset
    resting_price: Optional[Tuple[int, int]] = None  # (n, d): buying per selling of the resting offer
    operation_id: Optional[int] = None        # Horizon's operation id (TOID), once its transaction is in a ledger
    delivered_stroops: Optional[int] = None   # a path payment's: what its destination received (`last`)

    @property
    def fee_charged_share(self) -> Decimal:
        """This operation's share of the transaction fee, in XLM."""
        return from_stroops(self.fee_charged_share_stroops)



def fill_from_claim(claim: stellar_xdr.ClaimAtom, order_assets: OrderAssets, *, is_taker: bool) -> Fill:
    """A claimed offer → a fill in the order's terms.

    A claim atom is written from the claimed offer owner's side: `asset_sold`/`amount_sold` is what
    that owner gave (what the taker received), `asset_bought`/`amount_bought` what it got.
    """
    if claim.type == stellar_xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK:
        atom = claim.order_book
        counterparty = StrKey.encode_ed25519_public_key(atom.seller_id.account_id.ed25519.uint256)
        offer_id = atom.offer_id.int64
    elif claim.type == stellar_xdr.ClaimAtomType.CLAIM_ATOM_TYPE_V0:
        atom = claim.v0
        counterparty = StrKey.encode_ed25519_public_key(atom.seller_ed25519.uint256)
        offer_id = atom.offer_id.int64
    else:
        atom = claim.liquidity_pool
        counterparty = atom.liquidity_pool_id.pool_id.hash.hex()
        offer_id = 0
    sold = atom.amount_sold.int64
    bought = atom.amount_bought.int64
    if order_assets is None or Asset.from_xdr_object(atom.asset_sold) == order_assets[0]:
        base_stroops, quote_stroops = sold, bought
    else:
        base_stroops, quote_stroops = bought, sold
    return Fill(counter_offer_id=offer_id, counterparty=counterparty, base_stroops=base_stroops,
                quote_stroops=quote_stroops, is_taker=is_taker)
