"""Each ``kawal`` command loads its own group of commands only, and ``GROUPS`` says which.

``kawal keys new`` used to import every group, the stream processor and the broker's clients
among them: two seconds of CPU before an operator's command did anything. The map from
command to module must name every command, and the module it names must add it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from streams.cli import COMMANDS_GROUP, GROUPS, build_parser


def commands_of(parser: argparse.ArgumentParser) -> set[str]:
    """The top-level commands ``parser`` knows."""
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(action.choices)


def test_every_command_is_mapped_and_the_help_lists_every_group() -> None:
    others = {entry.name for entry in entry_points(group=COMMANDS_GROUP)}

    assert "connector" in others
    assert commands_of(build_parser()) == set(GROUPS) | others
    assert commands_of(build_parser(["--help"])) == set(GROUPS) | others
    assert commands_of(build_parser(["no-such-command"])) == set(GROUPS) | others


@pytest.mark.parametrize("command", sorted(GROUPS))
def test_the_module_a_command_is_mapped_to_adds_it(command: str) -> None:
    assert command in commands_of(build_parser([command]))


def loaded_by(command: str) -> set[str]:
    """The modules a fresh interpreter holds once it built the parser of ``command``."""
    script = (
        "import json, sys\n"
        "from streams.cli import build_parser\n"
        f"build_parser([{command!r}])\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(shown.stdout))


def test_a_command_loads_neither_other_groups_nor_the_stream_processor() -> None:
    loaded = loaded_by("keys")

    assert "streams.cli.keys" in loaded
    assert not {f"streams.cli.{module}" for module in GROUPS.values() if module != "keys"} & loaded
    assert not {"faust", "aiokafka", "sqlalchemy", "alembic"} & loaded


def test_a_command_of_another_package_loads_no_group_of_the_hub() -> None:
    loaded = loaded_by("connector")

    assert "connectors.commands" in loaded
    assert not {f"streams.cli.{module}" for module in GROUPS.values()} & loaded
