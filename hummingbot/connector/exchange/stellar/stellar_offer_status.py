"""What became of an order's offer: the ledger and the account's trades decide between open, partly
filled, filled and cancelled. An offer that left the ledger was filled or cancelled, and only its
trades tell which, so a fill is never reported as a cancel."""
import asyncio
import logging
from decimal import Decimal
from typing import Any, Awaitable, Callable, Dict, List, Optional

from hummingbot.connector.client_order_tracker import ClientOrderTracker
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate, TradeUpdate
from hummingbot.core.utils.async_utils import safe_ensure_future
from stellar_sdk import Asset

from hummingbot.connector.exchange.stellar import stellar_fills as fills
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar.stellar_errors import StellarOrderNotFound
from hummingbot.connector.exchange.stellar.stellar_horizon_api import HorizonApi

_LOGGER = logging.getLogger(__name__)
_SETTLED = (OrderState.CANCELED, OrderState.FILLED)


def mark_filled_if_covered(order: InFlightOrder, offer_gone: bool = False) -> bool:
    """True if the order's fills cover it (see `fills.fills_cover`); then its tracker may treat it as
    completely filled at once instead of waiting for fills that rounding will never bring."""
    if not fills.fills_cover(order, offer_gone):
        return False
    order.completely_filled_event.set()
    return True


