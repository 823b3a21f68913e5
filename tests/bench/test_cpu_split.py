"""``bench.cpu_split``: CPU per event by process, and the ceiling it sets on the machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

from bench.cpu_split import CpuSplit, cpu_seconds, during


def test_the_ceiling_is_the_cores_over_the_cpu_of_an_event() -> None:
    split = CpuSplit(events=1_000, seconds=2.0, cpu_by_process={"worker": 0.6, "tansu": 0.2})

    lines = dict(line.split(": ") for line in split.lines())

    assert lines["pipeline_cpu_us_per_event.worker"] == "600"
    assert lines["pipeline_cpu_us_per_event.tansu"] == "200"
    assert lines["pipeline_cpu_us_per_event.total"] == "800"
    assert lines["pipeline_cores_busy"] == f"0.40 of {os.cpu_count()}"
    assert lines["cpu_ceiling_events_per_second"] == f"{(os.cpu_count() or 1) * 1_250}"


def test_the_cpu_of_this_process_and_of_a_child_is_counted_apart() -> None:
    # The child spins 0.3 s of CPU, then lives on: a process is read after the run too.
    spin = "end = time.process_time() + 0.3\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", f"import time\n{spin}\ntime.sleep(60)"])
    watched = psutil.Process(child.pid)
    try:

        def work() -> str:
            end = time.process_time() + 0.3
            while time.process_time() < end:
                pass
            deadline = time.monotonic() + 30
            while cpu_seconds(watched) < 0.3 and time.monotonic() < deadline:
                time.sleep(0.05)
            return "done"

        result, split = during(work, events=100)
    finally:
        child.kill()
        child.wait()

    assert result == "done"
    # This process publishes in the bench; another is named by its executable.
    assert split.cpu_by_process["bench_publisher"] >= 0.3
    assert split.cpu_by_process[os.path.basename(sys.executable)] >= 0.2
