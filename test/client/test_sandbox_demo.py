"""`python -m stellar_sandbox serve --demo`: what a person pastes into Hummingbot, and a network that matches it
(the account holds both assets through a trustline; the market trades XLM against the issued asset)."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from test.client.driver import REPO_ROOT, child_env

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_serve_demo_prints_the_accounts_and_the_connector_settings_to_paste(tmp_path):
    demo_file = tmp_path / "demo.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "stellar_sandbox", "serve", "--port", "0", "--ledger-interval", "0.5", "--demo",
         "--demo-accounts", "2", "--demo-asset", "EURC", "--demo-amount", "500", "--demo-json", str(demo_file)],
        cwd=REPO_ROOT, env=child_env(), stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or "(the other questions" not in lines[-1]:
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        printed = "".join(lines)
        demo = json.loads(demo_file.read_text())
        assert (demo_file.stat().st_mode & 0o777) == 0o600  # it holds secrets
        assert demo["trading_pair"] == "XLM-EURC" and len(demo["accounts"]) == 2
        assert demo["stellar_markets"] == f"EURC:{demo['issuer']}"
        for account in demo["accounts"]:
            assert f"{account['public_key']}  secret {account['secret']}" in printed
        assert f"stellar_markets:             EURC:{demo['issuer']}" in printed
        assert f"stellar_horizon_url:         {demo['horizon_url']}" in printed
        assert "stellar_network_passphrase:  Standalone Network ; February 2017" in printed
        assert f"stellar_secret_key:          {demo['accounts'][0]['secret']}" in printed
        assert re.search(r"Market activity: +2\.0 book events/s on XLM-EURC around 0\.1", printed)

        account = get(f"{demo['horizon_url']}/accounts/{demo['accounts'][0]['public_key']}")
        balances = {balance.get("asset_code", "XLM"): balance for balance in account["balances"]}
        assert float(balances["XLM"]["balance"]) == pytest.approx(10000, abs=1)
        assert balances["EURC"]["asset_issuer"] == demo["issuer"] and float(balances["EURC"]["balance"]) == 500
        deadline = time.monotonic() + 60
        while not get(f"{demo['horizon_url']}/trades?limit=1")["_embedded"]["records"]:
            assert time.monotonic() < deadline, "no trade by the sandbox's market activity in 60 s"
            time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_demo_refuses_bad_settings_before_starting():
    completed = subprocess.run([sys.executable, "-m", "stellar_sandbox", "serve", "--port", "0", "--demo",
                                "--demo-asset", "XLM"], cwd=REPO_ROOT, env=child_env(), capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode != 0 and "--demo: the demo asset code" in completed.stderr
    completed = subprocess.run([sys.executable, "-m", "stellar_sandbox", "serve", "--port", "0", "--demo-json", "x"],
                               cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=60)
    assert completed.returncode != 0 and "--demo-json needs --demo" in completed.stderr


def test_exit_with_parent_leaves_no_orphan_network(tmp_path):
    # A launcher killed outright (no clean-up of its own) must not leave its sandbox serving for ever.
    pid_file = tmp_path / "pid"
    launcher = subprocess.Popen(
        ["sh", "-c", f'"{sys.executable}" -m stellar_sandbox serve --port 0 --exit-with-parent >/dev/null & '
                     f'echo $! > "{pid_file}"; sleep 30'],
        cwd=REPO_ROOT, env=child_env(), start_new_session=True)
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    sandbox_pid = int(pid_file.read_text())
    time.sleep(2)  # serving
    launcher.kill()
    launcher.wait()
    deadline = time.monotonic() + 15
    while _alive(sandbox_pid):
        assert time.monotonic() < deadline, "the sandbox outlived its parent"
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
