"""Profiling for any Hummingbot session, switched on by the environment: `STELLAR_PROFILING`.

`STELLAR_PROFILING=1` (defaults) or `STELLAR_PROFILING=/path/to/conf_stellar_profiling.yml`; unset
(or 0, false, no, off), nothing happens.

Importing this module does it: meant for a one-line `.pth` file (see setup.py) or Hummingbot's
start-up, so any session can be profiled by configuration alone. It reads the environment before
importing anything of `profiling`: with profiling off, importing it costs one environment lookup.

- `enable_from_environment()`: installs a recorder into the connector's measuring points, starts
  the sessions, and (with `report_on_exit`) writes the report when the process exits: at interpreter exit
  (Hummingbot's `exit`, the end of a headless run, Ctrl-C), and on a SIGTERM nobody else handles (`docker
  stop`), after which the process still ends by that signal. Where the report went goes to stderr.
- `stop_active()`: stops that profiler and writes its report (what the exit handler does).

Installed, this package is `hummingbot_stellar_profiling` (see setup.py); the `.pth` line imports it by that name.
"""
from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Mapping, Optional

if TYPE_CHECKING:
    from .config import ProfilingConfig
    from .profiler import Profiler
    from .report import ReportPaths

ENV_VAR = "STELLAR_PROFILING"
_OFF = ("", "0", "false", "no", "off")
_ON = ("1", "true", "yes", "on")

_active: Optional[Profiler] = None


def is_requested(environ: Optional[Mapping[str, str]] = None) -> bool:
    environ = os.environ if environ is None else environ
    return environ.get(ENV_VAR, "").strip().lower() not in _OFF


def config_from_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[ProfilingConfig]:
    """The configuration STELLAR_PROFILING asks for, or None when profiling is off."""
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_VAR, "").strip()
    if value.lower() in _OFF:
        return None
    from .config import ProfilingConfig  # only now: it reads YAML

    if value.lower() in _ON:
        return ProfilingConfig()
    return ProfilingConfig.from_yaml(value)


def enable_from_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[Profiler]:
    """Start profiling if STELLAR_PROFILING asks for it; returns the running profiler (or None).

    Calling it again while a profiler runs returns that profiler.
    """
    global _active
    config = config_from_environment(environ)
    if config is None:
        return None
    if _active is not None:
        return _active
    from .profiler import Profiler  # only now: yappi, memray and matplotlib load when asked for

    profiler = Profiler(config)
    profiler.start()
    _active = profiler
    if config.report_on_exit:
        atexit.register(_report_at_exit)
        _report_on_sigterm()
    return profiler


def active_profiler() -> Optional[Profiler]:
    return _active


def stop_active(write_report: bool = True) -> Optional[ReportPaths]:
    """Stop the profiler started from the environment and write its report (None if none runs or none asked)."""
    global _active
    profiler, _active = _active, None
    atexit.unregister(_report_at_exit)
    _forget_sigterm()
    if profiler is None:
        return None
    result = profiler.stop()
    return profiler.write_report(result) if write_report else None



def _report_at_exit() -> None:
    paths = stop_active()
    if paths is not None:
        print(f"STELLAR_PROFILING: report written to {paths.markdown} (and report.json beside it)",
              file=sys.stderr, flush=True)


def _report_on_sigterm() -> None:
    """SIGTERM's default ends the process without running exit handlers, so a headless Hummingbot stopped by
    `docker stop` or `kill` would lose its report: while nobody else handles SIGTERM, write the report first,
    then end by the signal as before. A handler the application installs later replaces this one."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        return
    signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum: int, _frame) -> None:
    try:
        _report_at_exit()
    finally:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def _forget_sigterm() -> None:
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) is _on_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


if is_requested():
    enable_from_environment()
