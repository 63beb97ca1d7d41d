"""`hummingbot-stellar client`: Hummingbot's own client (HummingbotApplication, the installed one) against the
embedded sandbox, with a funded account, a saved `stellar` connection and a pure market making strategy
loaded, so a newcomer types `start` and watches it trade.

    hummingbot-stellar client                       # interactive: `start`, `status`, `history`, `stop`, `exit`
    hummingbot-stellar client --headless --duration 60
    hummingbot-stellar client --no-strategy         # connected only: `create` your own strategy
    hummingbot-stellar client --no-sandbox --home ~/hummingbot [--strategy conf_x.yml]   # your own networks

The PyPI Hummingbot ships no bin/; this launcher does what bin/hummingbot_quickstart.py does (log in,
build the application, load a strategy file, run the UI or headless) with Hummingbot's own functions
(`hummingbot.client.runner`), in a home folder of its own (`home.use_home`). Headless, SIGINT and SIGTERM
stop the strategy and cancel its orders before leaving (Hummingbot's own headless mode leaves them on the
book; the connector cancels such offers at its next start, stellar_unknown_offers=cancel).

The sandbox runs in a child process (`python -m stellar_sandbox serve --demo`) in its own session, so a
Ctrl-C reaches the bot first and the network is still there to cancel the orders.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hummingbot_stellar_cli import session_profiling
from hummingbot_stellar_cli.home import HomeError

DEFAULT_HOME = Path(".hummingbot-stellar")
DEMO_PASSWORD = "stellar-demo"  # guards the sandbox's throwaway key only; --password for anything else
SANDBOX_START_TIMEOUT_S = 120.0


def add_client_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--home", type=Path, default=DEFAULT_HOME,
                        help=f"Hummingbot's conf/, logs/ and data/ (default {DEFAULT_HOME}/ in this folder)")
    parser.add_argument("--password", default=os.environ.get("HUMMINGBOT_STELLAR_PASSWORD"),
                        help=f"the home's Hummingbot password (default $HUMMINGBOT_STELLAR_PASSWORD, else "
                             f"{DEMO_PASSWORD!r}: it only guards the sandbox's throwaway key)")
    parser.add_argument("--headless", action="store_true",
                        help="no UI: start the strategy at once, stop it cleanly (orders cancelled) on Ctrl-C, "
                             "SIGTERM or after --duration")
    parser.add_argument("--duration", type=float, default=0.0,
                        help="headless: seconds to run before stopping (default 0: until Ctrl-C or SIGTERM)")
    parser.add_argument("--no-strategy", action="store_true",
                        help="interactive: connect only; no strategy file loaded (`create` one)")
    parser.add_argument("--no-connect", action="store_true",
                        help="interactive: do not save the `stellar` connection; type `connect stellar` yourself "
                             "(the answers are printed)")
    parser.add_argument("--sandbox", type=Path, default=None, metavar="DEMO_JSON",
                        help="use a running `python -m stellar_sandbox serve --demo --demo-json DEMO_JSON` "
                             "instead of starting one (it is left running)")
    parser.add_argument("--transcript", type=Path, default=None,
                        help="also append everything Hummingbot prints in its output pane, and each question it "
                             "asks (as `[prompt] ...`), to this file (for scripts and tests)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="no sandbox, nothing prepared: Hummingbot's client in --home as it is (the PyPI "
                             "Hummingbot has no bin/ to start it); it asks for the password unless --password")
    parser.add_argument("--strategy", default=None, metavar="FILE",
                        help="with --no-sandbox: a strategy file of HOME/conf/strategies to load (interactive: "
                             "`start` runs it; headless: it starts at once)")
    parser.add_argument("--order-amount", default="20", help="XLM per order of the demo strategy (default 20)")
    parser.add_argument("--spread", default="0.1", help="bid and ask spread of the demo strategy in %% (default 0.1)")
    parser.add_argument("--ledger-interval", type=float, default=1.0, help="sandbox seconds per ledger (default 1)")
    parser.add_argument("--market-rate", type=float, default=2.0,
                        help="sandbox book events per second on the demo pair (default 2)")


class SandboxChild:
    """`python -m stellar_sandbox serve --demo` in its own session; `demo` is its --demo-json."""

    def __init__(self, home: Path, ledger_interval: float, market_rate: float) -> None:
        self.home = home
        self.ledger_interval = ledger_interval
        self.market_rate = market_rate
        self.demo_file = home / "sandbox.json"
        self.log_path = home / "logs" / "sandbox.log"
        self.process: subprocess.Popen | None = None
        self.demo: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        self.demo_file.unlink(missing_ok=True)
        source_root = str(Path(__file__).resolve().parent.parent)  # stellar_sandbox sits beside this package
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
        env.pop("STELLAR_PROFILING", None)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "stellar_sandbox", "serve", "--port", "0", "--ledger-interval",
                 str(self.ledger_interval), "--demo", "--demo-json", str(self.demo_file),
                 "--market-rate", str(self.market_rate), "--exit-with-parent"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.monotonic() + SANDBOX_START_TIMEOUT_S
        while not self.demo_file.exists():
            if self.process.poll() is not None:
                raise HomeError(f"the sandbox stopped (exit {self.process.returncode}); see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise HomeError(f"the sandbox was not ready in {SANDBOX_START_TIMEOUT_S:.0f} s; see {self.log_path}")
            time.sleep(0.2)
        self.demo = json.loads(self.demo_file.read_text(encoding="utf-8"))
        return self.demo

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.demo_file.unlink(missing_ok=True)


def connection_values(demo: dict[str, Any]) -> dict[str, Any]:
    """What a person answers to `connect stellar` for the sandbox's first demo account."""
    return {
        "stellar_secret_key": demo["accounts"][0]["secret"],
        "stellar_markets": demo["stellar_markets"],
        "stellar_horizon_url": demo["horizon_url"],
        "stellar_network_passphrase": demo["passphrase"],
    }


