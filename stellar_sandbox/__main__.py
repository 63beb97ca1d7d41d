"""`python -m stellar_sandbox serve --host 127.0.0.1 --port 8000 [--ledger-interval 5]`"""
from __future__ import annotations

import argparse
import asyncio
import signal

from stellar_sandbox.sandbox import Sandbox


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stellar_sandbox", description="An embedded Stellar network.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a Horizon-compatible API until SIGINT/SIGTERM")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (0 picks a free one; default 8000)")
    serve.add_argument("--ledger-interval", type=float, default=5.0, help="seconds between ledgers (default 5)")
    return parser.parse_args(argv)


async def serve(host: str, port: int, ledger_interval: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Sandbox(ledger_interval=ledger_interval, port=port, host=host) as net:
        print(f"Horizon {net.horizon_url} network passphrase: {net.passphrase}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.command == "serve":
        asyncio.run(serve(args.host, args.port, args.ledger_interval))


if __name__ == "__main__":
    main()
