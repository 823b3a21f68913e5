"""``kawal schema check``: the compatibility gate of the shared Avro schemas."""

from __future__ import annotations

import argparse
from typing import Any

from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add ``schema check``."""
    schema = commands.add_parser("schema", help="the shared Avro schemas")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    check = schema_commands.add_parser(
        "check", help="gate: current schemas compatible with every release (exit 1 if not)"
    )
    check.add_argument("--json", action="store_true", help="machine-readable output")
    check.set_defaults(run=_check)


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from schemas.gate import run_check

    return run_check(as_json=args.json)
