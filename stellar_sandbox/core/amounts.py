"""Stroop arithmetic, rational prices and stellar-core's offer exchange rounding.

Amounts on the ledger are int64 stroops (1 unit = 10^7 stroops); Horizon prints them with exactly
7 decimals. Prices are rationals n/d of int32. The exchange functions follow stellar-core's
``exchangeV10`` (OfferExchange.cpp): the offer that stays on the book is favoured by rounding, and
a normal (non path payment) trade whose effective price is more than 1% off the offer's price does
not happen at all. Python ints are unbounded, so stellar-core's 128-bit intermediates are exact here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

STROOPS_PER_UNIT = 10_000_000
INT64_MAX = (1 << 63) - 1
INT32_MAX = (1 << 31) - 1

# stellar-core's RoundingType
ROUND_NORMAL = 0
ROUND_PATH_STRICT_SEND = 1
ROUND_PATH_STRICT_RECEIVE = 2


def format_amount(stroops: int) -> str:
    """Stroops as Horizon prints them: ``"12.3456789"``, always 7 decimals."""
    sign = "-" if stroops < 0 else ""
    whole, frac = divmod(abs(stroops), STROOPS_PER_UNIT)
    return f"{sign}{whole}.{frac:07d}"


def to_stroops(value: str | int | Decimal) -> int:
    """Parse an amount in units (``"1.5"``, ``Decimal``, int) to stroops; finer than 1e-7 is an error."""
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        dec = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not dec.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    scaled = dec * STROOPS_PER_UNIT
    if scaled != scaled.to_integral_value():
        raise ValueError(f"amount {value!r} has more than 7 decimals")
    return int(scaled)


def price_fraction(value: float) -> tuple[int, int]:
    """A positive float price as (n, d) int32 terms with up to 7 decimals (no rational approximation search)."""
    denominator = 10_000_000
    while denominator > 1 and value * denominator >= 2**31 - 1:
        denominator //= 10
    return max(1, round(value * denominator)), denominator


def price_to_str(n: int, d: int) -> str:
    """n/d with 7 decimals, rounded half away from zero (as Go's big.Rat.FloatString(7) in Horizon)."""
    if d <= 0:
        raise ValueError(f"price denominator must be positive, got {d}")
    q, r = divmod(n * STROOPS_PER_UNIT, d)
    if 2 * r >= d:
        q += 1
    return format_amount(q)


def price_lt(an: int, ad: int, bn: int, bd: int) -> bool:
    """Exact a < b for rationals with positive denominators."""
    return an * bd < bn * ad


def big_divide(a: int, b: int, c: int, round_up: bool) -> int | None:
    """a*b/c rounded down (or up); None when the result does not fit int64 (stellar-core's bigDivide)."""
    num = a * b
    q = -((-num) // c) if round_up else num // c
    return q if 0 <= q <= INT64_MAX else None


def _div_checked(num: int, den: int, round_up: bool) -> int:
    q = -((-num) // den) if round_up else num // den
    if q < 0 or q > INT64_MAX:
        raise OverflowError("exchange result out of int64 range")
    return q


def check_price_error_bound(n: int, d: int, wheat_receive: int, sheep_send: int, can_favor_wheat: bool) -> bool:
    """True when sheep_send/wheat_receive is within 1% of n/d (asymmetric when can_favor_wheat)."""
    lhs = 100 * n * wheat_receive
    rhs = 100 * d * sheep_send
    if can_favor_wheat and rhs > lhs:
        return True
    return abs(lhs - rhs) <= n * wheat_receive


def exchange_v10_without_thresholds(
    n: int,
    d: int,
    max_wheat_send: int,
    max_wheat_receive: int,
    max_sheep_send: int,
    max_sheep_receive: int,
    rounding: int = ROUND_NORMAL,
) -> tuple[int, int, bool]:
    """Cross a wheat offer (selling wheat at price n/d sheep per wheat) with a sheep seller.

    Returns ``(wheat_received, sheep_send, wheat_stays)``; wheat_stays means the wheat offer is
    the larger one and remains on the book.
    """
    wheat_value = min(max_wheat_send * n, max_sheep_receive * d)
    sheep_value = min(max_sheep_send * d, max_wheat_receive * n)
    wheat_stays = wheat_value > sheep_value
    if wheat_stays:
        if rounding == ROUND_PATH_STRICT_SEND:
            wheat_receive = _div_checked(sheep_value, n, False)
            sheep_send = min(max_sheep_send, max_sheep_receive)
        elif n > d or rounding == ROUND_PATH_STRICT_RECEIVE:
            wheat_receive = _div_checked(sheep_value, n, False)
            sheep_send = _div_checked(wheat_receive * n, d, True)
        else:
            sheep_send = _div_checked(sheep_value, d, False)
            wheat_receive = _div_checked(sheep_send * d, n, False)
    elif n > d:
        wheat_receive = _div_checked(wheat_value, n, False)
        sheep_send = _div_checked(wheat_receive * n, d, False)
    else:
        sheep_send = _div_checked(wheat_value, d, False)
        wheat_receive = _div_checked(sheep_send * d, n, True)
    if wheat_receive > min(max_wheat_receive, max_wheat_send) or sheep_send > min(max_sheep_receive, max_sheep_send):
        raise AssertionError("exchange exceeded its limits")
    return wheat_receive, sheep_send, wheat_stays


def exchange_v10(
    n: int,
    d: int,
    max_wheat_send: int,
    max_wheat_receive: int,
    max_sheep_send: int,
    max_sheep_receive: int,
    rounding: int = ROUND_NORMAL,
) -> tuple[int, int, bool]:
    """``exchange_v10_without_thresholds`` plus stellar-core's price error thresholds."""
    wheat_receive, sheep_send, wheat_stays = exchange_v10_without_thresholds(
        n, d, max_wheat_send, max_wheat_receive, max_sheep_send, max_sheep_receive, rounding
    )
    if wheat_receive > 0 and sheep_send > 0:
        wheat_value = wheat_receive * n
        sheep_value = sheep_send * d
        if wheat_stays and sheep_value < wheat_value:
            raise AssertionError("favoured sheep when wheat stays")
        if not wheat_stays and sheep_value > wheat_value:
            raise AssertionError("favoured wheat when sheep stays")
        if rounding == ROUND_NORMAL:
            if not check_price_error_bound(n, d, wheat_receive, sheep_send, False):
                return 0, 0, wheat_stays
        elif not check_price_error_bound(n, d, wheat_receive, sheep_send, True):
            raise AssertionError("exceeded price error bound")
    elif rounding == ROUND_PATH_STRICT_SEND:
        if sheep_send == 0:
            raise AssertionError("invalid amount of sheep sent")
    else:
        return 0, 0, wheat_stays
    return wheat_receive, sheep_send, wheat_stays


def adjust_offer(n: int, d: int, max_wheat_send: int, max_sheep_receive: int) -> int:
    """The largest amount an offer can keep so that it crosses without rounding trouble (adjustOffer)."""
    return exchange_v10(n, d, max_wheat_send, INT64_MAX, INT64_MAX, max_sheep_receive)[0]


def offer_liabilities(n: int, d: int, amount: int) -> tuple[int, int]:
    """(selling, buying) liabilities of a sell offer of ``amount`` at n/d, as stellar-core computes them."""
    wheat, sheep, _ = exchange_v10_without_thresholds(n, d, amount, INT64_MAX, INT64_MAX, INT64_MAX)
    return wheat, sheep


def buy_offer_liabilities(n: int, d: int, buy_amount: int) -> tuple[int, int]:
    """(selling, buying) liabilities of a ManageBuyOffer, ``n/d`` being the stored (inverted) price."""
    wheat, sheep, _ = exchange_v10_without_thresholds(n, d, INT64_MAX, INT64_MAX, INT64_MAX, buy_amount)
    return wheat, sheep
