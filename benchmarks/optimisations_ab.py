"""Before/after of the connector's optimisations, in one process: `python -m benchmarks.optimisations_ab`.

Each optimisation is switched back to the stock implementation it replaced (Hummingbot's
ClientOrderTracker and OrderBookMessage, stellar-sdk's operation and transaction-header packing),
the benchmarks run, then run again with the connector as it is; stock and optimised runs alternate
`--rounds` times. Ratios to the same-run floors are what to compare.
"""
from __future__ import annotations

from benchmarks import working_tree  # noqa: F401  (first: the connector of this working tree)

# isort: split
import argparse
import json
import statistics
from contextlib import ExitStack, contextmanager
from typing import Dict, Iterator, List
from unittest.mock import patch

from hummingbot.connector.client_order_tracker import ClientOrderTracker
from hummingbot.core.data_type.order_book_message import OrderBookMessage

from benchmarks import market_data, order_path, scale, user_stream
from hummingbot.connector.exchange.stellar import stellar_exchange, stellar_order_book, stellar_tx_builder

MODULES = {"order_path": order_path, "market_data": market_data, "user_stream": user_stream, "scale": scale}


STOCK = {
    # The exchange builds its tracker from this module-level name: Hummingbot's own in its place.
    "order_tracker": lambda: patch.object(stellar_exchange, "StellarOrderTracker", ClientOrderTracker),
    "book_message": lambda: patch.object(stellar_order_book, "StellarOrderBookMessage", OrderBookMessage),
    # The builder's packing and stellar-sdk's own, both public in stellar_tx_builder (the pipeline packs
    # an order's operation from its terms, offer_xdr; stellar-sdk builds the operation, then packs it).
    "operation_xdr": lambda: _patches(
        patch.object(stellar_tx_builder, "operation_xdr", stellar_tx_builder.operation_xdr_sdk),
        patch.object(stellar_tx_builder, "offer_xdr", stellar_tx_builder.offer_xdr_sdk)),
    "tx_header": lambda: patch.object(stellar_tx_builder, "header_xdr", stellar_tx_builder.header_xdr_sdk),
}


@contextmanager
def _patches(*patches) -> Iterator[None]:
    with ExitStack() as stack:
        for one in patches:
            stack.enter_context(one)
        yield


@contextmanager
def stock(names: List[str]) -> Iterator[None]:
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(STOCK[name]())
        yield


def _ratios(names: List[str], quick: bool) -> Dict[str, float]:
    ratios = {}
    for name in names:
        for row in MODULES[name].run(quick=quick)["figures"]:
            if isinstance(row.get("ratio"), (int, float)):
                ratios[row["name"]] = row["ratio"]
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=list(MODULES), default=list(MODULES))
    parser.add_argument("--stock", nargs="+", choices=list(STOCK), default=list(STOCK),
                        help="optimisations to switch off in the 'stock' runs")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs: Dict[str, List[Dict[str, float]]] = {"stock": [], "optimised": []}
    for _ in range(args.rounds):
        with stock(args.stock):
            runs["stock"].append(_ratios(args.only, args.quick))
        runs["optimised"].append(_ratios(args.only, args.quick))
    table = {}
    for figure in runs["optimised"][0]:
        before = statistics.median(r[figure] for r in runs["stock"])
        after = statistics.median(r[figure] for r in runs["optimised"])
        table[figure] = {"stock": before, "optimised": after}
        print(f"{figure:48s} stock {before:7.3f}   optimised {after:7.3f}")
    print(json.dumps({"switched_off": args.stock, "rounds": args.rounds, "ratios": table}, indent=2))


if __name__ == "__main__":
    main()
