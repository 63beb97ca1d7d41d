"""Profiling sessions, one artefact each: yappi (functions and tasks), memray (allocations), and
the RSS/CPU/network sampler. Each has `start()` and `stop() -> result`.

Each is imported when first named (`from profiling.sessions import YappiSession` loads yappi then,
not before): a run with yappi or memray off does not carry its import (memray alone pulls in rich,
some 5 MB).
"""
from __future__ import annotations

from profiling.lazy import lazy_getattr

_HOMES = {
    "MemrayResult": "profiling.sessions.memray_session",
    "MemraySession": "profiling.sessions.memray_session",
    "ResourceSample": "profiling.sessions.resource_sampler",
    "ResourceSampler": "profiling.sessions.resource_sampler",
    "ResourceSummary": "profiling.sessions.resource_sampler",
    "FunctionStat": "profiling.sessions.yappi_session",
    "TaskStat": "profiling.sessions.yappi_session",
    "YappiResult": "profiling.sessions.yappi_session",
    "YappiSession": "profiling.sessions.yappi_session",
    "code_origin": "profiling.sessions.yappi_session",
}

__all__ = sorted(_HOMES)


__getattr__ = lazy_getattr(__name__, _HOMES)
