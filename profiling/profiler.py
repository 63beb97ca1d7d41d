"""`Profiler`: the recorder and the sessions started and stopped together, and the report written.

    profiler = Profiler(ProfilingConfig(...), output_dir=..., scenario="market making, 2 pairs")
    profiler.start()          # recorder installed into the connector's measuring points, sessions running
    ...                       # the workload
    result = profiler.stop()  # everything stopped, figures collected
    paths = profiler.write_report(result)

Only what is switched on is loaded: yappi's and memray's modules when their session is on (memray brings
rich along), matplotlib only in the child process that draws the plots (`profiling.report`).

Hummingbot's MarketsRecorder, when the session has one, gets its listeners timed
(`profiling.attribution`): at `start()`, when the runner hands one over (`attach_markets_recorder`), or as
soon as the sampler sees Hummingbot's process-wide one appear (a Hummingbot session profiled through
`profiling.autostart` makes it after the profiler started).

Stop order matters: the recorder first (the workload is over), yappi's recording (paused, its statistics
kept), then the RSS sampler (so nothing below counts in the run's memory or CPU), memray's capture (so
yappi's collection of its statistics, tens of MB, is not in memray's peak either), yappi's collection, and
memray's reporters last (they run in a subprocess). Once the recorder is uninstalled, the cost of a disabled
measuring point is measured for the report.

Memory marks (`profiling.memory`): the process's RSS before and after the profilers start, and at the end of
the run; with the runner's own marks (what loading Hummingbot, the connector and the strategy added), the
report's memory section tells who holds what.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Sequence

from . import hooks
from .attribution import MarketsRecorderTiming
from .config import ProfilingConfig
from .memory import PROCESS, PROFILERS, RUNNER, SESSION, MemoryMarks
from .recorder import DEFAULT_GROUPS, LatencyRecorder
from .sessions.resource_sampler import ResourceSample, ResourceSampler, ResourceSummary

if TYPE_CHECKING:
    from .criteria import Catalogue
    from .report import ReportPaths
    from .sessions.memray_session import MemrayResult
    from .sessions.yappi_session import YappiResult

_MB = 2**20
logger = logging.getLogger(__name__)


@dataclass
class ProfileResult:
    started_at: datetime
    ended_at: datetime
    latency: dict  # LatencyRecorder.snapshot()
    resources: Optional[ResourceSummary]
    resource_series: List[ResourceSample]
    yappi: Optional[YappiResult]
    memray: Optional[MemrayResult]
    disabled_hook_cost_ns: Optional[float]
    errors: List[str] = field(default_factory=list)  # a session that failed to stop; the rest is still reported
    memory_marks: List[dict] = field(default_factory=list)  # MemoryMarks.to_list(): RSS at named steps


def session_dir(base: Path | str, now: Optional[datetime] = None) -> Path:
    """A new folder name per session: <base>/<UTC date-time>-<pid>."""
    now = now or datetime.now(UTC)
    return Path(base) / f"{now:%Y%m%d-%H%M%S}-{os.getpid()}"


class Profiler:
    def __init__(
        self,
        config: ProfilingConfig = ProfilingConfig(),
        *,
        output_dir: Optional[Path | str] = None,
        scenario: Optional[str] = None,
        catalogue: Optional[Catalogue | Path | str] = None,
        memory_marks: Optional[MemoryMarks] = None,
    ) -> None:
        self.config = config
        # Absolute now: a session profiled from start-up (autostart) may change its working directory before
        # the report is written.
        self.output_dir = (Path(output_dir) if output_dir is not None else session_dir(config.output_dir)).absolute()
        self.scenario = scenario or config.scenario
        # The quality catalogue is read (YAML) only once the run is over; its file must exist from the start.
        self._catalogue = catalogue if not isinstance(catalogue, (str, Path)) else Path(catalogue)
        if self._catalogue is None or isinstance(self._catalogue, Path):
            from .criteria import default_catalogue_path

            path = self._catalogue or default_catalogue_path()
            if not path.is_file():
                raise FileNotFoundError(f"quality catalogue not found: {path}")
            self._catalogue = path
        self.memory_marks = memory_marks if memory_marks is not None else MemoryMarks()
        self.recorder = LatencyRecorder(sample_cap=config.sample_cap)
        self.hummingbot_timing = MarketsRecorderTiming(self.recorder)
        self.sampler = ResourceSampler(config.sample_interval_s, on_sample=self._look_for_markets_recorder)
        profilers = [name for name, on in (("yappi", config.yappi), ("memray", config.memray)) if on]
        if profilers:
            self.memory_marks.load(f"the profilers' modules ({', '.join(profilers)})",
                                   [f"{__package__}.sessions.{name}_session" for name in profilers], holder=PROFILERS)
        self.yappi = None
        if config.yappi:
            from .sessions.yappi_session import YappiSession

            self.yappi = YappiSession(self.output_dir, clock_type=config.yappi_clock, top_n=config.top_functions,
                                      per_task=config.yappi_per_task)
        self.memray = None
        if config.memray:
            from .sessions.memray_session import MemraySession

            self.memray = MemraySession(self.output_dir, native_traces=config.memray_native_traces,
                                        aggregate=config.memray_aggregate)
        self._started_at: Optional[datetime] = None

    @property
    def running(self) -> bool:
        return self._started_at is not None

    def start(self) -> None:
        if self._started_at is not None:
            raise RuntimeError("this profiler is already running")
        if hooks.measurement.is_enabled():
            raise RuntimeError("another recorder is installed in stellar_measurement; stop that profiler first")
        self.output_dir.mkdir(parents=True, exist_ok=True)
        # Under the runner, the runner marks its setup itself; in any other process (autostart) this step is
        # whatever the process loaded and did before.
        if not any(mark.holder == RUNNER for mark in self.memory_marks.marks()):
            self.memory_marks.mark("before the profilers started (everything the process had loaded and made)",
                                   holder=PROCESS)
        try:
            self.sampler.start()
            if self.memray is not None:
                self.memray.start()
            self.recorder.reset()
            hooks.install_recorder(self.recorder)
            if self.yappi is not None:
                self.yappi.start()
        except Exception:
            # Leave nothing half started (a memray tracker already active in this process, for instance).
            hooks.uninstall_recorder()
            for session in (self.yappi, self.memray, self.sampler):
                if session is not None and session.running:
                    session.stop()
            raise
        self._started_at = datetime.now(UTC)
        running = [name for name, session in (("memray's tracker", self.memray), ("yappi", self.yappi))
                   if session is not None]
        self.memory_marks.mark(f"the profilers started ({', '.join(running) or 'the sampler alone'})",
                               holder=PROFILERS)
        self.attach_markets_recorder()

    def attach_markets_recorder(self, markets_recorder: Any = None) -> bool:
        """Time the listeners of Hummingbot's MarketsRecorder (default: the process-wide one, if any)."""
        return self.hummingbot_timing.attach(markets_recorder)

    def _look_for_markets_recorder(self) -> None:
        # From the sampler's thread: cheap (two lookups) until a MarketsRecorder exists.
        if self._started_at is not None and not self.hummingbot_timing.attached:
            self.hummingbot_timing.attach()

    def stop(self) -> ProfileResult:
        if self._started_at is None:
            raise RuntimeError("this profiler is not running")
        started_at, self._started_at = self._started_at, None
        errors: List[str] = []
        self.recorder.stop()
        hooks.uninstall_recorder()
        self.hummingbot_timing.detach()
        ended_at = datetime.now(UTC)
        if self.yappi is not None and self.yappi.running:
            try:
                self.yappi.stop_profiling()
            except Exception as error:
                logger.exception("profiling: stopping yappi failed")
                errors.append(f"yappi: {error}")
        resources = self._stop_session("resource sampler", self.sampler, errors)
        self.memory_marks.mark("the end of the run (before the profilers' collection)", holder=SESSION)
        memray_captured = self._end_memray_capture(errors)
        yappi_result = self._stop_session("yappi", self.yappi, errors)
        memray_result = None
        if memray_captured:
            try:
                memray_result = self.memray.report()
            except Exception as error:
                logger.exception("profiling: reading memray's capture failed")
                errors.append(f"memray: {error}")
        try:
            hook_cost: Optional[float] = hooks.measure_disabled_hook_cost()
        except RuntimeError as error:  # another recorder got installed meanwhile
            errors.append(f"disabled hook cost not measured: {error}")
            hook_cost = None
        return ProfileResult(
            started_at=started_at, ended_at=ended_at,
            latency=self.recorder.snapshot(groups=self._groups()),
            resources=resources, resource_series=self.sampler.samples(),
            yappi=yappi_result, memray=memray_result, disabled_hook_cost_ns=hook_cost, errors=errors,
            memory_marks=self.memory_marks.to_list(),
        )

    @property
    def catalogue(self) -> Catalogue:
        if isinstance(self._catalogue, Path):
            from .criteria import load_catalogue

            self._catalogue = load_catalogue(self._catalogue)
        return self._catalogue

    def write_report(self, result: ProfileResult, *, extra: Optional[Mapping[str, float]] = None,
                     notes: Sequence[str] = (), requests: Optional[Mapping[str, Any]] = None) -> ReportPaths:
        """`requests`: the connector's Horizon requests in steady state (`profiling.horizon_requests` figures)."""
        # Only now: the report's modules (and YAML for the catalogue) stay out of the measured process's memory.
        from .report import ReportInput, write_report

        figures = dict(extra or {})
        if result.disabled_hook_cost_ns is not None:
            figures.setdefault("disabled_hook_cost_ns", result.disabled_hook_cost_ns)
        report_input = ReportInput(
            scenario=self.scenario,
            started_at=result.started_at,
            ended_at=result.ended_at,
            latency=result.latency,
            resources=result.resources.to_dict() if result.resources else None,
            resource_series=[{"t_s": s.t_s, "rss_mb": s.rss_bytes / _MB, "cpu_percent": s.cpu_percent}
                             for s in result.resource_series],
            yappi=result.yappi.to_dict() if result.yappi else None,
            memray=result.memray.to_dict() if result.memray else None,
            memory_marks=list(result.memory_marks),
            extra=figures,
            requests=requests,
            notes=[*notes, *self._overhead_notes(result),
                   *(f"Problem while stopping: {error}" for error in result.errors)],
        )
        return write_report(report_input, self.output_dir, self.catalogue)

    def stop_and_report(self, **report_options) -> ReportPaths:
        return self.write_report(self.stop(), **report_options)

    @staticmethod
    def _overhead_notes(result: ProfileResult) -> List[str]:
        running = [name for name, on in (("yappi", result.yappi), ("memray", result.memray)) if on is not None]
        if not running:
            return []
        notes = [f"{' and '.join(running)} ran during the measurement: latency, CPU and memory figures include "
                 "their overhead (an upper bound for the connector alone)."]
        if len(running) == 2:
            # Both set the interpreter's profile hook (PyEval_SetProfile); yappi, started last, holds it.
            notes.append("yappi and memray ran together: both need the interpreter's profile hook, which yappi "
                         "held, so memray recorded allocations without Python stacks (sites read \"(no Python "
                         "frame)\") and its peak includes yappi's own statistics; run with memray alone "
                         "(--no-yappi) for allocation sites.")
        return notes

    def _groups(self) -> List[str]:
        return sorted(set(DEFAULT_GROUPS) | set(self.catalogue.latency_patterns()))

    def _end_memray_capture(self, errors: List[str]) -> bool:
        if self.memray is None or not self.memray.running:
            return False
        try:
            self.memray.stop_tracking()
            return True
        except Exception as error:
            logger.exception("profiling: stopping memray failed")
            errors.append(f"memray: {error}")
            return False

    @staticmethod
    def _stop_session(name: str, session, errors: List[str]):
        if session is None or not session.running:
            return None
        try:
            return session.stop()
        except Exception as error:  # one broken session must not lose the others' figures
            logger.exception("profiling: stopping %s failed", name)
            errors.append(f"{name}: {error}")
            return None
