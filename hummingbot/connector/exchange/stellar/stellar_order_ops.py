"""Order intents → stellar-sdk operations.

A Hummingbot pair BASE-QUOTE maps onto Stellar offers as follows (amounts in the order's base
asset, prices in QUOTE per BASE unless said otherwise):

- SELL  → ManageSellOffer(selling=BASE, buying=QUOTE, amount=base amount, price=quote per base)
- BUY   → ManageBuyOffer(selling=QUOTE, buying=BASE, buy_amount=base amount, price=quote per base)
  (the ledger stores the resting offer as *selling QUOTE*: amount in quote, price base per quote)
- LIMIT_MAKER SELL → CreatePassiveSellOffer(selling=BASE, buying=QUOTE, amount, price)
- LIMIT_MAKER BUY  → CreatePassiveSellOffer(selling=QUOTE, buying=BASE, amount×price, 1/price); see
  `_passive_buy` for what this costs in exactness.
- cancel → the same kind of offer operation with the offer id and amount 0.

Everything is validated here, before the pipeline queues anything, so bad input fails the caller
at once with a message that names the order. `offer_terms` gives an intent's operation as plain
fields, which `stellar_tx_builder.offer_xdr` packs (the pipeline's way: no stellar-sdk object on the
order path); `operation_for` makes the same operation a stellar-sdk object.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple, Optional, Union

from hummingbot.core.data_type.common import OrderType, TradeType
from stellar_sdk import Asset, CreatePassiveSellOffer, ManageBuyOffer, ManageSellOffer, MuxedAccount, Price
from stellar_sdk.operation import Operation

from hummingbot.connector.exchange.stellar.stellar_amounts import (
    StellarAmountError,
    price_to_rational,
    stroops_str,
    to_stroops,
)
from hummingbot.connector.exchange.stellar.stellar_assets import token_name
from hummingbot.connector.exchange.stellar.stellar_constants import INT64_MAX

# Any positive price: stellar-core ignores it when deleting, but its validity check still wants n, d > 0.
_DELETE_PRICE = Price(1, 1)
_ZERO_AMOUNT = "0"


class StellarOrderError(ValueError):
    """An order that cannot become a valid Stellar operation."""


@dataclass(frozen=True, slots=True)
class CreateOrderIntent:
    client_order_id: str
    base: Asset
    quote: Asset
    trade_type: TradeType
    order_type: OrderType
    amount: Decimal      # base units
    price: Decimal       # quote per base

    is_cancel = False


@dataclass(frozen=True, slots=True)
class CancelOrderIntent:
    client_order_id: str
    base: Asset
    quote: Asset
    trade_type: TradeType
    offer_id: int
    order_type: OrderType = OrderType.LIMIT   # of the order being cancelled: decides the offer's orientation

    is_cancel = True


OrderIntent = Union[CreateOrderIntent, CancelOrderIntent]
SourceAccount = Optional[Union[MuxedAccount, str]]

# Operation types (xdr.OperationType) of the offer operations
MANAGE_SELL_OFFER = 3
CREATE_PASSIVE_SELL_OFFER = 4
MANAGE_BUY_OFFER = 12
_SDK_OPERATIONS = {MANAGE_SELL_OFFER: ManageSellOffer, CREATE_PASSIVE_SELL_OFFER: CreatePassiveSellOffer,
                   MANAGE_BUY_OFFER: ManageBuyOffer}


class OfferTerms(NamedTuple):
    """An offer operation's fields: what `operation_for` makes a stellar-sdk operation of, and what
    `stellar_tx_builder.offer_xdr` packs straight to XDR (the same bytes)."""

    op_type: int          # MANAGE_SELL_OFFER, CREATE_PASSIVE_SELL_OFFER or MANAGE_BUY_OFFER
    selling: Asset
    buying: Asset
    amount: int           # stroops (the buy amount of a ManageBuyOffer); 0 deletes the offer
    price_n: int
    price_d: int
    offer_id: int = 0     # 0: a new offer (a passive sell offer has none)


def operation_for(intent: OrderIntent, source_account_id: SourceAccount = None) -> Operation:
    """The operation for `intent`; `source_account_id` sets the operation's source (the trading
    account when a channel account is the transaction's source; None: the transaction's source)."""
    terms = offer_terms(intent)
    price = _DELETE_PRICE if terms.amount == 0 else Price(terms.price_n, terms.price_d)
    amount = _ZERO_AMOUNT if terms.amount == 0 else stroops_str(terms.amount)
    if terms.op_type == CREATE_PASSIVE_SELL_OFFER:
        return CreatePassiveSellOffer(selling=terms.selling, buying=terms.buying, amount=amount, price=price,
                                      source=source_account_id)
    return _SDK_OPERATIONS[terms.op_type](selling=terms.selling, buying=terms.buying, amount=amount, price=price,
                                          offer_id=terms.offer_id, source=source_account_id)


def offer_terms(intent: OrderIntent) -> OfferTerms:
    """The validated fields of `intent`'s operation; StellarOrderError for bad input."""
    if isinstance(intent, CreateOrderIntent):
        return _create_terms(intent)
    if isinstance(intent, CancelOrderIntent):
        return _cancel_terms(intent)
    raise TypeError(f"Expected a CreateOrderIntent or CancelOrderIntent, got {type(intent).__name__}")


def _create_terms(intent: CreateOrderIntent) -> OfferTerms:
    amount_stroops, price_n, price_d = _validate_create(intent)
    if intent.order_type == OrderType.LIMIT:
        if intent.trade_type == TradeType.SELL:
            return OfferTerms(MANAGE_SELL_OFFER, intent.base, intent.quote, amount_stroops, price_n, price_d)
        return OfferTerms(MANAGE_BUY_OFFER, intent.quote, intent.base, amount_stroops, price_n, price_d)
    if intent.trade_type == TradeType.SELL:
        return OfferTerms(CREATE_PASSIVE_SELL_OFFER, intent.base, intent.quote, amount_stroops, price_n, price_d)
    return _passive_buy(intent, amount_stroops, price_n, price_d)


