"""`hummingbot-stellar install`: the connector folder where the target Hummingbot scans, its dependencies in
the target Python, and a check that Hummingbot's own scan now finds `stellar`."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Callable

from hummingbot_stellar_cli.doctor import report_checks
from hummingbot_stellar_cli.target import (
    TargetError,
    connector_files,
    find_connector_source,
    in_sync,
    locate,
    missing_requirements,
)


def copy_connector(source: Path, destination: Path, force: bool = False) -> str:
    """Replace `destination` by the connector files of `source`; what was done, in words."""
    if destination.resolve() == source.resolve():
        return f"connector already in place at {destination} (the source itself)"
    if in_sync(source, destination):
        return f"connector at {destination} is already up to date"
    if destination.exists():
        ours = (destination / "stellar_utils.py").is_file() or not any(destination.iterdir())
        if not ours and not force:
            raise TargetError(f"{destination} exists and is not this connector; move it away or pass --force")
        shutil.rmtree(destination)  # whole: a module deleted upstream must not linger
    destination.mkdir(parents=True)
    for name in connector_files(source):
        shutil.copy2(source / name, destination / name)
    return f"copied the connector ({len(connector_files(source))} files) from {source} to {destination}"


def pip_install(python: str, requirements: list[str], extra_args: list[str] | None = None) -> None:
    command = [python, "-m", "pip", "install", "--disable-pip-version-check", *(extra_args or []), *requirements]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        raise TargetError(f"`{' '.join(command)}` failed (exit {completed.returncode}):\n"
                          f"{(completed.stderr or completed.stdout).strip()[-3000:]}")


def install(python: str | None = None, into: str | None = None, source: str | None = None, deps: bool = True,
            client_deps: bool = False, force: bool = False, pip_args: list[str] | None = None,
            say: Callable[[str], None] = print) -> int:
    """Exit status 0 when Hummingbot's own scan finds the connector and its exchange module imports."""
    connector_source = find_connector_source(source)
    target = locate(python, into)
    say(f"Hummingbot {target.probe['hummingbot'].get('version') or '?'} run by {target.python}; "
        f"its connector scan looks in {target.root / 'hummingbot' / 'connector'}")
    say(copy_connector(connector_source, target.connector_dir, force=force))
    wanted = missing_requirements(target.probe) + (
        missing_requirements(target.probe, "client_requirements") if client_deps else [])
    if not wanted:
        say("dependencies: already present in " + target.python)
    elif not deps:
        say(f"dependencies NOT installed (--no-deps): {', '.join(wanted)}")
    else:
        say(f"installing into {target.python}: {', '.join(wanted)}")
        pip_install(target.python, wanted, pip_args)
    return report_checks(target, say)
