"""Where the pipeline's CPU goes: microseconds of CPU per event in each process of one run.

Every process of the hub shares the machine's cores: the worker, the audit sink, the
broker, and here the benchmark itself, which publishes the events. Their CPU per event bounds
the rate together: on ``cores`` cores no run can pass ``cores`` seconds of CPU per second, so
``cpu_ceiling_events_per_second`` is the rate the pipeline would reach with every process
perfectly in parallel, and the worker's share alone bounds it on its single thread.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import psutil

from streams.process_title import read_title

Result = TypeVar("Result")


@dataclass(frozen=True)
class CpuSplit:
    """CPU seconds each process used while ``events`` events went through, in ``seconds``."""

    events: int
    seconds: float
    cpu_by_process: dict[str, float]

    def lines(self, prefix: str = "pipeline_cpu_us_per_event.") -> list[str]:
        """``name: value`` lines: CPU per event by process, in total, and the ceiling."""
        total = sum(self.cpu_by_process.values())
        lines = [
            f"{prefix}{name}: {1e6 * used / self.events:.0f}"
            for name, used in sorted(self.cpu_by_process.items())
        ]
        cores = os.cpu_count() or 1
        lines += [
            f"{prefix}total: {1e6 * total / self.events:.0f}",
            f"pipeline_cores_busy: {total / self.seconds:.2f} of {cores}",
            f"cpu_ceiling_events_per_second: {cores * self.events / total:.0f}",
        ]
        return lines


def during(run: Callable[[], Result], events: int) -> tuple[Result, CpuSplit]:
    """``run()``'s result, and the CPU this process and its descendants used meanwhile."""
    me = psutil.Process()
    result, seconds, used = cpu_while([me, *me.children(recursive=True)], run, _bench_or_role)
    return result, CpuSplit(events, seconds, used)


def cpu_while(
    processes: list[psutil.Process],
    run: Callable[[], Result],
    name: Callable[[psutil.Process], str] | None = None,
) -> tuple[Result, float, dict[str, float]]:
    """``run()``'s result, its seconds, and the CPU seconds ``processes`` used meanwhile.

    The CPU is summed by ``name`` of each process (:func:`role_of` unless given).
    """
    name = name or role_of
    before = {process.pid: cpu_seconds(process) for process in processes}
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    used: dict[str, float] = {}
    for process in processes:
        key = name(process)
        used[key] = used.get(key, 0.0) + cpu_seconds(process) - before[process.pid]
    return result, seconds, used


def _bench_or_role(process: psutil.Process) -> str:
    # The bench's own process publishes the events of the throughput run.
    return "bench_publisher" if process.pid == os.getpid() else role_of(process)


def cpu_seconds(process: psutil.Process) -> float:
    """User and system CPU ``process`` used so far, in seconds."""
    times = process.cpu_times()
    return float(times.user + times.system)


def role_of(process: psutil.Process) -> str:
    """``supervisor``, ``worker``, ``sink``, ``tansu``, ``weed`` or the executable's name."""
    command = process.cmdline()
    # A serving process is titled `kawal worker home=...` (streams.process_title); psutil
    # splits such a title at its spaces or not, as /proc shows it.
    named = read_title(" ".join(command))
    words = named[0].split() if named is not None else command[1:4]
    for role in ("worker", "sink"):
        if role in words:
            return role
    if "up" in words:
        return "supervisor"
    return Path(command[0]).name if command else process.name()
