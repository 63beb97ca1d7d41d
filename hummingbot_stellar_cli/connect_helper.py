"""Run inside the Python that runs Hummingbot (by path), a JSON request on stdin (see `connect.py`).

The Hummingbot it saves into is the one its start script would run: `root` first on sys.path (a checkout,
Docker's /home/hummingbot), or the installed package with `home` as its root (`home.use_home`). This tool's
own folder goes last on sys.path, so it never shadows that Hummingbot. Prints CONNECT-RESULT <json>.
"""
import json
import os
import sys


def main():
    request = json.load(sys.stdin)
    if request.get("root"):
        sys.path.insert(0, os.path.realpath(request["root"]))
    sys.path.append(request["tool_path"])
    try:
        from pathlib import Path

        from hummingbot_stellar_cli import home as hb_home

        if request.get("home"):
            hb_home.use_home(Path(request["home"]))
        from hummingbot.client.config.security import Security
        from hummingbot.client.settings import CONNECTORS_CONF_DIR_PATH

        new_password = Security.new_password_required()
        CONNECTORS_CONF_DIR_PATH.mkdir(parents=True, exist_ok=True)
        secrets_manager = hb_home.check_password(request["password"])
        path = hb_home.save_connection(secrets_manager, request["values"], request["connector"])
        result = {"path": str(path), "new_password": new_password}
    except Exception as error:  # the message is what the person reads
        result = {"error": f"{type(error).__name__}: {error}"}
    print("CONNECT-RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
