"""`python -m profiling run`: a profiled market-making session against the embedded network (or a Horizon).

    python -m profiling run                              # 60 s of classic pure market making on XLM-USDC
    python -m profiling run --strategy v2 --pairs XLM-USDC,EURC-USDC --duration 120 --output reports/v2
    python -m profiling run --horizon-url https://horizon-testnet.stellar.org --duration 300
    python -m profiling loadtest --scenario 6            # load and failure tests (profiling.loadtest)

A progress bar runs on stderr; Ctrl-C (or SIGTERM) stops the strategy, cancels its orders and still
writes the report; a second Ctrl-C aborts. Exit status: 0 done, 1 the run failed (or the connector's
balances disagreed with the ledger afterwards), 2 bad arguments, 130 stopped early (report written).

The trader's secret, for a Horizon of your own, comes from $STELLAR_PROFILING_TRADER_SECRET or
--trader-secret-file, never from the command line: command lines are visible to every user of the
machine and end up in shell histories.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import List, Optional, Sequence

from .config import ProfilingConfig
from .memory import PYTHON, MemoryMarks, load_run_modules

TRADER_SECRET_ENV = "STELLAR_PROFILING_TRADER_SECRET"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
LOG_FILE = "run.log"

logger = logging.getLogger("profiling")


class UsageError(ValueError):
    """Arguments that parse but do not make a runnable scenario."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m profiling",
                                     description="Profile the Stellar connector under a real Hummingbot strategy.")
    commands = parser.add_subparsers(dest="command", required=True)
    # No abbreviations: `--trader-secret S...` must not pass for `--trader-secret-file`.
    run = commands.add_parser(
        "run", help="run a strategy under the profiler and write the report", allow_abbrev=False,
        description="Start the embedded sandbox (unless --horizon-url), fund the accounts, start market "
                    "activity, run a Hummingbot strategy with the Stellar connector on Hummingbot's Clock "
                    "under the profiler, and write report.md, report.json and the plots.")
    strategy = run.add_argument_group("strategy")
    strategy.add_argument("--strategy", choices=("pmm", "v2"), default="pmm",
                          help="pmm: Hummingbot's classic pure market making (one pair); v2: a StrategyV2Base "
                               "quote refresher script (any number of pairs). Default pmm")
    strategy.add_argument("--pairs", type=_pairs, default=("XLM-USDC",), metavar="BASE-QUOTE[,...]",
                          help="trading pairs, comma separated (default XLM-USDC)")
    strategy.add_argument("--order-levels", type=_positive_int, default=2, metavar="N",
                          help="orders a side (default 2)")
    strategy.add_argument("--order-amount", type=_decimal, default=Decimal("10"), metavar="AMOUNT",
                          help="size of each order in base units (default 10)")
    strategy.add_argument("--bid-spread", type=_decimal, default=Decimal("0.005"), metavar="FRACTION",
                          help="first bid below the mid price, as a fraction: 0.005 is 0.5 %% (default 0.005)")
    strategy.add_argument("--ask-spread", type=_decimal, default=Decimal("0.005"), metavar="FRACTION",
                          help="first ask above the mid price, as a fraction (default 0.005)")
    strategy.add_argument("--level-spread", type=_decimal, default=Decimal("0.005"), metavar="FRACTION",
                          help="each further level this much further out, as a fraction (default 0.005)")
    strategy.add_argument("--refresh-time", type=_positive_float, default=5.0, metavar="S",
                          help="seconds between cancelling and re-placing the quotes (default 5)")
    strategy.add_argument("--trade-records", action=argparse.BooleanOptionalAction, default=None,
                          help="keep Hummingbot's trade database (MarketsRecorder on <output>/trades.sqlite) as a "
                               "Hummingbot session does, its time inside the connector's points reported apart "
                               "(default: only for --strategy v2, which needs it; the classic strategy does not use "
                               "it, and it loads some 70 MB)")
    load = run.add_argument_group("load and network")
    load.add_argument("--market-rate", type=_non_negative_float, default=2.0, metavar="R",
                      help="market events per second: maker re-quotes and takers crossing the spread (default 2; "
                           "0: none)")
    load.add_argument("--pool-depth", type=_decimal, default=Decimal("0"), metavar="AMOUNT",
                      help="each pair's liquidity pool: base units the maker deposits at the start, at the pair's "
                           "reference price (default 0: no pool)")
    load.add_argument("--market-order-interval", type=_non_negative_float, default=0.0, metavar="S",
                      help="a MARKET order (a path payment: book or pool) every S seconds beside the strategy, buy "
                           "and sell in turn, half an order amount each; its latency is order_market.filled "
                           "(default 0: none)")
    load.add_argument("--duration", type=_positive_float, default=60.0, metavar="S",
                      help="seconds the strategy runs (default 60)")
    load.add_argument("--ledger-interval", type=_positive_float, default=1.0, metavar="S",
                      help="seconds between ledgers of the embedded sandbox (default 1)")
    load.add_argument("--sandbox", choices=("process", "in-process"), default="process",
                      help="the embedded sandbox in a child process (default: the figures then leave the network's "
                           "work out) or in this process")
    load.add_argument("--separate-cpus", action=argparse.BooleanOptionalAction, default=True,
                      help="the sandbox's child process on a CPU of its own and the bot on the others, as a remote "
                           "Horizon never takes the bot's CPU (default on, with two CPUs or more)")
    load.add_argument("--horizon-url", default=None, metavar="URL",
                      help="trade against this Horizon (it needs a friendbot) instead of the embedded sandbox")
    load.add_argument("--network-passphrase", default=None, metavar="P",
                      help="that Horizon's network passphrase (default: the one it announces at GET /)")
    load.add_argument("--channels", type=int, default=2, metavar="N",
                      help="channel accounts for the trader (default 2; 0: every order waits for the account's "
                           "one transaction in flight)")
    load.add_argument("--rpc-url", default=None, metavar="URL",
                      help="a Stellar RPC the connector asks for its health (default: the embedded sandbox's, "
                           "none with --horizon-url)")
    load.add_argument("--trader-secret-file", type=Path, default=None, metavar="PATH",
                      help=f"file holding the trading account's secret seed (or set ${TRADER_SECRET_ENV}); "
                           "default: a new account funded by friendbot")
    output = run.add_argument_group("profiling and output")
    output.add_argument("--config", type=Path, default=None, metavar="PATH",
                        help="profiling settings (template: conf/conf_stellar_profiling.yml); the flags below "
                             "override it")
    output.add_argument("--yappi", action=argparse.BooleanOptionalAction, default=None,
                        help="function profile with yappi (default on)")
    output.add_argument("--yappi-tasks", dest="yappi_per_task", action=argparse.BooleanOptionalAction, default=None,
                        help="yappi's figures per asyncio task too (default off: a callback on every profiled call, "
                             "about 2.5 MB and half a point of CPU on the demo)")
    output.add_argument("--memray", action=argparse.BooleanOptionalAction, default=None,
                        help="allocation capture with memray (default on)")
    output.add_argument("--output", type=Path, default=None, metavar="DIR",
                        help="folder for the report and artefacts (default: a new timestamped folder in the "
                             "configuration's output_dir, reports/profiling)")
    output.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar (for logs and CI)")
    output.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                        help=f"log level on the console (the full log at INFO goes to <output>/{LOG_FILE}); "
                             "default WARNING")
    _add_loadtest_parser(commands)
    return parser


