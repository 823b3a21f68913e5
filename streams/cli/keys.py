"""``kawal keys new INSTITUTION``: a signing key pair for an institution (or the hub).

The private key goes to ``KAWAL_HOME/keys/<institution>/`` (or ``--dir``), mode 0600 in a
folder of mode 0700, where that institution's connectors read it; it is never overwritten.
The public half is printed as the entry to add to the key registry (``data/keys.toml``).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.cli.exits import EXIT_OK
from streams.cli.moments import aware_moment
from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.keys import new_key_pair
from streams.local.keyring import KeyFileError, ensure_local_keys, write_private_key
from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add ``keys new``."""
    keys = commands.add_parser("keys", help="signing keys of the institutions and the hub")
    actions = keys.add_subparsers(dest="keys_command", required=True)
    new = actions.add_parser(
        "new", help="make a key pair: private key to a 0600 file, registry entry printed"
    )
    new.add_argument("institution", help="a registered institution id, or kawal for the hub")
    new.add_argument("--dir", type=Path, help="folder of the private key (default KAWAL_HOME/keys)")
    new.add_argument(
        "--valid-from", type=_moment, help="start of validity, ISO 8601 with offset (default now)"
    )
    new.add_argument("--valid-until", type=_moment, help="end of validity (exclusive), optional")
    new.set_defaults(run=_new)
    init = actions.add_parser(
        "init",
        help="one-machine keys: a key for the hub and every registered institution that has "
        "none, in KAWAL_HOME/keys, and the local registry KAWAL_HOME/keys/registry.toml "
        "(used when KAWAL_KEYS_FILE is unset; `kawal up` runs this)",
    )
    init.add_argument("--json", action="store_true", help="print the result as JSON")
    init.set_defaults(run=_init)


def _moment(text: str) -> datetime:
    moment = aware_moment(text)
    if moment is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date-time with its offset, such as 2026-12-04T00:00:00+07:00"
        )
    return moment


def _new(args: argparse.Namespace, settings: Settings) -> int:
    known = {inst.id for inst in load_institutions(settings.institutions_file)} | {HUB_INSTITUTION}
    if args.institution not in known:
        raise KeyFileError(
            f"{args.institution!r} is not in the institutions registry; register it first "
            "(KAWAL_INSTITUTIONS_FILE)"
        )
    valid_from = args.valid_from or datetime.now(UTC).replace(microsecond=0)
    if args.valid_until is not None and args.valid_until <= valid_from:
        raise KeyFileError("--valid-until must come after --valid-from")
    key = new_key_pair(args.institution, valid_from, args.valid_until)
    folder = (args.dir or settings.key_dir) / args.institution
    path = folder / f"{key.key_id.split('/')[1]}.pem"
    write_private_key(path, key.private_pem)
    print(f"# private key written to {path} (mode 0600); add this entry to the key registry:")
    print(key.registry_text(), end="")
    return EXIT_OK


def _init(args: argparse.Namespace, settings: Settings) -> int:
    made = ensure_local_keys(settings)
    registry = settings.local_key_registry
    if args.json:
        print(json.dumps({"registry": str(registry), "new_keys": made}))
    else:
        print(f"{len(made)} new key(s); local key registry: {registry}")
    return EXIT_OK
