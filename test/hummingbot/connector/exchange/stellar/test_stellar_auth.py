import pytest
from hummingbot.core.web_assistant.connections.data_types import RESTMethod, RESTRequest, WSJSONRequest
from stellar_sdk import Account, Asset, Keypair, Network, TransactionBuilder, TransactionEnvelope
from stellar_sdk.exceptions import BadSignatureError

from hummingbot.connector.exchange.stellar.stellar_auth import StellarAuth, split_secret_keys

PASSPHRASE = "Standalone Network ; February 2017"
USDC = Asset("USDC", Keypair.random().public_key)


def build_envelope(source_id: str, op_source: str = None):
    builder = TransactionBuilder(Account(source_id, 41), network_passphrase=PASSPHRASE, base_fee=100)
    builder.append_manage_sell_offer_op(selling=Asset.native(), buying=USDC, amount="10", price="0.25",
                                        source=op_source)
    return builder.set_timeout(30).build()


def signers_of(envelope, keypairs):
    """Which of `keypairs` produced a valid signature, checked as the network would: on the decoded
    XDR envelope, with public keys only."""
    decoded = TransactionEnvelope.from_xdr(envelope.to_xdr(), PASSPHRASE)
    tx_hash = decoded.hash()
    signed = []
    for keypair in keypairs:
        public = Keypair.from_public_key(keypair.public_key)
        for signature in decoded.signatures:
            if signature.signature_hint == public.signature_hint():
                public.verify(tx_hash, signature.signature)  # raises BadSignatureError if invalid
                signed.append(public.public_key)
    return signed


def test_account_id_is_the_public_key():
    trader = Keypair.random()
    auth = StellarAuth(trader.secret)
    assert auth.account_id == trader.public_key
    assert auth.channel_account_ids == []


def test_signature_verifies_with_the_public_key():
    trader = Keypair.random()
    auth = StellarAuth(trader.secret)
    envelope = build_envelope(trader.public_key)
    assert auth.sign(envelope) is envelope
    assert signers_of(envelope, [trader]) == [trader.public_key]
    assert len(envelope.signatures) == 1
    assert envelope.network_passphrase == PASSPHRASE
    assert Network(PASSPHRASE).network_id()  # signature is over this network's hash


def test_channel_transaction_is_signed_by_channel_and_trader():
    trader, channel, spare = Keypair.random(), Keypair.random(), Keypair.random()
    auth = StellarAuth(trader.secret, f"{channel.secret}, {spare.secret}")
    assert set(auth.channel_account_ids) == {channel.public_key, spare.public_key}
    envelope = build_envelope(channel.public_key, op_source=trader.public_key)
    auth.sign(envelope)
    assert sorted(signers_of(envelope, [trader, channel, spare])) == sorted([trader.public_key, channel.public_key])
    assert len(envelope.signatures) == 2


def test_channel_transaction_without_trader_operations_has_no_extra_signature():
    trader, channel = Keypair.random(), Keypair.random()
    auth = StellarAuth(trader.secret, [channel.secret])
    envelope = build_envelope(channel.public_key)
    auth.sign(envelope)
    assert signers_of(envelope, [trader, channel]) == [channel.public_key]


def test_foreign_source_is_refused():
    auth = StellarAuth(Keypair.random().secret)
    stranger = Keypair.random().public_key
    with pytest.raises(ValueError, match=stranger):
        auth.sign(build_envelope(stranger))


def test_transaction_signer_applies_the_signing_rule():
    trader, channel = Keypair.random(), Keypair.random()
    auth = StellarAuth(trader.secret, [channel.secret])
    assert auth.transaction_signer(trader.public_key).public_keys == (trader.public_key,)
    assert auth.transaction_signer(trader.public_key, trader_sources_operations=True).public_keys == (
        trader.public_key,)
    assert auth.transaction_signer(channel.public_key).public_keys == (channel.public_key,)
    assert auth.transaction_signer(channel.public_key, trader_sources_operations=True).public_keys == (
        channel.public_key, trader.public_key)          # the source first, as `sign` adds them
    stranger = Keypair.random().public_key
    with pytest.raises(ValueError, match=stranger):
        auth.transaction_signer(stranger)


