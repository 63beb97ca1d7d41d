"""Horizon's `/trade_aggregations`: trades of a pair grouped into time buckets.

Buckets start at `offset + k × resolution` (milliseconds since the epoch); `start_time` is rounded
up and `end_time` down to a bucket boundary, as Horizon does. Each bucket reports Horizon's fields:
`timestamp`, `trade_count`, `base_volume`, `counter_volume`, `avg`, and `high`/`low`/`open`/`close`
with their rationals (`*_r`, numerator and denominator as strings). Prices are counter per base.
"""
from __future__ import annotations

from calendar import timegm
from collections.abc import Iterable
from fractions import Fraction
from time import strptime
from typing import Any

from stellar_sandbox.core.amounts import format_amount, price_to_str, to_stroops

Record = dict[str, Any]
ALLOWED_RESOLUTIONS = (60_000, 300_000, 900_000, 3_600_000, 86_400_000, 604_800_000)
HOUR_MS = 3_600_000


def resolution_error(resolution: int | None) -> str | None:
    if resolution not in ALLOWED_RESOLUTIONS:
        return ("illegal or missing resolution. allowed resolutions are: 1 minute (60000), 5 minutes (300000), "
                "15 minutes (900000), 1 hour (3600000), 1 day (86400000) and 1 week (604800000)")
    return None


def offset_error(offset: int, resolution: int) -> str | None:
    if offset % HOUR_MS != 0 or offset >= 24 * HOUR_MS or offset > resolution:
        return ("illegal or missing offset. offset must be a multiple of an hour, less than or equal to the "
                "resolution, and less than 24 hours")
    return None


def bucket_start(time_ms: int, resolution: int, offset: int) -> int:
    return (time_ms - offset) // resolution * resolution + offset


def adjusted_range(start_ms: int | None, end_ms: int | None, resolution: int,
                   offset: int) -> tuple[int, int | None]:
    """[start, end) rounded to bucket boundaries: start up, end down."""
    start = 0
    if start_ms:
        start = bucket_start(start_ms, resolution, offset)
        if start < start_ms:
            start += resolution
    end = None
    if end_ms:
        end = bucket_start(end_ms, resolution, offset)
    return start, end


def close_time_ms(trade: Record) -> int:
    return timegm(strptime(trade["ledger_close_time"], "%Y-%m-%dT%H:%M:%SZ")) * 1000


def _rational(value: Fraction) -> dict[str, str]:
    return {"n": str(value.numerator), "d": str(value.denominator)}


def _decimal(value: Fraction) -> str:
    return price_to_str(value.numerator, value.denominator)


def aggregate(trades: Iterable[Record], resolution: int, offset: int) -> list[Record]:
    """Buckets (ascending by timestamp) of trades given in ascending time order."""
    buckets: list[Record] = []
    current: dict[str, Any] | None = None
    for trade in trades:
        stamp = bucket_start(close_time_ms(trade), resolution, offset)
        price = Fraction(int(trade["price"]["n"]), int(trade["price"]["d"]))
        base = to_stroops(trade["base_amount"])
        counter = to_stroops(trade["counter_amount"])
        if current is None or current["timestamp"] != stamp:
            if current is not None:
                buckets.append(_render(current))
            current = {"timestamp": stamp, "count": 0, "base": 0, "counter": 0,
                       "high": price, "low": price, "open": price, "close": price}
        current["count"] += 1
        current["base"] += base
        current["counter"] += counter
        current["high"] = max(current["high"], price)
        current["low"] = min(current["low"], price)
        current["close"] = price
    if current is not None:
        buckets.append(_render(current))
    return buckets


def _render(bucket: dict[str, Any]) -> Record:
    average = Fraction(bucket["counter"], bucket["base"]) if bucket["base"] else Fraction(0)
    return {
        "timestamp": str(bucket["timestamp"]),
        "trade_count": str(bucket["count"]),
        "base_volume": format_amount(bucket["base"]),
        "counter_volume": format_amount(bucket["counter"]),
        "avg": _decimal(average),
        "high": _decimal(bucket["high"]),
        "high_r": _rational(bucket["high"]),
        "low": _decimal(bucket["low"]),
        "low_r": _rational(bucket["low"]),
        "open": _decimal(bucket["open"]),
        "open_r": _rational(bucket["open"]),
        "close": _decimal(bucket["close"]),
        "close_r": _rational(bucket["close"]),
    }
