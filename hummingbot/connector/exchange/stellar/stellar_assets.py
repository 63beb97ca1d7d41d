"""Stellar assets: parsing user text, keys, token names and Horizon query parameters."""
import re
from typing import Dict, Tuple

from stellar_sdk import Asset
from stellar_sdk.strkey import StrKey

from hummingbot.connector.exchange.stellar.stellar_constants import NATIVE_ASSET_CODE

_NATIVE = Asset.native()
_NATIVE_WORDS = frozenset({"xlm", "native"})
_CODE_RE = re.compile(r"[A-Za-z0-9]{1,12}")
# Horizon records seen so far, by (type, code, issuer); bounded because streams carry whatever others trade
_HORIZON_ASSETS: Dict[Tuple[str, str, str], Asset] = {}
_HORIZON_ASSETS_MAX = 4096


class StellarConfigError(ValueError):
    """The user's configuration (an asset, a market, a pair) cannot be used as written."""


def native_asset() -> Asset:
    return _NATIVE


def parse_asset(text: str) -> Asset:
    """`"XLM"` or `"native"` -> lumens; `"CODE:ISSUER"` -> an issued asset. Anything else is an error."""
    if not isinstance(text, str):
        raise StellarConfigError(f"An asset must be written as text ('XLM' or 'CODE:ISSUER'), got {text!r}")
    stripped = text.strip()
    if stripped.lower() in _NATIVE_WORDS:
        return _NATIVE
    code, sep, issuer = stripped.partition(":")
    if not sep:
        raise StellarConfigError(
            f"Asset {text!r} has no issuer: write it as CODE:ISSUER (e.g. USDC:G...), or XLM for lumens")
    code, issuer = code.strip(), issuer.strip()
    if not _CODE_RE.fullmatch(code):
        raise StellarConfigError(f"Asset {text!r}: the code must be 1 to 12 letters or digits, got {code!r}")
    if not StrKey.is_valid_ed25519_public_key(issuer):
        raise StellarConfigError(f"Asset {text!r}: the issuer {issuer!r} is not a valid Stellar account id (G...)")
    return Asset(code, issuer)


def asset_key(asset: Asset) -> str:
    """`"native"` or `"CODE:ISSUER"`: one string per asset, as Horizon and the sandbox write it.

    `parse_asset` reads it back."""
    issuer = asset.issuer
    return "native" if issuer is None else f"{asset.code}:{issuer}"


def token_name(asset: Asset) -> str:
    """The name Hummingbot shows: `"XLM"` for lumens, otherwise the asset code."""
    return NATIVE_ASSET_CODE if asset.issuer is None else asset.code


def horizon_asset_params(asset: Asset, prefix: str = "") -> Dict[str, str]:
    """Query parameters naming `asset` for Horizon, e.g. prefix "selling_" -> selling_asset_type/code/issuer."""
    if asset.issuer is None:
        return {f"{prefix}asset_type": "native"}
    return {
        f"{prefix}asset_type": asset.type,
        f"{prefix}asset_code": asset.code,
        f"{prefix}asset_issuer": asset.issuer,
    }


def offer_asset(offer: dict, side: str) -> Asset:
    """The `side` ("selling" or "buying") asset of a Horizon offer record: a nested object in /offers
    answers, flat `selling_asset_*` fields in stream and effect records."""
    value = offer.get(side)
    return asset_from_horizon(value) if isinstance(value, dict) else asset_from_horizon(offer, side + "_")


def asset_from_horizon(record: dict, prefix: str = "") -> Asset:
    """Read `{prefix}asset_type`, `{prefix}asset_code`, `{prefix}asset_issuer` as Horizon writes them."""
    asset_type = record.get(f"{prefix}asset_type")
    if asset_type == "native":
        return _NATIVE
    code = record.get(f"{prefix}asset_code")
    issuer = record.get(f"{prefix}asset_issuer")
    cache_key = (asset_type, code, issuer)
    asset = _HORIZON_ASSETS.get(cache_key)
    if asset is not None:
        return asset
    if asset_type not in ("credit_alphanum4", "credit_alphanum12") or not code or not issuer:
        raise StellarConfigError(
            f"Horizon record has no usable asset under prefix {prefix!r}: "
            f"type={asset_type!r} code={code!r} issuer={issuer!r}")
    try:
        asset = Asset(code, issuer)
    except Exception as e:  # stellar-sdk's own validation errors
        raise StellarConfigError(f"Horizon record has an invalid asset {code!r}:{issuer!r}: {e}") from None
    if len(_HORIZON_ASSETS) >= _HORIZON_ASSETS_MAX:
        _HORIZON_ASSETS.clear()
    _HORIZON_ASSETS[cache_key] = asset
    return asset