class OfferStatus:
    # A gone offer's fills come by the trade stream with the news that it is gone (a cancel that found it gone,
    # from the same ledger's ingestion): while the stream is up they are waited for this long before Horizon is
    # asked for the offer's trades (a read per cancel that raced a fill would cost as much as the fills' rate).
    STREAM_GRACE_S = 2.0

    def __init__(self, horizon: HorizonApi, account_id: str, order_fills: fills.OrderFills,
                 tracker: ClientOrderTracker, base_asset_of_pair: Callable[[str], Asset], now: Callable[[], float],
                 trades_streamed: Callable[[], bool] = lambda: False):
        """`trades_streamed()`: whether the account's trade stream is connected now."""
        self._horizon = horizon
        self._account_id = account_id
        self._fills = order_fills
        self._tracker = tracker
        self._base_asset_of_pair = base_asset_of_pair
        self._now = now
        self._trades_streamed = trades_streamed

    async def update_orders(self, orders: List[InFlightOrder],
                            on_error: Callable[[InFlightOrder, Exception], Awaitable[None]]) -> None:
        """ExchangePyBase's status poll for `orders`: one read of the account's offers serves them all (not
        one GET /offers/{id} per order); an order that cannot be told goes to `on_error`, as in the base."""
        offers: Any = None
        if any(fills.rests_on_book(order.exchange_order_id) for order in orders):
            try:
                offers = {str(offer["id"]): offer for offer in await self._horizon.get_account_offers(self._account_id)}
            except asyncio.CancelledError:
                raise
            except Exception as error:
                offers = error
        for order in orders:
            try:
                if isinstance(offers, Exception):
                    raise offers
                self._tracker.process_order_update(await self.order_update(order, offers))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                await on_error(order, error)

    async def order_update(self, order: InFlightOrder,
                           offers: Optional[Dict[str, Dict[str, Any]]] = None) -> OrderUpdate:
        """The order's state as the ledger has it now; `offers`, the account's offers by id if read already."""
        start = measurement.now()
        try:
            exchange_order_id = order.exchange_order_id
            if exchange_order_id is None:
                return self.update(order, order.current_state)   # still in the pipeline: its outcome will tell
            if not fills.rests_on_book(exchange_order_id):
                filled = mark_filled_if_covered(order)
                return self.update(order, OrderState.FILLED if filled else order.current_state)
            offer = offers.get(exchange_order_id) if offers is not None else \
                await self._horizon.get_offer(exchange_order_id)
            if offer is None:
                return self.update(order, await self.resolve_gone(order, finish_filled=False, finish_cancelled=False))
            if offer.get("seller") != self._account_id:
                raise StellarOrderNotFound(f"Offer {exchange_order_id} belongs to {offer.get('seller')}, not to us")
            return self.update(order, self.resting_state(order, offer))
        finally:
            measurement.record(measurement.ORDER_STATUS_UPDATE, start)

    def apply_streamed_trade(self, order: InFlightOrder, record: Dict[str, Any]) -> None:
        """A trade of `order`'s offer from the account's trade stream: its fill, then the order's state."""
        start = measurement.now()
        update = self._fills.record_update(order, record, self._now())
        if update is None:
            return
        self._tracker.process_trade_update(update)
        if order.current_state not in _SETTLED:   # a late fill of a cancelled order is reported, its state stays
            if mark_filled_if_covered(order):
                state = OrderState.FILLED
            elif order.current_state is OrderState.PENDING_CANCEL:
                state = OrderState.PENDING_CANCEL   # a fill racing our cancel must not undo the cancel request
            else:
                state = OrderState.PARTIALLY_FILLED
            self._tracker.process_order_update(self.update(order, state))
            if state is not OrderState.FILLED and fills.rests_on_book(order.exchange_order_id) \
                    and fills.only_dust_left(order):
                # Only dust is left: the ledger has likely deleted the offer, and no stream tells of that.
                safe_ensure_future(self.settle_if_gone(order))
        measurement.record(measurement.FILL_PROCESSING, start)

    async def apply_streamed_offer(self, order: InFlightOrder, offer: Dict[str, Any]) -> None:
        """`order`'s offer as the account's offer stream has it now."""
        if Decimal(offer.get("amount") or "0") <= 0:
            # The offer left the ledger: its trades decide between filled and cancelled.
            await self.resolve_gone(order)
            return
        self._tracker.process_order_update(self.update(order, self.resting_state(order, offer)))

    def resting_state(self, order: InFlightOrder, offer: Dict[str, Any]) -> OrderState:
        return fills.resting_offer_state(order, offer, self._base_asset_of_pair(order.trading_pair))

    async def resolve_gone(self, order: InFlightOrder, finish_filled: bool = True,
                           finish_cancelled: bool = True) -> OrderState:
        """An offer that left the ledger was filled or cancelled: its trades tell which (never guess:
        if the trades cannot be read, this raises and the order stays as it is). Fills that cover the order
        already, or that the trade stream brings within `STREAM_GRACE_S`, tell it without a read."""
        if not await self._covered_by_streamed_fills(order):
            for trade_update in await self.trade_updates(order):
                self._tracker.process_trade_update(trade_update)
        state = OrderState.FILLED if mark_filled_if_covered(order, offer_gone=True) else OrderState.CANCELED
        if (finish_filled and state is OrderState.FILLED) or (finish_cancelled and state is OrderState.CANCELED):
            self.finish(order, state, self._now())
        return state

    async def _covered_by_streamed_fills(self, order: InFlightOrder) -> bool:
        """The order's fills cover it (up to rounding: no trade can add to them), now or once the trade stream,
        if connected, brought the rest within the grace."""
        if fills.fills_cover(order):
            return True
        if not self._trades_streamed():
            return False
        try:
            async with asyncio.timeout(self.STREAM_GRACE_S):   # unlike wait_for, never drops a cancel
                await order.completely_filled_event.wait()
        except TimeoutError:
            return False
        return fills.fills_cover(order)

    async def settle_if_gone(self, order: InFlightOrder) -> None:
        if await self._horizon.get_offer(order.exchange_order_id) is None and not order.is_done:
            await self.resolve_gone(order, finish_cancelled=False)

    async def trade_updates(self, order: InFlightOrder) -> List[TradeUpdate]:
        if order.exchange_order_id is None:
            return []
        records = await self._horizon.get_account_trades(self._account_id, since=order.creation_timestamp)
        return self._updates(records, {order.exchange_order_id: order})

    async def report_fills(self, orders: List[InFlightOrder], max_pages: Optional[int] = None) -> None:
        """One read of the account's recent trades serves every order (not one request per order); at most
        `max_pages` pages of them (None: HorizonApi's default)."""
        by_offer = {o.exchange_order_id: o for o in orders if o.exchange_order_id is not None}
        if not by_offer:
            return
        oldest = min(o.creation_timestamp for o in by_offer.values())
        pages = {} if max_pages is None else {"max_pages": max_pages}
        try:
            records = await self._horizon.get_account_trades(self._account_id, since=oldest, **pages)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            _LOGGER.warning(f"Failed to fetch the account's trades: {error}", exc_info=error)
            return
        for update in self._updates(records, by_offer):
            self._tracker.process_trade_update(update)

    def update(self, order: InFlightOrder, state: OrderState) -> OrderUpdate:
        return OrderUpdate(client_order_id=order.client_order_id, exchange_order_id=order.exchange_order_id,
                           trading_pair=order.trading_pair, update_timestamp=self._now(), new_state=state)

    def finish(self, order: InFlightOrder, state: OrderState, timestamp: float) -> None:
        self._tracker.process_order_update(OrderUpdate(
            client_order_id=order.client_order_id, exchange_order_id=order.exchange_order_id,
            trading_pair=order.trading_pair, update_timestamp=timestamp, new_state=state))

    def _updates(self, records: List[Dict[str, Any]], by_offer: Dict[str, InFlightOrder]) -> List[TradeUpdate]:
        updates = []
        for record in records:
            for offer_key in ("base_offer_id", "counter_offer_id"):
                order = by_offer.get(str(record.get(offer_key)))
                update = None if order is None else self._fills.record_update(order, record, self._now())
                if update is not None:
                    updates.append(update)
        return updates