def _add_loadtest_parser(commands) -> None:
    from .load_scenarios import SCENARIOS

    table = "; ".join(f"{s.number}: {s.title} ({s.short_s:g} s, --full {s.full_s:g} s)" for s in SCENARIOS.values())
    loadtest = commands.add_parser(
        "loadtest", help="load and failure tests: book-event rates and faults against a running strategy",
        allow_abbrev=False, description=f"Scenarios: {table}. Each writes report.md (with its verdict) and "
                                        "loadtest.json into <output>/<number>-<name>/.")
    loadtest.add_argument("--scenario", required=True, metavar="N|NAME[,...]|all",
                          help=f"which scenario(s) to run: numbers 1-{len(SCENARIOS)}, names "
                               f"({', '.join(s.name for s in SCENARIOS.values())}) or all")
    loadtest.add_argument("--full", action="store_true", help="the issue's full lengths instead of the short ones")
    loadtest.add_argument("--duration", type=_positive_float, default=None, metavar="S",
                          help="seconds each scenario runs (overrides the short/full length)")
    loadtest.add_argument("--yappi", action=argparse.BooleanOptionalAction, default=False,
                          help="function profile with yappi (default off: it slows the loop being measured)")
    loadtest.add_argument("--memray", action=argparse.BooleanOptionalAction, default=None,
                          help="allocation capture with memray (default: on for the endurance scenario only)")
    loadtest.add_argument("--output", type=Path, default=Path("reports/loadtest"), metavar="DIR",
                          help="folder for the scenarios' folders (default reports/loadtest)")
    loadtest.add_argument("--progress", action="store_true", help="a progress bar on stderr")
    loadtest.add_argument("--log-level", default="WARNING", choices=("DEBUG", "INFO", "WARNING", "ERROR"),
                          help=f"console log level (INFO goes to <output>/<scenario>/{LOG_FILE})")
    restart = loadtest.add_argument_group("the restart scenario")
    restart.add_argument("--unknown-offers", choices=("cancel", "adopt"), default=None,
                         help="what the restarted bot's connector does with offers no saved order knows "
                              "(stellar_unknown_offers; default cancel)")
    restart.add_argument("--without-recovery", action="store_true",
                         help="the negative control: restart without Hummingbot's saved state and with the "
                              "connector's start-up recovery switched off (the verdict must then FAIL)")
    failover = loadtest.add_argument_group("the failover scenario")
    failover.add_argument("--single-horizon", action="store_true",
                          help="the negative control: the bot gets one Horizon only, so it cannot switch away from "
                               "a fault (the verdict must then FAIL)")


