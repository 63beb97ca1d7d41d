"""MARKET orders as path payments: the intent's terms (amounts and bounds to the stroop), its operation's bytes
(exactly stellar-sdk's PathPaymentStrictSend / PathPaymentStrictReceive), its result (claim atoms of offers and
pools as fills, recorded from the sandbox and constructed) and its failures."""
import base64
from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import TradeType
from stellar_sdk import Asset, Keypair, MuxedAccount, PathPaymentStrictReceive, PathPaymentStrictSend
from stellar_sdk import xdr as x

from hummingbot.connector.exchange.stellar.stellar_constants import RESULT_CODE_MESSAGES
from hummingbot.connector.exchange.stellar.stellar_errors import StellarOrderRejected
from hummingbot.connector.exchange.stellar.stellar_op_outcome import OpOutcome
from hummingbot.connector.exchange.stellar.stellar_order_ops import StellarOrderError
from hummingbot.connector.exchange.stellar.stellar_path_payments import (
    PATH_PAYMENT_STRICT_RECEIVE,
    PATH_PAYMENT_STRICT_SEND,
    MarketOrderIntent,
    MarketOrderNotFilled,
    PathPaymentTerms,
    operation_for,
    order_rejection,
    path_payment_terms,
    sdk_operation,
)
from hummingbot.connector.exchange.stellar.stellar_tx_builder import EnvelopeBuilder, path_payment_xdr
from hummingbot.connector.exchange.stellar.stellar_tx_results import _fast_decode, decode_transaction_result
from test.hummingbot.connector.exchange.stellar import result_xdr_factory as f

ISSUER = Keypair.from_raw_ed25519_seed(bytes([3] * 32)).public_key
ME = Keypair.from_raw_ed25519_seed(bytes([4] * 32)).public_key
MAKER = Keypair.from_raw_ed25519_seed(bytes([5] * 32)).public_key
XLM, USDC = Asset.native(), Asset("USDC", ISSUER)
LONG = Asset("LONGASSETCDE", ISSUER)
POOL_ID = "70d23cb71652079ce35dc16d3f590329b5298ea369542c0268e754132f80c5a1"
SELL, BUY = TradeType.SELL, TradeType.BUY


def intent(side=SELL, amount="10", price="0.25", base=XLM, quote=USDC, account=ME) -> MarketOrderIntent:
    return MarketOrderIntent("HBOT-1", base, quote, side, Decimal(amount), Decimal(price), account)


# Terms


def test_a_sell_sends_exactly_its_amount_and_asks_at_least_amount_times_the_worst_price_rounded_down():
    terms = path_payment_terms(intent(SELL, "0.0000003", "0.5"))   # 1.5 stroops of USDC: at least 1
    assert terms == PathPaymentTerms(PATH_PAYMENT_STRICT_SEND, XLM, 3, ME, USDC, 1)
    assert path_payment_terms(intent(SELL, "10", "0.2499999")).dest_amount == 24_999_990


def test_a_buy_receives_exactly_its_amount_and_pays_at_most_amount_times_the_worst_price_rounded_up():
    terms = path_payment_terms(intent(BUY, "0.0000003", "0.5"))    # 1.5 stroops of USDC: at most 2
    assert terms == PathPaymentTerms(PATH_PAYMENT_STRICT_RECEIVE, USDC, 2, ME, XLM, 3)
    # A price finer than a stroop (Hummingbot passes a MARKET order's price unquantized) is applied exactly.
    assert path_payment_terms(intent(BUY, "3", "0.33333333333")).send_amount == 10_000_000


@pytest.mark.parametrize("kwargs, message", [
    ({"amount": "0"}, "amount must be positive"),
    ({"amount": "1.00000001"}, "more than 7 decimal places"),
    ({"price": "0"}, "worst price must be a positive"),
    ({"price": "NaN"}, "worst price must be a positive"),
    ({"amount": "0.0000001", "price": "0.5"}, "below one stroop"),
    ({"side": BUY, "amount": "900000000000", "price": "1000000"}, "exceeds Stellar's maximum"),
    ({"quote": XLM}, "same asset"),
    ({"side": TradeType.RANGE}, "is not BUY or SELL"),
])
def test_invalid_market_orders_fail_before_anything_is_sent(kwargs, message):
    with pytest.raises(StellarOrderError, match=message) as info:
        path_payment_terms(intent(**kwargs))
    assert "HBOT-1" in str(info.value)


