"""``kawal keys new|init|revoke|split``: institutions' (and the hub's) key pairs and registry.

By default both kinds are made: a signing key (Ed25519), whose private half goes to
``KAWAL_HOME/keys/<institution>/`` (or ``--dir``), and an encryption key (X25519, for data
sealed to the institution), whose private half goes to its ``encryption/`` subfolder; ``--use``
makes one kind only, to rotate it. Each file is mode 0600 in folders of mode 0700, where that
institution's connectors read it, and is never overwritten. The public halves are printed as the
entries to add to the key registry (``data/keys.toml``). ``keys revoke KEY_ID`` withdraws a key
early: it writes ``revoked_at`` and the reason into the key's entry of the registry in force
(:mod:`streams.local.key_revocation`). ``keys split`` cuts the registry in force into pieces
that each fit a Kubernetes ConfigMap (:mod:`streams.local.key_split`).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from streams.cli.arguments import positive_count
from streams.cli.exits import EXIT_OK
from streams.cli.moments import MOMENT_FORMS, day_or_moment
from streams.domain.institutions import HUB_INSTITUTION, load_institutions
from streams.domain.keys import KeyUse, new_key_pair_for
from streams.local.key_revocation import KeyRevocationError, revoke_key
from streams.local.key_split import DEFAULT_MAX_BYTES, split_registry
from streams.local.keyring import (
    KeyFileError,
    ensure_local_keys,
    remove_key_leftovers,
    write_private_key,
)
from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add ``keys new``, ``keys init`` and ``keys revoke``."""
    keys = commands.add_parser(
        "keys", help="signing and encryption keys of the institutions and the hub"
    )
    actions = keys.add_subparsers(dest="keys_command", required=True)
    new = actions.add_parser(
        "new",
        help="make a signing and an encryption key pair (or one, with --use): each private key "
        "to a 0600 file, the registry entries printed",
    )
    new.add_argument("institution", help="a registered institution id, or kawal for the hub")
    new.add_argument(
        "--use",
        choices=[use.value for use in KeyUse],
        help="make only this kind of key, e.g. to rotate it (default both: signing keys sign "
        "events, encryption keys receive sealed personal data)",
    )
    new.add_argument(
        "--dir",
        type=Path,
        help="folder of every institution's private keys, not of one (default "
        "KAWAL_HOME/keys): a key goes to <institution>/ under it, an encryption key to "
        "<institution>/encryption/",
    )
    new.add_argument(
        "--valid-from",
        type=_moment,
        metavar="DATE|DATE-TIME",
        help=f"start of validity, {MOMENT_FORMS}; default now",
    )
    new.add_argument(
        "--valid-until",
        type=_moment,
        metavar="DATE|DATE-TIME",
        help="end of validity (exclusive), in the same forms; optional",
    )
    new.set_defaults(run=_new)
    init = actions.add_parser(
        "init",
        help="one-machine keys: a signing and an encryption key for the hub and every registered "
        "institution that lacks one, in KAWAL_HOME/keys, and the local registry "
        "KAWAL_HOME/keys/registry.toml (used when KAWAL_KEYS_FILE is unset; `kawal up` runs this)",
    )
    init.add_argument(
        "--json", action="store_true", help="print the result as JSON (the new keys' ids)"
    )
    init.set_defaults(run=_init)
    revoke = actions.add_parser(
        "revoke",
        help="withdraw a key that leaked: write revoked_at and the reason into its entry of the "
        "key registry in force (KAWAL_KEYS_FILE, else KAWAL_HOME/keys/registry.toml)",
    )
    revoke.add_argument("key_id", metavar="KEY_ID", help="the key's id, e.g. bkn/0123456789abcdef")
    revoke.add_argument(
        "--reason",
        required=True,
        help="why, on one line, naming no one: kept in the key's entry of the registry (public "
        "data) for the hub's operators, never told to whoever uses the key",
    )
    revoke.add_argument(
        "--at",
        type=_moment,
        metavar="DATE|DATE-TIME",
        help=f"from when, {MOMENT_FORMS}; default now, never later (what reached the hub from "
        "then on is refused)",
    )
    revoke.set_defaults(run=_revoke)
    split = actions.add_parser(
        "split",
        help="write the key registry in force (KAWAL_KEYS_FILE, else KAWAL_HOME/keys/"
        "registry.toml) as pieces keys-<n>.toml, each small enough for one Kubernetes "
        "ConfigMap; KAWAL_KEYS_FILE may name the folder holding them all",
    )
    split.add_argument("--out", type=Path, required=True, help="an empty folder for the pieces")
    split.add_argument(
        "--max-bytes",
        type=positive_count,
        default=DEFAULT_MAX_BYTES,
        help=f"largest piece, bytes (default {DEFAULT_MAX_BYTES}: a ConfigMap holds 1 MiB)",
    )
    split.set_defaults(run=_split)


def _moment(text: str) -> datetime:
    moment = day_or_moment(text)
    if moment is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not {MOMENT_FORMS}")
    return moment