def scenario_from_args(args: argparse.Namespace, environ: Optional[dict] = None):
    """The `Scenario` the arguments describe; UsageError for values that cannot run."""
    from .runner import Scenario
    from .strategies.params import MarketMakingParams

    try:
        params = MarketMakingParams(order_amount=args.order_amount, order_levels=args.order_levels,
                                    bid_spread=args.bid_spread, ask_spread=args.ask_spread,
                                    order_level_spread=args.level_spread, refresh_time=args.refresh_time)
        return Scenario(strategy=args.strategy, pairs=tuple(args.pairs), params=params,
                        market_rate=args.market_rate, duration=args.duration,
                        ledger_interval=args.ledger_interval, sandbox=args.sandbox, horizon_url=args.horizon_url,
                        network_passphrase=args.network_passphrase, rpc_url=args.rpc_url, channels=args.channels,
                        trader_secret=trader_secret(args, environ), trade_records=args.trade_records,
                        pool_depth=args.pool_depth, market_order_interval=args.market_order_interval,
                         separate_cpus=args.separate_cpus)
    except ValueError as error:
        raise UsageError(str(error)) from error


def trader_secret(args: argparse.Namespace, environ: Optional[dict] = None) -> Optional[str]:
    """The trader's secret seed from the file or the environment (None: a fresh account). Never echoed."""
    environ = os.environ if environ is None else environ
    secret = None
    source = ""
    if args.trader_secret_file is not None:
        try:
            secret = args.trader_secret_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise UsageError(f"cannot read --trader-secret-file: {error.strerror}") from None
        source = f"--trader-secret-file {args.trader_secret_file}"
    elif environ.get(TRADER_SECRET_ENV, "").strip():
        secret = environ[TRADER_SECRET_ENV].strip()
        source = f"${TRADER_SECRET_ENV}"
    if secret is None:
        return None
    if args.horizon_url is None:
        raise UsageError(f"a trader secret ({source}) is only for --horizon-url: the embedded sandbox starts "
                         "empty and funds a new account")
    from stellar_sdk import Keypair

    try:
        Keypair.from_secret(secret)
    except Exception:  # the message of stellar-sdk's error could quote the value
        raise UsageError(f"{source} does not hold a valid Stellar secret seed (S...)") from None
    return secret