# Bytes: exactly stellar-sdk's


SOURCES = [None, ME, MuxedAccount(ME), MuxedAccount(ME, 2**64 - 1)]


@pytest.mark.parametrize("source", SOURCES)
def test_market_orders_pack_as_stellar_sdk_packs_their_path_payments(source):
    for base, quote in [(XLM, USDC), (USDC, XLM), (LONG, USDC)]:
        for side in (SELL, BUY):
            for amount, price in [("10", "0.25"), ("0.0000001", "2147483647"), ("922337203.6854775", "3.3")]:
                market = intent(side, amount, price, base, quote)
                terms = path_payment_terms(market)
                operation = operation_for(market, source)
                assert isinstance(operation, PathPaymentStrictSend if side is SELL else PathPaymentStrictReceive)
                expected = operation.to_xdr_object().to_xdr_bytes()
                assert EnvelopeBuilder.pack_path_payment(terms, source) == path_payment_xdr(*terms, source) == expected


def test_the_packing_covers_muxed_destinations_and_paths_too():
    muxed = MuxedAccount(ME, 42).account_muxed
    for op_type in (PATH_PAYMENT_STRICT_SEND, PATH_PAYMENT_STRICT_RECEIVE):
        for path in [(), (LONG,), (USDC, LONG, XLM, Asset("A", ISSUER), Asset("B", ISSUER))]:
            terms = PathPaymentTerms(op_type, XLM, 123, muxed, USDC, 2**63 - 1, path)
            assert path_payment_xdr(*terms, ME) == sdk_operation(terms, ME).to_xdr_object().to_xdr_bytes()


def test_the_operation_pays_the_trading_account_itself_over_the_direct_path():
    operation = operation_for(intent(BUY, "8", "0.55"))
    assert (operation.destination.account_id, operation.path, operation.source) == (ME, [], None)
    assert (operation.send_asset, operation.send_max, operation.dest_asset, operation.dest_amount) == \
        (USDC, "4.4000000", XLM, "8.0000000")


# Results

# Recorded from the sandbox (test/.../integration has the live equivalents): a strict receive of 8 XLM that took
# two asks of MAKER_R (5 at 0.5, 3 at 0.52), and a strict send of 4 XLM the XLM-USDC pool took whole.
REC_ISSUER = "GD3DF7OBKWKFBGII7X7MFM52YLELM4HK3YFOC6QYBT6C7XEPEIGF25XA"
REC_TRADER = "GCRMJTSXU7VXMJLCZ3NH5PDKDVVSK2ASNAJWQ2M5KWZC3FEMVJCIJCRS"
REC_MAKER = "GAF6T2EX2ZENIDBYCJUIK56E23AZLONFFOZ6IAYG3Q7GWD3ELJDVXK4L"
REC_USDC = Asset("USDC", REC_ISSUER)
RECORDED_BOOK_BUY = (
    "AAAAAAAAAGQAAAAAAAAAAQAAAAAAAAACAAAAAAAAAAIAAAABAAAAAAvp6JfWSNQMOBJohXfE1sGVuaUrs+QDBtw+aw9kWkdbAAAAAAAAAAEAAAAA"
    "AAAAAAL68IAAAAABVVNEQwAAAAD2Mv3BVZRQmQj9/sKzusLItnDq3grhehgM/C/cjyIMXQAAAAABfXhAAAAAAQAAAAAL6eiX1kjUDDgSaIV3xNbB"
    "lbmlK7PkAwbcPmsPZFpHWwAAAAAAAAACAAAAAAAAAAABycOAAAAAAVVTREMAAAAA9jL9wVWUUJkI/f7Cs7rCyLZw6t4K4XoYDPwv3I8iDF0AAAAA"
    "AO4JgAAAAACixM5Xp+t2JWLO2n68ah1rJWgSaBNoaZ1Vsi2UjKpEhAAAAAAAAAAABMS0AAAAAAA=")
