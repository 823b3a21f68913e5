"""``kawal retention``: when each case's personal data is due to be erased, and by which rule.

Reads the audit store and the retention rules in force (``KAWAL_RETENTION_FILE``, else
``streams/data/retention.toml``): for each case, when it was reported and closed, and either
when the worker's retention timer will erase its personal data and by which rule, that no rule
applies yet (a case not closed, under the bundled rule), or when it was erased. ``kawal erase``
erases a case before its time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import closing
from dataclasses import replace
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.retention_due import RetentionStatus, retention_statuses
from streams.cli.arguments import case_uuid
from streams.cli.exits import EXIT_OK
from streams.cli.output import reporting_errors, unknown_case
from streams.cli.tokens import existing_store
from streams.cli.vault_calls import vault_or_why
from streams.domain.retention import RetentionRule, load_retention_rules
from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add ``retention``."""
    retention = commands.add_parser(
        "retention",
        help="when each case's personal data is due to be erased, by which retention rule",
    )
    retention.add_argument("case_id", nargs="?", type=case_uuid, help="only this case")
    retention.add_argument("--json", action="store_true", help="machine-readable output")
    retention.set_defaults(run=_retention)


def _retention(args: argparse.Namespace, settings: Settings) -> int:
    def show() -> int:
        rules = load_retention_rules(settings.retention_file)
        store = existing_store(settings)
        try:
            wanted = None if args.case_id is None else {args.case_id}
            statuses = retention_statuses(store, AvroCodec(default_catalog()), rules, wanted)
        finally:
            store.close()
        if args.case_id is not None and not statuses:
            return unknown_case(args.case_id, settings, as_json=args.json)
        _print(_with_unfinished_erasures(statuses, settings), rules, args.json)
        return EXIT_OK

    return reporting_errors(show, as_json=args.json)


def _with_unfinished_erasures(
    statuses: list[RetentionStatus], settings: Settings
) -> list[RetentionStatus]:
    """``statuses``, with each case the vault destroyed the data key of, unrecorded, marked.

    An erasure stopped before its event was published shows nowhere else. When the vault
    cannot be read, that is said on stderr and nothing is marked.
    """
    vault, why = vault_or_why(settings)
    if vault is None:
        print(f"kawal: unfinished erasures not looked for: {why}", file=sys.stderr)
        return statuses
    waiting = [status.case_id for status in statuses if status.erased_at is None]
    with closing(vault):
        destroyed = vault.ask(lambda keys: keys.tombstones(waiting))
    return [
        replace(status, key_destroyed_at=destroyed[status.case_id].erased_at)
        if status.case_id in destroyed
        else status
        for status in statuses
    ]


def _print(statuses: list[RetentionStatus], rules: Sequence[RetentionRule], as_json: bool) -> None:
    if as_json:
        print(json.dumps([status.as_json() for status in statuses], indent=2))
        return
    for status in statuses:
        closed = "not closed" if status.closed_at is None else f"closed {status.closed_at.date()}"
        print(f"{status.case_id}  {closed:<17} {status.describe(rules)}")
    if not statuses:
        print("no case in the audit store")
