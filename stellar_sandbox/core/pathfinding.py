"""Payment paths over the order books and the liquidity pools, priced by the ledger's own rules.

Horizon's ``/paths/strict-send`` and ``/paths/strict-receive`` search a graph of assets (an edge wherever
an offer or a pool with reserves can exchange one asset for another) for paths of at most
``MAX_PATH_LENGTH`` hops, and keep the ``MAX_PATHS_PER_ASSET`` best per source (strict receive) or
destination (strict send) asset. The sandbox enumerates the same simple paths but prices each one by
running its hops through the ledger's exchange (``venues.convert_hop``: the better venue per hop, whole,
with the protocol's rounding) inside ``LedgerState.dry_run``, so a quoted amount is exactly what a path
payment submitted now would move. Ordering as Horizon's: by asset, then best amount, then fewer hops.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from stellar_sandbox.core.amounts import INT64_MAX, ROUND_PATH_STRICT_RECEIVE, ROUND_PATH_STRICT_SEND
from stellar_sandbox.core.assets import NATIVE, asset_type
from stellar_sandbox.core.matching import CONVERT_OK, MAX_OFFERS_TO_CROSS
from stellar_sandbox.core.state import LedgerState
from stellar_sandbox.core.venues import convert_hop

MAX_PATH_LENGTH = 3  # hops; Horizon's --max-path-length default
MAX_PATHS_PER_ASSET = 5  # Horizon's maxAssetsPerPath
_NOBODY = ""  # the quoting taker owns no offer, so no offer is skipped as its own


@dataclass(frozen=True, slots=True)
class FoundPath:
    source_asset: str
    source_amount: int
    destination_asset: str
    destination_amount: int
    path: tuple[str, ...]  # the assets between source and destination


def exchange_graph(state: LedgerState) -> dict[str, set[str]]:
    """For each asset, the assets one hop can turn it into (offers selling them for it, or a pool)."""
    graph: dict[str, set[str]] = {}
    for selling, buying in state.book_pairs():
        graph.setdefault(buying, set()).add(selling)
    for pool in state.pools.values():
        if pool.reserve_a > 0 and pool.reserve_b > 0:
            graph.setdefault(pool.asset_a, set()).add(pool.asset_b)
            graph.setdefault(pool.asset_b, set()).add(pool.asset_a)
    return graph


def _walks(graph: dict[str, set[str]], start: str, ends: set[str], max_hops: int) -> Iterator[tuple[str, ...]]:
    """Every simple walk from ``start`` to an asset of ``ends`` in 1..max_hops hops (the assets visited)."""
    stack: list[tuple[str, ...]] = [(start,)]
    while stack:
        walk = stack.pop()
        for nxt in sorted(graph.get(walk[-1], ())):
            if nxt in walk:
                continue
            extended = (*walk, nxt)
            if nxt in ends:
                yield extended
            if len(extended) <= max_hops:
                stack.append(extended)


def _send_through(state: LedgerState, assets: tuple[str, ...], amount: int) -> int | None:
    """What the last asset of the walk receives for ``amount`` of the first, or None if a hop cannot fill."""
    crossed = 0
    with state.dry_run():
        for send, receive in zip(assets[:-1], assets[1:], strict=True):
            conv, claims = convert_hop(state, _NOBODY, send, amount, receive, INT64_MAX, ROUND_PATH_STRICT_SEND,
                                       MAX_OFFERS_TO_CROSS - crossed)
            if conv.code != CONVERT_OK or conv.sheep_sent != amount or conv.wheat_received <= 0:
                return None
            crossed += len(claims)
            amount = conv.wheat_received
    return amount


def _receive_through(state: LedgerState, assets: tuple[str, ...], amount: int) -> int | None:
    """What the first asset of the walk must send for the last to receive ``amount`` (hops last to first)."""
    crossed = 0
    with state.dry_run():
        for send, receive in reversed(list(zip(assets[:-1], assets[1:], strict=True))):
            conv, claims = convert_hop(state, _NOBODY, send, INT64_MAX, receive, amount, ROUND_PATH_STRICT_RECEIVE,
                                       MAX_OFFERS_TO_CROSS - crossed)
            if conv.code != CONVERT_OK or conv.wheat_received != amount:
                return None
            crossed += len(claims)
            amount = conv.sheep_sent
    return amount


def strict_send_paths(state: LedgerState, source_asset: str, source_amount: int,
                      destinations: Iterable[str]) -> list[FoundPath]:
    """Paths spending exactly ``source_amount`` of ``source_asset``, best destination amount first per asset."""
    ends = set(destinations)
    found = [FoundPath(source_asset, source_amount, source_asset, source_amount, ())] if source_asset in ends else []
    for walk in _walks(exchange_graph(state), source_asset, ends, MAX_PATH_LENGTH):
        received = _send_through(state, walk, source_amount)
        if received is not None:
            found.append(FoundPath(source_asset, source_amount, walk[-1], received, walk[1:-1]))
    found.sort(key=lambda p: (horizon_asset_string(p.destination_asset), -p.destination_amount, len(p.path)))
    return _best_per_asset(found, lambda p: p.destination_asset)


def strict_receive_paths(state: LedgerState, destination_asset: str, destination_amount: int,
                         sources: Iterable[str], balances: dict[str, int] | None = None) -> list[FoundPath]:
    """Paths delivering exactly ``destination_amount``, cheapest source amount first per source asset.

    ``balances`` (a source account's): leave out paths needing more of a source asset than it holds."""
    starts = set(sources)
    reverse: dict[str, set[str]] = {}
    for asset, targets in exchange_graph(state).items():
        for target in targets:
            reverse.setdefault(target, set()).add(asset)
    found: list[FoundPath] = []
    if destination_asset in starts:
        found.append(FoundPath(destination_asset, destination_amount, destination_asset, destination_amount, ()))
    for backwards in _walks(reverse, destination_asset, starts, MAX_PATH_LENGTH):
        walk = tuple(reversed(backwards))
        sent = _receive_through(state, walk, destination_amount)
        if sent is not None:
            found.append(FoundPath(walk[0], sent, destination_asset, destination_amount, walk[1:-1]))
    if balances is not None:
        found = [p for p in found if balances.get(p.source_asset, 0) >= p.source_amount]
    found.sort(key=lambda p: (horizon_asset_string(p.source_asset), p.source_amount, len(p.path)))
    return _best_per_asset(found, lambda p: p.source_asset)


def _best_per_asset(paths: list[FoundPath], asset_of) -> list[FoundPath]:
    kept: list[FoundPath] = []
    count, previous = 0, None
    for path in paths:
        count = count + 1 if asset_of(path) == previous else 1
        previous = asset_of(path)
        if count <= MAX_PATHS_PER_ASSET:
            kept.append(path)
    return kept


def horizon_asset_string(key: str) -> str:
    """Horizon's (Go xdr) Asset.String(): ``native`` or ``credit_alphanum4/CODE/ISSUER``; its path sort key."""
    if key == NATIVE:
        return NATIVE
    code, _, issuer = key.partition(":")
    return f"{asset_type(key)}/{code}/{issuer}"
