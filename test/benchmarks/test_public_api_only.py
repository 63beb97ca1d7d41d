"""Benchmarks and profiling drive the Stellar connector through its public API only (issue "Connector shape").

A private member of StellarExchange, or of Hummingbot's order tracker behind it, used from
benchmarks/ or profiling/ would tie the figures to internals the connector is free to change. The
check is a plain search of the source: `exchange._x`, `connector._x` (also as `self.exchange._x`,
`market.exchange._x`...), `StellarExchange._x`, a patched private of StellarExchange, and the
tracker's `_order_tracker` / `_cached_orders`. Hummingbot's own classes used as peers are not the
connector: their variables are named for them (`binance`, `throttler`), so they do not match.
"""
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("benchmarks", "profiling")
PRIVATE_USES = [
    re.compile(r"\b(?:exchange|connector)\._[A-Za-z]"),
    re.compile(r"\bStellarExchange\._[A-Za-z]"),
    re.compile(r"patch\.object\(\s*StellarExchange\s*,\s*[\"']_"),
    re.compile(r"\._(?:order_tracker|cached_orders)\b"),
]


def _sources():
    for folder in FOLDERS:
        yield from sorted((REPO_ROOT / folder).rglob("*.py"))


def private_uses(text: str):
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)
            if any(pattern.search(line) for pattern in PRIVATE_USES)]


@pytest.mark.parametrize("line", [
    "exchange._set_current_timestamp(time.time())",
    "await self.exchange._create_order(TradeType.SELL, order_id, PAIR, AMOUNT, OrderType.LIMIT, price)",
    "queues = connector._stream_sources()",
    'patch.object(StellarExchange, "_create_order_tracker", factory)',
    "tracker = orders.exchange_of()._order_tracker",
    "cache._cached_orders.clear()",
])
def test_the_search_finds_a_private_use(line):
    assert private_uses(line)


@pytest.mark.parametrize("line", [
    "order_id = exchange.sell(PAIR, AMOUNT, OrderType.LIMIT, price)",
    "binance._set_current_timestamp(time.time())",
    "limits = {limit.limit_id: limit for limit in throttler._rate_limits}",
    "name = exchange.__class__.__name__",
])
def test_the_search_leaves_public_uses_and_peers_alone(line):
    assert not private_uses(line)


def test_benchmarks_and_profiling_use_no_private_member_of_the_connector():
    sources = list(_sources())
    assert any(path.parent.name == "benchmarks" for path in sources), "benchmarks/ was not found"
    found = [f"{path.relative_to(REPO_ROOT)}:{number}: {line}"
             for path in sources for number, line in private_uses(path.read_text(encoding="utf-8"))]
    assert not found, "private members of the connector used outside its folder:\n" + "\n".join(found)
