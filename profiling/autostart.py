"""Import this module to profile the current process when STELLAR_PROFILING asks for it.

Meant for a one-line `.pth` file or Hummingbot's start-up, so any Hummingbot session can be
profiled by configuration alone. It reads the environment before importing anything else:
with profiling off, importing it costs one environment lookup.
"""
import os

if os.environ.get("STELLAR_PROFILING", "").strip().lower() not in ("", "0", "false", "no", "off"):
    from profiling.hooks import enable_from_environment

    enable_from_environment()
