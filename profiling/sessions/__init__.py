"""Profiling sessions, one artefact each: yappi (functions and tasks), memray (allocations), and
the RSS/CPU/network sampler. Each has `start()` and `stop() -> result`.

Each is imported when first named (`from profiling.sessions import YappiSession` loads yappi then,
not before): a run with yappi or memray off does not carry its import (memray alone pulls in rich,
some 5 MB).
"""
from __future__ import annotations

from ..lazy import lazy_getattr

_HOMES = {
    "MemrayResult": f"{__name__}.memray_session",
    "MemraySession": f"{__name__}.memray_session",
    "ResourceSample": f"{__name__}.resource_sampler",
    "ResourceSampler": f"{__name__}.resource_sampler",
    "ResourceSummary": f"{__name__}.resource_sampler",
    "FunctionStat": f"{__name__}.yappi_session",
    "TaskStat": f"{__name__}.yappi_session",
    "YappiResult": f"{__name__}.yappi_session",
    "YappiSession": f"{__name__}.yappi_session",
    "code_origin": f"{__name__}.yappi_session",
}

__all__ = sorted(_HOMES)


__getattr__ = lazy_getattr(__name__, _HOMES)
