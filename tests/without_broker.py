"""``kawal`` commands run one after another in a process of their own, with no broker to reach.

kafka-python 3.0.12 leaves the sockets of its refused connections open when its constructor
gives up, which a test process reports as an error at some later test. The commands run in a
child process (``python tests/without_broker.py RESULT COMMAND_JSON...``) instead, which starts
Python once for all of them.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.cli import main


@dataclass(frozen=True)
class Ran:
    """What one command did: its exit code, output, errors and how long it took (s)."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float


def run_without_broker(
    settings: Mapping[str, str], result: Path, *commands: Sequence[str]
) -> list[Ran]:
    """Run each of ``commands`` (``kawal`` arguments) in one child process.

    The child's ``KAWAL_*`` settings are ``settings`` only; ``result`` is a file it writes what
    each command did to.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("KAWAL_")}
    child = subprocess.run(
        [sys.executable, __file__, str(result), *(json.dumps(list(c)) for c in commands)],
        env=env | dict(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Nothing outside the commands' own output: no log line, no traceback of the child.
    assert (child.returncode, child.stderr) == (0, ""), child.stderr
    return [Ran(**ran) for ran in json.loads(result.read_text())]


def _run_each(commands: list[list[str]]) -> list[dict[str, object]]:
    ran: list[dict[str, object]] = []
    for command in commands:
        stdout, stderr = io.StringIO(), io.StringIO()
        started = time.monotonic()
        with redirect_stdout(stdout), redirect_stderr(stderr):
            code = main(command)
        seconds = time.monotonic() - started
        ran.append(
            {
                "returncode": code,
                "stdout": stdout.getvalue(),
                "stderr": stderr.getvalue(),
                "seconds": seconds,
            }
        )
    return ran


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(_run_each([json.loads(a) for a in sys.argv[2:]])))
