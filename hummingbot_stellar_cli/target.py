"""The Hummingbot installation a command acts on: its Python, where its connector scan looks, what it lacks."""
from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hummingbot_stellar_cli.requirements import CLIENT_REQUIREMENTS, CONNECTOR_REQUIREMENTS

PROBE = Path(__file__).resolve().parent / "probe.py"
PROBE_TIMEOUT_S = 180.0
CONNECTOR_PARTS = ("hummingbot", "connector", "exchange", "stellar")
SHIPPED_SUFFIXES = (".py", ".yml")   # the connector's files, as install copies them


class TargetError(RuntimeError):
    """A target that cannot be used as asked; the message says what to do."""


def find_connector_source(explicit: str | os.PathLike | None = None) -> Path:
    """The connector folder to copy: `explicit`, else the one beside this package (a source tree, or the
    site-packages where this distribution installed both)."""
    candidates = [Path(explicit)] if explicit else [Path(__file__).resolve().parent.parent.joinpath(*CONNECTOR_PARTS)]
    if not explicit:
        try:
            import importlib.util
            spec = importlib.util.find_spec("hummingbot.connector.exchange.stellar")
            if spec is not None and spec.submodule_search_locations:
                candidates += [Path(location) for location in spec.submodule_search_locations]
        except ImportError:
            pass
    for candidate in candidates:
        if (candidate / "stellar_utils.py").is_file() and (candidate / "stellar_exchange.py").is_file():
            return candidate.resolve()
    raise TargetError(f"no Stellar connector folder found (looked in {', '.join(map(str, candidates))}); "
                      f"pass --source PATH/hummingbot/connector/exchange/stellar")


def resolve_python(python: str | None) -> str:
    """The target interpreter as an absolute path (a name is looked up on PATH)."""
    if not python:
        return sys.executable
    found = shutil.which(python) if os.sep not in python else (python if os.access(python, os.X_OK) else None)
    if not found:
        raise TargetError(f"--python {python}: no such executable")
    return os.path.abspath(found)


def run_probe(python: str, *, root: str | os.PathLike | None = None, scan: bool = False) -> dict[str, Any]:
    """Run `probe.py` in `python` (with `root` first on sys.path, as Hummingbot's bin/ scripts have it)."""
    options = {"root": str(root) if root else None, "scan": scan, "requirements": CONNECTOR_REQUIREMENTS,
               "client_requirements": CLIENT_REQUIREMENTS}
    try:
        completed = subprocess.run([python, str(PROBE), json.dumps(options)], capture_output=True, text=True,
                                   timeout=PROBE_TIMEOUT_S, cwd=str(root) if root else None)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise TargetError(f"could not run {python}: {error}") from None
    for line in completed.stdout.splitlines():
        if line.startswith("PROBE-RESULT "):
            return json.loads(line[len("PROBE-RESULT "):])
    raise TargetError(f"{python} could not run the check (exit {completed.returncode}): "
                      f"{(completed.stderr or completed.stdout).strip()[-2000:]}")


@dataclass
class Target:
    python: str
    root: Path  # Hummingbot's root_path(): the folder that holds the `hummingbot` package it runs
    checkout: bool  # True when given as a folder (--into): bin/path_util.py puts it first on sys.path
    probe: dict[str, Any]

    @property
    def connector_dir(self) -> Path:
        return self.root.joinpath(*CONNECTOR_PARTS)

    @property
    def probe_root(self) -> Path | None:
        return self.root if self.checkout else None


def locate(python: str | None = None, into: str | os.PathLike | None = None) -> Target:
    """Where the Hummingbot run by `python` scans for connectors: `into` (a source checkout, or Docker's
    /home/hummingbot) when given, else the parent of the `hummingbot` package that `python` imports
    (site-packages for a pip installation)."""
    python = resolve_python(python)
    if into is not None:
        root = Path(into).expanduser().resolve()
        package = root / "hummingbot"
        if not (package / "connector" / "exchange").is_dir() or not (package / "__init__.py").is_file():
            raise TargetError(f"{root} is not a Hummingbot folder: it has no hummingbot/__init__.py and "
                              f"hummingbot/connector/exchange/ (give the folder that holds bin/ and hummingbot/, "
                              f"e.g. your clone, or /home/hummingbot in Hummingbot's Docker image)")
        probe = run_probe(python, root=root)
        return Target(python, root, True, probe)
    probe = run_probe(python)
    hummingbot = probe.get("hummingbot") or {}
    if "error" in hummingbot:
        raise TargetError(f"{python} cannot import hummingbot ({hummingbot['error']['type']}: "
                          f"{hummingbot['error']['message']}): pass --python with the Python that runs Hummingbot, "
                          f"or --into with your Hummingbot folder (a source checkout or Docker's /home/hummingbot)")
    return Target(python, Path(hummingbot["root_path"]), False, probe)


def missing_requirements(probe: dict[str, Any], key: str = "requirements") -> list[str]:
    return [requirement for requirement, entry in (probe.get(key) or {}).items() if not entry["ok"]]


def connector_files(source: Path) -> list[str]:
    return sorted(p.name for p in source.iterdir() if p.is_file() and p.suffix in SHIPPED_SUFFIXES)


def in_sync(source: Path, destination: Path) -> bool:
    """`destination` holds exactly the connector files of `source`, byte for byte."""
    if not destination.is_dir():
        return False
    names = connector_files(source)
    if names != connector_files(destination):
        return False
    match, mismatch, errors = filecmp.cmpfiles(source, destination, names, shallow=False)
    return not mismatch and not errors
