from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from stellar_sdk import Asset, CreatePassiveSellOffer, Keypair, ManageBuyOffer, ManageSellOffer, Price

from hummingbot.connector.exchange.stellar.stellar_order_ops import (
    CancelOrderIntent,
    CreateOrderIntent,
    StellarOrderError,
    operation_for,
)

ISSUER = Keypair.from_raw_ed25519_seed(bytes(range(32))).public_key
TRADER = Keypair.from_raw_ed25519_seed(bytes(range(1, 33))).public_key
BASE = Asset("USDC", ISSUER)
QUOTE = Asset.native()


def create(trade_type=TradeType.SELL, order_type=OrderType.LIMIT, amount="10.5", price="0.25", base=BASE, quote=QUOTE):
    return CreateOrderIntent("HBOT-1", base, quote, trade_type, order_type, Decimal(amount), Decimal(price))


def test_limit_sell_is_manage_sell_offer_of_base_for_quote():
    op = operation_for(create(TradeType.SELL))
    assert isinstance(op, ManageSellOffer)
    assert (op.selling, op.buying) == (BASE, QUOTE)
    assert op.amount == "10.5000000"
    assert op.price == Price(1, 4)
    assert op.offer_id == 0
    assert op.source is None


def test_limit_buy_is_manage_buy_offer_of_base_paid_in_quote():
    op = operation_for(create(TradeType.BUY, amount="3", price="1.5"))
    assert isinstance(op, ManageBuyOffer)
    assert (op.selling, op.buying) == (QUOTE, BASE)
    assert op.amount == "3.0000000"            # base amount bought
    assert op.price == Price(3, 2)             # quote per base


def test_limit_maker_sell_is_passive_sell():
    op = operation_for(create(TradeType.SELL, OrderType.LIMIT_MAKER, amount="2", price="0.1234567"))
    assert isinstance(op, CreatePassiveSellOffer)
    assert (op.selling, op.buying) == (BASE, QUOTE)
    assert op.amount == "2.0000000"
    assert op.price.n * 10_000_000 == op.price.d * 1234567


def test_limit_maker_buy_is_passive_sell_of_quote_with_inverted_price():
    op = operation_for(create(TradeType.BUY, OrderType.LIMIT_MAKER, amount="10", price="0.25"))
    assert isinstance(op, CreatePassiveSellOffer)
    assert (op.selling, op.buying) == (QUOTE, BASE)
    assert op.amount == "2.5000000"            # 10 base × 0.25 quote/base
    assert op.price == Price(4, 1)             # base per quote, exactly 1/0.25


def test_limit_maker_buy_rounds_quote_amount_down_to_a_stroop():
    op = operation_for(create(TradeType.BUY, OrderType.LIMIT_MAKER, amount="1", price="0.3333333"))
    # 1 × 0.3333333 is exact; with a 7-decimal amount the product may need 14 decimals
    op2 = operation_for(create(TradeType.BUY, OrderType.LIMIT_MAKER, amount="0.0000003", price="0.5"))
    assert op.amount == "0.3333333"
    assert op2.amount == "0.0000001"           # 1.5 stroops → 1 stroop, never more quote than asked
    assert op2.price == Price(2, 1)


def test_operation_source_is_set_for_channel_transactions():
    op = operation_for(create(), TRADER)
    assert op.source.account_id == TRADER


@pytest.mark.parametrize("trade_type,order_type,expected_cls,selling,buying", [
    (TradeType.SELL, OrderType.LIMIT, ManageSellOffer, BASE, QUOTE),
    (TradeType.SELL, OrderType.LIMIT_MAKER, ManageSellOffer, BASE, QUOTE),
    (TradeType.BUY, OrderType.LIMIT, ManageBuyOffer, QUOTE, BASE),
    (TradeType.BUY, OrderType.LIMIT_MAKER, ManageSellOffer, QUOTE, BASE),
])
def test_cancel_deletes_the_offer_in_its_stored_orientation(trade_type, order_type, expected_cls, selling, buying):
    op = operation_for(CancelOrderIntent("HBOT-1", BASE, QUOTE, trade_type, 987, order_type))
    assert type(op) is expected_cls
    assert (op.selling, op.buying) == (selling, buying)
    assert op.offer_id == 987
    assert Decimal(op.amount) == 0
    assert op.price.n > 0 and op.price.d > 0   # stellar-core rejects a non-positive price even on delete


def test_cancel_round_trips_through_xdr():
    op = operation_for(CancelOrderIntent("HBOT-1", BASE, QUOTE, TradeType.BUY, 5), TRADER)
    xdr_op = op.to_xdr_object()
    assert xdr_op.body.manage_buy_offer_op.offer_id.int64 == 5
    assert xdr_op.body.manage_buy_offer_op.buy_amount.int64 == 0


@pytest.mark.parametrize("kwargs,message", [
    ({"amount": "1.00000001"}, "more than 7 decimal"),
    ({"amount": "0"}, "must be positive"),
    ({"amount": "-1"}, "negative"),
    ({"price": "0"}, "price must be a positive"),
    ({"price": "-2"}, "price must be a positive"),
    ({"price": "NaN"}, "price must be a positive"),
    ({"amount": "0.0000001", "price": "0.5"}, "below one stroop"),
    ({"amount": "900000000000", "price": "1000000"}, "exceeds Stellar's maximum"),
    ({"price": "0.00000000001"}, "int32"),
    ({"quote": BASE}, "same asset"),
    ({"order_type": OrderType.MARKET}, "a MARKET order is a path payment"),
])
def test_invalid_orders_fail_with_a_clear_message(kwargs, message):
    with pytest.raises(StellarOrderError, match=message) as info:
        operation_for(create(**kwargs))
    assert "HBOT-1" in str(info.value)


def test_cancel_needs_a_positive_offer_id():
    with pytest.raises(StellarOrderError, match="offer id"):
        operation_for(CancelOrderIntent("HBOT-1", BASE, QUOTE, TradeType.SELL, 0))


def test_intents_are_frozen():
    intent = create()
    with pytest.raises(AttributeError):
        intent.amount = Decimal(1)
    assert not intent.is_cancel
    assert CancelOrderIntent("x", BASE, QUOTE, TradeType.SELL, 1).is_cancel


def test_operation_for_rejects_other_objects():
    with pytest.raises(TypeError):
        operation_for("not an intent")
