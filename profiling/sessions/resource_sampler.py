"""`ResourceSampler`: RSS, CPU and network bytes of a process, sampled on an interval in a thread.

A thread rather than a task, so a blocked event loop shows as a gap in nothing: the sampler keeps
its rhythm and the CPU figures tell what the loop did.

- CPU % is of one core (psutil's process convention: 200 % means two busy cores). The average is
  exact (CPU time used / wall time), the peak is the highest sampled interval.
- RSS: peak, and steady state = median of the samples in the second half of the run (past start-up).
- Network: bytes through the loopback interface (the embedded network lives on 127.0.0.1). It is a
  machine-wide counter: other processes on loopback count too, so read it as an upper bound.
- Memory stays bounded: past `max_samples` every other sample is dropped and the interval doubles.
- Read from /proc on Linux (`ProcReader`), through psutil elsewhere: psutil's import (about 1 MB) would
  otherwise be part of the memory it measures.
- `on_sample`: called from the sampler's thread after each sample (the profiler looks there for Hummingbot
  objects that appear once the session runs); an exception in it is logged once and the sampling goes on.
"""
from __future__ import annotations

import logging
import os
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Tuple

_MB = 2**20
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResourceSample:
    t_s: float  # since start
    rss_bytes: int
    cpu_percent: float  # over the interval that ends here
    net_sent_bytes: int  # cumulative since start
    net_recv_bytes: int


@dataclass(frozen=True)
class ResourceSummary:
    duration_s: float
    sample_count: int
    interval_s: float
    rss_start_mb: float
    rss_peak_mb: float
    rss_steady_mb: float
    cpu_avg_percent: float
    cpu_peak_percent: float
    cpu_count: int
    network_interface: Optional[str]
    net_sent_kb_per_s: float
    net_recv_kb_per_s: float

    @property
    def net_kb_per_s(self) -> float:
        return self.net_sent_kb_per_s + self.net_recv_kb_per_s

    def to_dict(self) -> dict:
        return {
            "duration_s": self.duration_s,
            "sample_count": self.sample_count,
            "interval_s": self.interval_s,
            "rss_start_mb": self.rss_start_mb,
            "rss_peak_mb": self.rss_peak_mb,
            "rss_steady_mb": self.rss_steady_mb,
            "cpu_avg_percent": self.cpu_avg_percent,
            "cpu_peak_percent": self.cpu_peak_percent,
            "cpu_count": self.cpu_count,
            "network_interface": self.network_interface,
            "net_sent_kb_per_s": self.net_sent_kb_per_s,
            "net_recv_kb_per_s": self.net_recv_kb_per_s,
            "net_kb_per_s": self.net_kb_per_s,
        }


class ProcReader:
    """A process's RSS and CPU seconds, and the machine's bytes per network interface, from /proc (Linux)."""

    def __init__(self, pid: Optional[int] = None) -> None:
        self.pid = pid or os.getpid()
        self._page_size = os.sysconf("SC_PAGE_SIZE")
        self._ticks = os.sysconf("SC_CLK_TCK")
        self.rss_bytes()  # raises OSError where there is no /proc
        self.cpu_seconds()

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * self._page_size

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self._ticks  # utime and stime (fields 14 and 15)

    @staticmethod
    def net_bytes() -> Dict[str, Tuple[int, int]]:
        """{interface: (bytes sent, bytes received)}"""
        counters = {}
        with open("/proc/net/dev", encoding="ascii") as dev:
            for line in dev.readlines()[2:]:
                name, _, numbers = line.partition(":")
                values = numbers.split()
                if len(values) >= 9:
                    counters[name.strip()] = (int(values[8]), int(values[0]))
        return counters


class PsutilReader:
    """The same figures through psutil, where /proc is missing."""

    def __init__(self, pid: Optional[int] = None) -> None:
        import psutil

        self._psutil = psutil
        self._process = psutil.Process(pid)

    def rss_bytes(self) -> int:
        return self._process.memory_info().rss

    def cpu_seconds(self) -> float:
        times = self._process.cpu_times()
        return times.user + times.system

    def net_bytes(self) -> Dict[str, Tuple[int, int]]:
        return {name: (c.bytes_sent, c.bytes_recv) for name, c in self._psutil.net_io_counters(pernic=True).items()}


def process_reader(pid: Optional[int] = None):
    try:
        return ProcReader(pid)
    except (OSError, ValueError, IndexError, AttributeError):
        return PsutilReader(pid)


def loopback_interface(reader=None) -> Optional[str]:
    names = (reader or process_reader()).net_bytes()
    for name in ("lo", "lo0"):
        if name in names:
            return name
    return next((name for name in names if name.startswith("lo")), None)


