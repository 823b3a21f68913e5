"""``kawal`` commands run in the test's own process, where the test is not about a process.

A command that refuses, or only reads and changes topics, takes a fraction of a second once its
settings are read; a child process first spends seconds of CPU importing the hub (``kawal up``
once took 12 s to refuse beside a running demo on two busy cores). What a command says and
returns is the same here: ``main`` returns the code the process would exit with, and writes what
it would print.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout

import pytest

from streams.cli import main

#: Variables of the environment given that reach the command besides the ``KAWAL_*`` settings.
PASSED = ("PATH",)


def kawal_here(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``kawal ARGS`` with the ``KAWAL_*`` settings (and PATH) of ``env`` only, in this process.

    The environment, and the SIGTERM and SIGINT handlers ``kawal up`` installs, are put back as
    they were once it returned.
    """
    out, err = io.StringIO(), io.StringIO()
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        with pytest.MonkeyPatch.context() as patch, redirect_stdout(out), redirect_stderr(err):
            for name in [name for name in os.environ if name.startswith("KAWAL_")]:
                patch.delenv(name)
            for name, value in env.items():
                if name.startswith("KAWAL_") or name in PASSED:
                    patch.setenv(name, value)
            code = main(list(args))
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return subprocess.CompletedProcess(["kawal", *args], code, out.getvalue(), err.getvalue())


def up_here(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``kawal up ARGS`` in this process, for its refusals: they come before anything starts."""
    return kawal_here(env, "up", *args)
