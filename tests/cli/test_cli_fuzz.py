"""Whatever arguments an operator types, a ``kawal`` command answers without a defect.

Generated command lines from the parser itself: every command that works on the hub's home
(cases, audit, statistics, retention, deadlines, keys, KEKs, tokens, the access log, schemas),
each positional and option given a value of the right kind, of a neighbouring kind or any
text. For each: an exit code of the documented ones (``streams.cli``), and never the last-resort
answer ``unexpected ..., a defect of kawal`` nor a traceback. Commands that wait on a broker or
serve are left to their own tests; paths stay inside the test's folder.

The home is a real one: a hub ran in it on the session broker and stored a referred case.
"""

from __future__ import annotations

import argparse
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.cli import build_parser, exits
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import keyring_of
from streams.settings import Settings
from tests.fuzzing import fuzz_settings
from tests.hubtools import start_hub
from tests.in_process import kawal_here

pytestmark = pytest.mark.slow

#: Commands that wait on a broker, serve, or write outside the home: tested on their own.
LEFT_OUT = ("up", "worker", "sink", "demo", "topics", "replay", "erase", "dlq", "connector")
#: Exit codes streams.cli documents (streams/cli/exits.py).
EXITS = {code for name, code in vars(exits).items() if name.startswith("EXIT_")}
TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
MOMENTS = st.sampled_from(
    (
        "2024-11-01",
        "2024-11-01T10:00:00+07:00",
        "2024-11-01T10:00:00",
        "2099-01-01",
        "30d",
        "1d",
        "0d",
        "-1d",
    )
)
INSTITUTIONS = st.sampled_from(
    ("bkn", "bawaslu.33", "ppk.3374", "kawal", "inspektorat.3374", "ops.team")
)


@dataclass(frozen=True)
class Home:
    """The home the commands work on, its case and its keys' ids."""

    path: Path
    case_id: str
    key_ids: tuple[str, ...]


@pytest.fixture(scope="module")
def home(module_broker: EmbeddedBroker, tmp_path_factory: pytest.TempPathFactory) -> Home:
    """A home a hub of its own broker stored a referred case in, the hub stopped again.

    Not the session broker: its hub's worker, in the same consumer group, would take the case.
    """
    path = tmp_path_factory.mktemp("cli-fuzz")
    hub = start_hub(module_broker.url, path)
    try:
        case_id = hub.open_case()
        hub.wait_trail(case_id, 4)
    finally:
        hub.stop()
    registry = keyring_of(Settings(home=path)).registry
    return Home(path, case_id, tuple(entry.id for entry in registry.entries()))


def leaf_parsers() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    """Every command's own parser, by its words, the left-out ones aside."""
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}

    def walk(parser: argparse.ArgumentParser, words: tuple[str, ...]) -> None:
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subparsers:
            found[words] = parser
            return
        for name, child in subparsers[0].choices.items():
            walk(child, (*words, name))

    walk(build_parser(None), ())
    return {words: parser for words, parser in found.items() if words[0] not in LEFT_OUT}


COMMANDS = leaf_parsers()


def value_for(action: argparse.Action, home: Home, folder: Path) -> st.SearchStrategy[str]:
    """Values of ``action``'s kind, of a neighbouring kind, and any text."""
    kind = getattr(action.type, "__name__", "")
    name = action.dest
    typed: st.SearchStrategy[str]
    if action.choices:
        typed = st.sampled_from([str(choice) for choice in action.choices])
    elif kind == "case_uuid" or name == "case":
        typed = st.sampled_from((home.case_id, str(uuid.uuid4()), home.case_id.upper()))
    elif kind == "Path":  # inside the test's folder only: commands write where they are told
        named = TEXT.map(lambda text: str(folder / (text.replace("/", "_") or "x")))
        return named | st.sampled_from((str(home.path / "keys" / "registry.toml"), str(folder)))
    elif kind in ("int", "float", "_working_days"):
        typed = st.integers(-(10**12), 10**12).map(str) | st.sampled_from(("nan", "inf", "1e400"))
    elif kind in ("_moment", "_day", "expiry") or name in ("date_from", "date_to", "start", "end"):
        typed = MOMENTS
    elif name == "key_id":
        typed = st.sampled_from(home.key_ids)
    elif name in ("institution", "principal", "viewer", "reader", "agency"):
        typed = INSTITUTIONS
    else:
        typed = TEXT
    return typed | TEXT


@st.composite
def command_lines(draw: st.DrawFn, home: Home, folder: Path) -> list[str]:
    """A command line of one of :data:`COMMANDS`."""
    words = draw(st.sampled_from(sorted(COMMANDS)))
    argv = list(words)
    for action in COMMANDS[words]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if not action.option_strings:
            if action.nargs != "?" or draw(st.booleans()):
                argv.append(draw(value_for(action, home, folder)))
        elif action.required or draw(st.booleans()):
            argv.append(action.option_strings[-1])
            if action.nargs != 0:
                argv.append(draw(value_for(action, home, folder)))
    return argv


# Hypothesis takes any use of the global random state while it draws for the strategy's: a
# kafka-python client thread an earlier command left reconnecting (its backoff has jitter)
# made the draw of an `access log` line fail once on a loaded machine. The strategy uses none.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:"
    "hypothesis.errors.HypothesisDeprecationWarning"
)
def test_no_command_line_makes_a_command_fail_as_a_defect(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"KAWAL_HOME": str(home.path), "KAWAL_BROKER_URL": "tansu://127.0.0.1:9"}
    # A relative path a command is given (a value of any text) lands in the test's folder.
    monkeypatch.chdir(tmp_path)

    @fuzz_settings(150)
    @given(argv=command_lines(home, tmp_path))
    def answered(argv: list[str]) -> None:
        done = kawal_here(env, *argv)
        said = done.stdout + done.stderr
        assert done.returncode in EXITS, (argv, done)
        assert "a defect of kawal" not in said, (argv, said[-2000:])
        assert "Traceback" not in said, (argv, said[-2000:])

    answered()
