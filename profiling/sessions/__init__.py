"""Profiling sessions, one artefact each: yappi (functions and tasks), memray (allocations), and
the RSS/CPU/network sampler. Each has `start()` and `stop() -> result`."""
from profiling.sessions.memray_session import MemrayResult, MemraySession
from profiling.sessions.resource_sampler import ResourceSample, ResourceSampler, ResourceSummary
from profiling.sessions.yappi_session import FunctionStat, TaskStat, YappiResult, YappiSession, code_origin

__all__ = [
    "FunctionStat", "MemrayResult", "MemraySession", "ResourceSample", "ResourceSampler", "ResourceSummary",
    "TaskStat", "YappiResult", "YappiSession", "code_origin",
]
