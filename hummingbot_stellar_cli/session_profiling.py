"""STELLAR_PROFILING in `hummingbot-stellar client`: the whole client session profiled, the report written when
the session ends (`exit`, or the end of a headless run), as `python -m profiling run` writes its own.

The profiler normally runs from interpreter start-up: the distribution's `.pth` line imports
`hummingbot_stellar_profiling.autostart` when STELLAR_PROFILING is set. Without it (this command run from a
clone, `python -m hummingbot_stellar_cli`, in a Python where the distribution is not installed) the clone's
`profiling.autostart` is imported here, before Hummingbot loads. Either way the client then writes the report
itself once the session is over and the sandbox stopped, and prints where it is (the exit handler would write
it too, but after the terminal's last lines). This package imports nothing of profiling: the module is found
by name.
"""
from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Optional

from hummingbot_stellar_cli.home import HomeError

ENV_VAR = "STELLAR_PROFILING"
AUTOSTART_MODULES = ("hummingbot_stellar_profiling.autostart", "profiling.autostart")  # installed, then a clone's


def requested() -> bool:
    return os.environ.get(ENV_VAR, "").strip().lower() not in ("", "0", "false", "no", "off")


def start_if_requested() -> Optional[ModuleType]:
    """The autostart module whose profiler runs for this session (started now if the .pth line did not), or
    None when STELLAR_PROFILING is off."""
    if not requested():
        return None
    for name in AUTOSTART_MODULES:
        if name in sys.modules:
            return sys.modules[name]
    for name in AUTOSTART_MODULES:
        try:
            return importlib.import_module(name)  # importing it starts the profiler (it reads STELLAR_PROFILING)
        except ModuleNotFoundError as error:
            if error.name not in (name, name.split(".")[0]):
                raise  # the profiling package is there but one of its own imports is missing: say so
    raise HomeError(f"{ENV_VAR} is set but no profiling package is importable: install this distribution "
                    f"(`pip install hummingbot-stellar`) or run from a clone of its repository")


def write_report(autostart: Optional[ModuleType]) -> None:
    """Stop the session's profiler and write its report (nothing if profiling is off or already reported)."""
    if autostart is None or autostart.active_profiler() is None:
        return
    print("Writing the profiling report ...", flush=True)
    try:
        paths = autostart.stop_active()
    except Exception as error:  # the session's own outcome stands; the report is what failed
        print(f"The profiling report failed: {error!r}", file=sys.stderr, flush=True)
        return
    if paths is not None:
        print(f"Profiling report: {paths.markdown} (report.json, plots, yappi's and memray's files beside it)",
              flush=True)
