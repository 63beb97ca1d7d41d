"""`hummingbot-stellar connect` saves a connection into a source checkout's conf/ as Hummingbot's `connect` would:
that Hummingbot, logged in with its password, reads the secret back and its own connection check
(`UserBalances.add_exchange`, what `connect` runs) passes against the sandbox the connection names."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from test.client.driver import REPO_ROOT, DemoSandbox, child_env
from test.client.test_install import make_checkout

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

CHECK = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])  # as bin/path_util.py
from hummingbot.client.config.config_crypt import ETHKeyFileSecretManger
from hummingbot.client.config.config_helpers import load_client_config_map_from_file
from hummingbot.client.config.security import Security
from hummingbot.client.settings import AllConnectorSettings
from hummingbot.user.user_balances import UserBalances

async def main():
    AllConnectorSettings.create_connector_settings()
    assert Security.login(ETHKeyFileSecretManger(sys.argv[2]))
    config = Security.decrypted_value("stellar")
    keys = Security.api_keys("stellar")
    error = await UserBalances.instance().add_exchange("stellar", load_client_config_map_from_file(), **keys)
    balances = UserBalances.instance().all_balances("stellar")
    print(json.dumps({"secret": config.stellar_secret_key.get_secret_value(), "horizon": config.stellar_horizon_url,
                      "error": error, "balances": {k: str(v) for k, v in balances.items()}}))

asyncio.run(main())
"""


def test_connect_from_sandbox_into_a_checkout_passes_hummingbots_own_connection_check(tmp_path):
    checkout = make_checkout(tmp_path / "hummingbot")
    env = child_env(HBOT_PASSWORD="a-password")
    install = subprocess.run([sys.executable, "-m", "hummingbot_stellar_cli", "install", "--into", str(checkout)],
                             cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    sandbox = DemoSandbox(tmp_path)
    try:
        connect = subprocess.run(
            [sys.executable, "-m", "hummingbot_stellar_cli", "connect", "--into", str(checkout), "--from-sandbox",
             str(sandbox.demo_file), "--password-env", "HBOT_PASSWORD"],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
        assert connect.returncode == 0, connect.stdout + connect.stderr
        saved = checkout / "conf" / "connectors" / "stellar.yml"
        assert f"saved the stellar connection to {saved}" in connect.stdout and "set now" in connect.stdout
        secret = sandbox.demo["accounts"][0]["secret"]
        assert secret not in saved.read_text() and sandbox.demo["horizon_url"] in saved.read_text()

        check = subprocess.run([sys.executable, "-c", CHECK, str(checkout), "a-password"], cwd=checkout,
                               env=child_env(PYTHONPATH=""), capture_output=True, text=True, timeout=120)
        assert check.returncode == 0, check.stderr[-3000:]
        found = json.loads(check.stdout.strip().splitlines()[-1])
        assert found["secret"] == secret and found["horizon"] == sandbox.demo["horizon_url"]
        assert found["error"] is None
        assert float(found["balances"]["XLM"]) == pytest.approx(10000, abs=1)
        assert float(found["balances"]["USDC"]) == 1000

        again = subprocess.run(
            [sys.executable, "-m", "hummingbot_stellar_cli", "connect", "--into", str(checkout), "--from-sandbox",
             str(sandbox.demo_file), "--password-env", "HBOT_PASSWORD"],
            cwd=REPO_ROOT, env=child_env(HBOT_PASSWORD="another-password"), capture_output=True, text=True,
            timeout=300)
        assert again.returncode == 2 and "this home's password is another one" in again.stderr
    finally:
        sandbox.stop()
