"""The trading keypair and optional channel keypairs. Horizon requests are public, so REST and WS
authentication pass requests through; what needs the keys is signing transactions.

Secrets are kept inside stellar-sdk `Keypair`s and never appear in a repr, a log or an error.
"""
from typing import Dict, Iterable, List, Optional, Union

from hummingbot.core.web_assistant.auth import AuthBase
from hummingbot.core.web_assistant.connections.data_types import RESTRequest, WSRequest
from stellar_sdk import Keypair, TransactionEnvelope


def _keypair_from_secret(secret: str, what: str) -> Keypair:
    if not isinstance(secret, str) or not secret.strip():
        raise ValueError(f"The {what} is empty: enter a Stellar secret key (56 characters starting with S)")
    try:
        return Keypair.from_secret(secret.strip())
    except Exception:
        pass
    # Raised outside the except block so the SDK's error, which may quote its input, is not chained.
    raise ValueError(f"The {what} is not a valid Stellar secret key (56 characters starting with S)")


def split_secret_keys(secrets: Union[None, str, Iterable[str]]) -> List[str]:
    """Comma separated text (as the config stores it) or a sequence -> the non-blank secrets."""
    if secrets is None:
        return []
    if isinstance(secrets, str):
        secrets = secrets.split(",")
    return [s.strip() for s in secrets if s and s.strip()]


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
    def keypair(self) -> Keypair:
        return self._keypair

    @property
    def channel_account_ids(self) -> List[str]:
        return list(self._channels)

    def channel_keypair(self, account_id: str) -> Optional[Keypair]:
        return self._channels.get(account_id)

    def sign(self, transaction_envelope: TransactionEnvelope) -> TransactionEnvelope:
        """Sign in place and return the envelope. The transaction's source signs (the trading account or
        one of our channel accounts); the trading account also signs when it is the source of any
        operation. No other signature is added, since Stellar rejects unneeded ones (tx_bad_auth_extra)."""
        transaction = transaction_envelope.transaction
        trading_id = self._keypair.public_key
        source_id = transaction.source.account_id
        if source_id == trading_id:
            transaction_envelope.sign(self._keypair)
            return transaction_envelope
        channel = self._channels.get(source_id)
        if channel is None:
            raise ValueError(f"Transaction source {source_id} is neither the trading account {trading_id} "
                             f"nor one of the configured channel accounts")
        transaction_envelope.sign(channel)
        if any(op.source is not None and op.source.account_id == trading_id for op in transaction.operations):
            transaction_envelope.sign(self._keypair)
        return transaction_envelope

    async def rest_authenticate(self, request: RESTRequest) -> RESTRequest:
        return request  # Horizon's API is public

    async def ws_authenticate(self, request: WSRequest) -> WSRequest:
        return request

    def __repr__(self) -> str:
        channels = ", ".join(self._channels)
        return f"StellarAuth(account_id={self.account_id}, channel_account_ids=[{channels}])"

    __str__ = __repr__