def test_transaction_sources_are_the_channels_when_there_are_any():
    trader, channel, spare = Keypair.random(), Keypair.random(), Keypair.random()
    [(source, signer)] = StellarAuth(trader.secret).transaction_sources()
    assert source == trader.public_key and signer.public_keys == (trader.public_key,)
    sources = StellarAuth(trader.secret, [channel.secret, spare.secret]).transaction_sources()
    assert [(s, signer.public_keys) for s, signer in sources] == [
        (channel.public_key, (channel.public_key, trader.public_key)),   # the trader sources the operations
        (spare.public_key, (spare.public_key, trader.public_key))]


def test_transaction_signer_signatures_are_stellar_sdks_decorated_signatures():
    trader, channel = Keypair.random(), Keypair.random()
    signer = StellarAuth(trader.secret, [channel.secret]).transaction_signer(channel.public_key, True)
    envelope = build_envelope(channel.public_key, op_source=trader.public_key)
    tx_hash = envelope.hash()
    assert signer.signatures(tx_hash) == [keypair.sign_decorated(tx_hash).to_xdr_object().to_xdr_bytes()
                                          for keypair in (channel, trader)]
    assert signer.sign(envelope) is envelope
    assert [s.to_xdr_object().to_xdr_bytes() for s in envelope.signatures] == signer.signatures(tx_hash)


def test_transaction_signer_repr_shows_only_public_keys():
    trader, channel = Keypair.random(), Keypair.random()
    signer = StellarAuth(trader.secret, [channel.secret]).transaction_signer(channel.public_key, True)
    for text in (repr(signer), str(signer), f"{signer}"):
        assert trader.public_key in text and channel.public_key in text
        assert trader.secret not in text and channel.secret not in text


def with_bad_checksum(secret: str) -> str:
    """The secret with its last character changed (so its checksum no longer matches)."""
    return secret[:-1] + ("B" if secret[-1] == "A" else "A")


@pytest.mark.parametrize("bad", ["", "   ", "SABC", "GA5ZSEJYB37JRC5AVCIA5MOP4RHTM335X2KGX3IHOJAPP5RE34K4KZVN",
                                 with_bad_checksum(Keypair.random().secret)])
def test_invalid_secret_is_a_clear_error_without_the_secret(bad):
    with pytest.raises(ValueError) as info:
        StellarAuth(bad)
    assert "secret key" in str(info.value)
    if bad.strip():
        assert bad not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_invalid_channel_secret_names_its_position_not_its_value():
    bad = with_bad_checksum(Keypair.random().secret)
    with pytest.raises(ValueError) as info:
        StellarAuth(Keypair.random().secret, [Keypair.random().secret, bad])
    assert "#2" in str(info.value) and bad not in str(info.value)


def test_trading_key_cannot_be_its_own_channel():
    trader = Keypair.random()
    with pytest.raises(ValueError, match="separate accounts"):
        StellarAuth(trader.secret, trader.secret)


def test_repr_and_str_show_only_public_keys():
    trader, channel = Keypair.random(), Keypair.random()
    auth = StellarAuth(trader.secret, [channel.secret])
    for text in (repr(auth), str(auth), f"{auth}"):
        assert trader.public_key in text and channel.public_key in text
        assert trader.secret not in text and channel.secret not in text


def test_split_secret_keys():
    assert split_secret_keys(None) == []
    assert split_secret_keys("") == []
    assert split_secret_keys(" a, ,b ") == ["a", "b"]
    assert split_secret_keys(["a", " ", "b"]) == ["a", "b"]


async def test_requests_pass_through_unchanged():
    auth = StellarAuth(Keypair.random().secret)
    request = RESTRequest(method=RESTMethod.GET, url="http://127.0.0.1/order_book", params={"limit": 20})
    assert await auth.rest_authenticate(request) is request
    assert request.headers is None
    ws_request = WSJSONRequest(payload={"a": 1})
    assert await auth.ws_authenticate(ws_request) is ws_request


def test_signature_does_not_verify_for_another_network():
    trader = Keypair.random()
    envelope = StellarAuth(trader.secret).sign(build_envelope(trader.public_key))
    other = TransactionEnvelope.from_xdr(envelope.to_xdr(), "Test SDF Network ; September 2015")
    with pytest.raises(BadSignatureError):
        Keypair.from_public_key(trader.public_key).verify(other.hash(), other.signatures[0].signature)
