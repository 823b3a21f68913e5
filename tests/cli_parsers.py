"""The ``kawal`` command line's parsers, walked as a user's ``--help`` reaches them, and the
settings its commands take."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from streams.cli import build_parser
from streams.local import demo_portal
from streams.settings import Settings

Words = tuple[str, ...]


def every_parser(
    parser: argparse.ArgumentParser | None = None, path: Words = ()
) -> Iterator[tuple[Words, argparse.ArgumentParser]]:
    """``parser`` (default ``kawal``'s) and every subcommand parser under it, with its words."""
    parser = build_parser() if parser is None else parser
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from every_parser(sub, (*path, name))


def leaf_commands() -> Iterator[tuple[Words, argparse.ArgumentParser]]:
    """Every runnable ``kawal`` command (its words after ``kawal``) and its parser."""
    for path, parser in every_parser():
        if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
            yield path, parser


def port_settings() -> set[str]:
    """Every setting naming a port ``kawal up --demo --monitoring`` listens on."""
    ports = {f"KAWAL_{name.upper()}" for name in Settings.model_fields if name.endswith("_port")}
    return ports | {demo_portal.PORT_SETTING}  # read by the demo portal, not a Settings field
