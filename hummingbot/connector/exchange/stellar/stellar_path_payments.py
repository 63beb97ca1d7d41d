"""MARKET orders as path payments to ourselves: the intent, its operation, its result, its failure.

Why not a crossing offer: since protocol 18 (CAP-38) a pair may have a constant-product liquidity pool
beside its order book. Offers cross the book only; a path payment sends each hop, whole, to whichever venue
(book or pool) gives the better price for all of it. It is also atomic: it fills in full or fails, so a
MARKET order never rests on the book (an offer would, until a second transaction cancelled its rest).

For a pair BASE-QUOTE, `amount` in base and `worst_price` in quote per base (stellar_order_pricing's
bound), the trading account paying itself over the direct path (no intermediate asset):

- SELL → PathPaymentStrictSend(send exactly amount BASE, receive at least floor(amount × worst_price) QUOTE)
- BUY  → PathPaymentStrictReceive(receive exactly amount BASE, send at most ceil(amount × worst_price) QUOTE)

The result lists the claim atoms (offers crossed, or the one pool traded with), each one fill, and `last`,
what the destination received. Horizon names those trades "<operation id>-<claim index>", and our side of
them by the synthetic offer id (operation id with bit 62 set) that `stellar_fills` gives such an order.
Failures keep Horizon's codes; the three that mean "not fillable within the bound" become
`MarketOrderNotFilled`, which says so.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple, Optional, Tuple

from hummingbot.core.data_type.common import TradeType
from stellar_sdk import Asset, MuxedAccount, PathPaymentStrictReceive, PathPaymentStrictSend
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.operation import Operation

from hummingbot.connector.exchange.stellar.stellar_amounts import stroops_str
from hummingbot.connector.exchange.stellar.stellar_assets import token_name
from hummingbot.connector.exchange.stellar.stellar_constants import INT64_MAX, result_code_message
from hummingbot.connector.exchange.stellar.stellar_errors import StellarOrderRejected
from hummingbot.connector.exchange.stellar.stellar_op_outcome import OpOutcome, OrderAssets, fill_from_claim
from hummingbot.connector.exchange.stellar.stellar_order_ops import StellarOrderError, checked_amount

# xdr.OperationType of the two path payments
PATH_PAYMENT_STRICT_RECEIVE = 2
PATH_PAYMENT_STRICT_SEND = 13

# Horizon's spelling of the path payment codes whose name is not "op_" + the XDR suffix (stellar/go
# services/horizon/internal/codes).
_CODE_EXCEPTIONS = {"OFFER_CROSS_SELF": "op_cross_self", "OVER_SENDMAX": "op_over_source_max",
                    "UNDER_DESTMIN": "op_under_dest_min"}
# The codes of a path payment that no venue could fill in full within its bound.
NOT_FILLABLE = frozenset({"op_under_dest_min", "op_over_source_max", "op_too_few_offers"})


@dataclass(frozen=True, slots=True)
class MarketOrderIntent:
    client_order_id: str
    base: Asset
    quote: Asset
    trade_type: TradeType
    amount: Decimal        # base units: exactly what a sell sends and a buy receives
    worst_price: Decimal   # quote per base: a sell receives no less, a buy pays no more
    account_id: str        # the trading account: it pays itself

    is_cancel = False


class PathPaymentTerms(NamedTuple):
    """A path payment's fields: what `operation_for` makes a stellar-sdk operation of, and what
    `stellar_tx_builder.path_payment_xdr` packs straight to XDR (the same bytes). Both kinds have one layout."""

    op_type: int                 # PATH_PAYMENT_STRICT_SEND or PATH_PAYMENT_STRICT_RECEIVE
    send_asset: Asset
    send_amount: int             # stroops: exactly (strict send), or at most (strict receive's send_max)
    destination: str             # account id
    dest_asset: Asset
    dest_amount: int             # stroops: exactly (strict receive), or at least (strict send's dest_min)
    path: Tuple[Asset, ...] = ()


def path_payment_terms(intent: MarketOrderIntent) -> PathPaymentTerms:
    """The validated fields of `intent`'s path payment; StellarOrderError for bad input."""
    order = intent.client_order_id
    price = intent.worst_price
    amount = checked_amount(order, intent.trade_type, intent.base, intent.quote, intent.amount, price, "worst price")
    n, d = price.as_integer_ratio()   # exact, so the bound is rounded once, against us by at most a stroop
    if intent.trade_type is TradeType.SELL:
        least = amount * n // d
        if least <= 0:
            raise StellarOrderError(f"Order {order}: amount {intent.amount} × worst price {price} is below one "
                                    f"stroop (0.0000001) of {token_name(intent.quote)}")
        return PathPaymentTerms(PATH_PAYMENT_STRICT_SEND, intent.base, amount, intent.account_id, intent.quote, least)
    most = -(-amount * n // d)
    if most > INT64_MAX:
        raise StellarOrderError(f"Order {order}: amount {intent.amount} × worst price {price} exceeds Stellar's "
                                f"maximum amount")
    return PathPaymentTerms(PATH_PAYMENT_STRICT_RECEIVE, intent.quote, most, intent.account_id, intent.base, amount)


def operation_for(intent: MarketOrderIntent, source_account_id: Optional[Any] = None) -> Operation:
    """`intent`'s path payment as a stellar-sdk operation (`source_account_id`: the operation's source, as in
    `stellar_order_ops.operation_for`)."""
    return sdk_operation(path_payment_terms(intent), source_account_id)


def sdk_operation(terms: PathPaymentTerms, source: Optional[Any] = None) -> Operation:
    if isinstance(source, str):
        source = MuxedAccount.from_account(source)
    if terms.op_type == PATH_PAYMENT_STRICT_SEND:
        return PathPaymentStrictSend(destination=terms.destination, send_asset=terms.send_asset,
                                     send_amount=stroops_str(terms.send_amount), dest_asset=terms.dest_asset,
                                     dest_min=stroops_str(terms.dest_amount), path=list(terms.path), source=source)
    return PathPaymentStrictReceive(destination=terms.destination, send_asset=terms.send_asset,
                                    send_max=stroops_str(terms.send_amount), dest_asset=terms.dest_asset,
                                    dest_amount=stroops_str(terms.dest_amount), path=list(terms.path), source=source)


# Results

def path_payment_outcome(tr: stellar_xdr.OperationResultTr, order_assets: OrderAssets) -> OpOutcome:
    """A path payment's `OperationResultTr` → its outcome: one fill per claim atom (book or pool), in the order's
    terms, and what the destination received; or the failure, as Horizon spells it."""
    if tr.type == stellar_xdr.OperationType.PATH_PAYMENT_STRICT_SEND:
        result, prefix = tr.path_payment_strict_send_result, "PATH_PAYMENT_STRICT_SEND_"
    else:
        result, prefix = tr.path_payment_strict_receive_result, "PATH_PAYMENT_STRICT_RECEIVE_"
    success = result.success
    if success is None:
        suffix = result.code.name[len(prefix):]
        code = _CODE_EXCEPTIONS.get(suffix, "op_" + suffix.lower())
        return OpOutcome(success=False, error_code=code, error_message=result_code_message(code))
    fills = tuple(fill_from_claim(claim, order_assets, is_taker=True) for claim in success.offers)
    return OpOutcome(success=True, fills=fills, delivered_stroops=success.last.amount.int64)


class MarketOrderNotFilled(StellarOrderRejected):
    """A MARKET order that neither venue could fill in full within its worst price: nothing traded, nothing rests."""

    def __init__(self, intent: MarketOrderIntent, code: str):
        self.code = code
        self.client_order_id = intent.client_order_id
        base, quote = token_name(intent.base), token_name(intent.quote)
        side = "SELL" if intent.trade_type is TradeType.SELL else "BUY"
        if code == "op_too_few_offers":
            why = f"neither the order book nor a liquidity pool of {base}-{quote} can fill all of it"
        else:
            why = (f"neither the order book nor a liquidity pool of {base}-{quote} fills all of it at "
                   f"{_plain(intent.worst_price)} {quote} per {base} or better")
        IOError.__init__(self, f"MARKET {side} {intent.client_order_id} of {_plain(intent.amount)} {base} not "
                               f"filled: {why} ({code}); nothing traded and nothing rests on the book")


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")


def order_rejection(intent: Any, outcome: OpOutcome) -> StellarOrderRejected:
    """The error a failed order placement raises: a MARKET order not fillable within its bound says so."""
    if isinstance(intent, MarketOrderIntent) and outcome.error_code in NOT_FILLABLE:
        return MarketOrderNotFilled(intent, outcome.error_code)
    return StellarOrderRejected(outcome.error_code, outcome.error_message, intent.client_order_id)
