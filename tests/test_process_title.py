"""A Kawal process's title reads back to its command and home, however /proc pads it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from bench.cpu_split import role_of
from streams.process_title import read_title, title_for

#: A child whose command line is longer than its new title: /proc pads the title with NULs.
RETITLED = """
import setproctitle, sys, time
setproctitle.setproctitle(sys.argv[1])
print("titled", flush=True)  # RETITLED
time.sleep(30)
"""


def test_a_title_reads_back_to_its_command_and_home() -> None:
    home = Path("/srv/kawal hub/home")

    assert read_title(title_for(["worker"], home)) == ("worker", home)
    assert read_title("python -m http.server") is None


def test_a_padded_title_of_a_running_process_gives_its_role_and_home() -> None:
    """Before, the home kept the padding, and the bench split no CPU to the worker by role."""
    home = Path("/tmp/kawal bench/home")
    child = subprocess.Popen(
        [sys.executable, "-c", RETITLED, title_for(["worker"], home)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "titled"
        process = psutil.Process(child.pid)
        deadline = time.monotonic() + 10
        while "RETITLED" in " ".join(process.cmdline()):  # the title may show a moment late
            assert time.monotonic() < deadline
            time.sleep(0.05)

        assert read_title(" ".join(process.cmdline())) == ("worker", home)
        assert role_of(process) == "worker"
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
