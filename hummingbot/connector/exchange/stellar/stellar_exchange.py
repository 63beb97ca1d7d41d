"""StellarExchange: Hummingbot's exchange contract on top of the Stellar DEX (SDEX).

Glue only: trading pairs resolve through the InstrumentCache, orders become intents that the
TransactionPipeline turns into (coalesced) transactions, and Horizon JSON becomes Hummingbot's
order and trade updates. What an order is on Stellar:

- exchange_order_id is the offer id (a string). An order that filled completely at placement never
  rests, so it gets Horizon's synthetic id for such offers (its operation's id with bit 62 set, the
  id Horizon's trades name it by) when the transaction's paging token is known, else
  "<tx hash>-<client order id>".
- fills at placement come from the operation result (claimed offers) and are reported at once;
  later fills come from the account's trades (stream, or REST polling as a backup). A placement fill
  seen again in the trades keeps the trade id it was first reported with, so it never counts twice.
- the SDEX charges no trading fee; the network fee of the creating transaction (this order's share,
  in XLM) is charged as a flat fee on the order's first fill.
- an offer that is gone from the ledger was filled or cancelled: its trades tell which, so a fill
  is never reported as a cancel.
"""
import asyncio
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from bidict import bidict
from cachetools import LRUCache
from hummingbot.connector.constants import s_decimal_0, s_decimal_NaN
from hummingbot.connector.exchange_py_base import ExchangePyBase
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.connector.utils import get_new_client_order_id
from hummingbot.core.data_type.cancellation_result import CancellationResult
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate, TradeUpdate
from hummingbot.core.data_type.limit_order import LimitOrder
from hummingbot.core.data_type.market_order import MarketOrder
from hummingbot.core.data_type.order_book_tracker_data_source import OrderBookTrackerDataSource
from hummingbot.core.data_type.trade_fee import TokenAmount, TradeFeeBase, TradeFeeSchema
from hummingbot.core.data_type.user_stream_tracker_data_source import UserStreamTrackerDataSource
from hummingbot.core.utils.async_utils import safe_ensure_future
from hummingbot.core.web_assistant.web_assistants_factory import WebAssistantsFactory
from stellar_sdk import Asset, Keypair

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar import stellar_measurement as measurement
from hummingbot.connector.exchange.stellar import stellar_utils
from hummingbot.connector.exchange.stellar import stellar_web_utils as web_utils
from hummingbot.connector.exchange.stellar.stellar_amounts import from_stroops, quantize_price
from hummingbot.connector.exchange.stellar.stellar_api_order_book_data_source import StellarAPIOrderBookDataSource
from hummingbot.connector.exchange.stellar.stellar_api_user_stream_data_source import StellarAPIUserStreamDataSource
from hummingbot.connector.exchange.stellar.stellar_assets import (
    StellarConfigError,
    asset_from_horizon,
    asset_key,
    native_asset,
)
from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth
from hummingbot.connector.exchange.stellar.stellar_config_cache import ConfigCache
from hummingbot.connector.exchange.stellar.stellar_horizon_api import HorizonApi, HorizonError
from hummingbot.connector.exchange.stellar.stellar_horizon_records import close_timestamp, record_asset_key, trade_id
from hummingbot.connector.exchange.stellar.stellar_instrument_cache import InstrumentCache, split_trading_pair
from hummingbot.connector.exchange.stellar.stellar_order_ops import CancelOrderIntent, CreateOrderIntent
from hummingbot.connector.exchange.stellar.stellar_order_tracker import StellarOrderTracker
from hummingbot.connector.exchange.stellar.stellar_rpc import HEALTHY as RPC_HEALTHY
from hummingbot.connector.exchange.stellar.stellar_rpc import StellarRpc
from hummingbot.connector.exchange.stellar.stellar_tx_pipeline import TransactionPipeline
from hummingbot.connector.exchange.stellar.stellar_tx_results import OpOutcome

_STEP = Decimal("0.0000001")                 # 7 decimals: one stroop, the ledger's unit for amounts and prices
_MIN_NOTIONAL = _STEP                        # the quote side of an offer must be at least one stroop
_NATIVE = native_asset()
_NATIVE_TOKEN = "XLM"
_TOID_OFFER_BIT = 1 << 62                    # Horizon's synthetic offer ids: operation TOID with bit 62 set
_TRADES_PAGE_LIMIT = 200                     # Horizon's maximum page size
_TRADES_MAX_PAGES = 5                        # a backstop poll looks this far back, no further
_CREATION_FILL_KEYS_MAX = 4096
_SETTLED = (OrderState.CANCELED, OrderState.FILLED)
_DUST_STROOPS = 100                          # see StellarExchange._dust


class StellarOrderRejected(IOError):
    """The network (or Horizon) refused an order operation; carries the Stellar result code."""

    def __init__(self, code: Optional[str], message: Optional[str], client_order_id: str, action: str = "order"):
        self.code = code
        self.client_order_id = client_order_id
        # People read the connector's own message for a known Stellar code; others keep the pipeline's words.
        if code in CONSTANTS.RESULT_CODE_MESSAGES:
            detail = CONSTANTS.RESULT_CODE_MESSAGES[code]
        else:
            detail = message or (CONSTANTS.result_code_message(code) if code else "no result code")
        text = f"Stellar rejected the {action} {client_order_id}: {code} ({detail})"
        super().__init__(text)


class StellarOrderNotFound(IOError):
    """No offer of ours with this id exists on the ledger, and no trade of it either."""


