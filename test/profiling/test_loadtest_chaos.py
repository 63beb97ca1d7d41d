"""`python -m profiling loadtest`: the scenario table and its command line, and a short chaos run (scenario 6)
whose correctness verdicts must hold: streams dropped at random, 5xx/429 answers and submissions that time out
after being applied, and still no fill lost or duplicated, no order duplicated or forgotten, and balances equal
to the ledger's. Its timings (reconnect within 5 s) are the benchmark's business, not asserted here.

The run goes through the command line in a child process (the working tree's connector, as in test_runner.py),
with the sandbox in its own child process, over loopback HTTP/SSE with signed transactions.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from profiling.__main__ import build_parser, main
from profiling.loadtest import SCENARIOS, Check, LoadTestResult, Sample, delivered_per_step, parse_scenarios

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "import conftest, sys; from profiling.__main__ import main; sys.exit(main(sys.argv[1:]))"]
CHAOS_SECONDS = 15


def test_the_table_holds_the_issues_scenarios_with_short_defaults_and_full_lengths():
    assert sorted(SCENARIOS) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert all(s.short_s <= 45 for s in SCENARIOS.values() if not s.process_level)
    assert SCENARIOS[1].full_s == 600 and SCENARIOS[1].rate_at(0.5) == 10
    assert SCENARIOS[2].rate_at(0.0) == 100
    burst = SCENARIOS[3]
    assert [burst.rate_at(f) for f in (0.1, 0.45, 0.9)] == [10, 500, 10]
    burst_seconds = (burst.rates[2][0] - burst.rates[1][0]) * burst.full_s
    assert burst_seconds == pytest.approx(60)
    ramp = SCENARIOS[4]
    assert ramp.rate_at(0.0) == 10 and ramp.rate_at(0.999) >= 1000
    assert [ramp.rate_at(start) for start, _ in ramp.rates] == sorted(ramp.rate_at(start) for start, _ in ramp.rates)
    assert SCENARIOS[5].memray and not SCENARIOS[1].memray
    assert SCENARIOS[6].chaos is not None and SCENARIOS[6].full_s == 600
    assert SCENARIOS[2].duration(full=False) == SCENARIOS[2].short_s
    assert SCENARIOS[2].duration(full=True) == SCENARIOS[2].full_s
    assert SCENARIOS[2].duration(full=True, override=7) == 7
    restart = SCENARIOS[7]
    assert (restart.name, restart.folder, restart.chaos) == ("restart", "7-restart", None)
    assert restart.restart.recovery and restart.restart.unknown_offers == "cancel"
    # One kill in the default 60 s of trading (the whole run under 2 minutes), one a minute with --full.
    assert restart.restart.kills(restart.short_s) == 1 and restart.restart.kills(restart.full_s) == 5
    failover = SCENARIOS[8]
    assert (failover.name, failover.folder, failover.process_level) == ("failover", "8-failover", True)
    # One round of faults in the default length (the whole run under 2 minutes), four with --full.
    assert failover.short_s <= 60 and failover.failover.rounds(failover.short_s) == 1
    assert failover.failover.rounds(failover.full_s) == 4 and failover.failover.scale(failover.full_s) == 1
    assert failover.failover.surge_fee < failover.failover.max_fee < failover.failover.over_max_fee


def test_scenario_selection_and_the_command_line():
    assert parse_scenarios("all") == [1, 2, 3, 4, 5, 6, 7, 8]
    assert parse_scenarios("6,2") == [6, 2]
    assert parse_scenarios("restart") == [7] and parse_scenarios("chaos, Restart") == [6, 7]
    assert parse_scenarios("failover") == [8]
    for bad in ("9", "x", "0", "restarts"):
        with pytest.raises(ValueError):
            parse_scenarios(bad)
    args = build_parser().parse_args(["loadtest", "--scenario", "3", "--full", "--duration", "12"])
    assert (args.command, args.scenario, args.full, args.duration, args.yappi, args.memray) == (
        "loadtest", "3", True, 12.0, False, None)
    with pytest.raises(SystemExit) as exit_info:
        main(["loadtest", "--scenario", "9"])
    assert exit_info.value.code == 2
    args = build_parser().parse_args(["loadtest", "--scenario", "restart", "--without-recovery",
                                      "--unknown-offers", "adopt"])
    assert (args.without_recovery, args.unknown_offers) == (True, "adopt")


def test_a_result_passes_only_when_every_check_does_and_correctness_leaves_timings_out():
    checks = [Check("fills", "-", "-", True), Check("reconnects", "-", "-", False, timing=True)]
    result = LoadTestResult(SCENARIOS[6], 1.0, run=None, checks=checks, figures={})
    assert not result.passed and result.correctness_passed
    result.checks.append(Check("balances", "-", "-", False))
    assert not result.correctness_passed


@pytest.mark.integration
def test_a_short_chaos_run_loses_no_fill_duplicates_no_order_and_agrees_with_the_ledger(tmp_path):
    completed = subprocess.run(
        CLI + ["loadtest", "--scenario", "6", "--duration", str(CHAOS_SECONDS), "--no-memray",
               "--output", str(tmp_path)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=150)
    folder = tmp_path / "6-chaos"
    data = json.loads((folder / "loadtest.json").read_text(encoding="utf-8"))
    checks = {check["name"]: check for check in data["checks"]}
    correctness = {name: check for name, check in checks.items() if not check["timing"]}
    failed = {name: check["measured"] for name, check in correctness.items() if not check["passed"]}
    assert not failed, f"{failed}\n{completed.stderr[-3000:]}"
    assert set(correctness) >= {"completed", "streams dropped", "no fill duplicated", "no fill lost",
                                "no order duplicated", "no order forgotten", "balances"}
    figures = data["figures"]
    assert figures["orders_created"] > 0 and figures["fills"] > 0
    assert data["ledger"]["offer_creates"] == figures["orders_created"]
    assert "reconnects" in checks and checks["reconnects"]["timing"]
    # The report carries the verdict block, and the command printed it.
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Load test 6: chaos" in report and "| no fill lost |" in report
    assert "## Load test 6: chaos" in completed.stdout


def test_delivered_rate_per_step_comes_from_the_sandbox_counts_between_rate_changes():
    samples = [Sample(t_s=t, rate=rate, queue_depth=0, loop_lag_ms=0, rss_mb=1, cpu_percent=0, events_applied=n)
               for t, rate, n in ((0, 10, 0), (1, 10, 10), (2, 10, 20), (3, 100, 30), (4, 100, 90), (5, 100, 150))]
    assert delivered_per_step(samples) == {"10": 10.0, "100": 60.0}
