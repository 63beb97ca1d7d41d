"""Transaction bytes: operations packed to XDR, and signed transaction envelopes with their hash.

Everything here gives exactly the bytes stellar-sdk gives (`Operation.to_xdr_object().to_xdr_bytes()`,
`TransactionBuilder(...).build()` signed and `.to_xdr()`; tested), only faster:

- an offer operation (and a path payment) is packed with each asset's and account's XDR cached: stellar-sdk
  re-encodes both (a strkey decode each) for every operation, about 4/5 of the cost of packing an
  order (docs/performance_benchmarks.md);
- a transaction's header is packed with `struct` and its source account's XDR cached, instead of
  stellar-sdk packing a whole `Transaction` (strkey decode included) for every transaction;
- operations are packed once, when an order is submitted; a transaction joins their bytes, so an
  operation carried by a rebuilt transaction is not packed again;
- the transaction is hashed once and that hash is signed by every signer.

`operation_xdr_sdk`, `offer_xdr_sdk` and `header_xdr_sdk` are stellar-sdk's own packing, the reference
of the tests; `benchmarks/optimisations_ab.py` swaps them in for `operation_xdr`, `offer_xdr` and
`header_xdr` to measure the gain.
"""
from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from hashlib import sha256
from typing import Dict, Protocol, Sequence, Union

from stellar_sdk import (
    Asset,
    CreatePassiveSellOffer,
    ManageBuyOffer,
    ManageSellOffer,
    MuxedAccount,
    Preconditions,
    Price,
    TimeBounds,
    Transaction,
)
from stellar_sdk.operation import Operation

_UINT32 = struct.Struct(">I")

# Operations

_OP_TYPES = {ManageSellOffer: 3, CreatePassiveSellOffer: 4, ManageBuyOffer: 12}   # xdr.OperationType
_NO_SOURCE = _UINT32.pack(0)
_HAS_SOURCE = _UINT32.pack(1)
_AMOUNT_PRICE = struct.Struct(">qii")      # int64 amount, Price {int32 n, int32 d}
_OFFER_ID = _AMOUNT = struct.Struct(">q")
_XDR_CACHE_MAX = 4096


def operation_xdr(operation: Operation) -> bytes:
    """The XDR of an operation: offer operations packed here from cached asset and account XDR,
    any other operation by stellar-sdk."""
    op_type = _OP_TYPES.get(type(operation))
    if op_type is None:
        return operation.to_xdr_object().to_xdr_bytes()
    return offer_xdr(op_type, operation.selling, operation.buying, Operation.to_xdr_amount(operation.amount),
                     operation.price.n, operation.price.d, getattr(operation, "offer_id", 0), operation.source)


def offer_xdr(op_type: int, selling: Asset, buying: Asset, amount: int, price_n: int, price_d: int,
              offer_id: int = 0, source: Union[MuxedAccount, str, None] = None) -> bytes:
    """The XDR of an offer operation from its fields (`stellar_order_ops.OfferTerms`, then the
    operation's source): the bytes of the same stellar-sdk operation, without building it."""
    body = _AMOUNT_PRICE.pack(amount, price_n, price_d)
    if op_type != 4:   # a passive sell offer has no offer id
        body += _OFFER_ID.pack(offer_id)
    return b"".join((_operation_head(op_type, source), _cached_xdr(selling), _cached_xdr(buying), body))


def _operation_head(op_type: int, source: Union[MuxedAccount, str, None]) -> bytes:
    """An operation's optional source account and its type."""
    if source is None:
        return _NO_SOURCE + _UINT32.pack(op_type)
    return _HAS_SOURCE + _cached_xdr(source) + _UINT32.pack(op_type)


def offer_xdr_sdk(op_type: int, selling: Asset, buying: Asset, amount: int, price_n: int, price_d: int,
                  offer_id: int = 0, source: Union[MuxedAccount, str, None] = None) -> bytes:
    """`offer_xdr` as stellar-sdk packs it: the stellar-sdk operation built, then packed."""
    kind = {3: ManageSellOffer, 4: CreatePassiveSellOffer, 12: ManageBuyOffer}[op_type]
    extra = {} if op_type == 4 else {"offer_id": offer_id}
    return operation_xdr_sdk(kind(selling=selling, buying=buying, amount=Operation.from_xdr_amount(amount),
                                  price=Price(price_n, price_d), source=source, **extra))


def path_payment_xdr(op_type: int, send_asset: Asset, send_amount: int, destination: str, dest_asset: Asset,
                     dest_amount: int, path: Sequence[Asset] = (),
                     source: Union[MuxedAccount, str, None] = None) -> bytes:
    """The XDR of a path payment from its fields (`stellar_path_payments.PathPaymentTerms`, then the operation's
    source): both kinds are {send asset, int64, destination, dest asset, int64, path}; the bytes of
    `stellar_path_payments.sdk_operation`, without building it."""
    body = b"".join((_cached_xdr(send_asset), _AMOUNT.pack(send_amount), _cached_xdr(destination),
                     _cached_xdr(dest_asset), _AMOUNT.pack(dest_amount), _UINT32.pack(len(path)),
                     *(_cached_xdr(asset) for asset in path)))
    return _operation_head(op_type, source) + body