def offers_left(demo: dict[str, Any]) -> int | None:
    """How many offers the demo account still has on the sandbox's book (None if the sandbox does not answer)."""
    import urllib.request

    url = f"{demo['horizon_url']}/accounts/{demo['accounts'][0]['public_key']}/offers?limit=200"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return len(json.load(response)["_embedded"]["records"])
    except (OSError, ValueError, KeyError):
        return None


def report_offers_left(demo: dict[str, Any]) -> None:
    left = offers_left(demo)
    account = demo["accounts"][0]["public_key"]
    if left is None:
        print(f"Could not read the offers of {account} from the sandbox.", flush=True)
    else:
        print(f"Offers of {account} left on the sandbox's book: {left}", flush=True)


def ask_network_settings_on_connect() -> None:
    """Make `connect stellar` ask for the Horizon URL and the passphrase too, in this process.

    Hummingbot's `connect` asks only for the fields marked `prompt_on_new` (or required); the connector's
    config map marks the secret and the markets only, so `connect stellar` could never reach a sandbox
    (it would validate the key against the public network). A stopgap until the connector marks them."""
    from hummingbot.connector.exchange.stellar import stellar_utils

    for name in ("stellar_horizon_url", "stellar_network_passphrase"):
        extra = stellar_utils.StellarConfigMap.model_fields[name].json_schema_extra
        if isinstance(extra, dict):
            extra["prompt_on_new"] = True


