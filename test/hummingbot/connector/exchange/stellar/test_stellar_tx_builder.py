"""The transaction builder's bytes are exactly stellar-sdk's: operations, transaction header, and
whole signed envelopes and their hashes (against `TransactionBuilder` and `TransactionEnvelope.to_xdr`)."""
from decimal import Decimal

import pytest
from hummingbot.core.data_type.common import OrderType, TradeType
from stellar_sdk import (
    Account,
    Asset,
    ChangeTrust,
    CreatePassiveSellOffer,
    Keypair,
    ManageBuyOffer,
    ManageSellOffer,
    MuxedAccount,
    Price,
    TransactionBuilder,
    TransactionEnvelope,
)

from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth
from hummingbot.connector.exchange.stellar.stellar_order_ops import (
    CancelOrderIntent,
    CreateOrderIntent,
    offer_terms,
    operation_for,
)
from hummingbot.connector.exchange.stellar.stellar_tx_builder import (
    EnvelopeBuilder,
    header_xdr,
    header_xdr_sdk,
    offer_xdr,
    offer_xdr_sdk,
    operation_xdr,
    operation_xdr_sdk,
)

PASSPHRASE = "Standalone Network ; February 2017"
ISSUER = Keypair.from_raw_ed25519_seed(bytes([3] * 32)).public_key
TRADER_KEYS = Keypair.from_raw_ed25519_seed(bytes([4] * 32))
CHANNEL_KEYS = [Keypair.from_raw_ed25519_seed(bytes([i] * 32)) for i in (5, 6)]
TRADER = TRADER_KEYS.public_key
ASSETS = [Asset.native(), Asset("USDC", ISSUER), Asset("LONGASSETCDE", ISSUER), Asset("A", ISSUER)]
SOURCES = [None, TRADER, MuxedAccount(TRADER), MuxedAccount(TRADER, 2**64 - 1)]


def _sdk_bytes(operation) -> bytes:
    return operation.to_xdr_object().to_xdr_bytes()


def test_the_sdk_reference_packing_is_stellar_sdks():
    operation = ManageSellOffer(selling=ASSETS[0], buying=ASSETS[1], amount="1", price=Price(1, 2), source=TRADER)
    assert operation_xdr_sdk(operation) == _sdk_bytes(operation)


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


@pytest.mark.parametrize("source", SOURCES)
def test_every_intent_packs_from_its_terms_as_stellar_sdk_packs_its_operation(source):
    """The pipeline's way (offer_terms, then offer_xdr: no stellar-sdk object) gives the bytes of the
    stellar-sdk operation operation_for makes, for every intent kind, side and amount."""
    for base, quote in [(ASSETS[0], ASSETS[1]), (ASSETS[2], ASSETS[0]), (ASSETS[3], ASSETS[2])]:
        intents = [CreateOrderIntent("c", base, quote, side, kind, amount, price)
                   for side in (TradeType.BUY, TradeType.SELL) for kind in (OrderType.LIMIT, OrderType.LIMIT_MAKER)
                   for amount, price in [(Decimal("12.5"), Decimal("0.1234567")), (Decimal("0.0000001"),
                                         Decimal("2147483647")), (Decimal("922337203.6854775"), Decimal("3.3"))]]
        intents += [CancelOrderIntent("c", base, quote, side, offer_id, kind)
                    for side in (TradeType.BUY, TradeType.SELL) for kind in (OrderType.LIMIT, OrderType.LIMIT_MAKER)
                    for offer_id in (1, 987654321, 2**63 - 1)]
        for intent in intents:
            terms = offer_terms(intent)
            expected = _sdk_bytes(operation_for(intent, source))
            assert EnvelopeBuilder.pack_offer(terms, source) == offer_xdr(*terms, source) == expected
            assert offer_xdr_sdk(*terms, source) == expected


def test_other_operations_are_left_to_stellar_sdk():
    operation = ChangeTrust(asset=ASSETS[1], limit="1000")
    assert operation_xdr(operation) == _sdk_bytes(operation)


@pytest.mark.parametrize("source", [MuxedAccount(TRADER), MuxedAccount(TRADER, 42)])
@pytest.mark.parametrize("sequence, fee, max_time", [(1, 100, 0), (2**63 - 1, 2**32 - 1, 2**64 - 1),
                                                     (4_294_967_297, 10_000, 1_900_000_000)])
def test_transaction_header_packs_as_stellar_sdk_does(source, sequence, fee, max_time):
    assert header_xdr(source, sequence, fee, max_time) == header_xdr_sdk(source, sequence, fee, max_time)


# Whole envelopes

