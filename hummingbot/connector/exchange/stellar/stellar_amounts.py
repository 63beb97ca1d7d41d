"""Amounts and prices: Decimal <-> stroops (int64, 7 decimals), prices <-> int32 rationals.

Hummingbot works in Decimal; the ledger in stroops and n/d prices. Conversions here are exact or
fail loudly: an amount finer than a stroop is a caller's bug, not something to round silently.
"""
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from math import gcd
from typing import Tuple, Union

from stellar_sdk.exceptions import NoApproximationError
from stellar_sdk.utils import best_rational_approximation

from hummingbot.connector.exchange.stellar.stellar_constants import (
    DECIMALS,
    INT32_MAX,
    INT64_MAX,
    STROOPS_PER_UNIT,
)

Number = Union[Decimal, int, str]

STROOP = Decimal("0.0000001")               # one stroop in units: the ledger's smallest amount and price step

_STROOPS_DEC = Decimal(STROOPS_PER_UNIT)
_MAX_AMOUNT = Decimal(INT64_MAX).scaleb(-DECIMALS)


class StellarAmountError(ValueError):
    """An amount or price that the Stellar ledger cannot represent."""


def _as_decimal(value: Number, what: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise StellarAmountError(f"{what} {value!r} is not a number") from None
    if isinstance(value, float):
        return Decimal(repr(value))
    raise StellarAmountError(f"{what} {value!r} must be a Decimal, int or str, not {type(value).__name__}")


def to_stroops(amount: Number) -> int:
    """Exact stroops for `amount`; raises for NaN/inf, negatives, more than 7 decimals, or above int64."""
    amount = _as_decimal(amount, "Amount")
    if not amount.is_finite():
        raise StellarAmountError(f"Amount {amount} is not a finite number")
    if amount < 0:
        raise StellarAmountError(f"Amount {amount} is negative; Stellar amounts are 0 or more")
    if amount > _MAX_AMOUNT:
        raise StellarAmountError(f"Amount {amount} is above Stellar's maximum {_MAX_AMOUNT} (int64 stroops)")
    stroops = int(amount * _STROOPS_DEC)
    # Decimal comparison is exact whatever the context precision, so this catches any lost digit.
    if Decimal(stroops).scaleb(-DECIMALS) != amount:
        raise StellarAmountError(
            f"Amount {amount} has more than {DECIMALS} decimal places; Stellar amounts are whole stroops (1e-7)")
    return stroops


def from_stroops(stroops: int) -> Decimal:
    """Decimal units for an integer number of stroops (exact)."""
    return Decimal(stroops).scaleb(-DECIMALS)


def stroops_str(stroops: int) -> str:
    """Stroops as the 7-decimal text stellar-sdk and Horizon use: 1_000_000_000 -> "100.0000000"."""
    whole, frac = divmod(stroops, STROOPS_PER_UNIT)
    return f"{whole}.{frac:07d}"


def quantize_price(price: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round a price to 7 decimals (to nearest unless the caller needs a direction)."""
    return price.quantize(STROOP, rounding=rounding)


def price_to_rational(price: Number) -> Tuple[int, int]:
    """`price` as (n, d), both within int32: exact when the price has at most 7 decimals and fits,
    otherwise stellar-sdk's best rational approximation. Raises for non-positive or unrepresentable prices."""
    price = _as_decimal(price, "Price")
    if not price.is_finite() or price <= 0:
        raise StellarAmountError(f"Price {price} must be a positive finite number")
    scaled = price * _STROOPS_DEC
    n = int(scaled)
    if n == scaled and Decimal(n).scaleb(-DECIMALS) == price:
        divisor = gcd(n, STROOPS_PER_UNIT)
        n, d = n // divisor, STROOPS_PER_UNIT // divisor
        if n <= INT32_MAX:
            return n, d
    try:
        best = best_rational_approximation(price)
    except NoApproximationError:
        raise StellarAmountError(
            f"Price {price} cannot be written as n/d with n and d within int32 (1/{INT32_MAX} to {INT32_MAX})"
        ) from None
    n, d = best["n"], best["d"]
    if n <= 0 or d <= 0:
        raise StellarAmountError(f"Price {price} is too small to write as n/d within int32")
    return n, d
