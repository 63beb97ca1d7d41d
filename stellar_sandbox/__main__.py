"""`python -m stellar_sandbox serve --host 127.0.0.1 --port 8000 [--ledger-interval 5] [--horizons 3] [--rpcs 1]
[--surge-fee 5000] [--demo [--demo-asset USDC] [--demo-accounts 1] [--demo-json FILE]] [market, fault flags]`

`--demo` gives a person a network to trade on: an issued asset, funded accounts that trust it, market activity
on XLM against it, and the answers to Hummingbot's `connect stellar` prompts (see `stellar_sandbox.demo`)."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

from stellar_sandbox.demo import DemoSettings, describe_demo, prepare_demo, write_demo_file
from stellar_sandbox.sandbox import Sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stellar_sandbox", description="An embedded Stellar network.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a Horizon-compatible API until SIGINT/SIGTERM")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (0 picks a free one; default 8000)")
    serve.add_argument("--ledger-interval", type=float, default=5.0, help="seconds between ledgers (default 5)")
    serve.add_argument("--horizons", type=int, default=1,
                       help="Horizon frontends of the one network, on consecutive ports (default 1)")
    serve.add_argument("--rpcs", type=int, default=0, help="Stellar RPC-only frontends after them (default 0)")
    serve.add_argument("--surge-fee", type=int, default=None,
                       help="load the network with traffic bidding this many stroops per operation")
    market = serve.add_argument_group("market activity")
    market.add_argument("--market-rate", type=float, default=None,
                        help="book events per second on MKT/XLM by synthetic participants (default 0: none; "
                             "with --demo: 2, on XLM against the demo asset)")
    market.add_argument("--market-mid", type=float, default=None,
                        help="starting mid price (default 1.0; with --demo: 0.1 of the demo asset per XLM)")
    market.add_argument("--market-participants", type=int, default=None, help="accounts (default: enough for the rate)")
    market.add_argument("--market-pool-depth", type=float, default=None,
                        help="also a liquidity pool on the pair, seeded with this many base units at the mid price; "
                             "some participants then deposit and withdraw, and takes reach the pool (default: none)")
    demo = serve.add_argument_group("demo: a network ready for Hummingbot")
    demo.add_argument("--demo", action="store_true",
                      help="issue an asset, create funded accounts that trust it, run market activity on XLM "
                           "against it (--market-rate, default 2 in demo mode) and print the secrets and the "
                           "connector settings to paste")
    demo.add_argument("--demo-asset", default=DemoSettings.asset_code, help="code of the issued asset (default USDC)")
    demo.add_argument("--demo-accounts", type=int, default=DemoSettings.accounts, help="funded accounts (default 1)")
    demo.add_argument("--demo-xlm", default=DemoSettings.xlm, help="lumens per account (default 10000)")
    demo.add_argument("--demo-amount", default=DemoSettings.asset_amount,
                      help="units of the asset per account (default 1000)")
    serve.add_argument("--exit-with-parent", action="store_true",
                       help="stop when the process that started this one ends (for launchers: no orphan network)")
    demo.add_argument("--demo-json", type=Path, default=None,
                      help="also write the demo (URLs, passphrase, asset, accounts with secrets) to this JSON file "
                           "(mode 0600) once everything is ready")
    faults = serve.add_argument_group("faults of every frontend (also at run time: POST /_sandbox/faults)")
    faults.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    faults.add_argument("--jitter", type=float, default=0.0, help="up to this many more seconds, uniformly")
    faults.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered with an error")
    faults.add_argument("--error-status", type=int, action="append", choices=[429, 500, 503, 504],
                        help="status of injected errors (repeatable; default 503)")
    faults.add_argument("--fault-path", action="append", default=None,
                        help="glob of request paths that latency and errors apply to (repeatable; default all)")
    faults.add_argument("--submission-timeout-rate", type=float, default=0.0,
                        help="share of submissions that apply but are answered 504")
    faults.add_argument("--drop-streams-every", type=float, default=None, help="cut each SSE stream after N seconds")
    faults.add_argument("--faults", default=None, help="fault settings as JSON, as POST /_sandbox/faults takes them")
    return parser.parse_args(argv)


def fault_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The `Faults.set` keywords the command line asks for."""
    settings: dict[str, Any] = {}
    paths = args.fault_path or []
    if args.latency or args.jitter:
        settings["latency"] = {"seconds": args.latency, "jitter": args.jitter, "paths": paths}
    if args.error_rate:
        settings["errors"] = {"rate": args.error_rate, "statuses": args.error_status or [503], "paths": paths}
    if args.submission_timeout_rate:
        settings["submission_timeout"] = {"rate": args.submission_timeout_rate}
    if args.drop_streams_every:
        settings["stream_drop"] = {"every": args.drop_streams_every}
    if args.faults:
        settings.update(json.loads(args.faults))
    return settings


def demo_settings_from(args: argparse.Namespace) -> DemoSettings | None:
    """The demo the command line asks for (None without --demo), checked before anything starts."""
    if not args.demo:
        if args.demo_json is not None:
            raise SystemExit("--demo-json needs --demo")
        return None
    settings = DemoSettings(
        asset_code=args.demo_asset, accounts=args.demo_accounts, xlm=args.demo_xlm, asset_amount=args.demo_amount,
        market_rate=DemoSettings.market_rate if args.market_rate is None else args.market_rate,
        market_mid=DemoSettings.market_mid if args.market_mid is None else args.market_mid,
        market_pool_depth=args.market_pool_depth)
    try:
        settings.check()
    except ValueError as error:
        raise SystemExit(f"--demo: {error}") from None
    return settings


async def _stop_with_parent(parent: int, stop: asyncio.Event) -> None:
    while os.getppid() == parent:  # an orphan is adopted by another process
        await asyncio.sleep(1.0)
    stop.set()


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if args.horizons < 1 or args.rpcs < 0:
        raise SystemExit("--horizons must be at least 1 and --rpcs not negative")
    demo_settings = demo_settings_from(args)
    if args.exit_with_parent:
        asyncio.ensure_future(_stop_with_parent(os.getppid(), stop))
    async with Sandbox(ledger_interval=args.ledger_interval, port=args.port, host=args.host,
                       horizons=args.horizons, rpcs=args.rpcs) as net:
        settings = fault_settings(args)
        for frontend in net.frontends:
            frontend.faults.set(**settings)
        if args.surge_fee is not None:
            net.set_surge(args.surge_fee)
        for frontend in net.frontends:
            if frontend.kind == "horizon":
                line = f"Horizon {frontend.url} (Stellar RPC {frontend.rpc_url})"
            else:
                line = f"Stellar RPC {frontend.rpc_url}"
            if frontend.index == 0:
                line += f" network passphrase: {net.passphrase}"
            print(line, flush=True)
        if demo_settings is not None:
            demo = await prepare_demo(net, demo_settings)
            if args.demo_json is not None:
                write_demo_file(args.demo_json, demo)
            print(describe_demo(demo), flush=True)
        elif args.market_rate:
            stats = await net.market.start(args.market_rate, mid=1.0 if args.market_mid is None else args.market_mid,
                                           participants=args.market_participants,
                                           pool_depth=args.market_pool_depth)
            print(f"market activity {stats['base']} / {stats['counter']} at {args.market_rate}/s "
                  f"by {stats['participants']} accounts", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "serve":
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
