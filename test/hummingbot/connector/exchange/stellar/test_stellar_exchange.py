"""StellarExchange against Hummingbot's own connector scenarios (AbstractExchangeConnectorTests),
with Horizon-shaped JSON and transaction results built with stellar-sdk's xdr classes.

Orders on Stellar are transactions: placing or cancelling one reads the account's sequence
(GET /accounts/{id}), posts a signed envelope (POST /transactions_async) and reads its result
(GET /transactions/{hash}). `FakeLedger` answers the last two like Horizon does, deciding each
operation's result from the envelope it receives, so the real pipeline, signing and result
decoding run in every scenario. Scenarios that assume one REST call per order are overridden with
the same behaviour checked over that exchange of requests (each override says why).
"""
import asyncio
import json
import re
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple
from unittest.mock import AsyncMock, patch
from urllib.parse import parse_qs

from aioresponses import aioresponses
from aioresponses.core import RequestCall
from hummingbot.connector.test_support.exchange_connector_test import AbstractExchangeConnectorTests
from hummingbot.connector.trading_rule import TradingRule
from hummingbot.core.data_type.common import OrderType, TradeType
from hummingbot.core.data_type.in_flight_order import InFlightOrder, OrderState, OrderUpdate
from hummingbot.core.data_type.limit_order import LimitOrder
from hummingbot.core.data_type.order_book import OrderBook
from hummingbot.core.data_type.order_book_row import OrderBookRow
from hummingbot.core.data_type.trade_fee import TokenAmount, TradeFeeBase
from hummingbot.core.event.events import (
    BuyOrderCompletedEvent,
    BuyOrderCreatedEvent,
    MarketOrderFailureEvent,
    OrderCancelledEvent,
    OrderFilledEvent,
    SellOrderCreatedEvent,
)
from hummingbot.core.network_iterator import NetworkStatus
from hummingbot.core.web_assistant.connections.connections_factory import ConnectionsFactory
from stellar_sdk import (
    Asset,
    Keypair,
    ManageBuyOffer,
    ManageSellOffer,
    PathPaymentStrictReceive,
    PathPaymentStrictSend,
    TransactionEnvelope,
)
from stellar_sdk import xdr as x

from hummingbot.connector.exchange.stellar import stellar_constants as CONSTANTS
from hummingbot.connector.exchange.stellar.stellar_exchange import StellarExchange
from hummingbot.connector.exchange.stellar.stellar_tx_pipeline import TransactionPipeline
from test.hummingbot.connector.exchange.stellar import result_xdr_factory as rx
from test.hummingbot.connector.exchange.stellar.aioresponses_compat import CompatClientResponse, reply
from test.waiting import wait_until

HORIZON_URL = "http://127.0.0.1:18000"
PASSPHRASE = CONSTANTS.SANDBOX_PASSPHRASE
TRADER = Keypair.from_raw_ed25519_seed(bytes([7] * 32))
ISSUER = Keypair.from_raw_ed25519_seed(bytes([8] * 32)).public_key
MAKER = Keypair.from_raw_ed25519_seed(bytes([9] * 32)).public_key
COINALPHA = Asset("COINALPHA", ISSUER)
HBOT = Asset("HBOT", ISSUER)
POOL_ID = "ab" * 32
STROOPS = 10_000_000
LEDGER_CLOSE_TIME = "2021-12-29T12:13:20Z"


def _url_pattern(path: str) -> re.Pattern:
    return re.compile("^" + re.escape(HORIZON_URL + path) + r"(\?.*)?$")


def _asset_fields(asset: Asset, prefix: str = "") -> Dict[str, str]:
    if asset.is_native():
        return {f"{prefix}asset_type": "native"}
    return {f"{prefix}asset_type": asset.type, f"{prefix}asset_code": asset.code,
            f"{prefix}asset_issuer": asset.issuer}


