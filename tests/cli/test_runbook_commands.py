"""Every ``kawal`` command the alert runbooks (docs/operations.md, "Alerts") name exists.

An operator paged at night runs what the runbook says: a command named there must be one the
CLI has, down to a subcommand that runs (not a group that only prints its usage), with the
options the runbook gives it.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from streams.cli import build_parser

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def runbook_commands() -> list[str]:
    """The ``kawal ...`` code spans of the Alerts section, each on one line."""
    alerts = OPERATIONS.read_text(encoding="utf-8").split("\n## Alerts\n", 1)[1]
    return [" ".join(span.split()) for span in re.findall(r"`(kawal [^`]+)`", alerts)]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subcommands of ``parser`` by name; empty for a command that runs."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def problem(command: str) -> str | None:
    """What is wrong with ``command`` as the CLI reads it; None when it names one that runs."""
    parser, words = build_parser(), command.split()[1:]
    while (choices := subcommands(parser)) and words and words[0] in choices:
        parser = choices[words.pop(0)]
    if choices:
        return f"{command!r} names no command that runs (one of {sorted(choices)})"
    known = {option for action in parser._actions for option in action.option_strings}
    unknown = [word for word in words if word.startswith("--") and word not in known]
    return f"{command!r}: no option {unknown}" if unknown else None


def test_the_runbooks_name_commands() -> None:
    assert len(runbook_commands()) > 10


def test_every_command_a_runbook_names_runs_with_its_options() -> None:
    problems = [found for command in runbook_commands() if (found := problem(command))]

    assert problems == []
