"""The connector's own XDR packing gives exactly stellar-sdk's bytes (operations, transaction header)."""
from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from stellar_sdk import (
    Asset,
    ChangeTrust,
    CreatePassiveSellOffer,
    Keypair,
    ManageBuyOffer,
    ManageSellOffer,
    MuxedAccount,
    Price,
)

from hummingbot.connector.exchange.stellar.stellar_order_ops import (
    CancelOrderIntent,
    CreateOrderIntent,
    operation_for,
    operation_xdr,
)
from hummingbot.connector.exchange.stellar.stellar_tx_pipeline import _encode_header, _encode_header_sdk

ISSUER = Keypair.from_raw_ed25519_seed(bytes([3] * 32)).public_key
TRADER = Keypair.from_raw_ed25519_seed(bytes([4] * 32)).public_key
ASSETS = [Asset.native(), Asset("USDC", ISSUER), Asset("LONGASSETCDE", ISSUER), Asset("A", ISSUER)]
SOURCES = [None, TRADER, MuxedAccount(TRADER), MuxedAccount(TRADER, 2**64 - 1)]


def _sdk_bytes(operation) -> bytes:
    return operation.to_xdr_object().to_xdr_bytes()


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", [ManageSellOffer, ManageBuyOffer])
def test_offer_operations_pack_as_stellar_sdk_does(kind, source):
    for selling, buying in [(ASSETS[0], ASSETS[1]), (ASSETS[2], ASSETS[0]), (ASSETS[3], ASSETS[2])]:
        for amount, price, offer_id in [("10.0000000", Price(1, 10), 0), ("0", Price(1, 1), 2**63 - 1),
                                        ("922337203685.4775807", Price(2**31 - 1, 3), 12345),
                                        ("0.0000001", Price(7, 2**31 - 1), 1)]:
            operation = kind(selling=selling, buying=buying, amount=amount, price=price, offer_id=offer_id,
                             source=source)
            assert operation_xdr(operation) == _sdk_bytes(operation)


@pytest.mark.parametrize("source", SOURCES)
def test_passive_offers_pack_as_stellar_sdk_does(source):
    operation = CreatePassiveSellOffer(selling=ASSETS[1], buying=ASSETS[0], amount="123.4567891",
                                       price=Price(3, 7), source=source)
    assert operation_xdr(operation) == _sdk_bytes(operation)


def test_every_intent_packs_as_stellar_sdk_does():
    base, quote = ASSETS[0], ASSETS[1]
    intents = [CreateOrderIntent("c", base, quote, side, kind, Decimal("12.5"), Decimal("0.1234567"))
               for side in (TradeType.BUY, TradeType.SELL) for kind in (OrderType.LIMIT, OrderType.LIMIT_MAKER)]
    intents += [CancelOrderIntent("c", base, quote, side, 987654321, kind)
                for side in (TradeType.BUY, TradeType.SELL) for kind in (OrderType.LIMIT, OrderType.LIMIT_MAKER)]
    for intent in intents:
        for source in (None, MuxedAccount(TRADER)):
            operation = operation_for(intent, source)
            assert operation_xdr(operation) == _sdk_bytes(operation)


def test_other_operations_are_left_to_stellar_sdk():
    operation = ChangeTrust(asset=ASSETS[1], limit="1000")
    assert operation_xdr(operation) == _sdk_bytes(operation)


@pytest.mark.parametrize("source", [MuxedAccount(TRADER), MuxedAccount(TRADER, 42)])
@pytest.mark.parametrize("sequence, fee, max_time", [(1, 100, 0), (2**63 - 1, 2**32 - 1, 2**64 - 1),
                                                     (4_294_967_297, 10_000, 1_900_000_000)])
def test_transaction_header_packs_as_stellar_sdk_does(source, sequence, fee, max_time):
    assert _encode_header(source, sequence, fee, max_time) == _encode_header_sdk(source, sequence, fee, max_time)