def profiling_config(args: argparse.Namespace) -> ProfilingConfig:
    try:
        config = ProfilingConfig.from_yaml(args.config) if args.config is not None else ProfilingConfig()
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from error
    overrides = {name: value for name, value in (("yappi", args.yappi), ("memray", args.memray),
                                                 ("yappi_per_task", args.yappi_per_task)) if value is not None}
    # A run of ours ends in a report anyway; no second one at exit.
    return dataclasses.replace(config, report_on_exit=False, **overrides)


def main(argv: Optional[Sequence[str]] = None) -> int:
    # What the process holds before Hummingbot loads: the first of the report's memory marks.
    marks = MemoryMarks()
    marks.mark("Python and the profiling command line", holder=PYTHON)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "loadtest":
        return _loadtest(parser, args, marks)
    # Hummingbot, the connector and the strategy, one step at a time, so the report can tell what each holds.
    load_run_modules(marks, strategy=args.strategy,
                     trade_records=args.trade_records if args.trade_records is not None else args.strategy == "v2")
    try:
        scenario = scenario_from_args(args)
        config = profiling_config(args)
    except UsageError as error:
        parser.error(str(error))  # exits with EXIT_USAGE
    from .profiler import session_dir

    output = args.output if args.output is not None else session_dir(config.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    log_handlers = _configure_logging(args.log_level, output / LOG_FILE)
    network = "embedded sandbox" if scenario.horizon_url is None else scenario.horizon_url
    print(f"Profiling run: {scenario.describe(network)}", file=sys.stderr)
    print(f"yappi {'on' if config.yappi else 'off'}, memray {'on' if config.memray else 'off'}; output {output}",
          file=sys.stderr)
    try:
        result = asyncio.run(_run(scenario, output, config, args.progress, marks))
    except KeyboardInterrupt:
        print("Aborted (second Ctrl-C): the report was not written.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        logger.debug("the run failed", exc_info=True)
        print(f"The run failed: {type(error).__name__}: {error}", file=sys.stderr)
        written = output / "report.md"
        if written.is_file():
            print(f"A report of what was measured up to the failure: {written}", file=sys.stderr)
        print(f"Log: {output / LOG_FILE}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        for handler in log_handlers:
            logging.getLogger().removeHandler(handler)
            handler.close()
    print(result.summary())
    problems = run_problems(result)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return EXIT_FAILED
    return EXIT_INTERRUPTED if result.interrupted else EXIT_OK


def _loadtest(parser: argparse.ArgumentParser, args: argparse.Namespace, marks: MemoryMarks) -> int:
    """Run the chosen load scenarios one after the other; exit 0 when every check of every one passed."""
    from .load_scenarios import SCENARIOS, parse_scenarios

    try:
        numbers = parse_scenarios(args.scenario)
    except ValueError as error:
        parser.error(str(error))
    if len(numbers) > 1:
        return _loadtests_one_process_each(args, numbers)
    failed = False
    for number in numbers:
        scenario = SCENARIOS[number]
        duration = scenario.duration(args.full, args.duration)
        output = args.output / scenario.folder
        output.mkdir(parents=True, exist_ok=True)
        print(f"Load test {number}: {scenario.title}, {duration:g} s -> {output}", file=sys.stderr)
        log_handlers = _configure_logging(args.log_level, output / LOG_FILE)
        if not scenario.process_level:   # Hummingbot, the connector and the strategy, before the run's loop
            load_run_modules(marks, strategy="pmm", trade_records=False)
        try:
            outcome = asyncio.run(_load_scenario(scenario, output, duration, args, marks))
        except Exception as error:
            logger.debug("the load test failed", exc_info=True)
            print(f"Load test {number} failed to run: {type(error).__name__}: {error}", file=sys.stderr)
            failed = True
            continue
        finally:
            for handler in log_handlers:
                logging.getLogger().removeHandler(handler)
                handler.close()
        print(outcome.report_markdown.read_text(encoding="utf-8"))
        failed = failed or not outcome.passed
    return EXIT_FAILED if failed else EXIT_OK


async def _load_scenario(scenario, output: Path, duration: float, args: argparse.Namespace, marks: MemoryMarks):
    """One scenario: the probe's on the profiling runner in this process, or a process-level chaos scenario (the bot
    in child processes it kills and restarts, or cuts from its Horizons: this process loads no Hummingbot)."""
    if scenario.failover is not None:
        from .failover_chaos import run_failover_scenario, single_horizon

        failover = single_horizon(scenario.failover) if args.single_horizon else scenario.failover
        return await run_failover_scenario(scenario, output, duration=duration, failover=failover,
                                           progress=args.progress)
    if scenario.restart is not None:
        from dataclasses import replace

        from .restart_chaos import run_restart_scenario

        restart = scenario.restart
        if args.unknown_offers is not None:
            restart = replace(restart, unknown_offers=args.unknown_offers)
        if args.without_recovery:
            restart = replace(restart, recovery=False)
        return await run_restart_scenario(scenario, output, duration=duration, restart=restart,
                                          progress=args.progress)
    from .loadtest import run_load_scenario

    config = ProfilingConfig(yappi=args.yappi, report_on_exit=False,
                             memray=scenario.memray if args.memray is None else args.memray)
    return await run_load_scenario(scenario, output, duration=duration, profiling=config, progress=args.progress,
                                   memory_marks=marks)


def _loadtests_one_process_each(args: argparse.Namespace, numbers: Sequence[int]) -> int:
    """Several scenarios: each in a fresh interpreter (Hummingbot keeps state bound to its first event loop,
    so a second `asyncio.run` in the same process gets a connector that never starts)."""
    import subprocess

    options = ["--output", str(args.output), "--log-level", args.log_level,
               "--yappi" if args.yappi else "--no-yappi"]
    options += ["--full"] if args.full else []
    options += ["--duration", str(args.duration)] if args.duration is not None else []
    options += [] if args.memray is None else ["--memray" if args.memray else "--no-memray"]
    options += ["--progress"] if args.progress else []
    options += ["--unknown-offers", args.unknown_offers] if args.unknown_offers else []
    options += ["--without-recovery"] if args.without_recovery else []
    options += ["--single-horizon"] if args.single_horizon else []
    failed = False
    for number in numbers:
        completed = subprocess.run([sys.executable, "-m", __package__, "loadtest", "--scenario", str(number),
                                    *options], check=False)
        failed = failed or completed.returncode != EXIT_OK
    return EXIT_FAILED if failed else EXIT_OK


def run_problems(result) -> List[str]:
    """Why a run that ended normally still failed its purpose (empty: it did not)."""
    problems = []
    if result.ledger_check is not None and not result.ledger_check.consistent:
        problems.append("The connector's view disagrees with the ledger after the run (see above).")
    if not result.interrupted and not result.counts.get("orders_created"):
        problems.append(f"The strategy created no order: nothing of the order path was measured (see "
                        f"{result.output_dir / LOG_FILE}).")
    return problems


async def _run(scenario, output: Path, config: ProfilingConfig, progress: bool, marks: Optional[MemoryMarks] = None):
    from .runner import run

    return await run(scenario, output_dir=output, profiling=config, progress=progress, handle_signals=True,
                     memory_marks=marks)


def _configure_logging(console_level: str, log_path: Path) -> List[logging.Handler]:
    """Console at `console_level` on stderr, and the whole run at INFO into the output folder."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(console)
    log_file = logging.FileHandler(log_path, mode="w", encoding="utf-8")
    log_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(log_file)
    return [console, log_file]


# ----- argument types -----

def _pairs(text: str) -> List[str]:
    pairs = [pair.strip().upper() for pair in text.split(",") if pair.strip()]
    if not pairs:
        raise argparse.ArgumentTypeError("give at least one pair, e.g. XLM-USDC")
    # The shape only (the connector's split_trading_pair checks it again when the scenario is built): checking
    # it through the connector here would load Hummingbot before the command line's first memory mark.
    for pair in pairs:
        base, dash, quote = pair.partition("-")
        if not dash or "-" in quote or not base.strip() or not quote.strip():
            raise argparse.ArgumentTypeError(f"Trading pair {pair!r} must be BASE-QUOTE with exactly one dash, "
                                             "e.g. XLM-USDC")
    if len(set(pairs)) != len(pairs):
        raise argparse.ArgumentTypeError(f"a pair is given twice: {text!r}")
    return pairs


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = _float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or positive, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


if __name__ == "__main__":
    sys.exit(main())
