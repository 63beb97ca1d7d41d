"""Asset keys: ``"native"`` or ``"CODE:ISSUER"``, and conversions to stellar-sdk, XDR and Horizon JSON.

Keys are plain strings so they hash and compare fast; conversions to and from XDR are cached
because the same few assets appear in every operation.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stellar_sdk import Asset
from stellar_sdk import xdr as stellar_xdr
from stellar_sdk.strkey import StrKey

NATIVE = "native"

_CODE_RE = re.compile(r"^[A-Za-z0-9]{1,12}$")
_TYPE_ORDER = {"native": 0, "credit_alphanum4": 1, "credit_alphanum12": 2}


def asset_key(code: str, issuer: str | None = None) -> str:
    """Key for an asset given as code and issuer (``"XLM"``/``"native"`` without issuer is native)."""
    if issuer is None:
        if code in ("native", "XLM"):
            return NATIVE
        raise ValueError(f"asset {code!r} needs an issuer")
    if not _CODE_RE.match(code):
        raise ValueError(f"invalid asset code {code!r}: 1-12 letters or digits")
    if not StrKey.is_valid_ed25519_public_key(issuer):
        raise ValueError(f"invalid issuer for asset {code!r}: {issuer!r}")
    return f"{code}:{issuer}"


def parse_key(key: str) -> tuple[str, str | None]:
    """(code, issuer) of a key; native is ``("XLM", None)``."""
    if key == NATIVE:
        return "XLM", None
    code, sep, issuer = key.partition(":")
    if not sep or not code or not issuer:
        raise ValueError(f"not an asset key: {key!r} (expected 'native' or 'CODE:ISSUER')")
    return code, issuer


def issuer_of(key: str) -> str | None:
    return None if key == NATIVE else key.partition(":")[2]


def asset_type(key: str) -> str:
    """Horizon's asset_type: native, credit_alphanum4 or credit_alphanum12."""
    if key == NATIVE:
        return "native"
    return "credit_alphanum4" if len(key.partition(":")[0]) <= 4 else "credit_alphanum12"


def key_from_sdk(asset: Asset) -> str:
    if asset.is_native():
        return NATIVE
    return f"{asset.code}:{asset.issuer}"


def sdk_from_key(key: str) -> Asset:
    code, issuer = parse_key(key)
    return Asset.native() if issuer is None else Asset(code, issuer)


@lru_cache(maxsize=4096)
def _account_strkey(raw: bytes) -> str:
    return StrKey.encode_ed25519_public_key(raw)


def account_id_from_xdr(account_id: stellar_xdr.AccountID) -> str:
    """G... address of an XDR AccountID."""
    return _account_strkey(account_id.account_id.ed25519.uint256)


def account_id_from_muxed(muxed: stellar_xdr.MuxedAccount) -> str:
    """G... address of the account behind an XDR MuxedAccount (the mux id is dropped)."""
    if muxed.ed25519 is not None:
        return _account_strkey(muxed.ed25519.uint256)
    return _account_strkey(muxed.med25519.ed25519.uint256)


@lru_cache(maxsize=65536)
def account_id_to_xdr(account_id: str) -> stellar_xdr.AccountID:
    """XDR AccountID of a G... address (cached; treat the result as read-only)."""
    raw = StrKey.decode_ed25519_public_key(account_id)
    return stellar_xdr.AccountID(
        stellar_xdr.PublicKey(stellar_xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, stellar_xdr.Uint256(raw))
    )


@lru_cache(maxsize=4096)
def _key_from_parts(type_value: int, code: bytes, issuer: bytes) -> str:
    if type_value == 0:
        return NATIVE
    text = code.rstrip(b"\0").decode("ascii")
    return f"{text}:{_account_strkey(issuer)}"


def key_from_xdr(asset: stellar_xdr.Asset | stellar_xdr.ChangeTrustAsset) -> str:
    """Key of an XDR Asset (or of a ChangeTrustAsset that is not a pool share)."""
    type_value = asset.type.value
    if type_value == 0:
        return NATIVE
    if type_value == 1:
        an = asset.alpha_num4
        return _key_from_parts(1, an.asset_code.asset_code4, an.issuer.account_id.ed25519.uint256)
    if type_value == 2:
        an = asset.alpha_num12
        return _key_from_parts(2, an.asset_code.asset_code12, an.issuer.account_id.ed25519.uint256)
    raise ValueError(f"unsupported asset type {asset.type!r}")


@lru_cache(maxsize=4096)
def xdr_from_key(key: str) -> stellar_xdr.Asset:
    """XDR Asset of a key (cached; treat the result as read-only)."""
    return sdk_from_key(key).to_xdr_object()


def is_valid_xdr_asset(asset: stellar_xdr.Asset | stellar_xdr.ChangeTrustAsset) -> bool:
    """stellar-core's isAssetValid: code of the right length, letters/digits, zero padded at the end only."""
    type_value = asset.type.value
    if type_value == 0:
        return True
    if type_value == 1:
        code, min_len = asset.alpha_num4.asset_code.asset_code4, 1
    elif type_value == 2:
        code, min_len = asset.alpha_num12.asset_code.asset_code12, 5
    else:
        return False
    text = code.rstrip(b"\x00")
    if len(text) < min_len or b"\x00" in text:
        return False
    return all(48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 for c in text)


def horizon_fields(key: str, prefix: str = "") -> dict[str, str]:
    """Horizon's asset fields, e.g. ``{"selling_asset_type": ..., "selling_asset_code": ..., ...}``."""
    if key == NATIVE:
        return {f"{prefix}asset_type": "native"}
    code, _, issuer = key.partition(":")
    return {
        f"{prefix}asset_type": "credit_alphanum4" if len(code) <= 4 else "credit_alphanum12",
        f"{prefix}asset_code": code,
        f"{prefix}asset_issuer": issuer,
    }


def key_from_horizon(fields: dict[str, str], prefix: str = "") -> str:
    """Key from Horizon query/JSON fields (``{prefix}asset_type``, ``_code``, ``_issuer``)."""
    kind = fields.get(f"{prefix}asset_type")
    if kind == "native":
        return NATIVE
    if kind not in ("credit_alphanum4", "credit_alphanum12"):
        raise ValueError(f"invalid {prefix}asset_type: {kind!r}")
    code = fields.get(f"{prefix}asset_code") or ""
    issuer = fields.get(f"{prefix}asset_issuer") or ""
    key = asset_key(code, issuer)
    if asset_type(key) != kind:
        raise ValueError(f"asset code {code!r} does not match {prefix}asset_type {kind!r}")
    return key


def asset_sort_key(key: str) -> tuple[int, str, str]:
    """stellar-core's asset order: native, then alphanum4, then alphanum12; by code, then issuer."""
    code, _, issuer = key.partition(":")
    return _TYPE_ORDER[asset_type(key)], code, issuer


def canonical_pair(a: str, b: str) -> tuple[str, str]:
    """(base, counter) for trades: stellar-core's asset order (native, alphanum4, alphanum12; code; issuer)."""
    return (a, b) if asset_sort_key(a) <= asset_sort_key(b) else (b, a)
