"""Query parameters besides paging: accounts, assets (both Horizon forms), ids, booleans."""
from __future__ import annotations

from aiohttp import web
from stellar_sdk.strkey import StrKey

from stellar_sandbox.core.amounts import to_stroops
from stellar_sandbox.core.assets import NATIVE, asset_key, key_from_horizon
from stellar_sandbox.horizon.errors import Problem, invalid_field


def account_id(value: str, name: str = "account_id") -> str:
    if not StrKey.is_valid_ed25519_public_key(value):
        raise invalid_field(name, "invalid address")
    return value


def optional_account(request: web.Request, name: str) -> str | None:
    value = request.query.get(name, "")
    return account_id(value, name) if value else None


def asset_from_fields(request: web.Request, prefix: str, required: bool = False,
                      problem: Problem | None = None) -> str | None:
    """Asset key from `{prefix}asset_type`, `_code`, `_issuer` (None when the type is absent and not required)."""
    if not request.query.get(f"{prefix}asset_type"):
        if required:
            raise problem or invalid_field(f"{prefix}asset_type", "Missing required field")
        return None
    try:
        return key_from_horizon(request.query, prefix)
    except ValueError as exc:
        raise problem or invalid_field(f"{prefix}asset", f"invalid {prefix}asset: {exc}") from None


def canonical_asset(value: str) -> str:
    """Asset key of Horizon's canonical form, `native` or `CODE:ISSUER`; ValueError if it is not one."""
    if value == NATIVE:
        return NATIVE
    code, sep, issuer = value.partition(":")
    if not sep:
        raise ValueError("expected 'native' or 'CODE:ISSUER'")
    return asset_key(code, issuer)


def canonical_assets(request: web.Request, name: str, limit: int) -> list[str]:
    """A comma-separated list of canonical assets (at most `limit`), as the path endpoints take them."""
    values = [v for v in request.query.get(name, "").split(",") if v]
    try:
        assets = [canonical_asset(v) for v in values]
    except ValueError as exc:
        raise invalid_field(name, str(exc)) from None
    if len(assets) > limit:
        raise invalid_field(name, f"list of assets exceeds maximum length of {limit}")
    return assets


def asset_from_canonical(request: web.Request, name: str) -> str | None:
    """Asset key from Horizon's newer form: `native` or `CODE:ISSUER` (None if absent)."""
    value = request.query.get(name, "")
    if not value:
        return None
    try:
        return canonical_asset(value)
    except ValueError as exc:
        raise invalid_field(name, f"Asset {value!r} is invalid: {exc}") from None


def amount(request: web.Request, name: str) -> int:
    """A required positive amount with at most 7 decimals, in stroops."""
    value = request.query.get(name, "")
    try:
        stroops = to_stroops(value)
    except ValueError:
        stroops = 0
    if stroops <= 0:
        raise invalid_field(name, "Value must be a positive amount with at most 7 decimal places")
    return stroops


def offer_asset(request: web.Request, side: str) -> str | None:
    """`/offers` filter for `selling`/`buying`: `selling=CODE:ISSUER` or `selling_asset_type=...`."""
    canonical = asset_from_canonical(request, side)
    legacy = asset_from_fields(request, f"{side}_")
    if canonical is not None and legacy is not None and canonical != legacy:
        raise invalid_field(side, f"{side} and {side}_asset_type, {side}_asset_code, {side}_asset_issuer disagree")
    return canonical if canonical is not None else legacy


def boolean(request: web.Request, name: str, default: bool = False) -> bool:
    value = request.query.get(name, "")
    if value == "":
        return default
    if value in ("true", "false"):
        return value == "true"
    raise invalid_field(name, "Filter should be true or false")


def unsigned(request: web.Request, name: str) -> int | None:
    value = request.query.get(name, "")
    if value == "":
        return None
    if not (value.isascii() and value.isdigit()):
        raise invalid_field(name, "Value must be a positive integer")
    return int(value)


def path_int(request: web.Request, name: str) -> int:
    value = request.match_info[name]
    if not (value.isascii() and value.isdigit()):
        raise invalid_field(name, "Value must be a positive integer")
    return int(value)


def tx_hash(request: web.Request, name: str = "tx_id") -> str:
    value = request.match_info[name]
    if len(value) != 64 or value.lower() != value or any(c not in "0123456789abcdef" for c in value):
        raise invalid_field(name, "invalid hash format")
    return value