def banner(demo: dict[str, Any], strategy_file: str | None, headless: bool, connected: bool = True) -> str:
    account = demo["accounts"][0]["public_key"]
    if connected:
        lines = [f"Stellar sandbox at {demo['horizon_url']}: account {account} holds XLM and {demo['asset_code']}; "
                 f"`stellar` is connected to it ({demo['trading_pair']}, issuer {demo['issuer']})."]
    else:
        lines = [f"Stellar sandbox at {demo['horizon_url']}: type `connect stellar` and answer",
                 f"  secret key: {demo['accounts'][0]['secret']}   (account {account}, sandbox only)",
                 f"  markets: {demo['stellar_markets']}",
                 f"  Horizon URL: {demo['horizon_url']}",
                 f"  network passphrase: {demo['passphrase']}",
                 "  (Enter keeps the default of any other question)"]
    if strategy_file and not headless:
        lines.append(f"Strategy {strategy_file} (pure market making on {demo['trading_pair']}) is loaded: type "
                     f"`start`, then `status`, `history`, `stop`, `exit`.")
    elif not headless:
        lines.append("No strategy loaded: `create` one (exchange stellar, market "
                     f"{demo['trading_pair']}), or `balance`.")
    if session_profiling.requested():
        lines.append("Profiling is on (STELLAR_PROFILING): the report is written when the session ends"
                     + (" (Ctrl-C, SIGTERM or --duration)." if headless else " (`exit`)."))
    return "\n".join(lines)


def run_client(args: argparse.Namespace) -> int:
    """The session, profiled when STELLAR_PROFILING asks (see session_profiling): report written at its end."""
    if args.headless and args.no_connect:
        raise SystemExit("--headless needs the connection: drop --no-connect")
    if args.strategy and not args.no_sandbox:
        raise SystemExit("--strategy goes with --no-sandbox (the sandbox run writes its own strategy file)")
    profiling = session_profiling.start_if_requested()
    try:
        return run_session(args)
    finally:
        session_profiling.write_report(profiling)


def run_session(args: argparse.Namespace) -> int:
    home = args.home.expanduser().resolve()
    from hummingbot_stellar_cli.home import use_home

    use_home(home)  # before anything imports hummingbot.client
    if args.no_sandbox:
        return run_without_sandbox(args)
    sandbox = SandboxChild(home, args.ledger_interval, args.market_rate)
    try:
        if args.sandbox is not None:
            demo = json.loads(args.sandbox.read_text(encoding="utf-8"))
        else:
            print(f"Starting the Stellar sandbox (log: {sandbox.log_path}) ...", flush=True)
            demo = sandbox.start()
        strategy_file = prepare_home(home, demo, args)
        print(banner(demo, strategy_file, args.headless, connected=not args.no_connect), flush=True)
        secrets_manager = secrets_manager_for(args.password or DEMO_PASSWORD)
        if args.headless:
            status = asyncio.run(run_headless(args, secrets_manager, strategy_file))
        else:
            status = run_interactive(args, secrets_manager, strategy_file,
                                     banner(demo, strategy_file, headless=False, connected=not args.no_connect))
        report_offers_left(demo)
        return status
    finally:
        sandbox.stop()


def prepare_home(home: Path, demo: dict[str, Any], args: argparse.Namespace) -> str | None:
    from hummingbot_stellar_cli import home as hb_home

    password = args.password or DEMO_PASSWORD
    secrets_manager = hb_home.check_password(password)
    hb_home.save_client_settings()
    if args.no_connect:
        hb_home.forget_connection()
        ask_network_settings_on_connect()
    else:
        hb_home.save_connection(secrets_manager, connection_values(demo))
    if args.no_strategy and not args.headless:
        return None
    hb_home.save_strategy(hb_home.demo_strategy_values(demo["trading_pair"], args.order_amount, args.spread))
    if args.sandbox is None:
        hb_home.forget_old_orders()  # a new network: the saved orders name offers of one that is gone
    return hb_home.STRATEGY_FILE


def secrets_manager_for(password: str) -> Any:
    from hummingbot.client.config.config_crypt import ETHKeyFileSecretManger

    return ETHKeyFileSecretManger(password)


