"""`hummingbot-stellar install` and `doctor` against a source-checkout layout.

A source checkout (or Docker's /home/hummingbot) runs Hummingbot from its own `hummingbot/` package:
bin/path_util.py puts the checkout first on sys.path and the settings scan looks in
root_path()/hummingbot/connector/*/, so a connector installed into site-packages is never seen there.
The checkout here is a copy of the installed Hummingbot package without the Stellar connector, as a
clone has it; Hummingbot's scan runs in a subprocess with the checkout first on sys.path, as
bin/hummingbot.py runs it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hummingbot
from test.client.driver import REPO_ROOT, child_env

INSTALLED_PACKAGE = Path(hummingbot.__file__).resolve().parent
CONNECTOR = REPO_ROOT / "hummingbot" / "connector" / "exchange" / "stellar"
SCAN = """
import json, sys
sys.path.insert(0, sys.argv[1])  # what bin/path_util.py does
from hummingbot.client.settings import AllConnectorSettings
import hummingbot, importlib
settings = AllConnectorSettings.create_connector_settings()
found = {"root": str(hummingbot.root_path()), "stellar": "stellar" in settings,
         "stellar_testnet": "stellar_testnet" in settings, "binance": "binance" in settings}
if found["stellar"]:
    found["utils_file"] = importlib.import_module("hummingbot.connector.exchange.stellar.stellar_utils").__file__
    found["exchange_file"] = importlib.import_module("hummingbot.connector.exchange.stellar.stellar_exchange").__file__
print(json.dumps(found))
"""


def make_checkout(root: Path) -> Path:
    """A clone's layout: <root>/hummingbot/ (the package, compiled extensions included), no Stellar connector."""
    shutil.copytree(INSTALLED_PACKAGE, root / "hummingbot",
                    ignore=shutil.ignore_patterns("__pycache__", "stellar"), symlinks=True)
    (root / "bin").mkdir()
    return root


@pytest.fixture
def checkout(tmp_path):
    return make_checkout(tmp_path / "hummingbot-checkout")


def scan(checkout: Path, python: str = sys.executable) -> dict:
    completed = subprocess.run([python, "-c", SCAN, str(checkout)], cwd=checkout, env=child_env(PYTHONPATH=""),
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def cli(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "hummingbot_stellar_cli", *args], cwd=REPO_ROOT, env=child_env(),
                          capture_output=True, text=True, timeout=300)


def test_a_checkouts_scan_does_not_see_a_connector_installed_in_site_packages(checkout):
    assert (INSTALLED_PACKAGE / "connector" / "exchange" / "stellar").is_dir()  # `make setup` put one there
    found = scan(checkout)
    assert found["root"] == str(checkout)
    assert found["binance"] and not found["stellar"]  # Hummingbot's own connectors, not ours


def test_install_into_a_checkout_makes_hummingbots_scan_find_stellar(checkout):
    completed = cli("install", "--into", str(checkout))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    destination = checkout / "hummingbot" / "connector" / "exchange" / "stellar"
    assert "copied the connector" in completed.stdout and str(destination) in completed.stdout
    assert "dependencies: already present" in completed.stdout
    assert "OK: Hummingbot's connector scan finds `stellar`" in completed.stdout

    found = scan(checkout)
    assert found["stellar"] and found["stellar_testnet"]
    assert Path(found["utils_file"]).parent == destination
    assert Path(found["exchange_file"]).parent == destination
    shipped = sorted(p.name for p in CONNECTOR.iterdir() if p.suffix in (".py", ".yml"))
    assert sorted(p.name for p in destination.iterdir() if p.is_file()) == shipped


def test_install_again_replaces_a_stale_copy_whole(checkout):
    assert cli("install", "--into", str(checkout)).returncode == 0
    destination = checkout / "hummingbot" / "connector" / "exchange" / "stellar"
    (destination / "stellar_removed_module.py").write_text("# a module an older version had\n")
    (destination / "stellar_utils.py").write_text((destination / "stellar_utils.py").read_text() + "\n# edited\n")

    doctor = cli("doctor", "--into", str(checkout))
    assert "differs from" in doctor.stdout

    completed = cli("install", "--into", str(checkout))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert not (destination / "stellar_removed_module.py").exists()
    assert (destination / "stellar_utils.py").read_bytes() == (CONNECTOR / "stellar_utils.py").read_bytes()
    assert "already up to date" in cli("install", "--into", str(checkout)).stdout