def summarize(samples: List[ResourceSample], *, duration_s: float, cpu_seconds: float, interval_s: float,
              interface: Optional[str]) -> ResourceSummary:
    """Figures from a series of samples (the first one is the baseline at t = 0)."""
    if not samples:
        raise ValueError("no resource samples to summarize")
    rss = [sample.rss_bytes for sample in samples]
    second_half = [sample.rss_bytes for sample in samples if sample.t_s >= duration_s / 2] or rss[-1:]
    cpu_series = [sample.cpu_percent for sample in samples[1:]]
    last = samples[-1]
    return ResourceSummary(
        duration_s=duration_s,
        sample_count=len(samples),
        interval_s=interval_s,
        rss_start_mb=rss[0] / _MB,
        rss_peak_mb=max(rss) / _MB,
        rss_steady_mb=statistics.median(second_half) / _MB,
        cpu_avg_percent=100.0 * cpu_seconds / duration_s if duration_s > 0 else 0.0,
        cpu_peak_percent=max(cpu_series, default=0.0),
        cpu_count=os.cpu_count() or 1,
        network_interface=interface,
        net_sent_kb_per_s=last.net_sent_bytes / 1024 / duration_s if duration_s > 0 else 0.0,
        net_recv_kb_per_s=last.net_recv_bytes / 1024 / duration_s if duration_s > 0 else 0.0,
    )


class ResourceSampler:
    def __init__(self, interval_s: float = 0.5, *, pid: Optional[int] = None, max_samples: int = 20_000,
                 interface: Optional[str] = "auto", on_sample: Optional[Callable[[], None]] = None) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, got {interval_s}")
        if max_samples < 4:
            raise ValueError(f"max_samples must be at least 4, got {max_samples}")
        self.interval_s = interval_s
        self.max_samples = max_samples
        self._reader = process_reader(pid)
        self._interface = loopback_interface(self._reader) if interface == "auto" else interface
        self._samples: List[ResourceSample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._started = 0.0
        self._stopped: Optional[float] = None
        self._cpu_start = 0.0
        self._cpu_end: Optional[float] = None
        self._net_start = (0, 0)
        self._last_cpu: tuple[float, float] = (0.0, 0.0)  # (wall, cpu seconds) at the previous sample
        self._on_sample = on_sample

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("this sampler is already running")
        self._samples = []
        self._stop.clear()
        self._stopped = self._cpu_end = None
        self._started = time.perf_counter()
        self._cpu_start = self._cpu_seconds()
        self._last_cpu = (self._started, self._cpu_start)
        self._net_start = self._net_bytes()
        self._take_sample()
        self._thread = threading.Thread(target=self._run, name="stellar-profiling-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> ResourceSummary:
        if self._thread is None:
            raise RuntimeError("this sampler is not running")
        self._stop.set()
        self._thread.join()
        self._thread = None
        self._take_sample()
        self._stopped = time.perf_counter()
        self._cpu_end = self._cpu_seconds()
        return self.summary()

    def samples(self) -> List[ResourceSample]:
        with self._lock:
            return list(self._samples)

    def summary(self) -> ResourceSummary:
        end = self._stopped if self._stopped is not None else time.perf_counter()
        cpu_end = self._cpu_end if self._cpu_end is not None else self._cpu_seconds()
        return summarize(self.samples(), duration_s=end - self._started, cpu_seconds=cpu_end - self._cpu_start,
                         interval_s=self.interval_s, interface=self._interface)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._take_sample()
            if self._on_sample is not None:
                try:
                    self._on_sample()
                except Exception:
                    logger.exception("profiling: the sampler's on_sample callback failed; not called again")
                    self._on_sample = None

    def _take_sample(self) -> None:
        now = time.perf_counter()
        cpu = self._cpu_seconds()
        last_wall, last_cpu = self._last_cpu
        elapsed = now - last_wall
        cpu_percent = 100.0 * (cpu - last_cpu) / elapsed if elapsed > 0 else 0.0
        self._last_cpu = (now, cpu)
        sent, received = self._net_bytes()
        sample = ResourceSample(
            t_s=now - self._started,
            rss_bytes=self._reader.rss_bytes(),
            cpu_percent=cpu_percent,
            net_sent_bytes=sent - self._net_start[0],
            net_recv_bytes=received - self._net_start[1],
        )
        with self._lock:
            self._samples.append(sample)
            if len(self._samples) > self.max_samples:
                # Keep the first (baseline) and every other one after it; sample half as often.
                self._samples = self._samples[:1] + self._samples[2::2]
                self.interval_s *= 2

    def _cpu_seconds(self) -> float:
        return self._reader.cpu_seconds()

    def _net_bytes(self) -> tuple[int, int]:
        if self._interface is None:
            return 0, 0
        return self._reader.net_bytes().get(self._interface, (0, 0))
