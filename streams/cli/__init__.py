"""The ``kawal`` command line.

Exit codes: 0 success, 1 error (the message says what to do), 2 usage error, 3 unknown case,
4 a trail that does not verify, 5 an institution not entitled to the view it asked for,
6 ``topics apply --dry-run`` found topics to create or configuration to change, 7 ``deadline
due`` counted through a year without holiday data (the due date is provisional), 8 ``erase``
destroyed the data key but could not publish PersonalDataErased (run it again to record it),
9 ``audit verify`` found nothing wrong but could not check the kept personal values (no vault),
10 ``status`` found the hub degraded, 11 ``status`` found something down, 12 ``status``
found no process of the hub running on this home, 13 a ``KAWAL_*`` variable (or secret file)
that no setting reads, most likely a misspelt one: nothing was started.

Each command group is a module of this package that adds its parsers and sets the handler it
runs (``run``); a command loads its own group only (``GROUPS``). Packages add groups through
the entry-point group ``kawal.commands`` (the connector SDK adds ``kawal connector``), so the
hub never imports them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from importlib.metadata import EntryPoint, entry_points
from typing import Any, TextIO, cast

from pydantic import ValidationError

from schemas.errors import KawalError
from streams import logs
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_UNKNOWN_SETTING
from streams.cli.setting_values import load_settings
from streams.cli.terminal import ShownControls
from streams.process_title import name_process
from streams.settings import Settings
from streams.unknown_variables import UnknownVariableError

#: Entry-point group of command groups added by other packages, each named as the command it
#: adds (the connector SDK's ``connector``).
COMMANDS_GROUP = "kawal.commands"
#: Adds a group's parsers to the subcommands' action.
AddParsers = Callable[[Any], None]
#: The module of this package that adds each top-level command, in ``--help``'s order. A
#: command imports its own module only: ``kawal keys new`` need not load the stream
#: processor, the broker's clients or the database drivers other commands use.
GROUPS = {
    "up": "processes",
    "worker": "processes",
    "sink": "processes",
    "status": "status",
    "demo": "processes",
    "topics": "topics",
    "case": "cases",
    "replay": "cases",
    "audit": "cases",
    "stats": "cases",
    "erase": "erase",
    "retention": "retention",
    "deadline": "deadlines",
    "keys": "keys",
    "kek": "kek",
    "token": "tokens",
    "access": "access",
    "dlq": "dead_letters",
    "registry": "registry",
    "schema": "schema",
}

log = logging.getLogger(__name__)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser of the command ``argv`` names, or of every command.

    Only the group adding the command ``argv`` starts with is loaded; ``--help``, an unknown
    command or no ``argv`` loads every group, the other packages' groups included.
    """
    parser = argparse.ArgumentParser(
        prog="kawal",
        description="kawal: the event hub that carries neutrality cases between institutions.",
        # The module docstring's exit codes, without reST's ``literal`` quotes.
        epilog=__doc__.split("\n\n")[1].replace("``", "`"),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for add_parsers in _groups_for(argv[0] if argv else None):
        add_parsers(commands)
    return parser


def _groups_for(command: str | None) -> list[AddParsers]:
    """What adds the parsers ``command`` needs: its group alone when known, else every group."""
    if command in GROUPS:
        return [_own_group(GROUPS[command])]
    others = list(entry_points(group=COMMANDS_GROUP))
    if named := [entry for entry in others if entry.name == command]:
        return [_other_group(entry) for entry in named]
    own = [_own_group(module) for module in dict.fromkeys(GROUPS.values())]
    return own + [_other_group(entry) for entry in others]


def _own_group(module: str) -> AddParsers:
    add: AddParsers = importlib.import_module(f"{__name__}.{module}").add_parsers
    return add


def _other_group(entry: EntryPoint) -> AddParsers:
    def add(commands: Any) -> None:
        try:
            entry.load()(commands)
        except Exception as exc:  # a third-party package can fail in any way
            log.warning("command group %s (%s) failed to load: %r", entry.name, entry.value, exc)

    return add


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kawal``."""
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words)
    args, unknown = parser.parse_known_args(words)
    if unknown:
        # Said by the command's own parser, with its usage: the top one was built with the
        # command's group only, and its usage would list only that group's commands.
        _selected(parser, words).error(f"unrecognized arguments: {' '.join(unknown)}")
    if getattr(args, "serves", False):
        return _run(args, words)  # a process: its output is its own logs
    with redirect_stdout(cast(TextIO, ShownControls(sys.stdout))):
        return _run(args, words)


def _selected(parser: argparse.ArgumentParser, words: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of the (sub)command ``words`` name: ``case list`` → that of ``case list``."""
    for word in words:
        choices = [
            action.choices
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        ]
        if choices and word in choices[0]:
            parser = choices[0][word]
    return parser


def _run(args: argparse.Namespace, words: Sequence[str]) -> int:
    try:
        settings = load_settings()
        if getattr(args, "serves", False):
            # `ps` then tells which hub a worker, sink or `kawal up` belongs to.
            name_process(words, settings.home)
        return int(args.run(args, settings))
    except UnknownVariableError as exc:
        print(f"kawal: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN_SETTING
    except KawalError as exc:
        print(f"kawal: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except ValidationError as exc:
        # A KAWAL_* setting refused: its own message says what to give; settings hold no
        # personal data, but the refused value is left out all the same.
        for error in exc.errors(include_input=False, include_url=False):
            print(f"kawal: {error['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # The reader stopped reading (`kawal case list | head`): not an error of kawal's.
        # Python would report the pipe again when it flushes stdout at exit; point it elsewhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        # The file system or the network refused (no such folder, a file where a folder
        # belongs, no permission): the operator's to fix, not a defect. The path is left out:
        # a file name (an office's export) can hold a name.
        print(
            f"kawal: {exc.strerror or 'operating system error'} ({type(exc).__name__}); check "
            "the paths the command was given and their permissions, or that what it connects "
            "to is up",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except Exception as exc:
        if _is_broker_error(exc):
            # Any command that reads or writes topics: the broker is down, unreachable or
            # refuses. kafka-python's errors name their type in their text.
            print(
                f"kawal: the broker at {Settings().effective_broker_url} did not answer as "
                f"expected ({exc}); start it (`kawal up`) if it is not running, see "
                "docs/operations.md#kawalbrokerunanswered if it is (a broker that runs may be "
                "frozen or out of disk), or set KAWAL_BROKER_URL",
                file=sys.stderr,
            )
            return EXIT_ERROR
        # A defect. Its frames say where; its message is left out, as it may quote the personal
        # data the command was handling (a connector's records, a trail).
        print(
            f"kawal: unexpected {type(exc).__name__}, a defect of kawal: report it with these "
            f"frames (its message is left out: it may hold personal data)\n"
            f"{logs.frames(exc.__traceback__)}",
            file=sys.stderr,
        )
        return EXIT_ERROR


def _is_broker_error(exc: Exception) -> bool:
    """Whether ``exc`` is kafka-python's: only a command that loaded its client can raise one."""
    errors = sys.modules.get("kafka.errors")
    return errors is not None and isinstance(exc, errors.KafkaError)