class StellarExchange(ExchangePyBase):
    web_utils = web_utils

    # A MARKET order is a crossing offer whose price bound is the book's price for its size, moved
    # by this fraction against us; whatever it does not take at once is cancelled.
    DEFAULT_MARKET_ORDER_SLIPPAGE = Decimal("0.02")
    BALANCE_REFRESH_DELAY = 0.05             # coalesces the burst of effects one ledger brings
    BALANCE_REFRESH_RETRY_CAP = 5.0          # longest wait between retries of a failed account read
    CANCEL_ALL_ON_STOP_TIMEOUT = 10.0

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
                 balance_asset_limit: Optional[Dict[str, Dict[str, Decimal]]] = None,
                 rate_limits_share_pct: Decimal = Decimal("100"),
                 trading_pairs: Optional[List[str]] = None,
                 trading_required: bool = True,
                 domain: str = CONSTANTS.DEFAULT_DOMAIN,
                 ):
        self._domain = domain
        self._trading_pairs = list(trading_pairs or [])
        self._trading_required = trading_required
        self._config_cache = ConfigCache(domain=domain,
                                         horizon_url=stellar_horizon_url,
                                         network_passphrase=stellar_network_passphrase,
                                         rpc_url=stellar_rpc_url)
        self._horizon_url = self._config_cache.horizon_url
        secret = _reveal(stellar_secret_key)
        if not trading_required and not (secret or "").strip():
            # Market data only (e.g. paper trading): nothing is signed, any key names the account.
            secret = Keypair.random().secret
        self._stellar_auth = StellarAuth(secret, _reveal(stellar_channel_secret_keys))
        # SDF's public Horizon allows 3,600 requests an hour; a Horizon of the user's own has no such budget.
        is_public_horizon = self._horizon_url == CONSTANTS.HORIZON_URLS.get(domain)
        self._rate_limits = CONSTANTS.RATE_LIMITS if is_public_horizon else \
            CONSTANTS.build_rate_limits(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR)
        self._markets = stellar_utils.parse_markets(stellar_markets)
        self.instrument_cache = InstrumentCache(domain, self._markets)
        self._max_fee_stroops = stellar_utils.validate_max_fee(stellar_max_fee_stroops)
        slippage = self.DEFAULT_MARKET_ORDER_SLIPPAGE if stellar_market_order_slippage is None \
            else Decimal(str(stellar_market_order_slippage))
        if not Decimal(0) <= slippage < Decimal(1):
            raise ValueError(f"stellar_market_order_slippage must be in [0, 1), got {slippage}")
        self._market_slippage = slippage
        self._cancel_all_on_stop = stellar_cancel_all_on_stop
        # client order id -> the network fee share (XLM) its first fill carries
        self._pending_network_fees: LRUCache = LRUCache(maxsize=_CREATION_FILL_KEYS_MAX)
        # client order id -> {(counter offer id, base stroops, quote stroops): trade id} of placement fills
        self._creation_fill_ids: LRUCache = LRUCache(maxsize=_CREATION_FILL_KEYS_MAX)
        self._balance_refresh_task: Optional[asyncio.Task] = None
        self._balances_stale = False
        self._cancels_in_flight: Dict[str, asyncio.Future] = {}   # client order id -> its cancel's outcome
        # our offer id -> trades streamed before any order knew that id (see _hold_unmatched_trade)
        self._unmatched_trades: LRUCache = LRUCache(maxsize=_CREATION_FILL_KEYS_MAX)
        self._network_started = False
        self._stellar_fee_schema: Optional[TradeFeeSchema] = None
        super().__init__(balance_asset_limit, rate_limits_share_pct)
        self._horizon = HorizonApi(self._web_assistants_factory, self._horizon_url, domain=domain)
        rpc_url = self._config_cache.rpc_url
        self._rpc: Optional[StellarRpc] = StellarRpc(self._web_assistants_factory, rpc_url) if rpc_url else None
        self.rpc_health: Optional[Dict[str, Any]] = None   # the RPC's last getHealth answer, if one is set
        self._pipeline = self._create_pipeline()

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
        return self._rate_limits

    @property
    def domain(self) -> str:
        return self._domain

    @property
    def horizon_url(self) -> str:
        return self._horizon_url

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
        return StellarAPIOrderBookDataSource(
            trading_pairs=self._trading_pairs,
            connector=self,
            api_factory=self._web_assistants_factory,
            domain=self._domain,
            horizon_url=self._horizon_url)

    def _create_user_stream_data_source(self) -> UserStreamTrackerDataSource:
        return StellarAPIUserStreamDataSource(
            auth=self._stellar_auth,
            connector=self,
            api_factory=self._web_assistants_factory,
            domain=self._domain,
            horizon_url=self._horizon_url)

    def _create_pipeline(self) -> TransactionPipeline:
        return TransactionPipeline(self._horizon, self._stellar_auth, self._config_cache,
                                   network_passphrase=self.network_passphrase,
                                   max_fee_per_op=self._max_fee_stroops)

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

    def _known_trading_pairs(self) -> List[str]:
        """The configured pairs, then XLM against every asset the cache can name by its code."""
        pairs: List[str] = []
        for pair in self._trading_pairs:
            try:
                self.instrument_cache.assets_for_pair(pair)
            except StellarConfigError as error:
                self.logger().error(f"Trading pair {pair} is not usable on {self._domain}: {error}")
                continue
            if pair not in pairs:
                pairs.append(pair)
        for asset in self.instrument_cache.known_assets():
            pair = f"{_NATIVE_TOKEN}-{self.instrument_cache.token_for_asset(asset)}"
            if pair not in pairs:
                pairs.append(pair)
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
        return [
            TradingRule(trading_pair=pair,
                        min_order_size=_STEP,
                        min_price_increment=_STEP,
                        min_base_amount_increment=_STEP,
                        min_quote_amount_increment=_STEP,
                        min_notional_size=_MIN_NOTIONAL)
            for pair in self._known_trading_pairs()
        ]

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

    def _get_fee(self,
                 base_currency: str,
                 quote_currency: str,
                 order_type: OrderType,
                 order_side: TradeType,
                 amount: Decimal,
                 price: Decimal = s_decimal_NaN,
                 is_maker: Optional[bool] = None) -> TradeFeeBase:
        # No trading fee on the SDEX. The network fee (about 0.00001 XLM per order) is left out of the
        # estimate: a flat XLM fee would make budget checks of non-XLM pairs need an XLM rate.
        return TradeFeeBase.new_spot_fee(fee_schema=self.trade_fee_schema(), trade_type=order_side)

    async def get_last_traded_prices(self, trading_pairs: List[str]) -> Dict[str, float]:
        return await self._orderbook_ds.get_last_traded_prices(trading_pairs)

    async def _get_last_traded_price(self, trading_pair: str) -> float:
        prices = await self._orderbook_ds.get_last_traded_prices([trading_pair])
        return prices[trading_pair]

    # === Network ===

    async def start_network(self):
        await super().start_network()
        self._network_started = True
        if self.is_trading_required:
            safe_ensure_future(self._refresh_network_figures())   # fees bid before the first status poll
        if self._rpc is not None:
            safe_ensure_future(self._check_rpc_health())

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
        if self._balance_refresh_task is not None:
            self._balance_refresh_task.cancel()
            self._balance_refresh_task = None
        # The pipeline keeps running: Hummingbot restarts the network after a connectivity blip, and a
        # transaction already submitted must still be resolved to the order that sent it.
        await super().stop_network()

    async def _status_polling_loop_fetch_updates(self):
        await self._refresh_network_figures()
        await self._check_rpc_health()
        await super()._status_polling_loop_fetch_updates()

    async def _check_rpc_health(self):
        """Ask the optional Stellar RPC for its health; trading goes through Horizon either way."""
        if self._rpc is None:
            return
        try:
            health = await self._rpc.health()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.rpc_health = {"status": "unreachable", "error": str(error)}
            self.logger().warning(f"The Stellar RPC at {self._rpc.url} did not answer getHealth: {error}")
            return
        self.rpc_health = health if isinstance(health, dict) else {"status": str(health)}
        if self.rpc_health.get("status") != RPC_HEALTHY:
            self.logger().warning(f"The Stellar RPC at {self._rpc.url} reports {self.rpc_health.get('status')!r}.")

    async def _refresh_network_figures(self):
        if not self._config_cache.needs_refresh():
            return
        try:
            await self._config_cache.refresh(self._horizon.get_json)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Could not refresh the network's fee and reserve figures: {error}")

    # === Order placement ===

    def buy(self, trading_pair: str, amount: Decimal, order_type=OrderType.LIMIT, price: Decimal = s_decimal_NaN,
            **kwargs) -> str:
        split_trading_pair(trading_pair)   # Hummingbot names an order after its pair's two sides
        return super().buy(trading_pair, amount, order_type, price, **kwargs)

    def sell(self, trading_pair: str, amount: Decimal, order_type=OrderType.LIMIT, price: Decimal = s_decimal_NaN,
             **kwargs) -> str:
        split_trading_pair(trading_pair)   # Hummingbot names an order after its pair's two sides
        return super().sell(trading_pair, amount, order_type, price, **kwargs)

    async def _create_order(self,
                            trade_type: TradeType,
                            order_id: str,
                            trading_pair: str,
                            amount: Decimal,
                            order_type: OrderType,
                            price: Optional[Decimal] = None,
                            **kwargs):
        if trading_pair not in self._trading_rules:
            # ExchangePyBase would raise a bare KeyError inside its task: the strategy would hear nothing.
            self.start_tracking_order(order_id=order_id, exchange_order_id=None, trading_pair=trading_pair,
                                      order_type=order_type, trade_type=trade_type,
                                      price=s_decimal_NaN if price is None else price, amount=amount)
            self._update_order_after_failure(order_id=order_id, trading_pair=trading_pair,
                                             exception=self._unknown_pair_error(trading_pair))
            return
        if order_type is OrderType.MARKET and (price is None or price.is_nan()):
            # A MARKET order is priced by its bound from the book; ExchangePyBase would otherwise value it
            # at the opposite side's price, which an empty side turns into NaN.
            try:
                price = self._market_price_bound(trading_pair, trade_type, amount)
            except ValueError as error:
                self.start_tracking_order(order_id=order_id, exchange_order_id=None, trading_pair=trading_pair,
                                          order_type=order_type, trade_type=trade_type, price=s_decimal_NaN,
                                          amount=amount)
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

    def _order_intent(self, order: InFlightOrder) -> CreateOrderIntent:
        base, quote = self.instrument_cache.assets_for_pair(order.trading_pair)
        order_type = order.order_type
        price = order.price
        if order_type is OrderType.MARKET:
            if price is None or not (price == price and price > 0):   # no bound from _create_order (a batch)
                price = self._market_price_bound(order.trading_pair, order.trade_type, order.amount)
            order_type = OrderType.LIMIT
        elif order_type is OrderType.LIMIT_MAKER:
            self._check_maker_price(order.trading_pair, order.trade_type, price)
        return CreateOrderIntent(client_order_id=order.client_order_id, base=base, quote=quote,
                                 trade_type=order.trade_type, order_type=order_type,
                                 amount=order.amount, price=price)

    def _market_price_bound(self, trading_pair: str, trade_type: TradeType, amount: Decimal) -> Decimal:
        """The worst price a MARKET order accepts: the book's price for its size, moved by the slippage."""
        is_buy = trade_type is TradeType.BUY
        try:
            book_price = self.get_price_for_volume(trading_pair, is_buy, amount).result_price
            if not _positive_price(book_price):
                # The book holds less than `amount`: price at its deepest level, take what there is.
                book_price = self._deepest_book_price(trading_pair, is_buy)
        except (ValueError, OSError):   # no book for the pair, or that side of it is empty
            book_price = None
        if not _positive_price(book_price):
            raise ValueError(f"No {'ask' if is_buy else 'bid'} in the {trading_pair} book to price a MARKET order")
        book_price = Decimal(str(book_price))
        if is_buy:
            return quantize_price(book_price * (1 + self._market_slippage), ROUND_UP)
        bound = quantize_price(book_price * (1 - self._market_slippage), ROUND_DOWN)
        return bound if bound > 0 else _STEP

    def _deepest_book_price(self, trading_pair: str, is_buy: bool) -> Optional[float]:
        """The worst price on the asks (for a buy) or the bids (for a sell); None if that side is empty."""
        book = self.get_order_book(trading_pair)
        deepest = None
        for row in (book.ask_entries() if is_buy else book.bid_entries()):
            deepest = row.price
        return deepest

    def _check_maker_price(self, trading_pair: str, trade_type: TradeType, price: Decimal) -> None:
        """Stellar has no post-only flag: refuse a LIMIT_MAKER that would cross the book we see."""
        if trading_pair not in self.order_books:
            return  # no book tracked: the passive offer still never takes offers at its own price
        is_buy = trade_type is TradeType.BUY
        try:
            best = self.order_books[trading_pair].get_price(is_buy)   # best ask for a buy, best bid for a sell
        except OSError:
            return  # that side of the book is empty: nothing to cross
        if best == best and (price >= Decimal(str(best)) if is_buy else price <= Decimal(str(best))):
            side = "ask" if is_buy else "bid"
            raise ValueError(f"LIMIT_MAKER {trade_type.name} at {price} would cross the best {side} {best} "
                             f"of {trading_pair}")

    async def _place_order(self,
                           order_id: str,
                           trading_pair: str,
                           amount: Decimal,
                           trade_type: TradeType,
                           order_type: OrderType,
                           price: Decimal,
                           **kwargs) -> Tuple[str, float]:
        """Places a tracked order and reports it (fills at placement included): see
        `_place_order_and_process_update`, which ExchangePyBase calls instead of this."""
        order = self._order_tracker.fetch_tracked_order(order_id)
        if order is None:
            raise ValueError(f"Order {order_id} is not tracked; start tracking it before placing it")
        return await self._place_order_and_process_update(order), self._now()

    async def _place_order_and_process_update(self, order: InFlightOrder, **kwargs) -> str:
        # The pipeline records the ack and confirm times from here.
        outcome = await self._pipeline.submit(self._order_intent(order), measurement.now())
        if not outcome.success:
            raise StellarOrderRejected(outcome.error_code, outcome.error_message, order.client_order_id)
        return await self._process_creation_outcome(order, outcome)

    async def _process_creation_outcome(self, order: InFlightOrder, outcome: OpOutcome) -> str:
        """Report a placed order: created first, then its placement fills, then its state."""
        exchange_order_id = self._exchange_order_id_from(outcome, order.client_order_id)
        timestamp = self._now()
        resting = outcome.offer_id is not None
        first_state = OrderState.PARTIALLY_FILLED if (outcome.fills and resting) else OrderState.OPEN
        if outcome.fee_charged_share_stroops:
            self._pending_network_fees[order.client_order_id] = outcome.fee_charged_share
        await self._order_tracker.process_order_update(OrderUpdate(
            client_order_id=order.client_order_id, exchange_order_id=exchange_order_id,
            trading_pair=order.trading_pair, update_timestamp=timestamp, new_state=first_state))
        if outcome.fills:
            start = measurement.now()
            fill_ids = self._creation_fill_ids.setdefault(order.client_order_id, {})
            for index, fill in enumerate(outcome.fills):
                trade_id = self._creation_trade_id(outcome, order.client_order_id, index)
                fill_ids[(fill.counter_offer_id, fill.base_stroops, fill.quote_stroops)] = trade_id
                self._order_tracker.process_trade_update(TradeUpdate(
                    trade_id=trade_id, client_order_id=order.client_order_id, exchange_order_id=exchange_order_id,
                    trading_pair=order.trading_pair, fill_timestamp=timestamp, fill_price=fill.price,
                    fill_base_amount=fill.base_amount, fill_quote_amount=fill.quote_amount,
                    fee=self._fill_fee(order)))
            measurement.record(measurement.FILL_PROCESSING, start)
        for record in self._unmatched_trades.pop(exchange_order_id, ()):
            self._process_trade_event(record)   # trades of this offer streamed before we learnt its id
        if not resting:
            # Nothing rests: the order took all it could at once (a MARKET order's bound may leave less).
            final_state = OrderState.FILLED if self._is_covered(order) else OrderState.CANCELED
            self._finish(order, final_state, timestamp)
        elif order.order_type is OrderType.MARKET:
            await self._cancel_market_remainder(order)
        return exchange_order_id

    async def _cancel_market_remainder(self, order: InFlightOrder) -> None:
        """A MARKET order must not rest: whatever its bound did not take at once is cancelled."""
        try:
            await self._execute_order_cancel_and_process_update(order)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().error(f"Could not cancel the unfilled rest of MARKET order {order.client_order_id}: {error}")

    def _exchange_order_id_from(self, outcome: OpOutcome, client_order_id: str) -> str:
        if outcome.offer_id is not None:
            return str(outcome.offer_id)
        op_id = self._operation_id(outcome)
        if op_id is not None:
            return str(op_id | _TOID_OFFER_BIT)
        # No offer and no operation id: name it by its transaction and client id (unique, never an offer id)
        return f"{outcome.tx_hash}-{client_order_id}"

    @staticmethod
    def _operation_id(outcome: OpOutcome) -> Optional[int]:
        """The operation's TOID (Horizon's operation id), when the pipeline knows its transaction's."""
        extra = outcome.extra
        token = extra.get("tx_paging_token") or extra.get("paging_token")
        index = extra.get("op_index")
        if token is None or index is None:
            return None
        try:
            return int(token) + int(index) + 1
        except (TypeError, ValueError):
            return None

    def _creation_trade_id(self, outcome: OpOutcome, client_order_id: str, index: int) -> str:
        op_id = self._operation_id(outcome)
        if op_id is not None:
            return f"{op_id}-{index}"   # Horizon's trade id for the index-th offer this operation claimed
        return f"{outcome.tx_hash}-{client_order_id}-{index}"

    # === Batches ===

    def batch_order_create(self, orders_to_create: List[Union[LimitOrder, MarketOrder]]) -> List[LimitOrder]:
        """Places the orders through one `submit_many`, so a ladder lands in one transaction."""
        created = []
        for order in orders_to_create:
            client_order_id = get_new_client_order_id(
                is_buy=order.is_buy, trading_pair=order.trading_pair,
                hbot_order_id_prefix=self.client_order_id_prefix, max_id_len=self.client_order_id_max_length)
            created.append(order.copy_with_id(client_order_id=client_order_id))
        safe_ensure_future(self._execute_batch_order_create(created))
        return created

    async def _execute_batch_order_create(self, orders: List[Union[LimitOrder, MarketOrder]]) -> None:
        start = measurement.now()   # the pipeline records ack and confirm times from here
        to_submit: List[Tuple[InFlightOrder, CreateOrderIntent]] = []
        for order in orders:
            is_limit = isinstance(order, LimitOrder)
            tracked = self._start_tracking_validated(
                client_order_id=order.client_order_id, trading_pair=order.trading_pair,
                trade_type=TradeType.BUY if order.is_buy else TradeType.SELL,
                order_type=OrderType.LIMIT if is_limit else OrderType.MARKET,
                amount=order.quantity if is_limit else order.amount,
                price=order.price if is_limit else s_decimal_NaN)
            if tracked is None:
                continue
            try:
                to_submit.append((tracked, self._order_intent(tracked)))
            except Exception as error:
                self._update_order_after_failure(tracked.client_order_id, tracked.trading_pair, exception=error)
        if not to_submit:
            return
        try:
            outcomes = await self._pipeline.submit_many([intent for _, intent in to_submit], start)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().network(f"Error submitting a batch of {len(to_submit)} orders: {error}", exc_info=True)
            for tracked, _ in to_submit:
                self._update_order_after_failure(tracked.client_order_id, tracked.trading_pair, exception=error)
            return
        for (tracked, _), outcome in zip(to_submit, outcomes, strict=True):
            try:
                if not outcome.success:
                    raise StellarOrderRejected(outcome.error_code, outcome.error_message, tracked.client_order_id)
                await self._process_creation_outcome(tracked, outcome)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self.logger().network(f"Order {tracked.client_order_id} of a batch failed: {error}")
                self._update_order_after_failure(tracked.client_order_id, tracked.trading_pair, exception=error)

    def _start_tracking_validated(self, client_order_id: str, trading_pair: str, trade_type: TradeType,
                                  order_type: OrderType, amount: Decimal, price: Decimal) -> Optional[InFlightOrder]:
        """Quantize and track an order as `_create_order` does, and fail it at once if a rule refuses it."""
        trading_rule = self._trading_rules.get(trading_pair)
        if order_type in (OrderType.LIMIT, OrderType.LIMIT_MAKER) and trading_rule is not None:
            price = self.quantize_order_price(trading_pair, price)
        if trading_rule is not None:
            amount = self.quantize_order_amount(trading_pair=trading_pair, amount=amount)
        self.start_tracking_order(order_id=client_order_id, exchange_order_id=None, trading_pair=trading_pair,
                                  order_type=order_type, trade_type=trade_type, price=price, amount=amount)
        tracked = self._order_tracker.fetch_tracked_order(client_order_id)
        error: Optional[Exception] = None
        if trading_rule is None:
            error = ValueError(f"No trading rule for {trading_pair} yet; the order will not be created.")
        elif amount < trading_rule.min_order_size:
            error = ValueError(f"Order amount {amount} is lower than minimum order size "
                               f"{trading_rule.min_order_size} for the pair {trading_pair}. "
                               f"The order will not be created.")
        elif price == price and price * amount < trading_rule.min_notional_size:
            error = ValueError(f"Order notional {price * amount} is lower than minimum notional size "
                               f"{trading_rule.min_notional_size} for the pair {trading_pair}. "
                               f"The order will not be created.")
        if error is not None:
            self._update_order_after_failure(client_order_id, trading_pair, exception=error)
            return None
        return tracked

    def batch_order_cancel(self, orders_to_cancel: List[LimitOrder]):
        """Cancels the orders through one `submit_many` (one transaction for up to 100 offers)."""
        tracked = [self._order_tracker.fetch_tracked_order(o.client_order_id) for o in orders_to_cancel]
        safe_ensure_future(self._execute_batch_cancel([o for o in tracked if o is not None]))

    async def _execute_batch_cancel(self, orders: List[InFlightOrder]) -> List[CancellationResult]:
        start = measurement.now()   # the pipeline records ack and confirm times from here
        resting = [o for o in orders if _rests_on_book(o.exchange_order_id)]
        others = [o for o in orders if not _rests_on_book(o.exchange_order_id)]
        results: Dict[str, bool] = {o.client_order_id: False for o in orders}
        if others:
            # No offer id yet (still being placed) or none at all: the single-order path waits or reports them.
            for order, cancelled in zip(others, await asyncio.gather(*(self._execute_order_cancel(o) for o in others)),
                                        strict=True):
                results[order.client_order_id] = cancelled is not None
        if not resting:
            return [CancellationResult(order_id, ok) for order_id, ok in results.items()]
        try:
            outcomes = await self._pipeline.submit_many([self._cancel_intent(o) for o in resting], start)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().error(f"Failed to cancel a batch of {len(resting)} orders: {error}", exc_info=True)
            return [CancellationResult(order_id, ok) for order_id, ok in results.items()]
        for order, outcome in zip(resting, outcomes, strict=True):
            try:
                cancelled = await self._process_cancel_outcome(order, outcome)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if self._is_order_not_found_during_cancelation_error(error):
                    await self._order_tracker.process_order_not_found(order.client_order_id)
                else:
                    self.logger().error(f"Failed to cancel order {order.client_order_id}: {error}")
                continue
            if cancelled:
                results[order.client_order_id] = True
                self._finish(order, OrderState.CANCELED, self._now())
        return [CancellationResult(order_id, ok) for order_id, ok in results.items()]

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
            # This order's cancel is on its way (a strategy's, then cancel_all's): a second one would only
            # find the offer gone and report a cancelled order as not cancelled. Share the first one's answer.
            try:
                return await asyncio.shield(in_flight)
            except asyncio.CancelledError:
                if not in_flight.cancelled():
                    raise   # this caller was cancelled; else the first cancel was abandoned: send one
        exchange_order_id = await tracked_order.get_exchange_order_id()
        if not _rests_on_book(exchange_order_id):
            # Filled at placement: no offer ever rested, so there is nothing to cancel.
            raise StellarOrderNotFound(f"Order {order_id} never rested on the book (id {exchange_order_id})")
        answer = asyncio.get_running_loop().create_future()
        self._cancels_in_flight[order_id] = answer
        try:
            cancelled = await self._submit_cancel(tracked_order)
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

    async def _submit_cancel(self, tracked_order: InFlightOrder) -> bool:
        outcome = await self._pipeline.submit(self._cancel_intent(tracked_order), measurement.now())
        return await self._process_cancel_outcome(tracked_order, outcome)

    async def _process_cancel_outcome(self, order: InFlightOrder, outcome: OpOutcome) -> bool:
        if outcome.success:
            return True
        if outcome.error_code == "op_offer_not_found":
            # The offer left the ledger before our cancel: filled (report the fill) or already cancelled.
            if await self._resolve_gone_offer(order, finish_cancelled=False) is OrderState.FILLED:
                return False
            raise StellarOrderNotFound(
                f"Offer {order.exchange_order_id} of order {order.client_order_id} is not on the ledger "
                f"and no trade filled it: {CONSTANTS.result_code_message('op_offer_not_found')}")
        raise StellarOrderRejected(outcome.error_code, outcome.error_message, order.client_order_id, "cancel of")

    # === Order status and fills ===

    async def _request_order_status(self, tracked_order: InFlightOrder) -> OrderUpdate:
        start = measurement.now()
        try:
            exchange_order_id = tracked_order.exchange_order_id
            if exchange_order_id is None:
                # Still in the pipeline: its transaction's outcome will tell.
                return self._order_update(tracked_order, tracked_order.current_state)
            if not _rests_on_book(exchange_order_id):
                state = OrderState.FILLED if self._is_covered(tracked_order) else tracked_order.current_state
                return self._order_update(tracked_order, state)
            status, body = await self._horizon.request(CONSTANTS.OFFER_PATH.format(offer_id=exchange_order_id),
                                                       limit_id=CONSTANTS.OFFER_PATH)
            if status == 404:
                state = await self._resolve_gone_offer(tracked_order, finish_filled=False, finish_cancelled=False)
                return self._order_update(tracked_order, state)
            if status >= 400 or not isinstance(body, dict):
                raise HorizonError("GET", CONSTANTS.OFFER_PATH, status, body)
            if body.get("seller") != self.account_id:
                raise StellarOrderNotFound(f"Offer {exchange_order_id} belongs to {body.get('seller')}, not to us")
            return self._order_update(tracked_order, self._state_of_resting_offer(tracked_order, body))
        finally:
            measurement.record(measurement.ORDER_STATUS_UPDATE, start)

    def _state_of_resting_offer(self, order: InFlightOrder, offer: Dict[str, Any]) -> OrderState:
        # A buy rests in quote units: converting back may lose a stroop without any fill.
        missing = order.amount - self._remaining_base(order, offer)
        if missing > self._rounding_tolerance(order) or order.executed_amount_base > 0:
            return OrderState.PARTIALLY_FILLED
        return OrderState.OPEN

    def _remaining_base(self, order: InFlightOrder, offer: Dict[str, Any]) -> Decimal:
        """The base amount an offer of `order` still offers (a buy rests as an offer selling the quote)."""
        amount = Decimal(offer["amount"])
        base, _quote = self.instrument_cache.assets_for_pair(order.trading_pair)
        selling = offer.get("selling")
        selling_asset = asset_from_horizon(selling) if isinstance(selling, dict) else \
            asset_from_horizon(offer, "selling_")
        if selling_asset == base:
            return amount
        price_r = offer.get("price_r")
        if price_r:
            return amount * Decimal(price_r["n"]) / Decimal(price_r["d"])
        return amount * Decimal(offer["price"])

    async def _resolve_gone_offer(self, order: InFlightOrder, finish_filled: bool = True,
                                  finish_cancelled: bool = True) -> OrderState:
        """An offer that left the ledger was filled or cancelled: its trades tell which (never guess:
        if the trades cannot be read, this raises and the order stays as it is)."""
        for trade_update in await self._all_trade_updates_for_order(order):
            self._order_tracker.process_trade_update(trade_update)
        state = OrderState.FILLED if self._is_covered(order, offer_gone=True) else OrderState.CANCELED
        if (finish_filled and state is OrderState.FILLED) or (finish_cancelled and state is OrderState.CANCELED):
            self._finish(order, state, self._now())
        return state

    async def _settle_if_offer_gone(self, order: InFlightOrder) -> None:
        status, _body = await self._horizon.request(CONSTANTS.OFFER_PATH.format(offer_id=order.exchange_order_id),
                                                    limit_id=CONSTANTS.OFFER_PATH)
        if status == 404 and not order.is_done:
            await self._resolve_gone_offer(order, finish_cancelled=False)

    def _is_covered(self, order: InFlightOrder, offer_gone: bool = False) -> bool:
        """The order's fills cover its amount, up to stellar-core's rounding (at most a stroop of quote);
        once its offer left the ledger (not by our cancel), up to the dust the ledger deletes."""
        missing = order.amount - order.executed_amount_base
        if missing <= 0:
            return True
        tolerance = max(self._rounding_tolerance(order), self._dust(order)) if offer_gone else \
            self._rounding_tolerance(order)
        if missing <= tolerance:
            order.completely_filled_event.set()
            return True
        return False

    @staticmethod
    def _dust(order: InFlightOrder) -> Decimal:
        """The most base an offer of `order` may hold and still be deleted by stellar-core after a fill: an
        offer worth under 100 stroops of what it buys (quote for a sell, base for a buy) cannot trade within
        the 1 % price error bound, so adjustOffer removes it, partly filled, without a cancel."""
        if order.trade_type is TradeType.BUY:
            return _DUST_STROOPS * _STEP
        price = order.price if order.price == order.price and order.price > 0 else order.average_executed_price
        return _DUST_STROOPS * _STEP / price if price else _STEP

    @staticmethod
    def _rounding_tolerance(order: InFlightOrder) -> Decimal:
        """One stroop of the quote asset, in base units (and at least one stroop of base)."""
        price = order.price if order.price == order.price and order.price > 0 else order.average_executed_price
        return max(_STEP, _STEP / price) if price else _STEP

    async def _all_trade_updates_for_order(self, order: InFlightOrder) -> List[TradeUpdate]:
        exchange_order_id = order.exchange_order_id
        if exchange_order_id is None:
            return []
        records = await self._recent_account_trades(since=order.creation_timestamp)
        updates = []
        for record in records:
            if exchange_order_id in (str(record.get("base_offer_id")), str(record.get("counter_offer_id"))):
                update = self._trade_update_from_record(order, record)
                if update is not None:
                    updates.append(update)
        return updates

    async def _update_orders_fills(self, orders: List[InFlightOrder]):
        """One read of the account's recent trades serves every order (not one request per order)."""
        by_offer = {o.exchange_order_id: o for o in orders if o.exchange_order_id is not None}
        if not by_offer:
            return
        oldest = min((o.creation_timestamp for o in by_offer.values()), default=0)
        try:
            records = await self._recent_account_trades(since=oldest)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self.logger().warning(f"Failed to fetch the account's trades: {error}", exc_info=error)
            return
        for record in records:
            for offer_key in ("base_offer_id", "counter_offer_id"):
                order = by_offer.get(str(record.get(offer_key)))
                if order is not None:
                    update = self._trade_update_from_record(order, record)
                    if update is not None:
                        self._order_tracker.process_trade_update(update)

    async def _recent_account_trades(self, since: float = 0) -> List[Dict[str, Any]]:
        """The account's trades, newest first, back to `since` (seconds) or a few pages."""
        path = CONSTANTS.ACCOUNT_TRADES_PATH.format(account_id=self.account_id)
        params: Dict[str, Any] = {"order": "desc", "limit": _TRADES_PAGE_LIMIT}
        records: List[Dict[str, Any]] = []
        for _ in range(_TRADES_MAX_PAGES):
            page = await self._horizon.get_json(path, params=dict(params), limit_id=CONSTANTS.ACCOUNT_TRADES_PATH)
            batch = (page.get("_embedded") or {}).get("records") or []
            records.extend(batch)
            if len(batch) < _TRADES_PAGE_LIMIT:
                break
            last = batch[-1]
            if since and close_timestamp(last.get("ledger_close_time")) < since - 60:
                break
            params["cursor"] = last.get("paging_token")
        return records

    def _trade_update_from_record(self, order: InFlightOrder, record: Dict[str, Any]) -> Optional[TradeUpdate]:
        """A Horizon trade of one of our offers, in the order's terms (base amount, quote per base)."""
        if record.get("trade_type", "orderbook") != "orderbook":
            return None
        base, _quote = self.instrument_cache.assets_for_pair(order.trading_pair)
        base_key = asset_key(base)
        if record_asset_key(record, "base_") == base_key:
            base_amount, quote_amount = Decimal(record["base_amount"]), Decimal(record["counter_amount"])
        elif record_asset_key(record, "counter_") == base_key:
            base_amount, quote_amount = Decimal(record["counter_amount"]), Decimal(record["base_amount"])
        else:
            return None
        if base_amount <= 0:
            return None
        ours_is_base_side = str(record.get("base_offer_id")) == order.exchange_order_id
        counter_offer_key = "counter_offer_id" if ours_is_base_side else "base_offer_id"
        counter_offer_id = _int_or_zero(record.get(counter_offer_key))
        if counter_offer_id & _TOID_OFFER_BIT:
            counter_offer_id = 0
        fill_id = trade_id(record)
        placement_ids = self._creation_fill_ids.get(order.client_order_id)
        if placement_ids:
            key = (counter_offer_id, _stroops(base_amount), _stroops(quote_amount))
            fill_id = placement_ids.get(key, fill_id)
        return TradeUpdate(
            trade_id=fill_id,
            client_order_id=order.client_order_id,
            exchange_order_id=order.exchange_order_id,
            trading_pair=order.trading_pair,
            fill_timestamp=close_timestamp(record.get("ledger_close_time")) or self._now(),
            fill_price=quote_amount / base_amount,
            fill_base_amount=base_amount,
            fill_quote_amount=quote_amount,
            fee=self._fill_fee(order))

    def _fill_fee(self, order: InFlightOrder) -> TradeFeeBase:
        """Zero trading fee; the first fill of an order also carries its share of the creating tx's fee."""
        network_fee = self._pending_network_fees.pop(order.client_order_id, None)
        flat_fees = [TokenAmount(_NATIVE_TOKEN, network_fee)] if network_fee else []
        return TradeFeeBase.new_spot_fee(fee_schema=self.trade_fee_schema(), trade_type=order.trade_type,
                                         flat_fees=flat_fees)

    def _order_update(self, order: InFlightOrder, state: OrderState) -> OrderUpdate:
        return OrderUpdate(client_order_id=order.client_order_id, exchange_order_id=order.exchange_order_id,
                           trading_pair=order.trading_pair, update_timestamp=self._now(), new_state=state)

    def _finish(self, order: InFlightOrder, state: OrderState, timestamp: float) -> None:
        self._order_tracker.process_order_update(OrderUpdate(
            client_order_id=order.client_order_id, exchange_order_id=order.exchange_order_id,
            trading_pair=order.trading_pair, update_timestamp=timestamp, new_state=state))

    # === Balances ===

    async def _update_balances(self):
        account = await self._horizon.get_account(self.account_id)
        self._apply_account_balances(account)

    def _apply_account_balances(self, account: Dict[str, Any]) -> None:
        totals: Dict[str, Decimal] = {}
        available: Dict[str, Decimal] = {}
        for entry in account.get("balances") or []:
            asset_type = entry.get("asset_type")
            if asset_type == "liquidity_pool_shares":
                continue  # pool shares are not tradable on the order book
            asset = _NATIVE if asset_type == "native" else Asset(entry["asset_code"], entry["asset_issuer"])
            token = self.instrument_cache.token_for_asset(asset)
            total = Decimal(entry["balance"])
            free = total - Decimal(entry.get("selling_liabilities") or "0")
            if asset_type == "native":
                minimum = self._config_cache.minimum_balance_stroops(
                    int(account.get("subentry_count") or 0),
                    int(account.get("num_sponsoring") or 0),
                    int(account.get("num_sponsored") or 0))
                free -= from_stroops(minimum)
            totals[token] = total
            available[token] = max(free, s_decimal_0)
        self._account_balances.clear()
        self._account_balances.update(totals)
        self._account_available_balances.clear()
        self._account_available_balances.update(available)

    def _schedule_balance_refresh(self) -> None:
        self._balances_stale = True
        task = self._balance_refresh_task
        if task is None or task.done():
            self._balance_refresh_task = safe_ensure_future(self._refresh_balances_soon())

    async def _refresh_balances_soon(self) -> None:
        # One account read per burst of effects; effects arriving during a read cause one more read.
        # A failed read is retried, backing off: the stream that asked for it may say nothing more.
        delay = self.BALANCE_REFRESH_DELAY
        while self._balances_stale:
            await self._sleep(delay)
            self._balances_stale = False
            try:
                await self._update_balances()
                delay = self.BALANCE_REFRESH_DELAY
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._balances_stale = True
                delay = min(max(delay * 2, 0.5), self.BALANCE_REFRESH_RETRY_CAP)
                self.logger().warning(f"Failed to update balances ({error}); retrying in {delay:.1f}s.")

    # === User stream ===

    async def _user_stream_event_listener(self):
        async for event_message in self._iter_user_event_queue():
            start = measurement.now()
            try:
                channel = event_message["channel"]
                data = event_message["data"]
                if channel == "trade":
                    self._process_trade_event(data)
                elif channel == "offer":
                    await self._process_offer_event(data)
                elif channel == "transaction":
                    self._pipeline.notify_transaction(data)
                    # Its fee lowered the XLM balance; a transaction without trades (a cancel) brings no effect.
                    self._schedule_balance_refresh()
                elif channel == "effect":
                    self._schedule_balance_refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.logger().error("Unexpected error in user stream listener loop.", exc_info=True)
                await self._sleep(5.0)
            finally:
                measurement.record(measurement.USER_STREAM_EVENT, start)

    def _order_for_offer(self, record: Dict[str, Any], *keys: str) -> Optional[InFlightOrder]:
        orders = self._order_tracker.all_fillable_orders_by_exchange_order_id
        for key in keys:
            order = orders.get(str(record.get(key)))
            if order is not None:
                return order
        return None

    def _process_trade_event(self, record: Dict[str, Any]) -> None:
        order = self._order_for_offer(record, "base_offer_id", "counter_offer_id")
        if order is None:
            self._hold_unmatched_trade(record)
            return
        start = measurement.now()
        update = self._trade_update_from_record(order, record)
        if update is None:
            return
        self._order_tracker.process_trade_update(update)
        if order.current_state not in _SETTLED:   # a late fill of a cancelled order is reported, its state stays
            if self._is_covered(order):
                state = OrderState.FILLED
            elif order.current_state is OrderState.PENDING_CANCEL:
                state = OrderState.PENDING_CANCEL   # a fill racing our cancel must not undo the cancel request
            else:
                state = OrderState.PARTIALLY_FILLED
            self._order_tracker.process_order_update(self._order_update(order, state))
            if state is not OrderState.FILLED and _rests_on_book(order.exchange_order_id) \
                    and order.amount - order.executed_amount_base <= self._dust(order):
                # Only dust is left: the ledger has likely deleted the offer, and no stream tells of that.
                safe_ensure_future(self._settle_if_offer_gone(order))
        measurement.record(measurement.FILL_PROCESSING, start)

    def _hold_unmatched_trade(self, record: Dict[str, Any]) -> None:
        """A trade of an offer no order knows yet: its order's transaction may still be resolving (the trade
        stream can be quicker than the pipeline). Kept by our offer id until the order learns it."""
        ours = "base_offer_id" if record.get("base_account") == self.account_id else "counter_offer_id"
        offer_id = str(record.get(ours))
        held = self._unmatched_trades.get(offer_id)
        if held is None:
            self._unmatched_trades[offer_id] = held = []
        held.append(record)

    async def _process_offer_event(self, offer: Dict[str, Any]) -> None:
        order = self._order_for_offer(offer, "id")
        if order is None or (offer.get("seller") not in (None, self.account_id)):
            return
        if Decimal(offer.get("amount") or "0") <= 0:
            # The offer left the ledger: its trades decide between filled and cancelled.
            await self._resolve_gone_offer(order)
            return
        self._order_tracker.process_order_update(self._order_update(order, self._state_of_resting_offer(order, offer)))

    # === Helpers ===

    def _now(self) -> float:
        timestamp = self.current_timestamp
        return timestamp if timestamp == timestamp and timestamp > 0 else self._time()


def _reveal(value: Any) -> Any:
    """Config values may arrive as pydantic SecretStr; the auth module keeps them from then on."""
    reveal = getattr(value, "get_secret_value", None)
    return reveal() if reveal is not None else value


def _positive_price(price: Any) -> bool:
    """A usable book price: a finite number above zero (the book answers NaN when it cannot price)."""
    return price is not None and Decimal(str(price)).is_finite() and price > 0


def _rests_on_book(exchange_order_id: Optional[str]) -> bool:
    """True for a real offer id; False for none yet, or the id of an order that filled at placement."""
    if exchange_order_id is None or not exchange_order_id.isdigit():
        return False
    return not int(exchange_order_id) & _TOID_OFFER_BIT




def _stroops(amount: Decimal) -> int:
    return int(amount * 10_000_000)


def _int_or_zero(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


__all__ = ["StellarExchange", "StellarOrderRejected", "StellarOrderNotFound"]
