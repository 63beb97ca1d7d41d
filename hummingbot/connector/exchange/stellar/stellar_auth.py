"""The trading keypair and optional channel keypairs. Horizon requests are public, so REST and WS
authentication pass requests through; what needs the keys is signing transactions, and every
signature the connector makes goes through one rule here (`StellarAuth.transaction_signer`).

Secrets are kept inside stellar-sdk `Keypair`s and never appear in a repr, a log or an error.
"""
import struct
from typing import Any, Dict, Iterable, List, Sequence, Tuple, Union

from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest, WSRequest
from nacl.bindings import crypto_sign, crypto_sign_BYTES, crypto_sign_seed_keypair
from stellar_sdk import Keypair, TransactionEnvelope

_ED25519_SIGNATURE_LENGTH = struct.pack(">I", 64)   # DecoratedSignature.signature is opaque<64>


def _keypair_from_secret(secret: str, what: str) -> Keypair:
    if not isinstance(secret, str) or not secret.strip():
        raise ValueError(f"The {what} is empty: enter a Stellar secret key (56 characters starting with S)")
    try:
        return Keypair.from_secret(secret.strip())
    except Exception:
        pass
    # Raised outside the except block so the SDK's error, which may quote its input, is not chained.
    raise ValueError(f"The {what} is not a valid Stellar secret key (56 characters starting with S)")


def reveal(value: Any) -> Any:
    """Config values may arrive as pydantic SecretStr; this module keeps them from then on."""
    get_secret_value = getattr(value, "get_secret_value", None)
    return get_secret_value() if get_secret_value is not None else value


def split_secret_keys(secrets: Union[None, str, Iterable[str]]) -> List[str]:
    """Comma separated text (as the config stores it) or a sequence -> the non-blank secrets."""
    if secrets is None:
        return []
    if isinstance(secrets, str):
        secrets = secrets.split(",")
    return [s.strip() for s in secrets if s and s.strip()]


class TransactionSigner:
    """Signs the transactions of one source account with the keypairs the signing rule chose for it
    (`StellarAuth.transaction_signer`), in that order. Shows public keys only."""

    __slots__ = ("_keypairs", "_signing")

    def __init__(self, keypairs: Sequence[Keypair]):
        self._keypairs = tuple(keypairs)
        # Per signer, once: its signature's XDR prefix (hint, length), which stellar-sdk derives per signature, and
        # libsodium's 64-byte signing key, for PyNaCl's crypto_sign without SigningKey.sign's wrapping (same bytes).
        self._signing = tuple((keypair.signature_hint() + _ED25519_SIGNATURE_LENGTH,
                               crypto_sign_seed_keypair(keypair.raw_secret_key())[1]) for keypair in keypairs)

    @property
    def public_keys(self) -> Tuple[str, ...]:
        return tuple(keypair.public_key for keypair in self._keypairs)

    def signatures(self, tx_hash: bytes) -> List[bytes]:
        """One `DecoratedSignature` XDR per signer over `tx_hash` (the bytes `Keypair.sign_decorated` packs)."""
        return [prefix + crypto_sign(tx_hash, signing_key)[:crypto_sign_BYTES] for prefix, signing_key in self._signing]

    def sign(self, transaction_envelope: TransactionEnvelope) -> TransactionEnvelope:
        """Add each signer's signature to a stellar-sdk envelope; returns it."""
        for keypair in self._keypairs:
            transaction_envelope.sign(keypair)
        return transaction_envelope

    def __repr__(self) -> str:
        return f"TransactionSigner(public_keys=[{', '.join(self.public_keys)}])"

    __str__ = __repr__


class StellarAuth(AuthBase):
    def __init__(self, secret_key: str, channel_secret_keys: Union[None, str, Iterable[str]] = None):
        self._keypair = _keypair_from_secret(secret_key, "trading secret key")
        channels: Dict[str, Keypair] = {}
        for index, secret in enumerate(split_secret_keys(channel_secret_keys), start=1):
            keypair = _keypair_from_secret(secret, f"channel secret key #{index}")
            if keypair.public_key == self._keypair.public_key:
                raise ValueError(f"Channel secret key #{index} is the trading account's own key; "
                                 f"channel accounts must be separate accounts")
            channels[keypair.public_key] = keypair
        self._channels = channels

    @property
    def account_id(self) -> str:
        """The trading account's public key (G...)."""
        return self._keypair.public_key

    @property
    def channel_account_ids(self) -> List[str]:
        return list(self._channels)

    def transaction_sources(self) -> List[Tuple[str, TransactionSigner]]:
        """The accounts the connector's transactions come from, each with its signer: each channel
        account, whose transactions' operations the trading account sources (so it signs them too);
        without channels, the trading account alone."""
        if not self._channels:
            return [(self.account_id, self.transaction_signer(self.account_id))]
        return [(channel_id, self.transaction_signer(channel_id, trader_sources_operations=True))
                for channel_id in self._channels]

    def transaction_signer(self, source_account_id: str, trader_sources_operations: bool = False
                           ) -> TransactionSigner:
        """The signing rule: the transaction's source signs (the trading account or one of our channel
        accounts); the trading account also signs when it is the source of an operation
        (`trader_sources_operations`), after the source. No other signature is added, since Stellar
        rejects unneeded ones (tx_bad_auth_extra). ValueError for a source that is not ours."""
        trading_id = self._keypair.public_key
        if source_account_id == trading_id:
            return TransactionSigner((self._keypair,))
        channel = self._channels.get(source_account_id)
        if channel is None:
            raise ValueError(f"Transaction source {source_account_id} is neither the trading account {trading_id} "
                             f"nor one of the configured channel accounts")
        return TransactionSigner((channel, self._keypair) if trader_sources_operations else (channel,))

    def sign(self, transaction_envelope: TransactionEnvelope) -> TransactionEnvelope:
        """Sign a stellar-sdk envelope in place by the signing rule (`transaction_signer`) and return it."""
        transaction = transaction_envelope.transaction
        trading_id = self._keypair.public_key
        trader_sources_operations = any(op.source is not None and op.source.account_id == trading_id
                                        for op in transaction.operations)
        signer = self.transaction_signer(transaction.source.account_id, trader_sources_operations)
        return signer.sign(transaction_envelope)

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        return request  # Horizon's API is public

    async def ws_authenticate(self, request: WSRequest) -> WSRequest:
        return request

    def __repr__(self) -> str:
        channels = ", ".join(self._channels)
        return f"StellarAuth(account_id={self.account_id}, channel_account_ids=[{channels}])"

    __str__ = __repr__