BASE, QUOTE = ASSETS[1], ASSETS[0]
CREATES = [CreateOrderIntent(f"c{n}", BASE, QUOTE, side, kind, Decimal("12.5") + n, Decimal("0.1234567"))
           for n, (side, kind) in enumerate((s, k) for s in (TradeType.BUY, TradeType.SELL)
                                            for k in (OrderType.LIMIT, OrderType.LIMIT_MAKER))]
CANCELS = [CancelOrderIntent(f"x{n}", BASE, QUOTE, side, 987654321 + n, kind)
           for n, (side, kind) in enumerate((s, k) for s in (TradeType.BUY, TradeType.SELL)
                                            for k in (OrderType.LIMIT, OrderType.LIMIT_MAKER))]
PASSIVE = [CreateOrderIntent("p", BASE, QUOTE, side, OrderType.LIMIT_MAKER, Decimal("3"), Decimal("0.25"))
           for side in (TradeType.BUY, TradeType.SELL)]
BATCHES = {
    "one create": CREATES[2:3], "creates": CREATES, "one cancel": CANCELS[:1], "cancels": CANCELS,
    "passive offers": PASSIVE, "mixed": CREATES + CANCELS + PASSIVE,
    "100 ops": [CreateOrderIntent(f"b{n}", BASE, QUOTE, TradeType.SELL, OrderType.LIMIT, Decimal(n + 1),
                                  Decimal("0.5")) for n in range(100)],
}


def _sdk_envelope(source_id: str, sequence: int, fee_per_op: int, max_time: int, operations, keypairs):
    builder = TransactionBuilder(Account(source_id, sequence - 1), PASSPHRASE, base_fee=fee_per_op)
    for operation in operations:
        builder.append_operation(operation)
    envelope = builder.add_time_bounds(0, max_time).build()
    for keypair in keypairs:
        envelope.sign(keypair)
    return envelope


@pytest.mark.parametrize("batch", list(BATCHES))
@pytest.mark.parametrize("channel", [False, True], ids=["trader source", "channel source"])
def test_signed_envelope_is_stellar_sdks(batch, channel):
    auth = StellarAuth(TRADER_KEYS.secret, [c.secret for c in CHANNEL_KEYS])
    source_id = CHANNEL_KEYS[1].public_key if channel else TRADER
    op_source = MuxedAccount(TRADER) if channel else None       # with a channel, the trader sources each op
    operations = [operation_for(intent, op_source) for intent in BATCHES[batch]]
    sequence, fee_per_op, max_time = 4_294_967_297, 250, 1_900_000_030
    signer = auth.transaction_signer(source_id, trader_sources_operations=channel)
    built = EnvelopeBuilder(PASSPHRASE).build(MuxedAccount(source_id), sequence, fee_per_op * len(operations),
                                              max_time, [operation_xdr(op) for op in operations], signer)

    keypairs = [CHANNEL_KEYS[1], TRADER_KEYS] if channel else [TRADER_KEYS]
    expected = _sdk_envelope(source_id, sequence, fee_per_op, max_time, operations, keypairs)
    assert built.envelope_xdr == expected.to_xdr()
    assert built.tx_hash == expected.hash_hex()
    assert (built.sequence, built.max_time) == (sequence, max_time)
    signed_by_auth = auth.sign(_sdk_envelope(source_id, sequence, fee_per_op, max_time, operations, []))
    assert built.envelope_xdr == signed_by_auth.to_xdr()         # one signing rule, whichever path signs

    decoded = TransactionEnvelope.from_xdr(built.envelope_xdr, PASSPHRASE)
    assert len(decoded.signatures) == len(keypairs)
    for keypair, signature in zip(keypairs, decoded.signatures, strict=True):
        keypair.verify(decoded.hash(), signature.signature)


def test_envelope_hash_depends_on_the_network():
    operations = [operation_xdr(operation_for(CREATES[0]))]
    signer = StellarAuth(TRADER_KEYS.secret).transaction_signer(TRADER)
    args = (MuxedAccount(TRADER), 2, 100, 1_900_000_000, operations, signer)
    other = "Test SDF Network ; September 2015"
    assert EnvelopeBuilder(PASSPHRASE).build(*args).tx_hash != EnvelopeBuilder(other).build(*args).tx_hash
    assert EnvelopeBuilder(other).build(*args).tx_hash == TransactionEnvelope.from_xdr(
        EnvelopeBuilder(other).build(*args).envelope_xdr, other).hash_hex()


def test_pack_is_operation_xdr():
    operation = operation_for(CANCELS[1], MuxedAccount(TRADER))
    assert EnvelopeBuilder(PASSPHRASE).pack(operation) == operation_xdr(operation) == _sdk_bytes(operation)