def _new(args: argparse.Namespace, settings: Settings) -> int:
    _check_registered(args.institution, settings)
    valid_from = args.valid_from or datetime.now(UTC).replace(microsecond=0)
    if args.valid_until is not None and args.valid_until <= valid_from:
        raise KeyFileError("--valid-until must come after --valid-from")
    uses = [KeyUse(args.use)] if args.use else list(KeyUse)
    keys = [new_key_pair_for(use, args.institution, valid_from, args.valid_until) for use in uses]
    folder = args.dir or settings.key_dir
    remove_key_leftovers(folder)
    for key in keys:
        path = key.path_in(folder)
        write_private_key(path, key.private_pem)
        print(f"# {key.use} key: private key written to {path} (mode 0600)")
    entries = "this entry" if len(keys) == 1 else "these entries"
    print(f"# add {entries} to {_registry_in_force(settings)},")
    print("# nothing to restart: the hub's worker and sink and the connectors read it again when")
    print("# it changes (docs/operations.md, Rotate keys).")
    for use in uses:
        print(_advice(use, args.institution, valid_from))
    print("\n".join(key.registry_text() for key in keys), end="")
    return EXIT_OK


def _advice(use: KeyUse, institution: str, valid_from: datetime) -> str:
    """What a new key of ``use`` does from when, as comment lines."""
    if use is KeyUse.SIGNING:
        return (
            f"# A signing key signs events dated from {valid_from.isoformat()} on (a connector\n"
            "# takes it up from its key folder at its next batch); for events dated earlier\n"
            "# (a backlog), make it with an earlier --valid-from."
        )
    return (
        f"# Data for {institution} is sealed to this encryption key from "
        f"{valid_from.isoformat()} on;\n"
        "# keep the older private keys: what was sealed to them opens with them only."
    )


def _registry_in_force(settings: Settings) -> str:
    """Where a new key's entries go for this hub's processes to find them."""
    path = settings.key_registry_file
    if path is None:
        return (
            "a key registry of the hub's own, with KAWAL_KEYS_FILE set to it (the bundled "
            "streams/data/keys.toml is in force)"
        )
    return f"the key registry in force, {path}"


def _check_registered(institution: str, settings: Settings) -> None:
    known = {inst.id for inst in load_institutions(settings.institutions_file)} | {HUB_INSTITUTION}
    if institution not in known:
        raise KeyFileError(
            f"{institution!r} is not in the institutions registry; register it first "
            "(KAWAL_INSTITUTIONS_FILE)"
        )


def _revoke(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.key_registry_file
    if path is None:
        raise KeyRevocationError(
            "the key registry in force is the bundled streams/data/keys.toml, which is not this "
            "hub's to change; set KAWAL_KEYS_FILE to the hub's registry (or run `kawal keys "
            "init` for a one-machine registry in KAWAL_HOME/keys)"
        )
    # To the microsecond: a whole second rounded down would date the revocation before
    # entries the hub recorded earlier in that second, and condemn them.
    at = args.at or datetime.now(UTC)
    done = revoke_key(path, args.key_id, args.reason, at)
    entry = done.entry
    print(f"key {entry.id} revoked from {at.isoformat()} in {done.registry}")
    if not done.successors:
        print(
            f"warning: {entry.institution} has no other {entry.use} key valid now; make one "
            f"with `kawal keys new {entry.institution} --use {entry.use}` and register it, or "
            f"nothing can be {'signed by' if entry.use is KeyUse.SIGNING else 'sealed to'} "
            f"{entry.institution} from now on"
        )
    elif done.gap_until is not None:
        print(
            f"warning: no {entry.use} key of {entry.institution} is valid from "
            f"{at.isoformat()} until {done.gap_until.isoformat()}, when its other key's "
            f"validity begins: an event dated between the two is refused. To send one, make a "
            f"key with `kawal keys new {entry.institution} --use {entry.use} --valid-from "
            f"{at.isoformat()}` and register it"
        )
    print(
        "next: nothing to restart here: the hub's workers and sink read this registry again "
        "within seconds (at their next batch, every 2 s at rest) and the connectors before "
        "their next pass; institutions that keep a copy of the registry need the new file in "
        "its place, and on Kubernetes its ConfigMaps are replaced (docs/operations.md, Rotate "
        "keys). `kawal audit verify` and `kawal case trail` read it anew on each run"
    )
    return EXIT_OK


def _split(args: argparse.Namespace, settings: Settings) -> int:
    pieces = split_registry(settings.key_registry_file, args.out, args.max_bytes)
    for piece in pieces:
        print(f"{piece.path}: {piece.keys} keys, {piece.size} bytes")
    print(
        f"next: one ConfigMap per piece (kubectl -n kawal create configmap "
        f"kawal-key-registry-<n> --from-file={args.out}/keys-<n>.toml), mounted together into "
        "the folder KAWAL_KEYS_FILE names; delete the ConfigMaps of pieces beyond "
        f"{len(pieces)}, then restart every process that reads the registry"
    )
    return EXIT_OK


def _init(args: argparse.Namespace, settings: Settings) -> int:
    made = ensure_local_keys(settings)
    registry = settings.local_key_registry
    if args.json:
        print(json.dumps({"registry": str(registry), "new_keys": made}))
    else:
        print(f"{len(made)} new key(s); local key registry: {registry}")
    return EXIT_OK
