"""`hummingbot-stellar doctor`: does the target Hummingbot find the connector, and can it load it?

Hummingbot's connector scan skips a connector whose `<name>_utils` module raises ModuleNotFoundError
without a word; the connector's `stellar_utils` imports no stellar-sdk, so the scan lists `stellar` even
without it, and the missing package only shows when the exchange module is imported (at `connect`, or
when a strategy starts). The doctor imports that module in the target Python and names what is missing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from hummingbot_stellar_cli.target import Target, TargetError, find_connector_source, in_sync, locate, run_probe


def _fix_command(target: Target) -> str:
    parts = ["hummingbot-stellar install"]
    if target.checkout:
        parts.append(f"--into {target.root}")
    parts.append(f"--python {target.python}")
    return " ".join(parts)


def _describe_error(error: dict[str, Any]) -> str:
    if error.get("missing_module"):
        return f"No module named {error['missing_module']!r}"
    return f"{error['type']}: {error['message']}"


def diagnose(target: Target) -> tuple[list[str], list[str]]:
    """(problems, notes) of the target as Hummingbot's start script sees it."""
    probe = run_probe(target.python, root=target.probe_root, scan=True)
    problems: list[str] = []
    notes: list[str] = []
    hummingbot = probe.get("hummingbot") or {}
    if "error" in hummingbot:
        return [f"{target.python} cannot import hummingbot: {_describe_error(hummingbot['error'])}"], notes
    fix = _fix_command(target)
    connector_dir = Path(probe["connector"]["dir"])
    if not probe["connector"]["present"]:
        problems.append(f"the connector is not in {connector_dir}, where this Hummingbot scans: run `{fix}`")
    for requirement, entry in probe["requirements"].items():
        if not entry["ok"]:
            problems.append(f"the connector needs {requirement} in {target.python} ({entry['error']}): run `{fix}` "
                            f"or `{target.python} -m pip install '{requirement}'`")
    scan = probe.get("scan") or {}
    if "error" in scan:
        problems.append(f"Hummingbot's connector scan itself fails: {_describe_error(scan['error'])}")
    elif probe["connector"]["present"] and not scan.get("stellar"):
        utils = probe.get("utils_import") or {}
        reason = _describe_error(utils["error"]) if utils and not utils.get("ok") else "unknown reason"
        problems.append(f"Hummingbot's connector scan skips `stellar` ({reason}; the scan hides this error)")
    exchange = probe.get("exchange_import") or {}
    if exchange and not exchange.get("ok") and probe["connector"]["present"]:
        problems.append(f"the connector's exchange module does not import ({_describe_error(exchange['error'])}): "
                        f"`connect stellar` and strategies would fail; run `{fix}`")
    elif exchange.get("ok") and probe["connector"]["present"] and \
            Path(exchange["file"]).parent.resolve() != connector_dir.resolve():
        problems.append(f"Python imports the connector from {Path(exchange['file']).parent}, not from {connector_dir} "
                        f"where Hummingbot scans: another copy shadows it")
    try:
        source = find_connector_source()
        if probe["connector"]["present"] and not in_sync(source, connector_dir) and source != connector_dir.resolve():
            notes.append(f"note: the connector in {connector_dir} differs from {source} (another version): "
                         f"`{fix}` replaces it")
    except TargetError:
        pass
    missing_client = [r for r, entry in (probe.get("client_requirements") or {}).items() if not entry["ok"]]
    if missing_client:
        notes.append(f"note: Hummingbot's bin/hummingbot_quickstart.py (headless, Docker) imports "
                     f"{', '.join(e.split('>')[0] for e in missing_client)}, missing in {target.python}: "
                     f"`{fix} --client-deps`")
    hb_version = hummingbot.get("version") or "?"
    notes.insert(0, f"Hummingbot {hb_version} at {hummingbot['package_dir']}; scan root {hummingbot['root_path']}; "
                    f"Python {probe['python_version']} ({probe['python']})")
    if scan.get("stellar"):
        testnet = ", stellar_testnet" if scan.get("stellar_testnet") else ""
        notes.append(f"Hummingbot's connector scan finds: stellar{testnet} ({scan['connectors']} connectors in all)")
    return problems, notes


def doctor(python: str | None = None, into: str | None = None, say: Callable[[str], None] = print) -> int:
    return report_checks(locate(python, into), say)


def report_checks(target: Target, say: Callable[[str], None]) -> int:
    problems, notes = diagnose(target)
    for note in notes:
        say(note)
    for problem in problems:
        say("PROBLEM: " + problem)
    if not problems:
        say("OK: Hummingbot's connector scan finds `stellar` and `stellar_testnet`; start Hummingbot as usual and "
            "`connect stellar`")
    return 1 if problems else 0
