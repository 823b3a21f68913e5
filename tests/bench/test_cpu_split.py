"""``bench.cpu_split``: CPU per event by process, and the ceiling it sets on the machine."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bench.cpu_split import CpuSplit, during

#: CPU each process of the test spends, in seconds.
SPIN = 0.3
#: The kernel's unit of CPU time, in seconds.
TICK = 1 / os.sysconf("SC_CLK_TCK")


def test_the_ceiling_is_the_cores_over_the_cpu_of_an_event() -> None:
    split = CpuSplit(events=1_000, seconds=2.0, cpu_by_process={"worker": 0.6, "tansu": 0.2})

    lines = dict(line.split(": ") for line in split.lines())

    assert lines["pipeline_cpu_us_per_event.worker"] == "600"
    assert lines["pipeline_cpu_us_per_event.tansu"] == "200"
    assert lines["pipeline_cpu_us_per_event.total"] == "800"
    assert lines["pipeline_cores_busy"] == f"0.40 of {os.cpu_count()}"
    assert lines["cpu_ceiling_events_per_second"] == f"{(os.cpu_count() or 1) * 1_250}"


def test_the_cpu_of_this_process_and_of_a_child_is_counted_apart() -> None:
    # The child spins, says so, then lives on: a process is read after the run too.
    spin = f"end = time.process_time() + {SPIN}\nwhile time.process_time() < end: pass"
    script = f"import time\n{spin}\nprint('spun', flush=True)\ntime.sleep(60)"
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as child:

        def work() -> str:
            end = time.process_time() + SPIN
            while time.process_time() < end:
                pass
            assert child.stdout is not None
            return child.stdout.readline().strip()

        try:
            result, split = during(work, events=100)
        finally:
            child.kill()

    assert result == "spun"
    # This process publishes in the bench; another is named by its executable. The kernel
    # counts CPU in clock ticks: each reading may fall short by one.
    assert split.cpu_by_process["bench_publisher"] >= SPIN - 2 * TICK
    assert split.cpu_by_process[os.path.basename(sys.executable)] >= SPIN - 2 * TICK