def _page(records: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {"_links": {}, "_embedded": {"records": records}}


def account_reads(mock_api: aioresponses) -> List[Any]:
    """The GET /accounts/{id} calls (not the fee figures' reads a balance computation may start)."""
    return [call for (method, url), calls in mock_api.requests.items() if method == "GET"
            and url.path == CONSTANTS.ACCOUNT_PATH.format(account_id=TRADER.public_key) for call in calls]


def _stroops(amount: Decimal) -> int:
    return int(amount * STROOPS)


class FakeLedger:
    """Horizon's /transactions_async and /transactions/{hash}: results decided per operation."""

    def __init__(self, first_offer_id: int):
        self.next_offer_id = first_offer_id
        self.records: Dict[str, Dict[str, Any]] = {}
        self.envelopes: List[TransactionEnvelope] = []
        self.fills_for_create: List[Tuple[Decimal, Decimal]] = []   # (base amount, price) claimed at placement
        self.pool_fills_market = False          # a path payment (MARKET order) takes the pool instead of the book
        self.market_fails_with: Optional[str] = None   # every path payment fails: the code's suffix
        self.create_rests = True
        self.missing_offers: set = set()        # cancels of these offer ids fail with NOT_FOUND
        self.unauthorized_offers: set = set()   # cancels of these offer ids fail with op_bad_auth
        self.reject_with: Optional[str] = None  # a base64 TransactionResult for a 400 ERROR answer
        self.on_submit_hook: Callable = lambda *args, **kwargs: None
        self.on_result_hook: Callable = lambda *args, **kwargs: None

    def register(self, mock_api: aioresponses) -> None:
        mock_api.post(HORIZON_URL + CONSTANTS.TRANSACTIONS_ASYNC_PATH, callback=self.submit, repeat=True)
        mock_api.get(re.compile("^" + re.escape(HORIZON_URL) + r"/transactions/[0-9a-f]{64}$"),
                     callback=self.lookup, repeat=True)

    def submit(self, url, **kwargs):
        self.on_submit_hook(url, **kwargs)
        envelope_xdr = parse_qs(kwargs["data"])["tx"][0]
        envelope = TransactionEnvelope.from_xdr(envelope_xdr, PASSPHRASE)
        self.envelopes.append(envelope)
        tx_hash = envelope.hash_hex()
        if self.reject_with is not None:
            return reply(400, {"tx_status": "ERROR", "hash": tx_hash, "error_result_xdr": self.reject_with})
        op_results = [self._operation_result(op) for op in envelope.transaction.operations]
        failed = any(r.code != x.OperationResultCode.opINNER or _inner_code(r) != 0 for r in op_results)
        code = x.TransactionResultCode.txFAILED if failed else x.TransactionResultCode.txSUCCESS
        fee = 100 * len(op_results)
        self.records[tx_hash] = {
            "id": tx_hash, "hash": tx_hash, "ledger": 1000 + len(self.records), "successful": not failed,
            "paging_token": str((1000 + len(self.records)) << 32 | 1 << 12),
            "source_account": TRADER.public_key, "fee_charged": str(fee), "operation_count": len(op_results),
            "envelope_xdr": envelope_xdr, "result_xdr": rx.tx_result(code, op_results, fee_charged=fee),
            "created_at": LEDGER_CLOSE_TIME}
        return reply(201, {"tx_status": "PENDING", "hash": tx_hash})

    def lookup(self, url, **kwargs):
        self.on_result_hook(url, **kwargs)
        record = self.records.get(str(url).rsplit("/", 1)[-1])
        if record is None:
            return reply(404, {"type": "https://stellar.org/horizon-errors/not_found", "status": 404})
        return reply(200, record)

    def _operation_result(self, op) -> x.OperationResult:
        if isinstance(op, (PathPaymentStrictSend, PathPaymentStrictReceive)):
            return self._path_payment_result(op)
        is_buy_op = isinstance(op, ManageBuyOffer)
        amount = Decimal(op.amount)
        if amount == 0:  # a cancel
            if op.offer_id in self.unauthorized_offers:
                return x.OperationResult(code=x.OperationResultCode.opBAD_AUTH)
            if op.offer_id in self.missing_offers:
                return (rx.buy_offer_failed(x.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_NOT_FOUND) if is_buy_op
                        else rx.sell_offer_failed(x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_NOT_FOUND))
            ok = rx.buy_offer_ok if is_buy_op else rx.sell_offer_ok
            return ok(offer=None, effect=x.ManageOfferEffect.MANAGE_OFFER_DELETED)
        claims = []
        filled_base = Decimal(0)
        for base_amount, price in self.fills_for_create:
            quote_amount = base_amount * price
            filled_base += base_amount
            if is_buy_op:    # we buy COINALPHA: the maker sold it and got HBOT
                claims.append(rx.claim(MAKER, 555, COINALPHA, _stroops(base_amount), HBOT, _stroops(quote_amount)))
            else:            # we sell COINALPHA: the maker sold HBOT and got COINALPHA
                claims.append(rx.claim(MAKER, 555, HBOT, _stroops(quote_amount), COINALPHA, _stroops(base_amount)))
        offer = None
        if self.create_rests:
            price_r = (op.price.n, op.price.d)
            if is_buy_op:  # the ledger stores a buy as an offer selling HBOT, priced in COINALPHA per HBOT
                remaining_quote = (amount - filled_base) * Decimal(price_r[0]) / Decimal(price_r[1])
                offer = rx.offer_entry(TRADER.public_key, self.next_offer_id, HBOT, COINALPHA,
                                       _stroops(remaining_quote), (price_r[1], price_r[0]))
            else:
                offer = rx.offer_entry(TRADER.public_key, self.next_offer_id, op.selling, op.buying,
                                       _stroops(amount - filled_base), price_r)
            self.next_offer_id += 1
        if is_buy_op:
            return rx.buy_offer_ok(claims, offer)
        return rx.sell_offer_ok(claims, offer, passive=not isinstance(op, ManageSellOffer))

    def _path_payment_result(self, op) -> x.OperationResult:
        """A MARKET order: each of `fills_for_create` one claimed ask (buy) or bid (sell), or the pool took it whole."""
        strict_send = isinstance(op, PathPaymentStrictSend)
        if self.market_fails_with is not None:   # a suffix of either kind's codes, e.g. "TOO_FEW_OFFERS"
            if strict_send:
                return rx.path_payment_failed(x.PathPaymentStrictSendResultCode[
                    "PATH_PAYMENT_STRICT_SEND_" + self.market_fails_with])
            return rx.path_payment_failed(x.PathPaymentStrictReceiveResultCode[
                "PATH_PAYMENT_STRICT_RECEIVE_" + self.market_fails_with])
        claims = []
        for base_amount, price in self.fills_for_create:
            base, quote = _stroops(base_amount), _stroops(base_amount * price)
            if self.pool_fills_market:   # the pool pays out what we receive and takes what we send
                paid, taken = ((HBOT, quote), (COINALPHA, base)) if strict_send else ((COINALPHA, base), (HBOT, quote))
                claims.append(rx.pool_claim(POOL_ID, *paid, *taken))
            elif strict_send:            # we sell COINALPHA: a bid gave HBOT
                claims.append(rx.claim(MAKER, 555, HBOT, quote, COINALPHA, base))
            else:                        # we buy COINALPHA: an ask gave it
                claims.append(rx.claim(MAKER, 555, COINALPHA, base, HBOT, quote))
        delivered = sum(c.liquidity_pool.amount_sold.int64 if c.liquidity_pool else c.order_book.amount_sold.int64
                        for c in claims)
        return rx.path_payment_ok(strict_send, claims, op.destination.account_id, op.dest_asset, delivered)

    def operations(self) -> List[Any]:
        return [op for envelope in self.envelopes for op in envelope.transaction.operations]


def _inner_code(result: x.OperationResult) -> int:
    tr = result.tr
    inner = (tr.manage_buy_offer_result or tr.manage_sell_offer_result or tr.create_passive_sell_offer_result
             or tr.path_payment_strict_send_result or tr.path_payment_strict_receive_result)
    return int(inner.code)


class StellarExchangeTests(AbstractExchangeConnectorTests.ExchangeConnectorTests):
    expected_offer_id = 1234567

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.account_id = TRADER.public_key
        # aioresponses 0.7.9 builds aiohttp 3.14 responses without the argument it now requires
        cls._response_class_patch = patch("aioresponses.core.ClientResponse", CompatClientResponse)
        cls._response_class_patch.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls._response_class_patch.stop()
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.ledger = FakeLedger(first_offer_id=self.expected_offer_id)

    async def asyncTearDown(self) -> None:
        # Hummingbot shares one aiohttp session per process; close it with this test's event loop.
        await ConnectionsFactory().close()
        await super().asyncTearDown()

    def tearDown(self) -> None:
        # Stop the pipeline's lane tasks created on this test's event loop.
        for lane in getattr(self.exchange._pipeline, "_lanes", []):
            if lane.task is not None:
                lane.task.cancel()
        super().tearDown()

    # === Exchange under test ===

    def create_exchange_instance(self):
        exchange = StellarExchange(
            stellar_secret_key=TRADER.secret,
            stellar_markets=f"COINALPHA:{ISSUER},HBOT:{ISSUER}",
            stellar_horizon_url=HORIZON_URL,
            stellar_network_passphrase=PASSPHRASE,
            trading_pairs=[self.trading_pair],
        )
        # Poll for results at once: the account's transaction stream does not run in these tests.
        exchange._pipeline = TransactionPipeline(
            exchange._horizon, exchange.authenticator, exchange.config_cache,
            network_passphrase=PASSPHRASE, poll_initial_delay=0.01, poll_max_delay=0.05, resubmit_delay=0.01)
        return exchange

    def exchange_symbol_for_tokens(self, base_token: str, quote_token: str) -> str:
        return f"{base_token}-{quote_token}"

    # === URLs ===

    @property
    def all_symbols_url(self):
        return HORIZON_URL + CONSTANTS.ROOT_PATH

    @property
    def latest_prices_url(self):
        return _url_pattern(CONSTANTS.TRADES_PATH)

    @property
    def network_status_url(self):
        return HORIZON_URL + CONSTANTS.ROOT_PATH

    @property
    def trading_rules_url(self):
        return HORIZON_URL + CONSTANTS.ROOT_PATH

    @property
    def order_creation_url(self):
        return HORIZON_URL + CONSTANTS.TRANSACTIONS_ASYNC_PATH

    @property
    def balance_url(self):
        return HORIZON_URL + CONSTANTS.ACCOUNT_PATH.format(account_id=self.account_id)

    @property
    def trades_url(self) -> re.Pattern:
        return _url_pattern(CONSTANTS.ACCOUNT_TRADES_PATH.format(account_id=self.account_id))

    def offer_url(self, order: InFlightOrder) -> str:
        return HORIZON_URL + CONSTANTS.OFFER_PATH.format(offer_id=order.exchange_order_id)

    @property
    def account_offers_url(self) -> re.Pattern:
        # The status poll reads every offer of the account at once, not one /offers/{id} per order.
        return _url_pattern(CONSTANTS.ACCOUNT_OFFERS_PATH.format(account_id=self.account_id))

    def configure_account_offers(self, mock_api: aioresponses, records: List[Dict[str, Any]],
                                 callback: Optional[Callable] = None, status: int = 200) -> re.Pattern:
        body = _page(records) if status == 200 else {"type": "https://stellar.org/horizon-errors/server_error",
                                                     "status": status}
        mock_api.get(self.account_offers_url, status=status, body=json.dumps(body), callback=callback)
        return self.account_offers_url

    # === Horizon JSON ===

    def root_response(self, passphrase: str = PASSPHRASE) -> Dict[str, Any]:
        return {"horizon_version": "2.32.0", "core_version": "stellar-core 22.0.0", "history_latest_ledger": 1000,
                "network_passphrase": passphrase, "current_protocol_version": 22, "core_supported_protocol_version": 22}

    @property
    def all_symbols_request_mock_response(self):
        return self.root_response()

    @property
    def latest_prices_request_mock_response(self):
        return _page([self.trade_record(None, Decimal("2"), Decimal(str(self.expected_latest_price)),
                                        our_side="none")])

    @property
    def all_symbols_including_invalid_pair_mock_response(self) -> Tuple[str, Any]:
        # Pairs come from the configuration, not from Horizon: a pair of unknown assets is never listed.
        return "INVALID-PAIR", self.root_response()

    @property
    def network_status_request_successful_mock_response(self):
        return self.root_response()

    @property
    def trading_rules_request_mock_response(self):
        return self.root_response()

    @property
    def trading_rules_request_erroneous_mock_response(self):
        return self.root_response(passphrase="Test SDF Network ; September 2015")

    @property
    def order_creation_request_successful_mock_response(self):
        return {"tx_status": "PENDING", "hash": "ab" * 32}

    def account_response(self, balances: List[Dict[str, str]], subentries: int = 2) -> Dict[str, Any]:
        return {"id": self.account_id, "account_id": self.account_id, "sequence": "4294967296",
                "subentry_count": subentries, "num_sponsoring": 0, "num_sponsored": 0,
                "thresholds": {"low_threshold": 0, "med_threshold": 0, "high_threshold": 0},
                "balances": balances}

    @staticmethod
    def balance_entry(asset: Asset, balance: str, selling_liabilities: str = "0.0000000") -> Dict[str, str]:
        entry = {"balance": balance, "selling_liabilities": selling_liabilities, "buying_liabilities": "0.0000000"}
        entry.update(_asset_fields(asset))
        return entry

    @property
    def balance_request_mock_response_for_base_and_quote(self):
        return self.account_response([
            self.balance_entry(COINALPHA, "15.0000000", "5.0000000"),
            self.balance_entry(HBOT, "2000.0000000"),
            self.balance_entry(Asset.native(), "100.0000000"),
        ])

    @property
    def balance_request_mock_response_only_base(self):
        return self.account_response([
            self.balance_entry(COINALPHA, "15.0000000", "5.0000000"),
            self.balance_entry(Asset.native(), "100.0000000"),
        ], subentries=1)

    @property
    def balance_event_websocket_update(self):
        # The account stream sends the whole account record: its balances, no REST read.
        return {"channel": "account", "data": self.balance_request_mock_response_for_base_and_quote, "cursor": None}

    def trade_record(self, order: Optional[InFlightOrder], base_amount: Decimal, price: Decimal,
                     trade_id: str = "4294971393-0", our_side: str = "auto") -> Dict[str, Any]:
        """A Horizon trade between a maker and us, COINALPHA as Horizon's base asset."""
        quote_amount = base_amount * price
        if our_side == "auto":
            our_side = "counter" if order.trade_type is TradeType.BUY else "base"  # a buy of ours sells HBOT
        our_offer = order.exchange_order_id if order is not None else "0"
        record = {
            "id": trade_id, "paging_token": trade_id, "ledger_close_time": LEDGER_CLOSE_TIME,
            "trade_type": "orderbook",
            "base_offer_id": our_offer if our_side == "base" else "555",
            "base_account": self.account_id if our_side == "base" else MAKER,
            "base_amount": f"{base_amount:.7f}",
            "counter_offer_id": our_offer if our_side == "counter" else "555",
            "counter_account": self.account_id if our_side == "counter" else MAKER,
            "counter_amount": f"{quote_amount:.7f}",
            "base_is_seller": our_side != "base",
            "price": {"n": int(price * 10_000), "d": 10_000},
        }
        record.update(_asset_fields(COINALPHA, "base_"))
        record.update(_asset_fields(HBOT, "counter_"))
        return record

    def offer_record(self, order: InFlightOrder, remaining_base: Decimal) -> Dict[str, Any]:
        """Our resting offer as Horizon shows it (a buy rests as an offer selling HBOT)."""
        if order.trade_type is TradeType.BUY:
            selling, buying = HBOT, COINALPHA
            amount = remaining_base * order.price
            price_r = {"n": 1, "d": int(order.price)}
        else:
            selling, buying = COINALPHA, HBOT
            amount = remaining_base
            price_r = {"n": int(order.price), "d": 1}
        return {"id": order.exchange_order_id, "paging_token": order.exchange_order_id, "seller": self.account_id,
                "selling": _asset_fields(selling), "buying": _asset_fields(buying), "amount": f"{amount:.7f}",
                "price_r": price_r, "price": f"{Decimal(price_r['n']) / Decimal(price_r['d']):.7f}",
                "last_modified_ledger": 1001, "last_modified_time": LEDGER_CLOSE_TIME}

    # === Expectations ===

    @property
    def expected_latest_price(self):
        return 10000.0

    @property
    def expected_supported_order_types(self):
        return [OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.MARKET]

    @property
    def expected_trading_rule(self):
        step = Decimal("0.0000001")
        return TradingRule(trading_pair=self.trading_pair, min_order_size=step, min_price_increment=step,
                           min_base_amount_increment=step, min_quote_amount_increment=step, min_notional_size=step)

    @property
    def expected_logged_error_for_erroneous_trading_rule(self):
        return (f"Horizon at {HORIZON_URL} serves the network 'Test SDF Network ; September 2015', not "
                f"'{PASSPHRASE}'; no market of stellar is usable until stellar_horizon_url and "
                f"stellar_network_passphrase agree.")

    @property
    def expected_exchange_order_id(self):
        return self.expected_offer_id

    @property
    def is_order_fill_http_update_included_in_status_update(self) -> bool:
        return True

    @property
    def is_order_fill_http_update_executed_during_websocket_order_event_processing(self) -> bool:
        return False

    @property
    def expected_partial_fill_price(self) -> Decimal:
        return Decimal("10000")

    @property
    def expected_partial_fill_amount(self) -> Decimal:
        return Decimal("0.5")

    @property
    def expected_fill_fee(self) -> TradeFeeBase:
        # The SDEX charges no trading fee (the network fee rides on fills this connector placed itself)
        return TradeFeeBase.new_spot_fee(fee_schema=self.exchange.trade_fee_schema(), trade_type=TradeType.BUY)

    @property
    def expected_fill_trade_id(self) -> str:
        return "4294971393-0"

    def _expected_valid_trading_pairs(self):
        # The configured pair, and XLM against each asset the connector knows by its code.
        cache = self.exchange.instrument_cache
        return [self.trading_pair] + [f"XLM-{cache.token_for_asset(a)}" for a in cache.known_assets()]

    # === Request validation ===

    def _envelope(self, request_call: RequestCall) -> TransactionEnvelope:
        return TransactionEnvelope.from_xdr(parse_qs(request_call.kwargs["data"])["tx"][0], PASSPHRASE)

    def validate_auth_credentials_present(self, request_call: RequestCall):
        # Horizon has no API keys: a transaction carries the trading key's signature, and no request
        # ever carries the secret.
        self.assertNotIn(TRADER.secret, json.dumps(request_call.kwargs, default=str))
        data = request_call.kwargs.get("data")
        if data:
            envelope = self._envelope(request_call)
            hint = TRADER.signature_hint()
            signatures = [s.signature for s in envelope.signatures if s.signature_hint == hint]
            self.assertEqual(1, len(signatures))
            TRADER.verify(envelope.hash(), signatures[0])   # raises BadSignatureError if it is not ours

    def validate_order_creation_request(self, order: InFlightOrder, request_call: RequestCall):
        operations = self._envelope(request_call).transaction.operations
        self.assertEqual(1, len(operations))
        op = operations[0]
        if order.trade_type is TradeType.BUY:
            self.assertIsInstance(op, ManageBuyOffer)
            self.assertEqual((HBOT, COINALPHA), (op.selling, op.buying))
        else:
            self.assertIsInstance(op, ManageSellOffer)
            self.assertEqual((COINALPHA, HBOT), (op.selling, op.buying))
        self.assertEqual(order.amount, Decimal(op.amount))
        self.assertEqual(order.price, Decimal(op.price.n) / Decimal(op.price.d))
        self.assertEqual(0, op.offer_id)

    def validate_order_cancelation_request(self, order: InFlightOrder, request_call: RequestCall):
        operations = self._envelope(request_call).transaction.operations
        self.assertIn(int(order.exchange_order_id), [op.offer_id for op in operations])
        self.assertTrue(all(Decimal(op.amount) == 0 for op in operations))

    def validate_order_status_request(self, order: InFlightOrder, request_call: RequestCall):
        pass  # one read of the account's offers serves every order; the scenario matched its URL

    def validate_trades_request(self, order: InFlightOrder, request_call: RequestCall):
        self.assertEqual("desc", request_call.kwargs["params"]["order"])

    # === Mocked exchanges of requests ===

    def configure_account(self, mock_api: aioresponses, response: Optional[Dict[str, Any]] = None) -> None:
        response = response or self.balance_request_mock_response_for_base_and_quote
        mock_api.get(self.balance_url, body=json.dumps(response), repeat=True)

    def configure_transactions(self, mock_api: aioresponses, on_submit: Optional[Callable] = None,
                               on_result: Optional[Callable] = None) -> str:
        self.configure_account(mock_api)
        if on_submit is not None:
            self.ledger.on_submit_hook = on_submit
        if on_result is not None:
            self.ledger.on_result_hook = on_result
        self.ledger.register(mock_api)
        return self.order_creation_url

    def configure_trades(self, mock_api: aioresponses, records: List[Dict[str, Any]],
                         callback: Optional[Callable] = None, repeat: bool = False) -> re.Pattern:
        mock_api.get(self.trades_url, body=json.dumps(_page(records)), callback=callback, repeat=repeat)
        return self.trades_url

    def configure_successful_cancelation_response(self, order, mock_api, callback=lambda *args, **kwargs: None):
        return self.configure_transactions(mock_api, on_result=callback)

    def configure_erroneous_cancelation_response(self, order, mock_api, callback=lambda *args, **kwargs: None):
        # Horizon refuses the transaction outright (400 ERROR): nothing applies.
        self.ledger.reject_with = rx.tx_result(x.TransactionResultCode.txBAD_AUTH)
        return self.configure_transactions(mock_api, on_submit=callback)

    def configure_order_not_found_error_cancelation_response(self, order, mock_api,
                                                             callback=lambda *args, **kwargs: None):
        # op_offer_not_found, and no trade of the offer: it was not filled, so the order is "not found".
        self.ledger.missing_offers.add(int(order.exchange_order_id))
        self.configure_transactions(mock_api)
        self.configure_trades(mock_api, [], callback=callback)
        return self.order_creation_url

    def configure_one_successful_one_erroneous_cancel_all_response(self, successful_order, erroneous_order,
                                                                   mock_api) -> List[str]:
        self.ledger.unauthorized_offers.add(int(erroneous_order.exchange_order_id))
        return [self.configure_transactions(mock_api)]

    def configure_completely_filled_order_status_response(self, order, mock_api,
                                                          callback=lambda *args, **kwargs: None):
        # The offer is gone from the ledger and its trades cover the order: filled.
        url = self.configure_account_offers(mock_api, [], callback=callback)
        self.configure_trades(mock_api, [self.trade_record(order, order.amount, order.price)])
        return [url]

    def configure_canceled_order_status_response(self, order, mock_api, callback=lambda *args, **kwargs: None):
        # The offer is gone and nothing traded it: cancelled.
        url = self.configure_account_offers(mock_api, [], callback=callback)
        self.configure_trades(mock_api, [], repeat=True)
        return [url]

    def configure_open_order_status_response(self, order, mock_api, callback=lambda *args, **kwargs: None):
        url = self.configure_account_offers(mock_api, [self.offer_record(order, order.amount)], callback=callback)
        self.configure_trades(mock_api, [])
        return [url]

    def configure_http_error_order_status_response(self, order, mock_api, callback=lambda *args, **kwargs: None):
        return self.configure_account_offers(mock_api, [], callback=callback, status=500)

    def configure_partially_filled_order_status_response(self, order, mock_api,
                                                         callback=lambda *args, **kwargs: None):
        remaining = order.amount - self.expected_partial_fill_amount
        return self.configure_account_offers(mock_api, [self.offer_record(order, remaining)], callback=callback)

    def configure_order_not_found_error_order_status_response(self, order, mock_api,
                                                              callback=lambda *args, **kwargs: None):
        # Horizon holds no such offer of the account and no trade names it: the offer is not there.
        url = self.configure_account_offers(mock_api, [], callback=callback)
        self.configure_trades(mock_api, [], repeat=True)
        return [url]

    def configure_partial_fill_trade_response(self, order, mock_api, callback=lambda *args, **kwargs: None):
        records = [self.trade_record(order, self.expected_partial_fill_amount, self.expected_partial_fill_price)]
        return self.configure_trades(mock_api, records, callback=callback)

    def configure_erroneous_http_fill_trade_response(self, order, mock_api, callback=lambda *args, **kwargs: None):
        mock_api.get(self.trades_url, status=400, callback=callback,
                     body=json.dumps({"type": "https://stellar.org/horizon-errors/bad_request", "status": 400}))
        return self.trades_url

    def configure_full_fill_trade_response(self, order, mock_api, callback=lambda *args, **kwargs: None):
        records = [self.trade_record(order, order.amount, order.price)]
        return self.configure_trades(mock_api, records, callback=callback)

    # === User stream events ===

    def order_event_for_new_order_websocket_update(self, order: InFlightOrder):
        return {"channel": "offer", "data": self.offer_record(order, order.amount), "cursor": order.exchange_order_id}

    def order_event_for_canceled_order_websocket_update(self, order: InFlightOrder):
        return {"channel": "offer", "data": self.offer_record(order, Decimal(0)), "cursor": order.exchange_order_id}

    def order_event_for_full_fill_websocket_update(self, order: InFlightOrder):
        return None  # the trade itself completes the order

    def trade_event_for_full_fill_websocket_update(self, order: InFlightOrder):
        record = self.trade_record(order, order.amount, order.price)
        return {"channel": "trade", "data": record, "cursor": record["paging_token"]}

    # === Helpers ===

    async def feed_user_stream(self, *events: Dict[str, Any]) -> None:
        mock_queue = AsyncMock()
        mock_queue.get.side_effect = [*events, asyncio.CancelledError]
        self.exchange._user_stream_tracker._user_stream = mock_queue
        try:
            await self.exchange._user_stream_event_listener()
        except asyncio.CancelledError:
            pass

    def track(self, order_id: str = "11", exchange_order_id: Optional[str] = None, trade_type=TradeType.BUY,
              amount=Decimal("1"), price=Decimal("10000"), order_type=OrderType.LIMIT) -> InFlightOrder:
        self.exchange.start_tracking_order(
            order_id=order_id, exchange_order_id=exchange_order_id or str(self.expected_offer_id),
            trading_pair=self.trading_pair, order_type=order_type, trade_type=trade_type, price=price,
            amount=amount)
        return self.exchange.in_flight_orders[order_id]

    def _expected_initial_status_dict(self) -> Dict[str, bool]:
        # Not ready until the offers a previous run left on the ledger are settled (stellar_recovery).
        return {**super()._expected_initial_status_dict(), "offers_recovered": False}

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 2.0) -> None:
        await wait_until(condition, timeout=timeout)

    # === Scenarios overridden for an on-ledger exchange ===

    # Order creation is a transaction (sequence read, signed envelope, result lookup), not one REST call.
    @aioresponses()
    async def test_create_buy_limit_order_successfully(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        url = self.configure_transactions(mock_api)

        order_id = self.place_buy_order()
        await self.wait_for(lambda: len(self.buy_order_created_logger.event_log) == 1)

        order_request = self._all_executed_requests(mock_api, url)[0]
        self.validate_auth_credentials_present(order_request)
        self.assertIn(order_id, self.exchange.in_flight_orders)
        self.validate_order_creation_request(order=self.exchange.in_flight_orders[order_id],
                                             request_call=order_request)
        create_event: BuyOrderCreatedEvent = self.buy_order_created_logger.event_log[0]
        self.assertEqual(self.exchange.current_timestamp, create_event.timestamp)
        self.assertEqual(self.trading_pair, create_event.trading_pair)
        self.assertEqual(OrderType.LIMIT, create_event.type)
        self.assertEqual(Decimal("100"), create_event.amount)
        self.assertEqual(Decimal("10000"), create_event.price)
        self.assertEqual(order_id, create_event.order_id)
        self.assertEqual(str(self.expected_exchange_order_id), create_event.exchange_order_id)
        self.assertTrue(self.is_logged(
            "INFO", f"Created {OrderType.LIMIT.name} {TradeType.BUY.name} order {order_id} for "
                    f"{Decimal('100.000000')} {self.trading_pair} at {Decimal('10000.0000')}."))

    # Order creation is a transaction, not one REST call (see above).
    @aioresponses()
    async def test_create_sell_limit_order_successfully(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        url = self.configure_transactions(mock_api)

        order_id = self.place_sell_order()
        await self.wait_for(lambda: len(self.sell_order_created_logger.event_log) == 1)

        order_request = self._all_executed_requests(mock_api, url)[0]
        self.validate_auth_credentials_present(order_request)
        self.validate_order_creation_request(order=self.exchange.in_flight_orders[order_id],
                                             request_call=order_request)
        create_event: SellOrderCreatedEvent = self.sell_order_created_logger.event_log[0]
        self.assertEqual(OrderType.LIMIT, create_event.type)
        self.assertEqual(Decimal("100"), create_event.amount)
        self.assertEqual(Decimal("10000"), create_event.price)
        self.assertEqual(order_id, create_event.order_id)
        self.assertEqual(str(self.expected_exchange_order_id), create_event.exchange_order_id)
        self.assertTrue(self.is_logged(
            "INFO", f"Created {OrderType.LIMIT.name} {TradeType.SELL.name} order {order_id} for "
                    f"{Decimal('100.000000')} {self.trading_pair} at {Decimal('10000.0000')}."))

    # The OPEN update of a placed order runs in the creating task: an error in it is logged, as Hummingbot's
    # own task for it would log it, and does not report the placed order as failed.
    @aioresponses()
    async def test_an_error_updating_a_placed_order_is_logged_and_does_not_fail_it(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.configure_transactions(mock_api)
        tracker = self.exchange._order_tracker
        with patch.object(tracker, "_process_order_update", AsyncMock(side_effect=RuntimeError("boom"))):
            order_id = self.place_sell_order()
            await self.wait_for(lambda: self.is_logged("ERROR", f"Unexpected error updating order {order_id} to OPEN."))
        await asyncio.sleep(0)
        self.assertEqual([], self.order_failure_logger.event_log)
        self.assertNotEqual(OrderState.FAILED, self.exchange.in_flight_orders[order_id].current_state)

    # A rejected order is a 400 ERROR answer with the result XDR naming the failing operation.
    @aioresponses()
    async def test_create_order_fails_and_raises_failure_event(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.ledger.reject_with = rx.tx_result(
            x.TransactionResultCode.txFAILED,
            [rx.buy_offer_failed(x.ManageBuyOfferResultCode.MANAGE_BUY_OFFER_UNDERFUNDED)])
        url = self.configure_transactions(mock_api)

        order_id = self.place_buy_order()
        await self.wait_for(lambda: len(self.order_failure_logger.event_log) == 1)

        order_request = self._all_executed_requests(mock_api, url)[0]
        self.validate_auth_credentials_present(order_request)
        self.assertNotIn(order_id, self.exchange.in_flight_orders)
        self.validate_order_creation_request(
            order=InFlightOrder(client_order_id=order_id, trading_pair=self.trading_pair, order_type=OrderType.LIMIT,
                                trade_type=TradeType.BUY, amount=Decimal("100"), price=Decimal("10000"),
                                creation_timestamp=self.exchange.current_timestamp),
            request_call=order_request)
        self.assertEqual(0, len(self.buy_order_created_logger.event_log))
        failure_event: MarketOrderFailureEvent = self.order_failure_logger.event_log[0]
        self.assertEqual(self.exchange.current_timestamp, failure_event.timestamp)
        self.assertEqual(OrderType.LIMIT, failure_event.order_type)
        self.assertEqual(order_id, failure_event.order_id)
        self.assertIn("op_underfunded", failure_event.error_message)
        self.assertTrue(self.is_logged(
            "NETWORK", f"Error submitting buy LIMIT order to {self.exchange.name_cap} for 100.000000 "
                       f"{self.trading_pair} 10000.0000."))

    # The valid order of the scenario goes through a transaction (see above); the rule check is unchanged.
    @aioresponses()
    async def test_create_order_fails_when_trading_rule_error_and_raises_failure_event(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.ledger.reject_with = rx.tx_result(x.TransactionResultCode.txBAD_AUTH)
        self.configure_transactions(mock_api)

        order_id_for_invalid_order = self.place_buy_order(amount=Decimal("0.0001"), price=Decimal("0.0001"))
        order_id = self.place_buy_order()
        await self.wait_for(lambda: len(self.order_failure_logger.event_log) == 2)

        self.assertNotIn(order_id_for_invalid_order, self.exchange.in_flight_orders)
        self.assertNotIn(order_id, self.exchange.in_flight_orders)
        self.assertEqual(0, len(self.buy_order_created_logger.event_log))
        failure_event: MarketOrderFailureEvent = self.order_failure_logger.event_log[0]
        self.assertEqual(order_id_for_invalid_order, failure_event.order_id)
        misc_updates = {
            "error_message": f"Order amount 0.0001 is lower than minimum order size 0.01 for the pair "
                             f"{self.trading_pair}. The order will not be created.",
            "error_type": "ValueError"}
        self.assertTrue(self.is_logged(
            "INFO", f"Order {order_id_for_invalid_order} has failed. Order Update: "
                    f"OrderUpdate(trading_pair='{self.trading_pair}', "
                    f"update_timestamp={self.exchange.current_timestamp}, new_state={repr(OrderState.FAILED)}, "
                    f"client_order_id='{order_id_for_invalid_order}', exchange_order_id=None, "
                    f"misc_updates={repr(misc_updates)})"))

    # Without trades, a gone offer cannot be called filled: the order is neither completed nor cancelled.
    @aioresponses()
    async def test_update_order_status_when_filled_correctly_processed_even_when_trade_fill_update_fails(
            self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        order = self.track(order_id=self.client_order_id_prefix + "1")
        self.configure_erroneous_http_fill_trade_response(order=order, mock_api=mock_api)
        self.configure_account_offers(mock_api, [])
        self.configure_erroneous_http_fill_trade_response(order=order, mock_api=mock_api)

        await self.exchange._update_order_status()

        self.assertTrue(order.is_open)
        self.assertFalse(order.is_done)
        self.assertEqual(0, len(self.order_cancelled_logger.event_log))
        self.assertEqual(0, len(self.buy_order_completed_logger.event_log))
        self.assertEqual(1, self.exchange._order_tracker._order_not_found_records[order.client_order_id])

    # The account record on the user stream carries the balances: applied at once, with no REST read.
    @aioresponses()
    async def test_user_stream_balance_update(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)

        await self.feed_user_stream(self.balance_event_websocket_update)

        self.assertEqual(Decimal("10"), self.exchange.available_balances[self.base_asset])
        self.assertEqual(Decimal("15"), self.exchange.get_balance(self.base_asset))
        self.assertEqual({}, mock_api.requests)   # nothing asked of Horizon

    # A removed offer is told apart from a fill by its trades (one REST read), never guessed.
    @aioresponses()
    async def test_user_stream_update_for_canceled_order(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        order = self.track(order_id=self.client_order_id_prefix + "1")
        self.configure_trades(mock_api, [])

        await self.feed_user_stream(self.order_event_for_canceled_order_websocket_update(order))
        await self.wait_for(lambda: len(self.order_cancelled_logger.event_log) == 1)

        cancel_event: OrderCancelledEvent = self.order_cancelled_logger.event_log[0]
        self.assertEqual(self.exchange.current_timestamp, cancel_event.timestamp)
        self.assertEqual(order.client_order_id, cancel_event.order_id)
        self.assertEqual(order.exchange_order_id, cancel_event.exchange_order_id)
        self.assertNotIn(order.client_order_id, self.exchange.in_flight_orders)
        self.assertTrue(order.is_cancelled)
        self.assertTrue(self.is_logged("INFO", f"Successfully canceled order {order.client_order_id}."))

    # Same as above: the removed offer's trades are read before calling it cancelled.
    @aioresponses()
    async def test_lost_order_removed_after_cancel_status_user_event_received(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        order = self.track(order_id=self.client_order_id_prefix + "1")
        for _ in range(self.exchange._order_tracker._lost_order_count_limit + 1):
            await self.exchange._order_tracker.process_order_not_found(client_order_id=order.client_order_id)
        self.configure_trades(mock_api, [])

        await self.feed_user_stream(self.order_event_for_canceled_order_websocket_update(order))
        await self.wait_for(lambda: order.client_order_id not in self.exchange._order_tracker.lost_orders)

        self.assertEqual(0, len(self.order_cancelled_logger.event_log))
        self.assertNotIn(order.client_order_id, self.exchange.in_flight_orders)
        self.assertFalse(order.is_cancelled)
        self.assertTrue(order.is_failure)

    # === Stellar-specific behaviour ===

    def test_name_per_domain_and_no_secret_in_repr(self):
        testnet = StellarExchange(stellar_secret_key=TRADER.secret, trading_pairs=[], domain=CONSTANTS.TESTNET_DOMAIN)
        self.assertEqual("stellar", self.exchange.name)
        self.assertEqual("stellar_testnet", testnet.name)
        self.assertEqual("https://horizon-testnet.stellar.org", testnet.horizon_url)
        self.assertNotIn(TRADER.secret, repr(self.exchange.authenticator))
        self.assertIs(self.exchange.instrument_cache, self.exchange._orderbook_ds._connector.instrument_cache)

    def test_the_book_shows_the_liquidity_pool_unless_book_only_is_asked_for(self):
        self.assertTrue(self.exchange._orderbook_ds._include_pool)   # the default: "book+pool"
        for setting, include_pool in (("", True), ("book", False), ("book+pool", True)):
            exchange = StellarExchange(trading_pairs=["XLM-USDC"], trading_required=False,
                                       stellar_book_liquidity=setting)
            self.assertIs(include_pool, exchange._orderbook_ds._include_pool, setting)
        with self.assertRaises(ValueError):
            StellarExchange(trading_pairs=["XLM-USDC"], trading_required=False, stellar_book_liquidity="pool")

    def test_market_data_only_needs_no_secret_and_a_local_horizon_gets_its_own_rate_budget(self):
        data_only = StellarExchange(trading_pairs=["XLM-USDC"], trading_required=False)
        self.assertTrue(data_only.account_id.startswith("G"))
        self.assertEqual(CONSTANTS.RATE_LIMITS, data_only.rate_limits_rules)   # SDF's public Horizon
        with self.assertRaises(ValueError):
            StellarExchange(trading_pairs=["XLM-USDC"], trading_required=True)
        local_pool = next(r for r in self.exchange.rate_limits_rules if r.limit_id == CONSTANTS.HORIZON_REQUESTS_POOL)
        self.assertEqual(CONSTANTS.rate_limit_window(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR),
                         (local_pool.limit, local_pool.time_interval))

    async def test_exchange_symbols_are_the_trading_pairs(self):
        self.assertEqual(self.trading_pair, await self.exchange.exchange_symbol_associated_to_pair(self.trading_pair))
        self.assertEqual(self.trading_pair, await self.exchange.trading_pair_associated_to_exchange_symbol(
            self.trading_pair))

    @aioresponses()
    async def test_update_balances_keeps_the_minimum_xlm_balance_out_of_available(self, mock_api):
        self._configure_balance_response(self.account_response([
            self.balance_entry(Asset.native(), "100.0000000", "3.0000000")], subentries=4), mock_api)

        await self.exchange._update_balances()

        # (2 + 4 subentries) x 0.5 XLM reserve, and 3 XLM promised to offers
        self.assertEqual(Decimal("100"), self.exchange.get_balance("XLM"))
        self.assertEqual(Decimal("94"), self.exchange.available_balances["XLM"])

    @aioresponses()
    async def test_sell_filled_partly_at_placement_reports_fill_at_once_and_never_twice(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.ledger.fills_for_create = [(Decimal("40"), Decimal("10000"))]
        self.configure_transactions(mock_api)

        order_id = self.place_sell_order()
        await self.wait_for(lambda: len(self.order_filled_logger.event_log) == 1)
        order = self.exchange.in_flight_orders[order_id]

        self.assertEqual(1, len(self.sell_order_created_logger.event_log))
        self.assertEqual(str(self.expected_offer_id), order.exchange_order_id)
        self.assertEqual(OrderState.PARTIALLY_FILLED, order.current_state)
        fill: OrderFilledEvent = self.order_filled_logger.event_log[0]
        self.assertEqual(Decimal("40"), fill.amount)
        self.assertEqual(Decimal("10000"), fill.price)
        # No trading fee; the order's share of its transaction's network fee, in XLM
        self.assertEqual([TokenAmount("XLM", Decimal("0.00001"))], fill.trade_fee.flat_fees)
        self.assertEqual(Decimal(0), fill.trade_fee.percent)

        # The same fill seen later in the account's trades (with Horizon's trade id) is not counted again.
        stream_trade = self.trade_record(order, Decimal("40"), Decimal("10000"), trade_id="4294971393-0")
        stream_trade["base_offer_id"] = str(self.expected_offer_id)
        await self.feed_user_stream({"channel": "trade", "data": stream_trade, "cursor": "4294971393-0"})
        self.assertEqual(1, len(self.order_filled_logger.event_log))
        self.assertEqual(Decimal("40"), order.executed_amount_base)

    @aioresponses()
    async def test_buy_filled_completely_at_placement_completes_without_resting(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.ledger.fills_for_create = [(Decimal("60"), Decimal("9990")), (Decimal("40"), Decimal("10000"))]
        self.ledger.create_rests = False
        self.configure_transactions(mock_api)

        order_id = self.place_buy_order()
        await self.wait_for(lambda: len(self.buy_order_completed_logger.event_log) == 1)

        self.assertEqual(1, len(self.buy_order_created_logger.event_log))
        fills: List[OrderFilledEvent] = self.order_filled_logger.event_log
        self.assertEqual([(Decimal("60"), Decimal("9990")), (Decimal("40"), Decimal("10000"))],
                         [(f.amount, f.price) for f in fills])
        completed: BuyOrderCompletedEvent = self.buy_order_completed_logger.event_log[0]
        self.assertEqual(Decimal("100"), completed.base_asset_amount)
        self.assertEqual(Decimal("999400"), completed.quote_asset_amount)
        self.assertNotIn(order_id, self.exchange.in_flight_orders)
        # No offer ever rested: the order goes by Horizon's synthetic offer id (its operation's TOID with
        # bit 62 set), and its fills by Horizon's trade ids, as the account's trades will name them.
        op_id = int(next(iter(self.ledger.records.values()))["paging_token"]) + 1
        self.assertEqual(str(op_id | 1 << 62), completed.exchange_order_id)
        self.assertEqual([f"{op_id}-0", f"{op_id}-1"], [f.exchange_trade_id for f in fills])

    @aioresponses()
    async def test_limit_maker_crossing_the_book_is_rejected_before_submission(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.configure_transactions(mock_api)
        book = OrderBook()
        book.apply_snapshot([OrderBookRow(9000.0, 10.0, 1)], [OrderBookRow(9500.0, 10.0, 1)], 1)
        self.exchange.order_book_tracker._order_books[self.trading_pair] = book

        order_id = self.place_buy_order(price=Decimal("9500"), order_type=OrderType.LIMIT_MAKER)
        await self.wait_for(lambda: len(self.order_failure_logger.event_log) == 1)

        self.assertEqual(order_id, self.order_failure_logger.event_log[0].order_id)
        self.assertIn("would cross the best ask", self.order_failure_logger.event_log[0].error_message)
        self.assertEqual([], self.ledger.envelopes)

        maker_id = self.place_buy_order(price=Decimal("9400"), order_type=OrderType.LIMIT_MAKER)
        await self.wait_for(lambda: len(self.buy_order_created_logger.event_log) == 1)
        self.assertEqual(maker_id, self.buy_order_created_logger.event_log[0].order_id)
        self.assertEqual("CreatePassiveSellOffer", type(self.ledger.operations()[0]).__name__)

    def _book_for_market_orders(self) -> None:
        book = OrderBook()
        asks = [OrderBookRow(100.0, 4.0, 1), OrderBookRow(110.0, 6.0, 1)]
        book.apply_snapshot([OrderBookRow(90.0, 10.0, 1)], asks, 1)
        self.exchange.order_book_tracker._order_books[self.trading_pair] = book

    @aioresponses()
    async def test_market_orders_are_path_payments_to_ourselves_bounded_by_the_book(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.ledger.fills_for_create = [(Decimal("4"), Decimal("100")), (Decimal("6"), Decimal("110"))]
        self.configure_transactions(mock_api)
        self._book_for_market_orders()

        buy_id = self.place_buy_order(amount=Decimal("10"), price=Decimal("NaN"), order_type=OrderType.MARKET)
        await self.wait_for(lambda: len(self.buy_order_completed_logger.event_log) == 1)

        (buy,) = self.ledger.operations()   # one operation, no cancel: nothing rested
        # Receive exactly 10 COINALPHA, pay at most 10 × 110 (the book's worst price for 10) × 1.02 = 1122 HBOT.
        self.assertIsInstance(buy, PathPaymentStrictReceive)
        self.assertEqual((HBOT, Decimal("1122"), COINALPHA, Decimal("10"), []),
                         (buy.send_asset, Decimal(buy.send_max), buy.dest_asset, Decimal(buy.dest_amount), buy.path))
        self.assertEqual(TRADER.public_key, buy.destination.account_id)
        order = self.exchange._order_tracker.fetch_order(buy_id)
        self.assertEqual(OrderState.FILLED, order.current_state)
        fills: List[OrderFilledEvent] = self.order_filled_logger.event_log
        self.assertEqual([(Decimal("4"), Decimal("100")), (Decimal("6"), Decimal("110"))],
                         [(f.amount, f.price) for f in fills])
        op_id = int(next(iter(self.ledger.records.values()))["paging_token"]) + 1
        self.assertEqual(str(op_id | 1 << 62), order.exchange_order_id)   # Horizon's name for the taker
        self.assertEqual([f"{op_id}-0", f"{op_id}-1"], [f.exchange_trade_id for f in fills])
        self.assertEqual([TokenAmount("XLM", Decimal("0.00001"))], fills[0].trade_fee.flat_fees)
        self.assertEqual(1, len(self.buy_order_created_logger.event_log))

    @aioresponses()
    async def test_a_market_sell_the_pool_takes_is_one_fill_at_the_pools_price_reported_once(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.ledger.fills_for_create = [(Decimal("10"), Decimal("95.5"))]   # better than the bid of 90
        self.ledger.pool_fills_market = True
        self.configure_transactions(mock_api)
        self._book_for_market_orders()

        sell_id = self.place_sell_order(amount=Decimal("10"), price=Decimal("NaN"), order_type=OrderType.MARKET)
        await self.wait_for(lambda: len(self.sell_order_completed_logger.event_log) == 1)

        (sell,) = self.ledger.operations()
        # Send exactly 10 COINALPHA, receive at least 10 × 90 (the best bid, deep enough) × 0.98 = 882 HBOT.
        self.assertIsInstance(sell, PathPaymentStrictSend)
        self.assertEqual((COINALPHA, Decimal("10"), HBOT, Decimal("882")),
                         (sell.send_asset, Decimal(sell.send_amount), sell.dest_asset, Decimal(sell.dest_min)))
        order = self.exchange._order_tracker.fetch_order(sell_id)
        (fill,) = self.order_filled_logger.event_log
        self.assertEqual((Decimal("10"), Decimal("95.5"), f"{int(order.exchange_order_id) & ~(1 << 62)}-0"),
                         (fill.amount, fill.price, fill.exchange_trade_id))

        # Horizon's record of that pool trade, streamed afterwards: the same trade, not a second fill.
        pool_trade = self.trade_record(order, Decimal("10"), Decimal("95.5"), trade_id=fill.exchange_trade_id)
        pool_trade.update(trade_type="liquidity_pool", base_offer_id=order.exchange_order_id,
                          counter_liquidity_pool_id=POOL_ID)
        pool_trade.pop("counter_offer_id", None)
        pool_trade.pop("counter_account", None)
        await self.feed_user_stream({"channel": "trade", "data": pool_trade, "cursor": fill.exchange_trade_id})
        self.assertEqual(1, len(self.order_filled_logger.event_log))
        self.assertEqual(Decimal("10"), order.executed_amount_base)

    @aioresponses()
    async def test_a_market_order_no_venue_fills_within_its_bound_fails_and_nothing_rests(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.ledger.market_fails_with = "OVER_SENDMAX"
        self.configure_transactions(mock_api)
        self._book_for_market_orders()

        order_id = self.place_buy_order(amount=Decimal("10"), price=Decimal("NaN"), order_type=OrderType.MARKET)
        await self.wait_for(lambda: len(self.order_failure_logger.event_log) == 1)

        failure: MarketOrderFailureEvent = self.order_failure_logger.event_log[0]
        self.assertEqual(order_id, failure.order_id)
        self.assertIn("not filled", failure.error_message)
        self.assertIn("at 112.2 HBOT per COINALPHA or better", failure.error_message)
        self.assertIn("op_over_source_max", failure.error_message)
        self.assertEqual(1, len(self.ledger.operations()))   # the path payment only: no cancel, nothing rested
        self.assertEqual([], self.order_filled_logger.event_log)
        self.assertNotIn(order_id, self.exchange.in_flight_orders)

    async def test_market_order_without_a_book_side_to_take_fails_cleanly(self):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        book = OrderBook()
        book.apply_snapshot([OrderBookRow(90.0, 10.0, 1)], [], 1)   # bids only: nothing to buy
        self.exchange.order_book_tracker._order_books[self.trading_pair] = book

        order_id = self.place_buy_order(amount=Decimal("1"), price=Decimal("NaN"), order_type=OrderType.MARKET)
        await self.wait_for(lambda: len(self.order_failure_logger.event_log) == 1)

        self.assertEqual(order_id, self.order_failure_logger.event_log[0].order_id)
        self.assertIn("No ask in the COINALPHA-HBOT book", self.order_failure_logger.event_log[0].error_message)
        self.assertNotIn(order_id, self.exchange.in_flight_orders)
        self.assertEqual([], self.ledger.envelopes)

    async def test_order_for_a_pair_without_trading_rule_fails_with_the_reason(self):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        with self.assertRaisesRegex(ValueError, "must be BASE-QUOTE"):
            self.exchange.buy("COINALPHAHBOT", Decimal("1"), OrderType.LIMIT, Decimal("1"))

        order_id = self.exchange.sell("COINALPHA-NOPE", Decimal("1"), OrderType.LIMIT, Decimal("1"))
        await self.wait_for(lambda: len(self.order_failure_logger.event_log) == 1)

        failure = self.order_failure_logger.event_log[0]
        self.assertEqual(order_id, failure.order_id)
        self.assertIn("Unknown asset 'NOPE'", failure.error_message)
        self.assertNotIn(order_id, self.exchange.in_flight_orders)
        self.assertEqual([], self.ledger.envelopes)

    @aioresponses()
    async def test_batch_order_create_places_a_ladder_in_one_transaction(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.configure_transactions(mock_api)
        ladder = [LimitOrder(client_order_id="", trading_pair=self.trading_pair, is_buy=is_buy,
                             base_currency=self.base_asset, quote_currency=self.quote_asset,
                             price=Decimal(price), quantity=Decimal("1"))
                  for is_buy, price in ((True, "99"), (True, "98"), (False, "101"), (False, "102"))]

        created = self.exchange.batch_order_create(ladder)
        await self.wait_for(lambda: len(self.buy_order_created_logger.event_log)
                            + len(self.sell_order_created_logger.event_log) == 4)

        self.assertEqual(1, len(self.ledger.envelopes))
        self.assertEqual(4, len(self.ledger.envelopes[0].transaction.operations))
        offer_ids = {self.exchange.in_flight_orders[o.client_order_id].exchange_order_id for o in created}
        self.assertEqual({str(self.expected_offer_id + i) for i in range(4)}, offer_ids)

        self.exchange.batch_order_cancel(created)
        await self.wait_for(lambda: len(self.order_cancelled_logger.event_log) == 4)
        self.assertEqual(2, len(self.ledger.envelopes))
        self.assertEqual(4, len(self.ledger.envelopes[1].transaction.operations))

    @aioresponses()
    async def test_cancel_of_an_offer_that_just_filled_reports_the_fill(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        order = self.track(order_id="OID1", exchange_order_id="21")
        self.ledger.missing_offers.add(21)
        self.configure_transactions(mock_api)
        self.configure_trades(mock_api, [self.trade_record(order, order.amount, order.price)])

        self.exchange.cancel(self.trading_pair, order.client_order_id)
        await self.wait_for(lambda: len(self.buy_order_completed_logger.event_log) == 1)

        self.assertTrue(order.is_filled)
        self.assertEqual(0, len(self.order_cancelled_logger.event_log))
        self.assertEqual(0, len(self.order_failure_logger.event_log))
        self.assertEqual(1, len(self.order_filled_logger.event_log))

    @aioresponses()
    async def test_a_cancel_that_raced_a_fill_waits_for_the_trade_stream_instead_of_reading_the_trades(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        order = self.track(order_id="OID1", exchange_order_id="21")
        self.ledger.missing_offers.add(21)
        self.configure_transactions(mock_api)
        self.streams_up()
        record = self.trade_record(order, order.amount, order.price)

        self.exchange.cancel(self.trading_pair, order.client_order_id)
        await self.wait_for(lambda: self.ledger.envelopes)
        # The fill that emptied the offer comes by the trade stream, after the cancel's outcome.
        await asyncio.sleep(0.2)
        await self.feed_user_stream({"channel": "trade", "data": record, "cursor": record["paging_token"]})
        await self.wait_for(lambda: len(self.buy_order_completed_logger.event_log) == 1)

        self.assertTrue(order.is_filled)
        self.assertEqual(1, len(self.order_filled_logger.event_log))
        self.assertEqual(0, len(self.order_cancelled_logger.event_log))
        self.assertFalse(any(url.path.endswith("/trades") for _method, url in mock_api.requests))

    @aioresponses()
    async def test_a_cancel_that_raced_a_fill_reads_the_trades_when_the_stream_brings_none_in_time(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        self.exchange._offer_status.STREAM_GRACE_S = 0.05
        order = self.track(order_id="OID1", exchange_order_id="21")
        self.ledger.missing_offers.add(21)
        self.configure_transactions(mock_api)
        self.configure_trades(mock_api, [self.trade_record(order, order.amount, order.price)])
        self.streams_up()

        self.exchange.cancel(self.trading_pair, order.client_order_id)
        await self.wait_for(lambda: len(self.buy_order_completed_logger.event_log) == 1)

        self.assertTrue(order.is_filled)
        self.assertTrue(any(url.path.endswith("/trades") for _method, url in mock_api.requests))

    async def test_partial_fill_while_a_cancel_is_pending_keeps_the_cancel_pending(self):
        order = self.track(order_id="OID1", exchange_order_id="21", amount=Decimal("2"))
        order.update_with_order_update(OrderUpdate(
            trading_pair=self.trading_pair, update_timestamp=1640780000, new_state=OrderState.PENDING_CANCEL,
            client_order_id=order.client_order_id, exchange_order_id="21"))
        record = self.trade_record(order, Decimal("0.5"), order.price)

        await self.feed_user_stream({"channel": "trade", "data": record, "cursor": record["paging_token"]})

        self.assertEqual(Decimal("0.5"), order.executed_amount_base)
        self.assertEqual(1, len(self.order_filled_logger.event_log))
        self.assertEqual(OrderState.PENDING_CANCEL, order.current_state)   # not back to PARTIALLY_FILLED

    @aioresponses()
    async def test_stop_network_cancels_our_open_offers(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        order = self.track(order_id="OID1", exchange_order_id="21")
        self.configure_transactions(mock_api)
        self.exchange._network_started = True

        await self.exchange.stop_network()

        self.assertTrue(order.is_cancelled)
        self.assertEqual([21], [op.offer_id for op in self.ledger.operations()])

    @aioresponses()
    async def test_transaction_from_the_user_stream_resolves_the_order_without_polling(self, mock_api):
        self._simulate_trading_rules_initialized()
        self.exchange._set_current_timestamp(1640780000)
        self.exchange._pipeline = TransactionPipeline(
            self.exchange._horizon, self.exchange.authenticator, self.exchange.config_cache,
            network_passphrase=PASSPHRASE, poll_initial_delay=30, poll_max_delay=30)
        lookups = []
        self.configure_transactions(mock_api, on_result=lambda *args, **kwargs: lookups.append(args))

        order_id = self.place_sell_order()
        await self.wait_for(lambda: len(self.ledger.records) == 1)
        record = next(iter(self.ledger.records.values()))
        await self.feed_user_stream({"channel": "transaction", "data": record, "cursor": record["paging_token"]})
        await self.wait_for(lambda: len(self.sell_order_created_logger.event_log) == 1)

        self.assertEqual(order_id, self.sell_order_created_logger.event_log[0].order_id)
        self.assertEqual([], lookups)   # the stream answered before any GET /transactions/{hash}

    @aioresponses()
    async def test_no_market_is_listed_when_horizon_serves_another_network(self, mock_api):
        self.exchange._set_trading_pair_symbol_map(None)
        mock_api.get(self.all_symbols_url, body=json.dumps(self.root_response("Test SDF Network ; September 2015")))
        self.assertEqual([], await self.exchange.all_trading_pairs())

        mock_api.get(self.all_symbols_url, body=json.dumps(self.root_response()))
        self.assertIn(self.trading_pair, await self.exchange.all_trading_pairs())

    def test_time_synchronizer_never_involved(self):
        self.assertFalse(self.exchange._is_request_exception_related_to_time_synchronizer(OSError("-1021")))

    # === Horizon's request budget: what the safety poll and the network check still ask ===

    def streams_up(self, account_current: bool = True, all_up: bool = True) -> None:
        source = self.exchange._user_stream_tracker.data_source
        source.account_stream_current = lambda: account_current
        source.all_streams_connected = lambda: all_up
        source.streams_connected = lambda: {"account": account_current, "account trades": all_up}

    @aioresponses()
    async def test_the_safety_poll_reads_no_account_while_the_account_stream_is_current(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        self.streams_up()
        await self.feed_user_stream(self.balance_event_websocket_update)

        await self.exchange._update_balances()

        self.assertEqual([], account_reads(mock_api))
        self.assertEqual(Decimal("15"), self.exchange.get_balance(self.base_asset))
        self.streams_up(account_current=False, all_up=False)   # the stream dropped: the poll reads the account
        self._configure_balance_response(self.balance_request_mock_response_only_base, mock_api)
        await self.exchange._update_balances()
        self.assertEqual(1, len(account_reads(mock_api)))
        self.assertNotIn(self.quote_asset, self.exchange.available_balances)

    @aioresponses()
    async def test_the_safety_poll_reads_one_page_of_trades_while_the_streams_are_up(self, mock_api):
        self.exchange._set_current_timestamp(1640780000)
        order = self.track(order_id="OID1", exchange_order_id="21")
        full_page = [self.trade_record(None, Decimal("1"), Decimal("10000"), trade_id=f"{i}-0", our_side="none")
                     for i in range(200)]
        mock_api.get(self.trades_url, body=json.dumps(_page(full_page)), repeat=True)
        self.streams_up()
        await self.exchange._update_orders_fills([order])
        self.assertEqual(1, sum(len(calls) for calls in mock_api.requests.values()))

        self.streams_up(account_current=False, all_up=False)   # a backstop without streams looks further back
        await self.exchange._update_orders_fills([order])
        self.assertEqual(1 + 5, sum(len(calls) for calls in mock_api.requests.values()))

    @aioresponses()
    async def test_the_network_check_asks_horizon_only_while_no_stream_is_open(self, mock_api):
        mock_api.get(self.network_status_url, body=json.dumps(self.network_status_request_successful_mock_response),
                     repeat=True)
        self.streams_up()
        self.exchange._orderbook_ds.streams_connected = lambda: {}
        self.assertEqual(NetworkStatus.CONNECTED, await self.exchange.check_network())
        self.assertEqual({}, mock_api.requests)

        self.streams_up(account_current=False, all_up=False)
        self.exchange._user_stream_tracker.data_source.streams_connected = lambda: {"account": False}
        self.assertEqual(NetworkStatus.CONNECTED, await self.exchange.check_network())
        self.assertEqual(1, sum(len(calls) for calls in mock_api.requests.values()))

    def test_the_safety_poll_comes_a_long_interval_after_the_last_while_the_streams_are_up(self):
        polls = []
        self.exchange._poll_notifier = type("Notifier", (), {"set": lambda _self: polls.append(now)})()
        self.streams_up()
        for now in (1000.0, 1001.0):   # the first tick polls at once
            self.exchange.tick(now)
        self.assertEqual([1000.0, 1001.0], polls)   # no poll ran yet, so the notifier stays set
        self.exchange._last_poll_timestamp = 1001.0
        polls.clear()
        for now in (1100.0, 1200.0, 1300.0, 1301.0):
            self.exchange.tick(now)
        self.assertEqual([1301.0], polls)   # 300 s after the last poll, not at a multiple of 300 s (1200)
        self.assertEqual(300.0, self.exchange.LONG_POLL_INTERVAL)
        self.streams_up(account_current=False, all_up=False)
        polls.clear()
        self.exchange._last_poll_timestamp = 1301.0
        for now in (1302.0, 1306.0):
            self.exchange.tick(now)
        self.assertEqual([1306.0], polls)   # streams down: Hummingbot's short interval

    def test_the_exchange_warns_past_its_horizons_budget(self):
        public = StellarExchange(stellar_secret_key=TRADER.secret, trading_pairs=[], rate_limits_share_pct=Decimal(50))
        self.assertEqual(1800, public._request_budget.requests_per_hour)   # half of SDF's 3,600 an hour
        self.assertEqual(CONSTANTS.LOCAL_HORIZON_REQUESTS_PER_HOUR, self.exchange._request_budget.requests_per_hour)



# === End to end, over HTTP and SSE, against the embedded sandbox ===
