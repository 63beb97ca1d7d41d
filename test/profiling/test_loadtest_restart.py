"""Load test 7, `restart`, end to end and shortened: pure market making against the sandbox (in its own process)
while the bot process is killed with SIGKILL mid-run and started again on Hummingbot's saved state. Its verdict
compares the ledger's records with the bots' journals; here only correctness is asserted, never a timing.

The negative control (`--without-recovery`: the restarted bot gets neither the saved state nor the connector's
recovery) must fail that verdict and exit non-zero: the checks can see what the recovery prevents.

Both go through the command line in a child process (the working tree's connector, as in test_loadtest_chaos.py);
the scenario's bots are child processes of that one.
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "import conftest, sys; from profiling.__main__ import main; sys.exit(main(sys.argv[1:]))"]
RESTART_SECONDS = 30   # of trading, split in two bots' segments
CORRECTNESS = {"orders lost", "orders duplicated", "fills missed", "fills duplicated", "balances",
               "no offer left unknown", "killed mid-run", "recovered before trading"}


def _run(tmp_path: Path, *options: str):
    completed = subprocess.run(CLI + ["loadtest", "--scenario", "restart", "--duration", str(RESTART_SECONDS),
                                      "--output", str(tmp_path), *options],
                               cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    folder = tmp_path / "7-restart"
    assert (folder / "loadtest.json").is_file(), completed.stderr[-3000:]
    data = json.loads((folder / "loadtest.json").read_text(encoding="utf-8"))
    return completed, folder, data, {check["name"]: check for check in data["checks"]}


@pytest.mark.integration
def test_a_bot_killed_mid_run_and_restarted_loses_and_duplicates_nothing_and_leaves_no_offer(tmp_path):
    completed, folder, data, checks = _run(tmp_path)
    failed = {name: check["measured"] for name, check in checks.items() if not check["passed"] and not check["timing"]}
    assert not failed, f"{failed}\n{completed.stderr[-3000:]}"
    assert set(checks) >= CORRECTNESS and completed.returncode == 0
    bot_1, bot_2 = data["bots"]
    assert (bot_1["ended_by"], bot_1["exit"], bot_2["ended_by"], bot_2["exit"]) == ("kill", -9, "stop", 0)
    figures = data["figures"]
    assert figures["kills"] == 1 and figures["ledger_offer_creates"] > 0 and figures["ledger_trades"] > 0
    # The killed bot's resting offers came back to the second one: Hummingbot's saved state, then the recovery.
    assert data["restart"]["kill_moments"][0]["resting"] > 0 and figures["orders_restored"][1] > 0
    assert (folder / "trades.sqlite").is_file() and (folder / "bot-2.journal.jsonl").is_file()
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "## Load test 7: bot killed (SIGKILL) and restarted" in report and "| orders lost |" in report
    assert "## Load test 7" in completed.stdout


@pytest.mark.integration
def test_without_recovery_the_killed_bots_orders_are_lost_and_the_command_exits_non_zero(tmp_path):
    completed, _folder, data, checks = _run(tmp_path, "--without-recovery")
    assert completed.returncode == 1
    assert not data["passed"] and not checks["orders lost"]["passed"]
    assert "not restored after the kill" in checks["orders lost"]["measured"]
    # The scenario itself ran as meant: the kill hit a bot with offers on the book, the books balance.
    assert checks["killed mid-run"]["passed"] and checks["balances"]["passed"]
    assert data["figures"]["orders_restored"] == [0, 0]
