"""Run inside the Python that runs Hummingbot (by path: `PYTHON probe.py '{json}'`), standard library only.

It looks at that Python as Hummingbot's start script would: with `root` first on sys.path when given (what
bin/path_util.py does for a source checkout or Docker's /home/hummingbot), it imports `hummingbot`, and
optionally runs Hummingbot's connector scan (`AllConnectorSettings.create_connector_settings`, which
skips a connector whose `<name>_utils` raises ModuleNotFoundError without a word) and imports the
connector's exchange module, so a missing dependency is named instead of a connector silently missing.

Prints one line: PROBE-RESULT <json>.
"""
import importlib
import json
import os
import sys
import traceback

MARKER = "PROBE-RESULT "
CONNECTOR = "hummingbot.connector.exchange.stellar"


def _error(exc):
    return {"type": type(exc).__name__, "message": str(exc), "missing_module": getattr(exc, "name", None)
            if isinstance(exc, ModuleNotFoundError) else None,
            "trace": traceback.format_exc(limit=3)}


def _distribution_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


def _requirements(requirements):
    found = {}
    for requirement, (module, distribution, majors) in requirements.items():
        entry = {"module": module, "distribution": distribution, "version": None, "ok": False, "error": None}
        try:
            importlib.import_module(module)
            entry["version"] = _distribution_version(distribution)
            major = int(entry["version"].split(".")[0]) if entry["version"] else None
            entry["ok"] = majors is None or major in majors
            if not entry["ok"]:
                entry["error"] = f"{distribution} {entry['version']} is installed; the connector needs {requirement}"
        except Exception as exc:  # ImportError, or a broken install
            entry["error"] = f"{type(exc).__name__}: {exc}"
        found[requirement] = entry
    return found


def probe(options):
    result = {"python": sys.executable, "python_version": sys.version.split()[0], "hummingbot": None,
              "connector": None, "scan": None, "exchange_import": None, "requirements": {}}
    root = options.get("root")
    if root:
        sys.path.insert(0, os.path.realpath(root))  # as bin/path_util.py does for a source checkout
    try:
        import hummingbot
    except Exception as exc:
        result["hummingbot"] = {"error": _error(exc)}
        return result
    package_dir = os.path.dirname(os.path.realpath(hummingbot.__file__))
    version_file = os.path.join(package_dir, "VERSION")
    version = None
    if os.path.exists(version_file):
        with open(version_file) as f:
            version = f.read().strip()
    hb_root = str(hummingbot.root_path()) if hasattr(hummingbot, "root_path") else os.path.dirname(package_dir)
    result["hummingbot"] = {"package_dir": package_dir, "root_path": hb_root, "version": version,
                            "distribution_version": _distribution_version("hummingbot")}
    connector_dir = os.path.join(hb_root, "hummingbot", "connector", "exchange", "stellar")
    result["connector"] = {"dir": connector_dir, "present": os.path.isfile(os.path.join(connector_dir, "__init__.py"))
                           and os.path.isfile(os.path.join(connector_dir, "stellar_utils.py"))}
    result["requirements"] = _requirements(options.get("requirements", {}))
    result["client_requirements"] = _requirements(options.get("client_requirements", {}))
    if options.get("scan"):
        try:
            from hummingbot.client.settings import AllConnectorSettings
            settings = AllConnectorSettings.create_connector_settings()
            result["scan"] = {"stellar": "stellar" in settings, "stellar_testnet": "stellar_testnet" in settings,
                              "connectors": len(settings)}
        except Exception as exc:
            result["scan"] = {"error": _error(exc)}
        for key, module in (("utils_import", CONNECTOR + ".stellar_utils"),
                            ("exchange_import", CONNECTOR + ".stellar_exchange")):
            try:
                imported = importlib.import_module(module)
                result[key] = {"ok": True, "file": os.path.realpath(imported.__file__)}
            except Exception as exc:
                result[key] = {"ok": False, "error": _error(exc)}
    return result


def main():
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    print(MARKER + json.dumps(probe(options)), flush=True)


if __name__ == "__main__":
    main()
