"""``kawal registry build``: the national institutions registry, from lists of regions and agencies.

Set ``KAWAL_INSTITUTIONS_FILE`` to the file it writes, then run ``kawal topics apply`` (or
``kawal up``) to create the topics of the institutions it adds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from streams.cli.exits import EXIT_OK
from streams.domain.national_registry import (
    national_registry,
    read_agencies,
    read_regions,
    registry_toml,
)
from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add ``registry build``."""
    registry = commands.add_parser("registry", help="the institutions registry")
    actions = registry.add_subparsers(dest="registry_command", required=True)
    build = actions.add_parser(
        "build",
        help="write the national registry built from a CSV of regions (code,name: Kemendagri "
        "codes) and one of central agencies (key,name)",
    )
    build.add_argument("--regions", type=Path, required=True, help="CSV file: code,name")
    build.add_argument("--agencies", type=Path, help="CSV file: key,name (central agencies)")
    build.add_argument("--out", type=Path, help="file to write (default: standard output)")
    build.set_defaults(run=_build)


def _build(args: argparse.Namespace, _settings: Settings) -> int:
    # A file that cannot be read raises a KawalError, which `kawal` prints with its exit code.
    regions = read_regions(args.regions)
    agencies = read_agencies(args.agencies) if args.agencies else []
    institutions = national_registry(regions, agencies)
    sources = " and ".join(path.name for path in (args.regions, args.agencies) if path)
    text = registry_toml(institutions, sources)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    print(f"# {len(institutions)} institutions", file=sys.stderr)
    return EXIT_OK
