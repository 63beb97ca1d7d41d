"""Hummingbot's real client, driven through a pseudo-terminal against the embedded sandbox: `connect stellar`
with a sandbox account, `balance`, `create` (pure market making), `start`, `status`, `history`, `stop`, `exit`;
then the sandbox's book holds none of the account's offers. And a headless run with a ready strategy file,
stopped by SIGINT as Ctrl-C would: its orders are cancelled before it leaves."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pytest

from test.client.driver import ClientSession, DemoSandbox, child_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@pytest.fixture
def sandbox(tmp_path):
    network = DemoSandbox(tmp_path)
    yield network
    network.stop()


def test_a_person_connects_creates_starts_and_stops_a_strategy(tmp_path, sandbox):
    demo = sandbox.demo
    session = ClientSession(tmp_path / "home", ["--no-connect", "--no-strategy", "--sandbox", str(sandbox.demo_file)])
    try:
        session.wait_for(r"type `connect stellar`", 120)

        session.command("connect stellar")
        asked = session.answer([
            (r"secret key", demo["accounts"][0]["secret"]),
            (r"assets you trade|markets", demo["stellar_markets"]),
            (r"horizon url", demo["horizon_url"]),
            (r"passphrase", demo["passphrase"]),
        ], until=r"You are now connected to stellar|Error")
        assert "You are now connected to stellar." in session.text(), session.text()
        assert any("secret key" in question for question in asked)
        assert demo["accounts"][0]["secret"] not in session.text()  # the answer is masked on screen

        session.command("balance")
        balances = session.wait_for(r"^\s*USDC\s+1000\.0+\b", 60)
        assert re.search(r"^\s*XLM\s+10000\.0+\b", session.text(), re.MULTILINE), session.text()
        assert balances

        session.command("create")
        session.answer([
            (r"strategy name|market making strategy", "pure_market_making"),
            (r"maker spot connector|exchange", "stellar"),
            (r"trading pair|token", demo["trading_pair"]),
            (r"first bid order", "0.1"),
            (r"first ask order", "0.1"),
            (r"cancel and replace", "10"),
            (r"amount of", "20"),
            (r"ping pong", "No"),
            (r"file name", "conf_pmm_stellar_test.yml"),
        ], until=r"conf_pmm_stellar_test\.yml")
        session.wait_for(r"created|saved|start", 30)

        session.command("start")
        session.wait_for(r"started successfully", 60)
        session.wait_for(r"(BUY|SELL) order [\d.]+ XLM @ [\d.]+ USDC is filled", 90)

        session.command("status")
        status = session.wait_for(r"Orders:|No active maker orders|Assets:", 30)
        assert status

        session.command("history")
        session.wait_for(r"Number of trades|Trades|Total", 30)
        assert re.search(r"XLM-USDC", session.text()), session.text()

        session.command("stop")
        session.wait_for(r"Hummingbot stopped\.", 60)
        assert sandbox.account_offers() == []  # `stop` cancelled the strategy's orders

        session.command("exit")
        last_output = session.wait_exit()
        assert "left on the sandbox's book: 0" in last_output
    finally:
        session.close()
    assert sandbox.account_offers() == []


def test_headless_run_trades_and_cancels_its_orders_on_ctrl_c(tmp_path, sandbox):
    process = subprocess.Popen(
        [sys.executable, "-m", "hummingbot_stellar_cli", "client", "--headless", "--home", str(tmp_path / "home"),
         "--sandbox", str(sandbox.demo_file)],
        cwd=tmp_path, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 150
        while not any(re.search(r"Created LIMIT_MAKER (BUY|SELL)", line) for line in lines) or \
                not any(re.search(r"order .* is filled|has been filled", line) for line in lines):
            assert time.monotonic() < deadline, "".join(lines[-60:])
            line = process.stdout.readline()
            assert line, "".join(lines[-60:])
            lines.append(line)
        process.send_signal(signal.SIGINT)  # Ctrl-C
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + rest
    assert process.returncode == 0, output[-4000:]
    assert "Stopping: strategy off, orders cancelled" in output
    assert "left on the sandbox's book: 0" in output
    assert sandbox.account_offers() == []


def test_without_the_sandbox_it_is_hummingbots_client_in_the_home_as_it_is(tmp_path):
    # The PyPI Hummingbot has no bin/: `client --no-sandbox` is how its own client starts, in a home of conf/,
    # logs/ and data/ of its own (Hummingbot would otherwise write them into site-packages).
    home = tmp_path / "home"
    session = ClientSession(home, ["--no-sandbox", "--password", "a-password"])
    try:
        deadline = time.monotonic() + 60
        while not session.transcript.exists():
            assert time.monotonic() < deadline, "the client did not start"
            session.drain()
        session.command("connect")
        session.wait_for(r"Testing connections, please wait", 30)
        session.command("exit")
        session.wait_exit()
    finally:
        session.close()
    assert (home / "conf" / ".password_verification").is_file()
    assert (home / "conf" / "conf_client.yml").is_file()
    assert (home / "hummingbot").is_symlink()
    assert not list((home / "conf" / "connectors").iterdir())  # nothing prepared


def test_after_a_kill_the_next_start_cancels_the_offers_left_on_the_book(tmp_path, sandbox):
    # Hummingbot's own headless mode ends on Ctrl-C without stopping the strategy: its offers stay on the book.
    # A kill does the same here. What the README tells the user: start again with the account; the connector
    # cancels, before it reports ready, every offer no saved order knows (stellar_unknown_offers: cancel).
    killed = subprocess.Popen(
        [sys.executable, "-m", "hummingbot_stellar_cli", "client", "--headless", "--home", str(tmp_path / "first"),
         "--sandbox", str(sandbox.demo_file), "--spread", "5"],  # far from the mid: the market leaves them alone
        cwd=tmp_path, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not sandbox.account_offers():
            assert time.monotonic() < deadline and killed.poll() is None, "the first run placed no offer"
            time.sleep(0.5)
    finally:
        killed.kill()
        killed.wait()
    left = {offer["id"] for offer in sandbox.account_offers()}
    assert left

    # A new home: its saved orders are not those of the killed run, so every offer is unknown to it.
    again = subprocess.run(
        [sys.executable, "-m", "hummingbot_stellar_cli", "client", "--headless", "--duration", "5", "--home",
         str(tmp_path / "second"), "--sandbox", str(sandbox.demo_file)],
        cwd=tmp_path, env=child_env(), capture_output=True, text=True, timeout=150)
    assert again.returncode == 0, again.stdout[-4000:]
    recovery = re.search(r"Offers found at start \(cancel unknown ones\).*cancelled \[([^\]]*)\]", again.stdout)
    assert recovery, again.stdout[-4000:]
    assert set(re.findall(r"'(\d+)'", recovery.group(1))) == left
    assert "left on the sandbox's book: 0" in again.stdout
    assert sandbox.account_offers() == []