def _passive_buy(intent: CreateOrderIntent, amount_stroops: int, price_n: int, price_d: int) -> OfferTerms:
    """Stellar has no passive *buy* offer, so a maker-only buy of BASE is a passive *sell* of QUOTE
    for BASE: amount = base amount × price (in quote), price = 1/price (base per quote).

    The price stays exact: the inverse of n/d is d/n. The amount does not: the quote amount is
    rounded DOWN to whole stroops (never commit more quote than amount × price), so the base the
    offer can buy is quote_amount / price, up to one stroop of quote (1e-7 / price base) less than
    asked. stellar-core also rounds each fill in the maker's favour, so fills of a passive buy are
    exact only to the stroop, as for any offer.
    """
    quote_stroops = amount_stroops * price_n // price_d
    if quote_stroops <= 0:
        raise StellarOrderError(
            f"Order {intent.client_order_id}: amount {intent.amount} × price {intent.price} is below one stroop "
            f"of {token_name(intent.quote)}; a maker-only buy must commit at least 0.0000001 of it")
    return OfferTerms(CREATE_PASSIVE_SELL_OFFER, intent.quote, intent.base, quote_stroops, price_d, price_n)


def _cancel_terms(intent: CancelOrderIntent) -> OfferTerms:
    """Delete the offer: an offer operation with its id and amount 0.

    stellar-core (ManageOfferOpFrameBase::doApply) looks the offer up by (source account, offer id)
    only and skips every asset check when the amount is 0, so any offer operation deletes it. We
    still use the orientation the ledger stores, so the operation reads right in explorers:
    a resting SELL sells BASE (ManageSellOffer), a resting BUY made by ManageBuyOffer is deleted by
    ManageBuyOffer, and a maker-only BUY (a passive sell of QUOTE) by ManageSellOffer selling QUOTE.
    """
    offer_id = intent.offer_id
    if isinstance(offer_id, bool) or not isinstance(offer_id, int) or offer_id <= 0:
        raise StellarOrderError(
            f"Cancel of {intent.client_order_id}: offer id must be a positive integer, got {offer_id!r}")
    if intent.base == intent.quote:
        raise StellarOrderError(f"Cancel of {intent.client_order_id}: base and quote are the same asset")
    if intent.trade_type == TradeType.SELL:
        return OfferTerms(MANAGE_SELL_OFFER, intent.base, intent.quote, 0, 1, 1, offer_id)
    if intent.trade_type != TradeType.BUY:
        raise StellarOrderError(
            f"Cancel of {intent.client_order_id}: trade type {intent.trade_type} is not BUY or SELL")
    if intent.order_type == OrderType.LIMIT_MAKER:
        return OfferTerms(MANAGE_SELL_OFFER, intent.quote, intent.base, 0, 1, 1, offer_id)
    return OfferTerms(MANAGE_BUY_OFFER, intent.quote, intent.base, 0, 1, 1, offer_id)


def checked_amount(order: str, trade_type: TradeType, base: Asset, quote: Asset, amount: Decimal, price: Decimal,
                   price_name: str = "price") -> int:
    """The amount in stroops, once side, assets, amount and price are sound (MARKET and LIMIT orders alike);
    else StellarOrderError naming the order and the problem."""
    if trade_type not in (TradeType.BUY, TradeType.SELL):
        raise StellarOrderError(f"Order {order}: trade type {trade_type} is not BUY or SELL")
    if base == quote:
        raise StellarOrderError(f"Order {order}: base and quote are the same asset ({token_name(base)})")
    try:
        amount_stroops = to_stroops(amount)
    except StellarAmountError as e:
        raise StellarOrderError(f"Order {order}: {e}") from None
    if amount_stroops == 0:
        raise StellarOrderError(f"Order {order}: amount must be positive, got {amount}")
    if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
        raise StellarOrderError(f"Order {order}: {price_name} must be a positive finite Decimal, got {price!r}")
    return amount_stroops


def _validate_create(intent: CreateOrderIntent) -> tuple[int, int, int]:
    """(amount in stroops, price n, price d), or StellarOrderError naming the order and the problem."""
    order = intent.client_order_id
    if intent.order_type == OrderType.MARKET:
        raise StellarOrderError(
            f"Order {order}: a MARKET order is a path payment (stellar_path_payments.MarketOrderIntent), not an offer")
    if intent.order_type not in (OrderType.LIMIT, OrderType.LIMIT_MAKER):
        raise StellarOrderError(f"Order {order}: order type {intent.order_type} is not supported on Stellar")
    amount_stroops = checked_amount(order, intent.trade_type, intent.base, intent.quote, intent.amount, intent.price)
    price = intent.price
    try:
        price_n, price_d = price_to_rational(price)
    except StellarAmountError as e:
        raise StellarOrderError(f"Order {order}: {e}") from None
    # The counter amount (base × price, in quote) becomes the offer's liabilities: it must be a
    # positive number of stroops within int64, or stellar-core rejects or empties the offer.
    quote_stroops = amount_stroops * price_n // price_d
    if quote_stroops <= 0:
        raise StellarOrderError(
            f"Order {order}: amount {intent.amount} × price {price} is below one stroop (0.0000001) "
            f"of {token_name(intent.quote)}")
    if quote_stroops > INT64_MAX:
        raise StellarOrderError(
            f"Order {order}: amount {intent.amount} × price {price} exceeds Stellar's maximum amount")
    return amount_stroops, price_n, price_d