RECORDED_BOOK_BUY_TOKEN = "42949677056"
RECORDED_POOL_SELL = (
    "AAAAAAAAAGQAAAAAAAAAAQAAAAAAAAANAAAAAAAAAAEAAAACcNI8txZSB5zjXcFtP1kDKbUpjqNpVCwCaOdUEy+AxaEAAAABVVNEQwAAAAD2Mv3B"
    "VZRQmQj9/sKzusLItnDq3grhehgM/C/cjyIMXQAAAAABB1UgAAAAAAAAAAACYloAAAAAAKLEzlen63YlYs7afrxqHWslaBJoE2hpnVWyLZSMqkSE"
    "AAAAAVVTREMAAAAA9jL9wVWUUJkI/f7Cs7rCyLZw6t4K4XoYDPwv3I8iDF0AAAAAAQdVIAAAAAA=")


def test_recorded_book_fills_of_a_market_buy():
    result = decode_transaction_result(RECORDED_BOOK_BUY, [(XLM, REC_USDC)], tx_hash="cd" * 32,
                                       tx_paging_token=RECORDED_BOOK_BUY_TOKEN)
    (op,) = result.operations
    assert op.success and op.offer_id is None and op.offer_state is None
    assert op.operation_id == int(RECORDED_BOOK_BUY_TOKEN) + 1 and op.delivered_stroops == 80_000_000
    assert [(fill.counterparty, fill.counter_offer_id, fill.base_amount, fill.quote_amount) for fill in op.fills] == \
        [(REC_MAKER, 1, Decimal(5), Decimal("2.5")), (REC_MAKER, 2, Decimal(3), Decimal("1.56"))]
    assert sum(fill.base_stroops for fill in op.fills) == op.delivered_stroops   # exactly what was bought


def test_recorded_pool_fill_of_a_market_sell():
    (op,) = decode_transaction_result(RECORDED_POOL_SELL, [(XLM, REC_USDC)]).operations
    (fill,) = op.fills
    assert (fill.counterparty, fill.counter_offer_id) == (POOL_ID, 0)
    # The pool held 100 XLM and 45 USDC: 4 XLM in pay floor(0.997 · 45 · 4 / (100 + 4 − 0.003 · 4)) USDC out.
    x_in, reserve_in, reserve_out = 40_000_000, 1_000_000_000, 450_000_000
    expected = (9970 * reserve_out * x_in) // (10_000 * reserve_in + 9970 * x_in)
    assert (fill.base_stroops, fill.quote_stroops) == (x_in, expected) == (40_000_000, 17_257_760)
    assert op.delivered_stroops == fill.quote_stroops


def test_book_and_pool_claim_atoms_of_every_kind_become_fills_in_the_orders_terms():
    """A sell of 10 XLM for USDC that crossed an offer (v1 and v0 atoms) and a pool (as a multi-venue result
    would list them): each atom one fill, the pool's with no offer id, amounts oriented to XLM-USDC."""
    claims = [f.claim(MAKER, 7, USDC, 5_000_000, XLM, 20_000_000),
              f.v0_claim(MAKER, 8, USDC, 2_500_000, XLM, 10_000_000),
              f.pool_claim(POOL_ID, USDC, 17_000_000, XLM, 70_000_000)]
    op_result = f.path_payment_ok(True, claims, ME, USDC, 24_500_000)
    for assets, base_of in (((XLM, USDC), "XLM"), (None, "sold")):
        (op,) = decode_transaction_result(f.tx_result(f.TX.txSUCCESS, [op_result]), [assets]).operations
        oriented = [(fill.counter_offer_id, fill.base_stroops, fill.quote_stroops) for fill in op.fills]
        if base_of == "XLM":
            assert oriented == [(7, 20_000_000, 5_000_000), (8, 10_000_000, 2_500_000), (0, 70_000_000, 17_000_000)]
        else:   # no order context: the claim's own orientation (the sold asset as base)
            assert oriented == [(7, 5_000_000, 20_000_000), (8, 2_500_000, 10_000_000), (0, 17_000_000, 70_000_000)]
        assert [fill.counterparty for fill in op.fills] == [MAKER, MAKER, POOL_ID]
        assert op.delivered_stroops == 24_500_000


