"""ClientOrderTracker with constant-time lookups by client order id and a fast copy of its cache.

Hummingbot's `ClientOrderTracker` keeps finished orders for 30 s in a TTLCache and copies that
cache item by item (each read through the TTLCache's expiry check, about 2 µs an item) whenever
`all_orders`, `all_fillable_orders` or `all_fillable_orders_by_exchange_order_id` is asked for:
`fetch_order` (every order update) asks twice, every trade update and every fill event on the
user stream once. A ladder refreshed often keeps hundreds of finished orders there, so each of
those copies took milliseconds (docs/performance_benchmarks.md has the figures). This tracker
looks a client id up in the two stores directly, and copies the cache's valid entries in one go;
everything else is Hummingbot's.
"""
from typing import Dict, Optional

from hummingbot.connector.client_order_tracker import ClientOrderTracker
from hummingbot.core.data_type.in_flight_order import InFlightOrder


class StellarOrderTracker(ClientOrderTracker):

    def fetch_order(self, client_order_id: Optional[str] = None,
                    exchange_order_id: Optional[str] = None) -> Optional[InFlightOrder]:
        if client_order_id is not None:
            # The same precedence as Hummingbot's {**active, **cached}: a cached order wins.
            order = self._cached_orders.get(client_order_id)
            if order is None:
                order = self._in_flight_orders.get(client_order_id)
            if order is not None:
                return order
        if exchange_order_id is None:
            return None
        return super().fetch_order(None, exchange_order_id)   # by exchange id: Hummingbot's scan (rare)

    def fillable_order_for_offers(self, *exchange_order_ids: str) -> Optional[InFlightOrder]:
        """The order one of these offer ids names: the active orders first (almost every fill hits one), then
        the finished and lost ones Hummingbot keeps a while for late fills (a map built over all of them)."""
        for order in self._in_flight_orders.values():
            if order.exchange_order_id in exchange_order_ids:
                return order
        everything = self.all_fillable_orders_by_exchange_order_id
        for exchange_order_id in exchange_order_ids:
            order = everything.get(exchange_order_id)
            if order is not None:
                return order
        return None

    @property
    def cached_orders(self) -> Dict[str, InFlightOrder]:
        cache = self._cached_orders
        entries = getattr(cache, "_Cache__data", None)   # cachetools' own store behind the TTL bookkeeping
        if not isinstance(entries, dict):
            return super().cached_orders                 # another cachetools layout: Hummingbot's copy
        cache.expire()                                   # what is left is what iterating the cache yields
        return dict(entries)