def run_without_sandbox(args: argparse.Namespace) -> int:
    """Hummingbot's client in the home as it is, as bin/hummingbot_quickstart.py runs it (-f, -p, --headless)."""
    from hummingbot.client.config.security import Security

    if args.password:
        secrets_manager = secrets_manager_for(args.password)
    elif args.headless:
        raise SystemExit("--headless --no-sandbox needs --password (or $HUMMINGBOT_STELLAR_PASSWORD)")
    elif Security.new_password_required():
        raise SystemExit(f"{args.home} has no Hummingbot password yet: pass --password to set it")
    else:
        from hummingbot.client.config.client_config_map import ClientConfigMap
        from hummingbot.client.config.config_helpers import ClientConfigAdapter
        from hummingbot.client.ui import login_prompt
        from hummingbot.client.ui.style import load_style

        secrets_manager = login_prompt(_secrets_manager_class(),
                                       style=load_style(ClientConfigAdapter(ClientConfigMap())))
        if not secrets_manager:
            return 1
    from hummingbot_stellar_cli.home import check_password

    check_password(secrets_manager.password.get_secret_value())
    if args.headless:
        if not args.strategy:
            raise SystemExit("--headless --no-sandbox needs --strategy FILE (in HOME/conf/strategies)")
        return asyncio.run(run_headless(args, secrets_manager, args.strategy))
    return run_interactive(args, secrets_manager, args.strategy, None)


def _secrets_manager_class() -> Any:
    from hummingbot.client.config.config_crypt import ETHKeyFileSecretManger

    return ETHKeyFileSecretManger


async def _bootstrap(secrets_manager: Any, headless: bool):
    from hummingbot.client.config.config_helpers import load_client_config_map_from_file
    from hummingbot.client.runner import bootstrap_application

    client_config_map = load_client_config_map_from_file()
    hb = await bootstrap_application(client_config_map, secrets_manager, headless=headless)
    if hb is None:
        raise HomeError("Hummingbot refused the password")
    return hb


def run_interactive(args: argparse.Namespace, secrets_manager: Any, strategy_file: str | None,
                    message: str | None) -> int:
    async def main() -> None:
        from hummingbot.client.runner import load_and_start_strategy

        hb = await _bootstrap(secrets_manager, headless=False)
        # as `import <file>` does: the strategy is loaded, `start` runs it
        if strategy_file is not None and not await load_and_start_strategy(
                hb, config_file_name=strategy_file, headless=False):
            raise HomeError(f"Hummingbot could not load {strategy_file}; see {args.home}/logs")
        if args.transcript is not None:
            record_transcript(hb, args.transcript)
        if message:
            hb.notify("\n" + message)
        await hb.run()

    asyncio.run(main())
    return 0


def record_transcript(hb: Any, path: Path) -> None:
    """Append what the output pane shows, and each question asked, to `path` (line buffered)."""
    transcript = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open for the whole session
    show, ask = hb.app.log, hb.app.prompt

    def log(text: str, save_log: bool = True) -> None:
        transcript.write(f"{text}\n")
        show(text, save_log)

    async def prompt(prompt: str, is_password: bool = False) -> str:
        asking = asyncio.ensure_future(ask(prompt, is_password))
        await asyncio.sleep(0)  # the question is on screen and the input waits for its answer
        transcript.write(f"[prompt] {prompt}\n")
        return await asking

    hb.app.log, hb.app.prompt = log, prompt


async def run_headless(args: argparse.Namespace, secrets_manager: Any, strategy_file: str) -> int:
    from hummingbot.client.runner import load_and_start_strategy

    hb = await _bootstrap(secrets_manager, headless=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if not await load_and_start_strategy(hb, config_file_name=strategy_file, headless=True):
        print(f"Hummingbot could not start {strategy_file}; see {args.home}/logs", file=sys.stderr, flush=True)
        await hb.trading_core.shutdown()
        return 1
    print(f"Headless: {strategy_file} started; Ctrl-C or SIGTERM stops it and cancels its orders"
          + (f"; stopping by itself after {args.duration:g} s" if args.duration else ""), flush=True)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.duration or None)
    except TimeoutError:
        pass
    print("Stopping: strategy off, orders cancelled ...", flush=True)
    await hb.trading_core.shutdown()
    print("Stopped.", flush=True)
    return 0
