"""`hummingbot-stellar` (also `python -m hummingbot_stellar_cli`)."""
from __future__ import annotations

import argparse
import sys

from hummingbot_stellar_cli.home import HomeError
from hummingbot_stellar_cli.target import TargetError


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="hummingbot-stellar", description=(
        "Put the Stellar connector where your Hummingbot finds it, check it, save a connection, and run "
        "Hummingbot's own client against the embedded Stellar network."))
    commands = parser.add_subparsers(dest="command", required=True)

    def target_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--into", metavar="HUMMINGBOT_DIR", default=None,
                             help="your Hummingbot folder when it runs from one: a source checkout, or "
                                  "/home/hummingbot in Hummingbot's Docker image (default: where the `hummingbot` "
                                  "package of --python lives, i.e. a pip installation's site-packages)")
        command.add_argument("--python", metavar="PATH", default=None,
                             help="the Python that runs Hummingbot (default: this one)")

    install = commands.add_parser("install", help="put the connector where Hummingbot scans and install what it needs")
    target_options(install)
    install.add_argument("--source", metavar="DIR", default=None,
                         help="the connector folder to copy (default: the one shipped with this command)")
    install.add_argument("--no-deps", dest="deps", action="store_false",
                         help="do not pip-install the connector's dependencies (stellar-sdk, cachetools)")
    install.add_argument("--client-deps", action="store_true",
                         help="also install what Hummingbot's own start scripts import beyond its core "
                              "(asyncssh, ptpython)")
    install.add_argument("--force", action="store_true", help="replace a foreign hummingbot/.../stellar folder")
    install.add_argument("--pip-arg", action="append", default=[], metavar="ARG",
                         help="extra argument for pip install (repeatable), e.g. --pip-arg=--constraint=FILE")

    doctor = commands.add_parser("doctor", help="check that Hummingbot finds and can load the connector")
    target_options(doctor)

    connect = commands.add_parser(
        "connect", help="save a `stellar` connection into a Hummingbot's conf/ as its `connect` would (any Horizon)")
    connect.add_argument("--into", metavar="HUMMINGBOT_DIR", default=None,
                         help="the Hummingbot folder (a source checkout, Docker's /home/hummingbot)")
    connect.add_argument("--home", metavar="DIR", default=None,
                         help="or the home of `hummingbot-stellar client --no-sandbox` (a pip installation)")
    connect.add_argument("--python", metavar="PATH", default=None, help="the Python that runs Hummingbot")
    connect.add_argument("--connector", default="stellar", choices=["stellar", "stellar_testnet"])
    connect.add_argument("--from-sandbox", metavar="DEMO_JSON", default=None,
                         help="the --demo-json of `python -m stellar_sandbox serve --demo`: its account, markets, "
                              "Horizon URL and passphrase")
    connect.add_argument("--account", type=int, default=1, help="which account of --from-sandbox (default 1)")
    connect.add_argument("--horizon-url", default=None)
    connect.add_argument("--passphrase", default=None, help="the network passphrase")
    connect.add_argument("--markets", default=None, help="stellar_markets: CODE:ISSUER, comma separated")
    connect.add_argument("--rpc-url", default=None)
    connect.add_argument("--secret-env", metavar="VAR", default=None,
                         help="read the secret key from this environment variable (default: ask)")
    connect.add_argument("--password-env", metavar="VAR", default=None,
                         help="read Hummingbot's password from this environment variable (default: ask)")

    from hummingbot_stellar_cli.client import add_client_arguments
    add_client_arguments(commands.add_parser(
        "client", help="run Hummingbot's client against the embedded sandbox, connected and ready to `start`"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.command == "install":
            from hummingbot_stellar_cli.install import install
            return install(args.python, args.into, source=args.source, deps=args.deps, client_deps=args.client_deps,
                           force=args.force, pip_args=args.pip_arg)
        if args.command == "doctor":
            from hummingbot_stellar_cli.doctor import doctor
            return doctor(args.python, args.into)
        if args.command == "connect":
            from hummingbot_stellar_cli.connect import connect
            return connect(args)
        if args.command == "client":
            from hummingbot_stellar_cli.client import run_client
            return run_client(args)
    except (TargetError, HomeError) as error:
        print(f"hummingbot-stellar {args.command}: {error}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
