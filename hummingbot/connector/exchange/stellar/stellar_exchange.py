"""StellarExchange: Hummingbot's exchange contract on top of the Stellar DEX (SDEX).

Glue: trading pairs resolve through the InstrumentCache, orders become intents that the
TransactionPipeline turns into transactions, fills go through `OrderFills`, balances through
`stellar_account`, MARKET and LIMIT_MAKER prices through `stellar_order_pricing` (a MARKET order is a
path payment: `stellar_path_payments`). An offer that
is gone from the ledger was filled or cancelled: its trades tell which, so a fill is never
reported as a cancel.
"""
import asyncio
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from bidict import bidict
from hummingbot.connector.constants import s_decimal_NaN
from hummingbot.connector.exchange_py_base import ExchangePyBase
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate, TradeUpdate
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_tracker_data_source import OrderBookTrackerDataSource
from hummingbot.core.data_type.trade_fee import TradeFeeBase, TradeFeeSchema
from hummingbot.core.data_type.user_stream_tracker_data_source import UserStreamTrackerDataSource
from hummingbot.core.utils.async_utils import safe_ensure_future
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from stellar_sdk import Keypair

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_fills as fills
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar import stellar_utils
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_account import AccountSync
from hummingbot.connector.exchange.stellar.stellar_amounts import STROOP
from hummingbot.connector.exchange.stellar.stellar_api_order_book_data_source import StellarAPIOrderBookDataSource
from hummingbot.connector.exchange.stellar.stellar_api_user_stream_data_source import StellarAPIUserStreamDataSource
from hummingbot.connector.exchange.stellar.stellar_assets import StellarConfigError, asset_from_horizon, asset_key
from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth, reveal
from hummingbot.connector.exchange.stellar.stellar_config_cache import ConfigCache
from hummingbot.connector.exchange.stellar.stellar_errors import StellarOrderNotFound, StellarOrderRejected
from hummingbot.connector.exchange.stellar.stellar_horizon_api import HorizonApi
from hummingbot.connector.exchange.stellar.stellar_horizon_pool import HorizonPool
from hummingbot.connector.exchange.stellar.stellar_instrument_cache import InstrumentCache
from hummingbot.connector.exchange.stellar.stellar_offer_status import OfferStatus, mark_filled_if_covered
from hummingbot.connector.exchange.stellar.stellar_order_ids import new_client_order_id
from hummingbot.connector.exchange.stellar.stellar_order_ops import CancelOrderIntent, CreateOrderIntent
from hummingbot.connector.exchange.stellar.stellar_order_pricing import check_maker_price, market_price_bound
from hummingbot.connector.exchange.stellar.stellar_order_tracker import StellarOrderTracker
from hummingbot.connector.exchange.stellar.stellar_path_payments import MarketOrderIntent, order_rejection
from hummingbot.connector.exchange.stellar.stellar_recovery import recover_offers_when_possible
from hummingbot.connector.exchange.stellar.stellar_tx_pipeline import TransactionPipeline
from hummingbot.connector.exchange.stellar.stellar_tx_results import OpOutcome


