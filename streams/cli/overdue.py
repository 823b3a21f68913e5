"""``kawal case overdue``: the clocks of open cases that have run out, for ops.

The rows are those of :mod:`streams.domain.overdue_cases`, from each case's lifecycle read
back from the audit store (:mod:`streams.audit.lifecycles`): case id, rule, due instant, how
late and the institution that answers for the clock. No personal data: what an operator may
see (DESIGN.md, trust model).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Collection
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from streams.cli.exits import EXIT_OK, EXIT_USAGE
from streams.domain.overdue_cases import OverdueClock
from streams.settings import Settings


def add_parser(case_commands: Any) -> None:
    """Add ``case overdue`` to the ``case`` commands."""
    overdue = case_commands.add_parser(
        "overdue",
        help="clocks of open cases that have run out: case, rule, due, how late, who answers "
        f"for it (no personal data; exit {EXIT_USAGE} for an unknown --institution)",
    )
    overdue.add_argument(
        "--institution",
        metavar="ID",
        help="only the clocks this institution answers for, e.g. ppk.3374",
    )
    overdue.add_argument("--json", action="store_true", help="machine-readable output")
    overdue.set_defaults(run=_case_overdue)


def _case_overdue(args: argparse.Namespace, settings: Settings) -> int:
    from streams.cli.output import reporting_errors

    return reporting_errors(lambda: _listed(args, settings), as_json=args.json)


def _listed(args: argparse.Namespace, settings: Settings) -> int:
    from streams.domain.institutions import load_institutions

    known = {found.id for found in load_institutions(settings.institutions_file)}
    if args.institution is not None and args.institution not in known:
        return unknown_institution(args.institution, as_json=args.json)
    now = datetime.now(UTC)
    found, left_out = overdue_rows(settings, now, known)
    rows = [
        row
        for row in found
        if args.institution is None or row.responsible_institution == args.institution
    ]
    if left_out:
        print(
            f"kawal: {len(left_out)} cases left out, their stored trail does not read back: "
            "run `kawal audit verify`",
            file=sys.stderr,
        )
    if args.json:
        listed = [_json(row) for row in rows]
        print(
            json.dumps(
                {"generated_at": now.isoformat(), "overdue": listed, "cases_left_out": left_out}
            )
        )
    else:
        _print(rows)
    return EXIT_OK


def overdue_rows(
    settings: Settings, now: datetime, registered: Collection[str]
) -> tuple[list[OverdueClock], list[str]]:
    """The overdue clocks of the configured audit store's open cases at ``now``.

    ``registered``: the ids of the registered institutions, of which the Bawaslu offices
    answer for the reports they must register (:func:`streams.domain.parties.supervisor_of`).

    Returns:
        The clocks, and the ids of the cases left out: their stored trail does not read back.

    Raises:
        StoreError: no audit store at the configured URL, or it cannot be read.
        DeadlineRulesError, CalendarError, AuthorityMapError: a data file needs fixing.
    """
    from schemas.catalog import default_catalog
    from schemas.codec import AvroCodec
    from streams.audit.lifecycles import LifecycleReader
    from streams.audit.store import AuditStore
    from streams.domain.authority import load_authority_map
    from streams.domain.calendar import load_calendar
    from streams.domain.deadlines import load_rules
    from streams.domain.overdue_cases import overdue_clocks

    rules = load_rules(settings.deadlines_file)
    calendar = load_calendar(settings.calendar_file)
    reader = LifecycleReader(
        AvroCodec(default_catalog()),
        load_authority_map(settings.authority_file),
        rules,
        calendar,
        registered,
    )
    with AuditStore.open_existing(settings.audit_url) as store:
        rows = overdue_clocks(reader.lifecycles(store.entries()), rules, calendar, now)
    return rows, reader.unreadable


def unknown_institution(institution: str, *, as_json: bool) -> int:
    """Say that ``--institution`` names no registered institution; the usage error's code."""
    message = (
        f"--institution: {institution!r} is not a registered institution (KAWAL_INSTITUTIONS_FILE);"
        " give its id as the registry spells it, e.g. ppk.3374 or bawaslu.33"
    )
    if as_json:
        print(json.dumps({"error": message}))
    print(f"kawal: {message}", file=sys.stderr)
    return EXIT_USAGE


def _json(row: OverdueClock) -> dict[str, Any]:
    return asdict(row) | {"due_at": row.due_at.isoformat()}


def _print(rows: list[OverdueClock]) -> None:
    for row in rows:
        late = (
            f"{row.late_working_days} working days"
            if row.late_working_days
            else f"{row.late_hours} hours"
        )
        breach = "breach recorded" if row.breach_recorded else "breach not yet recorded"
        print(
            f"{row.case_id}  {row.rule_id:<28} due {row.due_at.isoformat()}  late {late:<18} "
            f"{row.responsible_institution or '(rule no longer configured)'}  {breach}"
        )
    if not rows:
        print("no overdue clocks")