def operation_xdr_sdk(operation: Operation) -> bytes:
    """The XDR of an operation as stellar-sdk packs it."""
    return operation.to_xdr_object().to_xdr_bytes()


_xdr_cache: Dict[Union[Asset, MuxedAccount, str], bytes] = {}


def _cached_xdr(value: Union[Asset, MuxedAccount, str]) -> bytes:
    """The XDR of an asset or an account (a `MuxedAccount`, or its G... / M... address)."""
    packed = _xdr_cache.get(value)
    if packed is None:
        if len(_xdr_cache) >= _XDR_CACHE_MAX:
            _xdr_cache.clear()
        account = MuxedAccount.from_account(value) if isinstance(value, str) else value
        packed = _xdr_cache[value] = account.to_xdr_object().to_xdr_bytes()
    return packed


# Transaction header: the XDR of a `Transaction` up to, not including, its operations array.

# After the source account: fee (uint32), seqNum (int64), cond PRECOND_TIME (1) with TimeBounds
# {minTime 0, maxTime} (uint64 each), memo MEMO_NONE (0).
_HEADER_TAIL = struct.Struct(">IqIQQI")
_PRECOND_TIME = 1
_MEMO_NONE = 0
_EMPTY_OPS_AND_EXT = 8                # an operation-less transaction ends with ops count (0) and ext (0)


def header_xdr(source: MuxedAccount, sequence: int, fee: int, max_time: int) -> bytes:
    """Source account, fee, sequence, time bounds [0, max_time] and no memo, packed."""
    return _cached_xdr(source) + _HEADER_TAIL.pack(fee, sequence, _PRECOND_TIME, 0, max_time, _MEMO_NONE)


def header_xdr_sdk(source: MuxedAccount, sequence: int, fee: int, max_time: int) -> bytes:
    """`header_xdr` as stellar-sdk packs it: an operation-less transaction, less its empty operations
    array and its ext (the last 8 bytes)."""
    header = Transaction(source=source, sequence=sequence, fee=fee, operations=[],
                         preconditions=Preconditions(time_bounds=TimeBounds(0, max_time)))
    return header.to_xdr_object().to_xdr_bytes()[:-_EMPTY_OPS_AND_EXT]


# Envelope

_ENVELOPE_TYPE_TX = _UINT32.pack(2)   # EnvelopeType.ENVELOPE_TYPE_TX: tags the signature payload and the envelope
_TX_EXT_V0 = _UINT32.pack(0)          # Transaction.ext, version 0


class Signer(Protocol):
    """What signs a transaction hash: `stellar_auth.TransactionSigner`."""

    def signatures(self, tx_hash: bytes) -> Sequence[bytes]:
        """One `DecoratedSignature` XDR per signer."""


@dataclass(frozen=True, slots=True)
class SignedEnvelope:
    envelope_xdr: str     # base64 TransactionEnvelope (ENVELOPE_TYPE_TX), as Horizon takes it
    tx_hash: str          # hex, as Horizon names the transaction
    sequence: int
    max_time: int         # after it, the transaction can no longer apply


class EnvelopeBuilder:
    """Builds signed transaction envelopes for one network."""

    def __init__(self, network_passphrase: str):
        self.network_passphrase = network_passphrase
        self._network_id = sha256(network_passphrase.encode()).digest()

    @staticmethod
    def pack(operation: Operation) -> bytes:
        """The operation's XDR (`operation_xdr`), for `build`."""
        return operation_xdr(operation)

    @staticmethod
    def pack_offer(terms: Sequence, source: Union[MuxedAccount, str, None] = None) -> bytes:
        """An offer operation's XDR from `stellar_order_ops.OfferTerms` (`offer_xdr`), for `build`."""
        return offer_xdr(*terms, source)

    @staticmethod
    def pack_path_payment(terms: Sequence, source: Union[MuxedAccount, str, None] = None) -> bytes:
        """A path payment's XDR from `stellar_path_payments.PathPaymentTerms` (`path_payment_xdr`), for `build`."""
        return path_payment_xdr(*terms, source)

    def build(self, source: MuxedAccount, sequence: int, fee: int, max_time: int,
              operations: Sequence[bytes], signer: Signer) -> SignedEnvelope:
        """The envelope of a transaction from `source` with `sequence`, total `fee` (stroops), time bounds
        [0, max_time], no memo and the packed `operations` in order, signed by `signer`."""
        tx_bytes = b"".join((header_xdr(source, sequence, fee, max_time), _UINT32.pack(len(operations)),
                             *operations, _TX_EXT_V0))
        tx_hash = sha256(self._network_id + _ENVELOPE_TYPE_TX + tx_bytes).digest()
        signatures = signer.signatures(tx_hash)
        envelope = b"".join((_ENVELOPE_TYPE_TX, tx_bytes, _UINT32.pack(len(signatures)), *signatures))
        return SignedEnvelope(base64.b64encode(envelope).decode(), tx_hash.hex(), sequence, max_time)

    def __repr__(self) -> str:
        return f"EnvelopeBuilder(network_passphrase={self.network_passphrase!r})"