class StellarExchange(ExchangePyBase):
    web_utils = web_utils

    # A MARKET order's price bound is the book's price for its size moved by this fraction against us.
    DEFAULT_MARKET_ORDER_SLIPPAGE = Decimal("0.02")
    CANCEL_ALL_ON_STOP_TIMEOUT = 10.0
    # Hummingbot's safety poll while the account's streams are up (its default: 120 s) reads the account's offers
    # and trades: 2 REST reads, 60 an hour at 120 s (the whole steady-state budget), 24 at 300 s (docs/design.md).
    LONG_POLL_INTERVAL = 300.0

    def __init__(self,
                 stellar_secret_key: Any = None,
                 stellar_markets: Union[None, str, Sequence[str]] = None,
                 stellar_horizon_url: Optional[str] = None,
                 stellar_network_passphrase: Optional[str] = None,
                 stellar_rpc_url: Optional[str] = None,
                 stellar_channel_secret_keys: Any = None,
                 stellar_max_fee_stroops: Optional[int] = None,
                 stellar_market_order_slippage: Optional[Decimal] = None,
                 stellar_cancel_all_on_stop: bool = True,
                 stellar_unknown_offers: Optional[str] = None,
                 stellar_book_liquidity: Optional[str] = None,
                 balance_asset_limit: Optional[Dict[str, Dict[str, Decimal]]] = None,
                 rate_limits_share_pct: Decimal = Decimal("100"),
                 trading_pairs: Optional[List[str]] = None,
                 trading_required: bool = True,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN,
                 horizon_api: Optional[HorizonApi] = None,
                 ):
        """`horizon_api`: a Horizon client with HorizonApi's methods (benchmarks); default: the HorizonPool."""
        self._domain = domain
        self._trading_pairs = list(trading_pairs or [])
        self._trading_required = trading_required
        self._config_cache = ConfigCache(domain=domain, horizon_url=stellar_horizon_url,
                                         network_passphrase=stellar_network_passphrase, rpc_url=stellar_rpc_url)
        self._horizon_url = self._config_cache.horizon_url   # the first configured; `active_horizon_url`: in use now
        self._horizons = HorizonPool(self._config_cache.horizon_urls, domain, rate_limits_share_pct)
        secret = reveal(stellar_secret_key)
        if not trading_required and not (secret or "").strip():
            # Market data only (e.g. paper trading): nothing is signed, any key names the account.
            secret = Keypair.random().secret
        self._stellar_auth = StellarAuth(secret, reveal(stellar_channel_secret_keys))
        self._request_budget = self._horizons.budgets[0]        # warns past the first Horizon's hourly budget
        self._markets = stellar_utils.parse_markets(stellar_markets)
        self.instrument_cache = InstrumentCache(domain, self._markets)
        self._max_fee_stroops = stellar_utils.validate_max_fee(stellar_max_fee_stroops)
        slippage = stellar_utils.validate_slippage(stellar_market_order_slippage)   # blank: the default
        self._market_slippage = self.DEFAULT_MARKET_ORDER_SLIPPAGE if slippage is None else slippage
        self._cancel_all_on_stop = stellar_utils.validate_cancel_all_on_stop(stellar_cancel_all_on_stop)
        self._unknown_offers = stellar_utils.validate_unknown_offers(stellar_unknown_offers)
        self._book_liquidity = stellar_utils.validate_book_liquidity(stellar_book_liquidity)   # the pool shown?
        self._recovery: Optional[asyncio.Task] = None   # once per process: the offers a previous run left
        self._fills = fills.OrderFills(self._stellar_auth.account_id, self._base_key, self.trade_fee_schema)
        self._account = AccountSync(  # the user stream data source, GET /accounts/{id}, Hummingbot's balances
            lambda: getattr(self._user_stream_tracker, "data_source", None),
            lambda: self._horizon.get_account(self.account_id),
            lambda: (self._account_balances, self._account_available_balances),
            lambda entry: self.instrument_cache.token_for_asset(asset_from_horizon(entry)),
            self._config_cache.minimum_balance_stroops)
        self._cancels_in_flight: Dict[str, asyncio.Future] = {}   # client order id -> its cancel's outcome
        self._network_started = False
        self._stellar_fee_schema: Optional[TradeFeeSchema] = None
        super().__init__(balance_asset_limit, rate_limits_share_pct)
        self._horizons.attach(self._web_assistants_factory, self._config_cache.rpc_url)   # the RPC: health, last resort
        self._horizon = horizon_api or self._horizons
        self._config_cache.attach(self._horizon.get_json)   # fee figures: read on a schedule, and when expired
        self._offer_status = OfferStatus(self._horizon, self.account_id, self._fills, self._order_tracker,
                                         lambda pair: self.instrument_cache.assets_for_pair(pair)[0], self._now,
                                         trades_streamed=self._account.streams_up)
        self._pipeline = TransactionPipeline(self._horizon, self._stellar_auth, self._config_cache,
                                             network_passphrase=self.network_passphrase,
                                             max_fee_per_op=self._max_fee_stroops,
                                             results_streamed=self._account.streams_up)

    # === Identity and configuration ===

    @property
    def name(self) -> str:
        return self._domain

    @property
    def authenticator(self) -> StellarAuth:
        return self._stellar_auth

    @property
    def account_id(self) -> str:
        return self._stellar_auth.account_id

    @property
    def rate_limits_rules(self):
        return self._horizons.rate_limits   # each Horizon's, under its own limit ids

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def horizon_url(self) -> str:
        return self._horizon_url

    @property
    def active_horizon_url(self) -> str:   # of stellar_horizon_url's: where reads, streams and submissions go now
        return self._horizons.active_url

    def horizon_switches(self) -> List[Dict[str, Any]]:   # time, from_url, to_url, reason, fault_age_s
        return [switch.as_dict() for switch in self._horizons.switches()]

    def horizon_health(self) -> List[Dict[str, Any]]:   # per Horizon: state, reason, answers, failures, latency...
        return self._horizons.health.snapshot()

    @property
    def network_passphrase(self) -> str:
        return self._config_cache.network_passphrase

    @property
    def config_cache(self) -> ConfigCache:
        return self._config_cache

    @property
    def pipeline(self) -> TransactionPipeline:
        return self._pipeline

    @property
    def client_order_id_max_length(self) -> int:
        return 32

    @property
    def client_order_id_prefix(self) -> str:
        return "HBOT"

    @property
    def trading_rules_request_path(self) -> str:
        return CONSTANTS.ROOT_PATH

    @property
    def trading_pairs_request_path(self) -> str:
        return CONSTANTS.ROOT_PATH

    @property
    def check_network_request_path(self) -> str:
        return CONSTANTS.ROOT_PATH

    @property
    def trading_pairs(self) -> List[str]:
        return self._trading_pairs

    @property
    def is_cancel_request_in_exchange_synchronous(self) -> bool:
        # The pipeline returns once the cancelling transaction is in a ledger: the offer is gone.
        return True

    @property
    def is_trading_required(self) -> bool:
        return self._trading_required

    def supported_order_types(self) -> List[OrderType]:
        return [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]

    # === Factories ===

    def _create_order_tracker(self) -> StellarOrderTracker:
        return StellarOrderTracker(connector=self)   # Hummingbot's tracker, with O(1) lookups by client id

    def _create_web_assistants_factory(self) -> WebAssistantsFactory:
        return web_utils.build_api_factory(throttler=self._throttler, auth=self._auth)

    def _create_order_book_data_source(self) -> OrderBookTrackerDataSource:
        return StellarAPIOrderBookDataSource(trading_pairs=self._trading_pairs, connector=self, domain=self._domain,
                                             api_factory=self._web_assistants_factory, horizon_url=self._horizon_url,
                                             request_budget=self._request_budget, horizon_pool=self._horizons,
                                             include_pool=self._book_liquidity == CONSTANTS.BOOK_AND_POOL)

    def _create_user_stream_data_source(self) -> UserStreamTrackerDataSource:
        return StellarAPIUserStreamDataSource(auth=self._stellar_auth, connector=self, domain=self._domain,
                                              api_factory=self._web_assistants_factory, horizon_url=self._horizon_url,
                                              request_budget=self._request_budget, horizon_pool=self._horizons)

    # === Error classification ===

    def _is_request_exception_related_to_time_synchronizer(self, request_exception: Exception) -> bool:
        return False  # Horizon signs nothing with a timestamp; transaction time bounds carry a margin

    def _is_order_not_found_during_status_update_error(self, status_update_exception: Exception) -> bool:
        return isinstance(status_update_exception, StellarOrderNotFound)

    def _is_order_not_found_during_cancelation_error(self, cancelation_exception: Exception) -> bool:
        return isinstance(cancelation_exception, StellarOrderNotFound) or (
            isinstance(cancelation_exception, StellarOrderRejected)
            and cancelation_exception.code == "op_offer_not_found")

    async def _update_time_synchronizer(self, pass_on_non_cancelled_error: bool = False):
        pass  # nothing to synchronize: see _is_request_exception_related_to_time_synchronizer

    # === Trading pairs and rules ===

    async def _api_request_url(self, path_url: str, is_auth_required: bool = False) -> str:
        return web_utils.public_rest_url(path_url, self._domain, self._horizon_url)

    async def _make_network_check_request(self):
        if not any(self.streams_connected().values()):   # a stream open on Horizon answers it without a request
            await self._horizon.get_json(CONSTANTS.ROOT_PATH)

    async def _make_trading_rules_request(self) -> Any:
        return await self._horizon.get_json(CONSTANTS.ROOT_PATH)

    _make_trading_pairs_request = _make_trading_rules_request   # the same root document names pairs and rules

    async def refresh_trading_rules(self) -> None:
        """Read the trading pairs and their rules from Horizon now (the status loop does it every 30 min)."""
        await self._update_trading_rules()

    def _known_trading_pairs(self) -> List[str]:
        pairs, errors = self.instrument_cache.tradable_pairs(self._trading_pairs)
        for pair, error in errors.items():
            self.logger().error(f"Trading pair {pair} is not usable on {self._domain}: {error}")
        return pairs

    def _serves_our_network(self, root: Dict[str, Any]) -> bool:
        served = root.get("network_passphrase") if isinstance(root, dict) else None
        if served == self.network_passphrase:
            return True
        self.logger().error(
            f"Horizon at {self._horizon_url} serves the network {served!r}, not {self.network_passphrase!r}; "
            f"no market of {self.name} is usable until stellar_horizon_url and stellar_network_passphrase agree.")
        return False

    def _initialize_trading_pair_symbols_from_exchange_info(self, exchange_info: Dict[str, Any]):
        # Hummingbot's pairs are the exchange symbols: the InstrumentCache maps them to assets.
        mapping = bidict()
        if self._serves_our_network(exchange_info):
            for pair in self._known_trading_pairs():
                mapping[pair] = pair
        self._set_trading_pair_symbol_map(mapping)

    async def _format_trading_rules(self, exchange_info_dict: Dict[str, Any]) -> List[TradingRule]:
        if not self._serves_our_network(exchange_info_dict):
            return []
        # One stroop is the ledger's unit for amounts, prices and the smallest quote an offer may carry.
        return [TradingRule(trading_pair=pair, min_order_size=STROOP, min_price_increment=STROOP,
                            min_base_amount_increment=STROOP, min_quote_amount_increment=STROOP,
                            min_notional_size=STROOP) for pair in self._known_trading_pairs()]

    def trade_fee_schema(self) -> TradeFeeSchema:
        schema = self._stellar_fee_schema
        if schema is None:
            try:
                schema = super().trade_fee_schema()   # the user's fee overrides, when Hummingbot knows us
            except Exception:
                schema = stellar_utils.DEFAULT_FEES  # not (yet) in Hummingbot's connector settings
            self._stellar_fee_schema = schema
        return schema

    async def _update_trading_fees(self):
        pass  # the SDEX has no trading fee; the network fee is charged per transaction (see _network_fee)

    def _get_fee(self, base_currency: str, quote_currency: str, order_type: OrderType, order_side: TradeType,
                 amount: Decimal, price: Decimal = s_decimal_NaN, is_maker: Optional[bool] = None) -> TradeFeeBase:
        # No trading fee; the network fee (~0.00001 XLM) is left out: budget checks would need an XLM rate.
        return TradeFeeBase.new_spot_fee(fee_schema=self.trade_fee_schema(), trade_type=order_side)

    async def get_last_traded_prices(self, trading_pairs: List[str]) -> Dict[str, float]:
        return await self._orderbook_ds.get_last_traded_prices(trading_pairs)

    async def _get_last_traded_price(self, trading_pair: str) -> float:
        prices = await self._orderbook_ds.get_last_traded_prices([trading_pair])
        return prices[trading_pair]

    # === Network ===

    @property
    def status_dict(self) -> Dict[str, bool]:
        # Not ready (the strategy does not trade) until the offers a previous run left are settled.
        recovery = self._recovery
        recovered = not self.is_trading_required or (recovery is not None and recovery.done()
                                                     and not recovery.cancelled())
        return {**super().status_dict, "offers_recovered": recovered}

    async def start_network(self):
        await super().start_network()
        self._horizons.start()   # with several Horizons, a ledger heartbeat on each
        self._network_started = True
        if self.is_trading_required and (self._recovery is None or self._recovery.cancelled()):
            self._recovery = safe_ensure_future(recover_offers_when_possible(self, self._unknown_offers))
        if self.is_trading_required:
            self._config_cache.start_keeping_fresh()   # fee figures read now, then before they expire
            safe_ensure_future(self._pipeline.read_sequences())   # not in the first orders' time
        safe_ensure_future(self._horizons.check_rpc_health())   # nothing without a Stellar RPC

    async def stop_network(self):
        if self._network_started and self._cancel_all_on_stop and self.is_trading_required:
            # Leave no offer of ours on the book once the bot stops.
            open_orders = [o for o in self.in_flight_orders.values() if not o.is_done]
            if open_orders:
                try:
                    await self.cancel_all(self.CANCEL_ALL_ON_STOP_TIMEOUT)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self.logger().exception("Could not cancel the open orders while stopping.")
        self._network_started = False
        self._config_cache.stop_keeping_fresh()   # an order's fee read still refreshes expired figures
        # The pipeline keeps running: Hummingbot restarts the network after a connectivity blip, and a
        # transaction already submitted must still be resolved to the order that sent it.
        await super().stop_network()
        await self._horizons.stop()
        await self._orderbook_ds.close()   # Hummingbot's tracker cancels its listener but leaves the session open

    async def _status_polling_loop_fetch_updates(self):
        await self._horizons.check_rpc_health()
        await super()._status_polling_loop_fetch_updates()

    def tick(self, timestamp: float):
        # Polls an interval after the last (Hummingbot: at each multiple), long while the streams are connected.
        if timestamp - self._last_poll_timestamp >= self._account.poll_interval(self.LONG_POLL_INTERVAL,
                                                                                self.SHORT_POLL_INTERVAL):
            self._poll_notifier.set()
        self._last_timestamp = timestamp

    @property
    def rpc_health(self) -> Optional[Dict[str, Any]]:
        """The optional Stellar RPC's last getHealth answer."""
        return self._horizons.rpc_health

    # === Order placement ===

    def buy(self, trading_pair: str, amount: Decimal, order_type=OrderType.LIMIT, price: Decimal = s_decimal_NaN,
            **kwargs) -> str:
        return self._new_order(TradeType.BUY, trading_pair, amount, order_type, price, kwargs)

    def sell(self, trading_pair: str, amount: Decimal, order_type=OrderType.LIMIT, price: Decimal = s_decimal_NaN,
             **kwargs) -> str:
        return self._new_order(TradeType.SELL, trading_pair, amount, order_type, price, kwargs)

    def _new_order(self, trade_type: TradeType, trading_pair: str, amount: Decimal, order_type: OrderType,
                   price: Decimal, kwargs: Dict[str, Any]) -> str:
        """ExchangePyBase's buy/sell, with Hummingbot's client order id made cheaper (stellar_order_ids)."""
        order_id = new_client_order_id(trade_type is TradeType.BUY, trading_pair, self.client_order_id_prefix,
                                       self.client_order_id_max_length)
        safe_ensure_future(self._create_order(trade_type, order_id, trading_pair, amount, order_type, price, **kwargs))
        return order_id

    async def _create_order(self, trade_type: TradeType, order_id: str, trading_pair: str, amount: Decimal,
                            order_type: OrderType, price: Optional[Decimal] = None, **kwargs):
        """ExchangePyBase's, with the two failures it cannot report: an unknown pair (a bare KeyError in its
        task) and a MARKET order with no price to bound it (its notional check would value it at NaN)."""
        try:
            if trading_pair not in self._trading_rules:
                raise self._unknown_pair_error(trading_pair)
            if order_type is OrderType.MARKET:   # a given price is a reference, like the book's, not the bound
                price = market_price_bound(self._book(trading_pair), trading_pair, trade_type, amount,
                                           self._market_slippage, price)
        except ValueError as error:
            self.start_tracking_order(order_id=order_id, exchange_order_id=None, trading_pair=trading_pair,
                                      order_type=order_type, trade_type=trade_type,
                                      price=s_decimal_NaN if price is None else price, amount=amount)
            self._update_order_after_failure(order_id=order_id, trading_pair=trading_pair, exception=error)
            return
        await super()._create_order(trade_type=trade_type, order_id=order_id, trading_pair=trading_pair,
                                    amount=amount, order_type=order_type, price=price, **kwargs)

    def _unknown_pair_error(self, trading_pair: str) -> ValueError:
        try:
            self.instrument_cache.assets_for_pair(trading_pair)
        except StellarConfigError as error:
            return StellarConfigError(f"Trading pair {trading_pair}: {error}")
        return ValueError(f"Trading pair {trading_pair} has no trading rule on {self.name} (not among the "
                          f"configured trading pairs, or the trading rules are not loaded yet)")

    def _book(self, trading_pair: str) -> Optional[OrderBook]:
        return self.order_books.get(trading_pair)

    def _order_intent(self, order: InFlightOrder) -> Union[CreateOrderIntent, MarketOrderIntent]:
        base, quote = self.instrument_cache.assets_for_pair(order.trading_pair)
        order_type = order.order_type
        price = order.price
        if order_type is OrderType.MARKET:   # a path payment to ourselves: book or pool, in full or not at all
            if price is None or not (price == price and price > 0):
                price = market_price_bound(self._book(order.trading_pair), order.trading_pair, order.trade_type,
                                           order.amount, self._market_slippage)
            return MarketOrderIntent(order.client_order_id, base, quote, order.trade_type, order.amount, price,
                                     self.account_id)
        if order_type is OrderType.LIMIT_MAKER:
            check_maker_price(self._book(order.trading_pair), order.trading_pair, order.trade_type, price)
        return CreateOrderIntent(client_order_id=order.client_order_id, base=base, quote=quote,
                                 trade_type=order.trade_type, order_type=order_type, amount=order.amount, price=price)

    async def _place_order(self, order_id: str, trading_pair: str, amount: Decimal, trade_type: TradeType,
                           order_type: OrderType, price: Decimal, **kwargs) -> Tuple[str, float]:
        """ExchangePyBase calls `_place_order_and_process_update` instead: placement fills need the order."""
        order = self._order_tracker.fetch_tracked_order(order_id)
        if order is None:
            raise ValueError(f"Order {order_id} is not tracked; start tracking it before placing it")
        return await self._place_order_and_process_update(order), self._now()

    async def _place_order_and_process_update(self, order: InFlightOrder, **kwargs) -> str:
        # The pipeline records the ack and confirm times from here.
        intent, start = self._order_intent(order), measurement.now()
        outcome = await self._pipeline.submit(intent, start)
        if not outcome.success:
            raise order_rejection(intent, outcome)
        exchange_order_id = await self._process_creation_outcome(order, outcome)
        if isinstance(intent, MarketOrderIntent):   # its fills reported and the order FILLED
            measurement.record(measurement.ORDER_MARKET_FILLED, start)
        return exchange_order_id

    async def _process_creation_outcome(self, order: InFlightOrder, outcome: OpOutcome) -> str:
        """Report a placed order: created first, then its placement fills, then its state."""
        exchange_order_id = fills.exchange_order_id_for(outcome, order.client_order_id)
        timestamp, resting = self._now(), outcome.offer_id is not None
        first_state = OrderState.PARTIALLY_FILLED if (outcome.fills and resting) else OrderState.OPEN
        update = OrderUpdate(client_order_id=order.client_order_id, exchange_order_id=exchange_order_id,
                             trading_pair=order.trading_pair, update_timestamp=timestamp, new_state=first_state)
        try:   # in this task, not one of its own (Hummingbot's process_order_update): one loop turn less
            await self._order_tracker._process_order_update(update)
        except Exception:   # as Hummingbot's task would: logged, the order stays placed (a cancel passes)
            self.logger().exception(f"Unexpected error updating order {order.client_order_id} to {first_state.name}.")
        start = measurement.now()
        trade_updates = self._fills.placement_updates(order, outcome, timestamp)
        for trade_update in trade_updates:
            self._order_tracker.process_trade_update(trade_update)
        if trade_updates:
            measurement.record(measurement.FILL_PROCESSING, start)
        for record in self._fills.release_unmatched(exchange_order_id):
            self._process_trade_event(record)   # trades of this offer streamed before we learnt its id
        if not resting:   # the order took all it could at once (a MARKET order: all of it, or it failed)
            state = OrderState.FILLED if mark_filled_if_covered(order) else OrderState.CANCELED
            self._offer_status.finish(order, state, timestamp)
        return exchange_order_id

    # === Cancellation ===

    def _cancel_intent(self, order: InFlightOrder) -> CancelOrderIntent:
        base, quote = self.instrument_cache.assets_for_pair(order.trading_pair)
        order_type = OrderType.LIMIT if order.order_type is OrderType.MARKET else order.order_type
        return CancelOrderIntent(client_order_id=order.client_order_id, base=base, quote=quote,
                                 trade_type=order.trade_type, offer_id=int(order.exchange_order_id),
                                 order_type=order_type)

    async def _place_cancel(self, order_id: str, tracked_order: InFlightOrder) -> bool:
        in_flight = self._cancels_in_flight.get(order_id)
        if in_flight is not None:
            # Its cancel is on its way (a strategy's, then cancel_all's): share its answer (a second finds no offer).
            try:
                return await asyncio.shield(in_flight)
            except asyncio.CancelledError:
                if not in_flight.cancelled():
                    raise   # this caller was cancelled; else the first cancel was abandoned: send one
        exchange_order_id = tracked_order.exchange_order_id or await tracked_order.get_exchange_order_id()
        if not fills.rests_on_book(exchange_order_id):
            raise StellarOrderNotFound(f"Order {order_id} never rested on the book (id {exchange_order_id})")
        answer = asyncio.get_running_loop().create_future()
        self._cancels_in_flight[order_id] = answer
        try:
            outcome = await self._pipeline.submit(self._cancel_intent(tracked_order), measurement.now())
            cancelled = outcome.success or await self._process_cancel_outcome(tracked_order, outcome)
            answer.set_result(cancelled)
            return cancelled
        except asyncio.CancelledError:
            answer.cancel()
            raise
        except Exception as error:
            answer.set_exception(error)
            answer.exception()   # marked as retrieved: only callers sharing it need it
            raise
        finally:
            if self._cancels_in_flight.get(order_id) is answer:
                del self._cancels_in_flight[order_id]

    async def _process_cancel_outcome(self, order: InFlightOrder, outcome: OpOutcome) -> bool:
        if outcome.success:
            return True
        if outcome.error_code == "op_offer_not_found":
            # The offer left the ledger before our cancel: filled (report the fill) or already cancelled.
            if await self._offer_status.resolve_gone(order, finish_cancelled=False) is OrderState.FILLED:
                return False
            raise StellarOrderNotFound(
                f"Offer {order.exchange_order_id} of order {order.client_order_id} is not on the ledger "
                f"and no trade filled it: {CONSTANTS.result_code_message('op_offer_not_found')}")
        raise StellarOrderRejected(outcome.error_code, outcome.error_message, order.client_order_id, "cancel of")

    # === Order status, fills and balances ===

    async def _request_order_status(self, tracked_order: InFlightOrder) -> OrderUpdate:
        return await self._offer_status.order_update(tracked_order)

    async def _update_orders_with_error_handler(self, orders: List[InFlightOrder], error_handler: Callable):
        await self._offer_status.update_orders(orders, error_handler)

    async def _all_trade_updates_for_order(self, order: InFlightOrder) -> List[TradeUpdate]:
        return await self._offer_status.trade_updates(order)

    async def _update_orders_fills(self, orders: List[InFlightOrder]):
        await self._offer_status.report_fills(orders, max_pages=self._account.trade_pages())

    async def _update_balances(self):
        await self._account.refresh()   # no read while the account stream is current: its balances are applied

    # === User stream ===

    async def _user_stream_event_listener(self):
        async for event_message in self._iter_user_event_queue():
            try:
                await self.process_user_stream_event(event_message)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.logger().error("Unexpected error in user stream listener loop.", exc_info=True)
                await self._sleep(5.0)

    async def process_user_stream_event(self, event_message: Dict[str, Any]) -> None:
        """One account event as the user stream data source queues it: {"channel": "account" | "trade" | "offer" |
        "transaction", "data": the Horizon record}. Balances come from the account record itself."""
        start = measurement.now()
        try:
            channel = event_message["channel"]
            data = event_message["data"]
            if channel == "trade":
                self._process_trade_event(data)
            elif channel == "offer":
                await self._process_offer_event(data)
            elif channel == "account":
                self._account.apply(data, streamed=True)
            elif channel == "transaction":
                self._pipeline.notify_transaction(data)
        finally:
            measurement.record(measurement.USER_STREAM_EVENT, start)

    def _order_for_offer(self, record: Dict[str, Any], *keys: str) -> Optional[InFlightOrder]:
        return self._order_tracker.fillable_order_for_offers(*(str(record.get(key)) for key in keys))

    def _process_trade_event(self, record: Dict[str, Any]) -> None:
        order = self._order_for_offer(record, "base_offer_id", "counter_offer_id")
        if order is None:
            self._fills.hold_unmatched(record)
        else:
            self._offer_status.apply_streamed_trade(order, record)

    async def _process_offer_event(self, offer: Dict[str, Any]) -> None:
        order = self._order_for_offer(offer, "id")
        if order is not None and offer.get("seller") in (None, self.account_id):
            await self._offer_status.apply_streamed_offer(order, offer)

    # === Streams (status views and load probes) ===

    def streams_connected(self) -> Dict[str, bool]:
        """Each Horizon stream the connector holds (order book and account) -> connected right now."""
        return {name: up for source in self._stream_sources() for name, up in source.streams_connected().items()}

    def stream_reconnects(self) -> int:
        return sum(stats["reconnects"] for source in self._stream_sources() for stats in source.stream_stats().values())

    def queued_stream_messages(self) -> int:
        """Stream messages received and not yet read by Hummingbot's trackers."""
        return sum(source.queued_messages() for source in self._stream_sources())

    def _stream_sources(self) -> list:
        user_stream = self._user_stream_tracker
        return [self._orderbook_ds] + ([user_stream.data_source] if user_stream is not None else [])

    # === Helpers ===

    def _base_key(self, trading_pair: str) -> str:
        return asset_key(self.instrument_cache.assets_for_pair(trading_pair)[0])

    def _now(self) -> float:
        timestamp = self.current_timestamp
        return timestamp if timestamp == timestamp and timestamp > 0 else self._time()


__all__ = ["StellarExchange", "StellarOrderRejected", "StellarOrderNotFound"]