def test_a_strict_receive_result_and_a_path_payment_beside_offers_in_one_transaction():
    buy = f.path_payment_ok(False, [f.pool_claim(POOL_ID, XLM, 80_000_000, USDC, 40_120_362)], ME, XLM, 80_000_000)
    offer = f.sell_offer_ok([f.claim(MAKER, 9, USDC, 1_000_000, XLM, 4_000_000)])
    result_xdr = f.tx_result(f.TX.txSUCCESS, [offer, buy], fee_charged=200)
    data = base64.b64decode(result_xdr)
    assert _fast_decode(data, [(XLM, USDC)] * 2) is None        # the byte reader leaves path payments to stellar-sdk
    offer_outcome, buy_outcome = decode_transaction_result(result_xdr, [(XLM, USDC)] * 2,
                                                           tx_paging_token="4294971392").operations
    assert offer_outcome.fills[0].base_stroops == 4_000_000
    (fill,) = buy_outcome.fills
    assert (fill.base_amount, fill.quote_amount, buy_outcome.operation_id) == \
        (Decimal(8), Decimal("4.0120362"), 4294971394)
    assert buy_outcome.fee_charged_share_stroops == 100


def test_a_path_payment_rolled_back_with_its_transaction_keeps_no_fill():
    ok = f.path_payment_ok(True, [f.pool_claim(POOL_ID, USDC, 1, XLM, 4)], ME, USDC, 1)
    failing = f.sell_offer_failed(x.ManageSellOfferResultCode.MANAGE_SELL_OFFER_UNDERFUNDED)
    (rolled_back, failed) = decode_transaction_result(f.tx_result(f.TX.txFAILED, [ok, failing]),
                                                      [(XLM, USDC)] * 2).operations
    assert not rolled_back.success and rolled_back.fills == () and rolled_back.delivered_stroops is None
    assert rolled_back.error_code is None and failed.error_code == "op_underfunded"


HORIZON_SPELLING = {"OFFER_CROSS_SELF": "op_cross_self", "OVER_SENDMAX": "op_over_source_max",
                    "UNDER_DESTMIN": "op_under_dest_min"}


@pytest.mark.parametrize("code", [c for c in (*x.PathPaymentStrictSendResultCode, *x.PathPaymentStrictReceiveResultCode)
                                  if not c.name.endswith("SUCCESS")], ids=lambda c: c.name)
def test_every_path_payment_failure_is_spelled_as_horizon_does(code):
    suffix = code.name.split("_STRICT_SEND_")[-1].split("_STRICT_RECEIVE_")[-1]
    (op,) = decode_transaction_result(f.tx_result(f.TX.txFAILED, [f.path_payment_failed(code)])).operations
    assert not op.success and op.fills == ()
    assert op.error_code == HORIZON_SPELLING.get(suffix, "op_" + suffix.lower())
    assert op.error_code in RESULT_CODE_MESSAGES and op.error_message == RESULT_CODE_MESSAGES[op.error_code]


# Failures as the order's owner reads them


@pytest.mark.parametrize("side, code, words", [
    (SELL, "op_under_dest_min", "at 0.25 USDC per XLM or better"),
    (BUY, "op_over_source_max", "at 0.25 USDC per XLM or better"),
    (BUY, "op_too_few_offers", "can fill all of it"),
])
def test_a_market_order_not_fillable_within_its_bound_says_so(side, code, words):
    error = order_rejection(intent(side), OpOutcome(success=False, error_code=code))
    assert isinstance(error, MarketOrderNotFilled) and isinstance(error, StellarOrderRejected)
    assert (error.code, error.client_order_id) == (code, "HBOT-1")
    text = str(error)
    assert text.startswith(f"MARKET {side.name} HBOT-1 of 10 XLM not filled") and words in text and code in text
    assert "nothing rests on the book" in text


def test_other_failures_keep_the_connectors_words_for_the_code():
    error = order_rejection(intent(), OpOutcome(success=False, error_code="op_underfunded", error_message="x"))
    assert type(error) is StellarOrderRejected
    assert "op_underfunded" in str(error) and "does not hold enough" in str(error)
