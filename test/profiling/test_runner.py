"""`python -m profiling run`: its arguments, a short real run against the embedded sandbox that produces every
artefact, and a Ctrl-C that still ends in a report.

The real runs go through the command line in a child process (the connector of the working tree, as in the
test session): the sandbox in its own child process, friendbot funding, market activity and a Hummingbot
strategy on the Clock, all over loopback HTTP/SSE with signed transactions.
"""
import json
import os
import pstats
import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from stellar_sdk import Keypair

from profiling.__main__ import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    TRADER_SECRET_ENV,
    UsageError,
    build_parser,
    profiling_config,
    run_problems,
    scenario_from_args,
)
from profiling.criteria import load_catalogue
from profiling.runner import ARTEFACT_NAMES, RunResult, Scenario, clear_previous_artefacts
from test.profiling.test_report import SCHEMA, SECTIONS, schema_errors

REPO_ROOT = Path(__file__).resolve().parents[2]
# The command line with the working tree's connector first on the path (see conftest.py).
CLI = [sys.executable, "-c", "import conftest, sys; from profiling.__main__ import main; sys.exit(main(sys.argv[1:]))"]
QUICK_LOAD = ["--ledger-interval", "0.5", "--market-rate", "4", "--refresh-time", "2", "--no-progress"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def parse(*argv):
    return build_parser().parse_args(["run", *argv])


def environment_without_profiling():
    return {key: value for key, value in os.environ.items() if key not in ("STELLAR_PROFILING", TRADER_SECRET_ENV)}


# ---------------------------------------------------------------------------------------------
# Arguments


class TestArguments:
    def test_the_defaults_are_the_runners(self):
        args = parse()
        assert scenario_from_args(args, environ={}) == Scenario()
        assert args.output is None and args.config is None and args.progress

    def test_options_reach_the_scenario(self):
        args = parse("--strategy", "v2", "--pairs", "xlm-usdc, EURC-USDC", "--order-levels", "3",
                     "--order-amount", "2.5", "--bid-spread", "0.01", "--ask-spread", "0.02", "--level-spread", "0.003",
                     "--refresh-time", "7", "--market-rate", "0", "--duration", "12", "--ledger-interval", "2",
                     "--sandbox", "in-process", "--channels", "5", "--rpc-url", "http://127.0.0.1:9/rpc",
                     "--pool-depth", "500", "--market-order-interval", "3", "--output", "somewhere")
        scenario = scenario_from_args(args, environ={})
        assert scenario.strategy == "v2"
        assert scenario.pairs == ("XLM-USDC", "EURC-USDC")
        p = scenario.params
        assert (p.order_levels, p.order_amount, p.bid_spread, p.ask_spread, p.order_level_spread, p.refresh_time) == (
            3, Decimal("2.5"), Decimal("0.01"), Decimal("0.02"), Decimal("0.003"), 7.0)
        assert (scenario.market_rate, scenario.duration, scenario.ledger_interval) == (0.0, 12.0, 2.0)
        assert scenario.sandbox == "in-process" and scenario.horizon_url is None
        assert (scenario.channels, scenario.rpc_url) == (5, "http://127.0.0.1:9/rpc")
        assert (scenario.pool_depth, scenario.market_order_interval) == (Decimal(500), 3.0)
        assert "a liquidity pool of 500 base a pair, a MARKET order every 3 s" in scenario.describe("the network")
        assert args.output == Path("somewhere")

    def test_the_network_gets_a_cpu_of_its_own_unless_told_not_to(self):
        assert scenario_from_args(parse(), environ={}).separate_cpus
        assert not scenario_from_args(parse("--no-separate-cpus"), environ={}).separate_cpus

    @pytest.mark.parametrize("argv, message", [
        (["--duration", "0"], "must be positive"),
        (["--duration", "nan"], "not a finite number"),
        (["--market-rate", "-1"], "zero or positive"),
        (["--market-order-interval", "-1"], "zero or positive"),
        (["--order-levels", "0"], "at least 1"),
        (["--order-amount", "ten"], "not a number"),
        (["--pairs", "XLMUSDC"], "BASE-QUOTE"),
        (["--pairs", "XLM-USDC,XLM-USDC"], "given twice"),
        (["--strategy", "grid"], "invalid choice"),
        (["--trader-secret", "SXXX"], "unrecognized arguments"),  # never on the command line
    ])
    def test_malformed_arguments_are_usage_errors(self, argv, capsys, message):
        with pytest.raises(SystemExit) as exit_info:
            parse(*argv)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err

    @pytest.mark.parametrize("argv, message", [
        (["--pairs", "XLM-USDC,EURC-USDC"], "--strategy v2"),
        (["--bid-spread", "1.5"], "fraction"),
        (["--order-amount", "-1"], "order_amount must be positive"),
        (["--channels", "-1"], "channels must be between 0"),
        (["--channels", "21"], "channels must be between 0"),
        (["--pool-depth", "-5"], "pool_depth must be zero or positive"),
    ])
    def test_arguments_that_make_no_runnable_scenario_are_refused(self, argv, message):
        with pytest.raises(UsageError, match=message):
            scenario_from_args(parse(*argv), environ={})

    def test_a_refused_scenario_exits_with_a_usage_error_before_anything_starts(self, tmp_path, capsys):
        from profiling.__main__ import main

        with pytest.raises(SystemExit) as exit_info:
            main(["run", "--pairs", "XLM-USDC,EURC-USDC", "--output", str(tmp_path / "out")])
        assert exit_info.value.code == 2
        assert "--strategy v2" in capsys.readouterr().err
        assert not (tmp_path / "out").exists()


class TestTraderSecret:
    def test_comes_from_the_environment_for_a_horizon_of_ones_own_and_stays_out_of_reprs(self):
        secret = Keypair.random().secret
        args = parse("--horizon-url", "http://127.0.0.1:9")
        scenario = scenario_from_args(args, environ={TRADER_SECRET_ENV: f"  {secret}\n"})
        assert scenario.trader_secret == secret
        assert secret not in repr(scenario)

    def test_comes_from_a_file(self, tmp_path):
        secret = Keypair.random().secret
        (tmp_path / "seed").write_text(secret + "\n")
        args = parse("--horizon-url", "http://127.0.0.1:9", "--trader-secret-file", str(tmp_path / "seed"))
        assert scenario_from_args(args, environ={}).trader_secret == secret

    def test_is_refused_for_the_embedded_sandbox(self):
        with pytest.raises(UsageError, match="only for --horizon-url"):
            scenario_from_args(parse(), environ={TRADER_SECRET_ENV: Keypair.random().secret})

    def test_an_invalid_seed_is_refused_without_echoing_it(self, tmp_path):
        (tmp_path / "seed").write_text("SNOTAVALIDSEEDBUTSECRETLOOKING123\n")
        args = parse("--horizon-url", "http://127.0.0.1:9", "--trader-secret-file", str(tmp_path / "seed"))
        with pytest.raises(UsageError) as error:
            scenario_from_args(args, environ={})
        assert "SNOTAVALID" not in str(error.value)
        assert "does not hold a valid Stellar secret seed" in str(error.value)

    def test_an_unreadable_file_is_a_usage_error(self, tmp_path):
        args = parse("--horizon-url", "http://127.0.0.1:9", "--trader-secret-file", str(tmp_path / "missing"))
        with pytest.raises(UsageError, match="cannot read"):
            scenario_from_args(args, environ={})


class TestProfilingConfiguration:
    def test_flags_override_the_configuration_file(self, tmp_path):
        (tmp_path / "p.yml").write_text("yappi: false\nmemray: false\nyappi_clock: wall\nreport_on_exit: true\n")
        config = profiling_config(parse("--config", str(tmp_path / "p.yml"), "--yappi"))
        assert (config.yappi, config.memray, config.yappi_clock) == (True, False, "wall")
        assert config.report_on_exit is False  # the runner writes its report itself

    def test_no_flags_leave_the_defaults(self):
        config = profiling_config(parse("--no-memray"))
        assert (config.yappi, config.memray, config.yappi_clock) == (True, False, "cpu")

    def test_per_task_figures_are_asked_for(self):
        assert profiling_config(parse()).yappi_per_task is False
        assert profiling_config(parse("--yappi-tasks")).yappi_per_task is True

    def test_trade_records_follow_the_strategy_unless_asked(self):
        assert not scenario_from_args(parse(), environ={}).keeps_trade_records
        assert scenario_from_args(parse("--trade-records"), environ={}).keeps_trade_records
        assert scenario_from_args(parse("--strategy", "v2"), environ={}).keeps_trade_records
        with pytest.raises(UsageError, match="needs trade records"):
            scenario_from_args(parse("--strategy", "v2", "--no-trade-records"), environ={})

    def test_an_unknown_setting_is_a_usage_error(self, tmp_path):
        (tmp_path / "p.yml").write_text("yapi: true\n")
        with pytest.raises(UsageError, match="unknown profiling setting"):
            profiling_config(parse("--config", str(tmp_path / "p.yml")))


def test_an_earlier_runs_artefacts_are_cleared_and_nothing_else(tmp_path):
    for name in ARTEFACT_NAMES:
        (tmp_path / name).write_text("old")
    (tmp_path / "notes.txt").write_text("mine")
    clear_previous_artefacts(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_the_progress_line_rewrites_itself_on_a_terminal_and_writes_one_line_elsewhere():
    import io

    from profiling.runner import ProgressLine

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        bar = ProgressLine(60, stream=stream)
        bar.update(15, "orders 2")
        bar.update(30, "orders 4")
        bar.close()
    assert terminal.getvalue().count("\r") == 3 and terminal.getvalue().endswith("30/60 s orders 4\n")
    assert log.getvalue() == " 50% |" + "#" * 15 + "-" * 15 + "| 30/60 s orders 4\n"
    silent = io.StringIO()
    bar = ProgressLine(60, stream=silent, enabled=False)
    bar.update(1, "x")
    bar.close()
    assert silent.getvalue() == ""


def test_a_run_without_orders_or_with_a_ledger_mismatch_is_a_failure(tmp_path):
    from profiling.runner import LedgerCheck

    def result(created, check, interrupted=False):
        return RunResult(output_dir=tmp_path, report=None, counts={"orders_created": created}, market={}, sla=[],
                         ledger_check=check, interrupted=interrupted, artefacts=[])

    fine = LedgerCheck(open_offers=0, balance_differences={})
    assert run_problems(result(4, fine)) == []
    assert "no order" in run_problems(result(0, fine))[0]
    assert run_problems(result(0, fine, interrupted=True)) == []
    assert "disagrees with the ledger" in run_problems(result(4, LedgerCheck(1, {})))[0]


# ---------------------------------------------------------------------------------------------
# Real runs


@pytest.mark.integration
def test_a_short_real_run_writes_every_artefact(tmp_path):
    output = tmp_path / "run"
    # With Hummingbot's trade records, as a Hummingbot session keeps them: their time is reported apart.
    completed = subprocess.run([*CLI, "run", "--duration", "6", *QUICK_LOAD, "--trade-records", "--output",
                                str(output)],
                               cwd=REPO_ROOT, env=environment_without_profiling(), capture_output=True, text=True,
                               timeout=240)
    assert completed.returncode == EXIT_OK, completed.stdout + completed.stderr[-4000:]
    assert f"Report: {output / 'report.md'}" in completed.stdout
    assert "no open offer left, the connector's balances equal the ledger's" in completed.stdout

    for name in ("report.md", "report.json", "latency_distribution.png", "resources.png", "yappi.prof",
                 "yappi.callgrind", "memray.bin", "memray-flamegraph.html", "trades.sqlite", "run.log", "sandbox.log"):
        assert (output / name).is_file(), name
    for plot in ("latency_distribution.png", "resources.png"):
        assert (output / plot).read_bytes()[:8] == PNG_MAGIC
    assert pstats.Stats(str(output / "yappi.prof")).total_calls > 0
    assert (output / "yappi.callgrind").read_text().startswith("version: 1")
    assert "<html" in (output / "memray-flamegraph.html").read_text()[:2000].lower()

    report = json.loads((output / "report.json").read_text())
    assert schema_errors(report, SCHEMA) == []
    extra, points = report["extra"], report["latency"]["points"]
    assert extra["run_orders_created"] > 0 and points["order_create.ack"]["count"] > 0
    assert extra["run_fills"] > 0 and points["fill.processing"]["count"] > 0
    assert extra["run_book_updates"] > 0 and points["book.update"]["count"] > 0
    assert report["time_split"]["connector_ms"] > 0 and report["time_split"]["network_ms"] > 0
    assert report["bottlenecks"]["clock_type"] == "cpu" and report["bottlenecks"]["connector"]
    assert report["memray"]["flamegraph_path"].endswith("memray-flamegraph.html")
    assert report["resources"]["sample_count"] > 0
    # Hummingbot's MarketsRecorder wrote every fill, timed apart from the connector's processing.
    assert report["hummingbot_time"]["markets_recorder"]
    assert points["hummingbot.markets_recorder.did_fill_order"]["count"] == extra["run_fills"]
    assert 0 < report["hummingbot_time"]["nested"]["fill.processing"]["share"] <= 1
    # The memory section tells who holds what, step by step.
    holders = {mark["holder"] for mark in report["memory"]["marks"]}
    assert {"profilers", "session"} <= holders
    assert report["memory"]["yappi_statistics_mb"] > 0
    catalogue_ids = [c.id for c in load_catalogue().criteria]
    assert [c["id"] for c in report["criteria"]] == catalogue_ids
    assert {target["status"] for target in report["sla"]} <= {"meeting", "at risk", "failing", "not measured"}

    markdown = (output / "report.md").read_text()
    assert "### Inside the connector's points: Hummingbot's MarketsRecorder" in markdown
    positions = [markdown.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    criteria_section = markdown.split("## Performance Criteria (qa_ids)")[1]
    assert all(f"`{qa_id}`" in criteria_section for qa_id in catalogue_ids)
    assert "child process" in markdown  # the network ran apart from the profiled process
    if len(os.sched_getaffinity(0)) >= 2:   # ... and on a CPU of its own
        assert "the network on CPU" in markdown


@pytest.mark.integration
def test_a_run_with_a_pool_and_market_orders_reports_their_latency_and_the_pools_book_updates(tmp_path):
    output = tmp_path / "pool"
    completed = subprocess.run([*CLI, "run", "--duration", "10", *QUICK_LOAD, "--pool-depth", "1000",
                                "--market-order-interval", "2", "--no-yappi", "--no-memray", "--output", str(output)],
                               cwd=REPO_ROOT, env=environment_without_profiling(), capture_output=True, text=True,
                               timeout=240)
    assert completed.returncode == EXIT_OK, completed.stdout + completed.stderr[-4000:]
    assert "no open offer left, the connector's balances equal the ledger's" in completed.stdout
    report = json.loads((output / "report.json").read_text())
    assert schema_errors(report, SCHEMA) == []
    points = report["latency"]["points"]
    assert points["order_market.filled"]["count"] >= 2 and points["order_market.filled"]["kind"] == "end_to_end"
    assert points["book.pool_update"]["count"] > 0            # the pool's levels in the connector's book
    assert points["horizon./liquidity_pools"]["count"] == 1   # found once; followed by its effects stream since
    assert report["extra"]["run_orders_failed"] == 0
    markdown = (output / "report.md").read_text()
    assert "| `order_market.filled` | end_to_end |" in markdown
    assert "a liquidity pool of 1000 base a pair, a MARKET order every 2 s" in markdown


@pytest.mark.integration
def test_a_short_v2_run_on_two_pairs_keeps_trade_records_and_quotes_both(tmp_path):
    output = tmp_path / "v2"
    completed = subprocess.run([*CLI, "run", "--strategy", "v2", "--pairs", "XLM-USDC,EURC-USDC", "--duration", "6",
                                *QUICK_LOAD, "--no-yappi", "--no-memray", "--output", str(output)],
                               cwd=REPO_ROOT, env=environment_without_profiling(), capture_output=True, text=True,
                               timeout=240)
    assert completed.returncode == EXIT_OK, completed.stdout + completed.stderr[-4000:]
    assert "no open offer left, the connector's balances equal the ledger's" in completed.stdout
    report = json.loads((output / "report.json").read_text())
    assert schema_errors(report, SCHEMA) == []
    assert report["extra"]["run_orders_created"] > 0
    assert (output / "trades.sqlite").is_file()          # StrategyV2Base needs Hummingbot's MarketsRecorder
    assert report["hummingbot_time"]["markets_recorder"]
    labels = [mark["label"] for mark in report["memory"]["marks"]]
    assert any(label.startswith("Hummingbot's StrategyV2Base") for label in labels)


@pytest.mark.integration
def test_ctrl_c_stops_the_run_cleanly_and_still_writes_the_report(tmp_path):
    output = tmp_path / "run"
    # Its own process group, so the SIGINT goes to the group as a terminal's Ctrl-C does.
    process = subprocess.Popen([*CLI, "run", "--duration", "300", "--no-yappi", "--no-memray", *QUICK_LOAD,
                                "--output", str(output)], cwd=REPO_ROOT, env=environment_without_profiling(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        log = output / "run.log"
        deadline = time.monotonic() + 120
        while not (log.is_file() and "the strategy runs on the clock" in log.read_text()):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the strategy did not start"
            time.sleep(0.2)
        time.sleep(3)  # a few ticks: orders placed
        os.killpg(process.pid, signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == EXIT_INTERRUPTED, stdout + stderr[-4000:]
    assert "stopping cleanly" in stderr
    assert "Interrupted before the end of the duration." in stdout
    assert "no open offer left, the connector's balances equal the ledger's" in stdout
    report = json.loads((output / "report.json").read_text())
    assert schema_errors(report, SCHEMA) == []
    assert report["duration_s"] < 300
    assert "The run was stopped before the end of its duration." in report["notes"]
    assert (output / "report.md").is_file() and (output / "resources.png").is_file()
    # The classic strategy ran without Hummingbot's trade records: none were kept, none were timed.
    assert not (output / "trades.sqlite").exists()
    assert not report["hummingbot_time"]["markets_recorder"]

    # The sandbox's child process did not get the Ctrl-C (it served the cancels) and is gone now.
    sandbox_pid = int(re.search(r"child process \(pid (\d+)\)", log.read_text()).group(1))
    deadline = time.monotonic() + 15
    while _alive(sandbox_pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(sandbox_pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
