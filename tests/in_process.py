"""``kawal`` commands run in the test's own process, as ``python -m streams.cli`` would run them.

A fresh interpreter spends about two seconds importing the hub before a command starts; a test
whose subject is a command's output and exit code, not the process, runs it here instead. What
differs from a child process is made the same: the settings are the environment's for the
command's time only, what it sets up for its process (logging, signal handlers) is put back
after it, its exit code is returned whether it returns one or exits (``argparse``), and what it
logs at ``WARNING`` or above (in its own thread) goes to its stderr, as Python's
last-resort handler writes it in a ``kawal`` process that configures no logging.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from unittest.mock import patch

from streams.cli import main
from streams.process_title import current_title, restore_title


@dataclass(frozen=True)
class Done:
    """What a command did, named as :class:`subprocess.CompletedProcess` names it."""

    returncode: int
    stdout: str
    stderr: str


def kawal_here(settings: Mapping[str, str], *argv: str) -> Done:
    """``kawal ARGV`` with the environment and ``settings`` (``KAWAL_*`` variables) over it."""
    out, err = io.StringIO(), io.StringIO()
    with (
        _process_state_kept(),
        _warnings_to(err),
        patch.dict(os.environ, settings),
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        code = _exit_code(list(argv))
    return Done(code, out.getvalue(), err.getvalue())


@contextmanager
def _warnings_to(err: io.StringIO) -> Iterator[None]:
    """The command's own log records of ``WARNING`` and above written to ``err``."""
    logged = logging.StreamHandler(err)
    logged.setLevel(logging.WARNING)
    # Only the command's own: a connector running in another thread of the test logs apart.
    command = threading.get_ident()
    logged.addFilter(lambda record: record.thread == command)
    root = logging.getLogger()
    root.addHandler(logged)
    try:
        yield
    finally:
        root.removeHandler(logged)


@contextmanager
def _process_state_kept() -> Iterator[None]:
    """What a command sets up for its process put back after it: the test's process goes on.

    A connector command configures logging (the root's handlers, levels of chatty loggers)
    and, once it would run, handles SIGTERM and SIGINT; a serving command titles its process.
    """
    title = current_title()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {
        name: logger.level
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    signals = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, kept in levels.items():
            logging.getLogger(name).setLevel(kept)
        for signum, handler in signals.items():
            signal.signal(signum, handler)
        if current_title() != title:
            restore_title(title)


def _exit_code(argv: list[str]) -> int:
    """``main(argv)``'s exit code, also when it exits (a usage error, ``--help``)."""
    try:
        return main(argv)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 1
