"""``kawal kek new|rewrap|list``: the key-encryption keys that wrap the cases' data keys.

Rotation: ``kawal kek new`` (the new KEK wraps every data key made from then on, once the hub's
processes are restarted), then ``kawal kek rewrap`` (every existing data key is wrapped under
it), then remove the old KEK once ``kawal kek list`` shows it wraps no data key. No command
ever prints key material: ids only.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from streams.cli.exits import EXIT_ERROR, EXIT_OK
from streams.cli.output import reporting_errors
from streams.cli.vault_calls import NOTHING_CHANGED, open_command_vault
from streams.settings import Settings
from streams.vault.database import VaultError
from streams.vault.kek import KekRing
from streams.vault.kek_source import add_kek, kek_source, load_kek_ring


def add_parsers(commands: Any) -> None:
    """Add ``kek new``, ``kek rewrap`` and ``kek list``."""
    kek = commands.add_parser(
        "kek", help="key-encryption keys (KAWAL_KEK or KAWAL_KEK_FILE) of the data-key vault"
    )
    actions = kek.add_subparsers(dest="kek_command", required=True)
    new = actions.add_parser(
        "new",
        help="append a fresh KEK to the KEK file; it wraps new data keys from the next start "
        "of each hub process (prints its id only)",
    )
    new.set_defaults(run=_new)
    rewrap = actions.add_parser(
        "rewrap", help="wrap every data key under the current KEK (prints how many moved)"
    )
    rewrap.set_defaults(run=_rewrap)
    listing = actions.add_parser(
        "list", help="the KEK ids, which one is current, and how many data keys each wraps"
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=_list)


def _new(_args: argparse.Namespace, settings: Settings) -> int:
    kek_id = add_kek(settings)
    print(kek_id)
    print(
        f"# added to {settings.effective_kek_file} (mode 0600) as the current KEK; the hub's "
        "processes wrap new data keys under it from their next one, with no restart; then "
        "run `kawal kek rewrap`",
        file=sys.stderr,
    )
    return EXIT_OK


def _rewrap(_args: argparse.Namespace, settings: Settings) -> int:
    ring = load_kek_ring(settings)
    cut_off = (
        "the data keys of the transactions the vault committed are wrapped under the current "
        "KEK, and the one it did not answer is rolled back; once the vault answers again "
        "(docs/operations.md#kawalvaultunavailable), run `kawal kek rewrap` again: it goes on "
        "where it stopped"
    )
    with open_command_vault(settings.effective_vault_url, ring, cut_off) as vault:
        moved = vault.ask(lambda keys: keys.rewrap())
    print(moved)
    print(
        f"# every data key is wrapped under {ring.current_id}; a KEK that `kawal kek list` "
        "shows wrapping no data key may now be removed",
        file=sys.stderr,
    )
    return EXIT_OK


def _list(args: argparse.Namespace, settings: Settings) -> int:
    return reporting_errors(lambda: _show(settings, as_json=args.json), as_json=args.json)


def _show(settings: Settings, *, as_json: bool) -> int:
    ring = load_kek_ring(settings)
    counts = _counts(settings, ring)
    rows = [
        {
            "id": kek_id,
            "current": kek_id == ring.current_id,
            "in_ring": kek_id in ring.ids,
            "data_keys": None if counts is None else counts.get(kek_id, 0),
        }
        # KEKs no longer in the ring that still wrap data keys are shown too: those keys are
        # unreadable until the KEK is put back.
        for kek_id in [*ring.ids, *sorted(set(counts or {}) - set(ring.ids))]
    ]
    if as_json:
        print(json.dumps({"source": kek_source(settings), "keks": rows}))
    else:
        print(f"# KEKs from {kek_source(settings)}, oldest first")
        for row in rows:
            print(_line(row))
    lost = [row for row in rows if not row["in_ring"]]
    for row in lost:
        print(
            f"kawal: KEK {row['id']} wraps {row['data_keys']} data keys and is not in the "
            f"ring: their cases' personal values cannot be read until it is put back in "
            f"{kek_source(settings)} (from its backup)",
            file=sys.stderr,
        )
    # Without the counts nobody can tell which KEK may leave the ring, and a KEK missing
    # leaves values unreadable: neither is a success a script may take for one.
    return EXIT_ERROR if counts is None or lost else EXIT_OK


def _counts(settings: Settings, ring: KekRing) -> dict[str, int] | None:
    """Live data keys per KEK id, or None (said on stderr) when the vault cannot be read."""
    try:
        with open_command_vault(settings.effective_vault_url, ring, NOTHING_CHANGED) as vault:
            return vault.ask(lambda keys: keys.keys_per_kek())
    except VaultError as exc:
        print(f"kawal: data keys not counted: {exc}", file=sys.stderr)
        return None


def _line(row: dict[str, Any]) -> str:
    count = "?" if row["data_keys"] is None else row["data_keys"]
    marks = []
    if row["current"]:
        marks.append("current")
    if not row["in_ring"]:
        marks.append("NOT IN THE RING: put it back, its data keys do not unwrap")
    suffix = f"  ({'; '.join(marks)})" if marks else ""
    return f"{row['id']}  {count} data keys{suffix}"