def test_install_refuses_a_folder_that_is_not_a_hummingbot(tmp_path):
    completed = cli("install", "--into", str(tmp_path))
    assert completed.returncode == 2
    assert "is not a Hummingbot folder" in completed.stderr


def test_install_without_into_targets_the_package_the_python_imports(tmp_path):
    # No --into: the `hummingbot` that --python imports decides (site-packages for a pip installation).
    # Here that is this environment's own, where the distribution already put the same files.
    completed = cli("doctor")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"scan root {INSTALLED_PACKAGE.parent}" in completed.stdout


def python_without_stellar_sdk(folder: Path) -> str:
    """A Python like this one in which `import stellar_sdk` fails, as in a stock Hummingbot environment."""
    blocker = folder / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        "class _NoStellarSdk:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'stellar_sdk':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, _NoStellarSdk())\n")
    wrapper = folder / "python-without-stellar-sdk"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{blocker}${{PYTHONPATH:+:$PYTHONPATH}}" exec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def test_doctor_names_a_missing_stellar_sdk_that_hummingbots_scan_hides(tmp_path, checkout):
    python = python_without_stellar_sdk(tmp_path)
    assert cli("install", "--into", str(checkout), "--no-deps", python=python).returncode == 1

    # Hummingbot's scan still lists the connector (stellar_utils imports no stellar-sdk) ...
    found = subprocess.run([python, "-c", SCAN.split("if found")[0] + "print(json.dumps(found))", str(checkout)],
                           cwd=checkout, env=child_env(PYTHONPATH=""), capture_output=True, text=True, timeout=120)
    assert json.loads(found.stdout.strip().splitlines()[-1])["stellar"]
    # ... and the doctor says what would fail and how to fix it
    doctor = cli("doctor", "--into", str(checkout), "--python", python)
    assert doctor.returncode == 1
    assert "No module named 'stellar_sdk'" in doctor.stdout
    assert f"hummingbot-stellar install --into {checkout} --python {python}" in doctor.stdout
    assert "-m pip install 'stellar-sdk[aiohttp]>=16,<17'" in doctor.stdout


def test_doctor_on_a_checkout_without_the_connector_says_how_to_install_it(checkout):
    completed = cli("doctor", "--into", str(checkout))
    assert completed.returncode == 1
    assert f"the connector is not in {checkout}/hummingbot/connector/exchange/stellar" in completed.stdout
    assert f"run `hummingbot-stellar install --into {checkout}" in completed.stdout
    assert os.path.isdir(checkout / "hummingbot" / "connector" / "exchange" / "binance")


CONFIG_WITHOUT_STELLAR_SDK = """
import pydantic
from hummingbot.connector.exchange.stellar.stellar_utils import StellarConfigMap
for values in ({"stellar_secret_key": "S" + "A" * 55, "stellar_markets": "USDC:" + "G" * 56},):
    try:
        StellarConfigMap(**values)
        print("ACCEPTED")
    except pydantic.ValidationError as error:  # Hummingbot's `connect` shows it and asks again
        print("REFUSED", str(error).replace("\\n", " "))
    except Exception as error:  # escapes `connect`: the client waits for ever, the error is in the log only
        print("ESCAPED", type(error).__name__, error)
"""


def test_connect_without_stellar_sdk_refuses_the_markets_answer_and_names_the_fix(tmp_path):
    python = python_without_stellar_sdk(tmp_path)
    completed = subprocess.run([python, "-c", CONFIG_WITHOUT_STELLAR_SDK], cwd=REPO_ROOT, env=child_env(),
                               capture_output=True, text=True, timeout=120)
    outcomes = completed.stdout.strip().splitlines()
    assert len(outcomes) == 1, completed.stdout + completed.stderr
    for outcome in outcomes:
        assert outcome.startswith("REFUSED") and "stellar-sdk" in outcome and "install" in outcome, outcome


def test_install_with_python_only_targets_the_site_packages_that_python_imports(tmp_path):
    # A pip installation: no folder to give, the `hummingbot` package that --python imports decides.
    site = make_checkout(tmp_path / "site-packages")  # the same layout: <site>/hummingbot/
    python = tmp_path / "python-of-another-environment"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    completed = cli("install", "--python", str(python))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"its connector scan looks in {site}/hummingbot/connector" in completed.stdout
    assert (site / "hummingbot" / "connector" / "exchange" / "stellar" / "stellar_exchange.py").is_file()
    assert "dependencies: already present" in completed.stdout
