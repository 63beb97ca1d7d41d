"""`hummingbot-stellar connect`: save a `stellar` connection into a Hummingbot's conf/ as its own `connect stellar`
would (the connector's config map validates it, the secrets are encrypted with that Hummingbot's password), for
answers `connect` does not ask (another Horizon: your node, the embedded sandbox) and for headless starts
(Docker with CONFIG_PASSWORD) that need the connection in place.

    hummingbot-stellar connect --into ~/hummingbot --from-sandbox demo.json      # a `serve --demo --demo-json`
    hummingbot-stellar connect --home ~/hummingbot-home --horizon-url URL --passphrase "..." --markets CODE:ISSUER

The secret and the password are asked on the terminal (or read from the environment variables named by
--secret-env and --password-env), and reach the target Python through a pipe, never its command line.
The saving runs in the target Python (`connect_helper.py`, by path) with Hummingbot's own functions.
"""
from __future__ import annotations

import getpass
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Callable

from hummingbot_stellar_cli.target import TargetError, locate

HELPER = Path(__file__).resolve().parent / "connect_helper.py"


def _read_secret(env_name: str | None, prompt: str) -> str:
    if env_name:
        value = os.environ.get(env_name)
        if not value:
            raise TargetError(f"${env_name} is empty")
        return value
    return getpass.getpass(prompt)


def connection_from(args: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if args.from_sandbox is not None:
        demo = json.loads(Path(args.from_sandbox).read_text(encoding="utf-8"))
        account = demo["accounts"][args.account - 1]
        values = {"stellar_secret_key": account["secret"], "stellar_markets": demo["stellar_markets"],
                  "stellar_horizon_url": demo["horizon_url"], "stellar_network_passphrase": demo["passphrase"]}
    for key, value in (("stellar_horizon_url", args.horizon_url), ("stellar_network_passphrase", args.passphrase),
                       ("stellar_markets", args.markets), ("stellar_rpc_url", args.rpc_url)):
        if value is not None:
            values[key] = value
    if "stellar_secret_key" not in values:
        values["stellar_secret_key"] = _read_secret(args.secret_env, "Stellar secret key (S..., not shown): ")
    if args.connector != "stellar":  # Hummingbot names the other domain's keys after it
        values = {key.replace("stellar_", f"{args.connector}_", 1): value for key, value in values.items()}
    return values


def connect(args: Any, say: Callable[[str], None] = print) -> int:
    if (args.into is None) == (args.home is None):
        raise TargetError("give --into HUMMINGBOT_DIR (a checkout, Docker's /home/hummingbot) or --home DIR "
                          "(the home of `hummingbot-stellar client --no-sandbox`)")
    target = locate(args.python, args.into)
    values = connection_from(args)
    password = _read_secret(args.password_env, "Hummingbot password (not shown): ")
    request = {"root": str(target.root) if target.checkout else None,
               "home": str(Path(args.home).expanduser().resolve()) if args.home else None,
               "tool_path": str(Path(__file__).resolve().parent.parent), "connector": args.connector,
               "password": password, "values": values}
    completed = subprocess.run([target.python, str(HELPER)], input=json.dumps(request), capture_output=True,
                               text=True, timeout=300)
    answer = next((json.loads(line[len("CONNECT-RESULT "):]) for line in completed.stdout.splitlines()
                   if line.startswith("CONNECT-RESULT ")), None)
    if answer is None:
        raise TargetError(f"{target.python} could not save the connection (exit {completed.returncode}): "
                          f"{(completed.stderr or completed.stdout).strip()[-2000:]}")
    if "error" in answer:
        raise TargetError(answer["error"])
    say(f"saved the {args.connector} connection to {answer['path']} (secrets encrypted with that Hummingbot's "
        f"password{', set now' if answer['new_password'] else ''}); Hummingbot uses it at its next start")
    return 0
