"""Offers a previous run left on the ledger (a bot killed with offers on the book, a power cut).
Part of the exchange (it reads and settles the exchange's own orders), kept apart for its one job.

At start, before the connector reports ready, every offer of the account on the ledger is matched
to the orders Hummingbot restored from its saved tracking states:
- known (an order holds its offer id): it stays with that order, whose fills since the last run are
  reported; a restored order whose offer is gone is settled as filled or cancelled by its trades;
- unknown: cancelled (the default), or, with `adopt`, tracked as a new order of the connector's
  pair for its assets (cancelled when no pair fits: nothing is left on the book unattended).
A restored order that never learnt its offer id (killed before its transaction's outcome was
known) cannot be matched: it fails, and its offer, if it was placed, is among the unknown ones.
Nothing is ever placed again.
"""
import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, List, Optional, Tuple

from hummingbot.connector.utils import get_new_client_order_id
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import OrderState, OrderUpdate

from hummingbot.connector.exchange.stellar.stellar_assets import StellarConfigError, offer_asset
from hummingbot.connector.exchange.stellar.stellar_backoff import Backoff
from hummingbot.connector.exchange.stellar.stellar_fills import rests_on_book
from hummingbot.connector.exchange.stellar.stellar_order_ops import CancelOrderIntent
from hummingbot.connector.exchange.stellar.stellar_utils import ADOPT, CANCEL

_LOGGER = logging.getLogger(__name__)


@dataclass
class RecoveryReport:
    known: List[str] = field(default_factory=list)       # offer ids that restored orders hold
    adopted: List[str] = field(default_factory=list)     # offer ids now tracked as new orders
    cancelled: List[str] = field(default_factory=list)   # offer ids cancelled (or found gone meanwhile)
    not_cancelled: List[str] = field(default_factory=list)
    failed_orders: List[str] = field(default_factory=list)   # restored client ids without an offer id


async def recover_offers_when_possible(exchange: Any, policy: str = CANCEL, retry_cap: float = 30.0) -> RecoveryReport:
    """`recover_offers`, retried with a growing wait while Horizon cannot answer."""
    backoff = Backoff(base=1.0, cap=retry_cap)
    while True:
        try:
            return await recover_offers(exchange, policy)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            delay = backoff.next_delay()
            _LOGGER.warning(f"Could not settle the offers found at start ({error}); retrying in {delay:.1f}s.")
            await asyncio.sleep(delay)


async def recover_offers(exchange: Any, policy: str = CANCEL) -> RecoveryReport:
    """Match the account's offers to the exchange's restored orders and settle the rest (see module)."""
    report = RecoveryReport()
    offers = await exchange._horizon.get_account_offers(exchange.account_id)
    orders = list(exchange.in_flight_orders.values())
    known = {order.exchange_order_id for order in orders if order.exchange_order_id is not None}
    for order in orders:
        if order.exchange_order_id is None and order.current_state is OrderState.PENDING_CREATE:
            report.failed_orders.append(order.client_order_id)
            exchange._update_order_after_failure(order.client_order_id, order.trading_pair, ValueError(
                "its transaction's outcome was lost in a restart; its offer, if placed, is handled as unknown"))
    restored = [order for order in orders if order.exchange_order_id is not None and not order.is_done]
    if restored:
        await exchange._update_orders_fills(restored)   # the fills since the last run
        on_ledger = {str(offer["id"]) for offer in offers}
        for order in restored:
            if order.exchange_order_id not in on_ledger and rests_on_book(order.exchange_order_id):
                await exchange._offer_status.resolve_gone(order)   # filled or cancelled meanwhile: trades tell
    to_cancel = []
    for offer in offers:
        offer_id = str(offer["id"])
        if offer_id in known:
            report.known.append(offer_id)
        elif policy == ADOPT and _adopt(exchange, offer):
            report.adopted.append(offer_id)
        else:
            to_cancel.append(offer)
    if to_cancel:
        intents = [_cancel_intent(offer) for offer in to_cancel]
        for offer, outcome in zip(to_cancel, await exchange.pipeline.submit_many(intents), strict=True):
            gone = outcome.success or outcome.error_code == "op_offer_not_found"
            (report.cancelled if gone else report.not_cancelled).append(str(offer["id"]))
    _log(report, policy)
    return report


def _cancel_intent(offer: Dict[str, Any]) -> CancelOrderIntent:
    # Deleting needs only the offer id (stellar-core skips asset checks for amount 0); the offer's own
    # assets keep the operation readable in explorers.
    return CancelOrderIntent(client_order_id=f"unknown-offer-{offer['id']}", base=offer_asset(offer, "selling"),
                             quote=offer_asset(offer, "buying"), trade_type=TradeType.SELL, offer_id=int(offer["id"]))


def _adopt(exchange: Any, offer: Dict[str, Any]) -> bool:
    """Track `offer` as an open order of the pair its assets form, if the connector trades that pair."""
    found = _as_order(exchange, offer)
    if found is None:
        return False
    pair, trade_type, amount, price = found
    client_order_id = get_new_client_order_id(is_buy=trade_type is TradeType.BUY, trading_pair=pair,
                                              hbot_order_id_prefix=exchange.client_order_id_prefix,
                                              max_id_len=exchange.client_order_id_max_length)
    exchange.start_tracking_order(order_id=client_order_id, exchange_order_id=str(offer["id"]), trading_pair=pair,
                                  trade_type=trade_type, price=price, amount=amount, order_type=OrderType.LIMIT)
    exchange._order_tracker.process_order_update(OrderUpdate(
        client_order_id=client_order_id, exchange_order_id=str(offer["id"]), trading_pair=pair,
        update_timestamp=exchange.current_timestamp, new_state=OrderState.OPEN))
    return True


def _as_order(exchange: Any, offer: Dict[str, Any]) -> Optional[Tuple[str, TradeType, Decimal, Decimal]]:
    """(pair, side, base amount, quote per base) of an offer selling S for B: a SELL of S-B, or a BUY of B-S."""
    selling, buying = offer_asset(offer, "selling"), offer_asset(offer, "buying")
    rational = offer.get("price_r") or {}
    price = Decimal(rational["n"]) / Decimal(rational["d"]) if rational else Decimal(offer["price"])
    amount = Decimal(offer["amount"])
    cache = exchange.instrument_cache
    for pair in exchange.trading_pairs:
        try:
            base, quote = cache.assets_for_pair(pair)
        except StellarConfigError:
            continue
        if (base, quote) == (selling, buying):
            return pair, TradeType.SELL, amount, price
        if (base, quote) == (buying, selling):
            return pair, TradeType.BUY, amount * price, 1 / price
    return None


def _log(report: RecoveryReport, policy: str) -> None:
    if report.adopted or report.cancelled or report.not_cancelled or report.failed_orders:
        _LOGGER.warning(
            f"Offers found at start ({policy} unknown ones): {len(report.known)} of restored orders, "
            f"adopted {report.adopted}, cancelled {report.cancelled}, could not cancel {report.not_cancelled}; "
            f"restored orders without an offer id failed: {report.failed_orders}")
