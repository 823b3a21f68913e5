"""``kawal deadline due``: when a clock runs out, and every day skipped and why.

Legal staff check the hub with it: the due instant it prints is the one the hub stores in
the clock (midnight Jakarta after the last working day, in UTC).
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from schemas.field_formats import calendar_day, is_number
from streams.cli.exits import EXIT_OK, EXIT_PROVISIONAL
from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add ``deadline due``."""
    deadline = commands.add_parser("deadline", help="check deadlines on the working-day calendar")
    deadline_commands = deadline.add_subparsers(dest="deadline_command", required=True)
    due = deadline_commands.add_parser(
        "due",
        help="due date of a clock started on a day, with every day skipped and why "
        f"(exit {EXIT_PROVISIONAL} if provisional)",
    )
    due.add_argument("--start", required=True, type=_day, help="day the clock starts, YYYY-MM-DD")
    due.add_argument(
        "--days", required=True, type=_working_days, help="working days the clock runs"
    )
    due.add_argument("--json", action="store_true", help="machine-readable output")
    due.set_defaults(run=_deadline_due)


def _day(text: str) -> date:
    day = calendar_day(text)
    if day is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-12-21")
    return day


def _working_days(text: str) -> int:
    from streams.domain.calendar import MAX_WORKING_DAYS

    if not is_number(text) or not 0 < int(text) <= MAX_WORKING_DAYS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number of working days from 1 to {MAX_WORKING_DAYS}"
        )
    return int(text)


def _deadline_due(args: argparse.Namespace, settings: Settings) -> int:
    from streams.domain.calendar import load_calendar
    from streams.domain.deadlines import explain_due

    view = explain_due(load_calendar(settings.calendar_file), args.start, args.days)
    if args.json:
        print(json.dumps(view, indent=2))
    else:
        _print_due(view)
    return EXIT_PROVISIONAL if view["provisional"] else EXIT_OK


def _print_due(view: dict[str, Any]) -> None:
    start, last = date.fromisoformat(view["start"]), date.fromisoformat(view["last_working_day"])
    print(f"clock started {start} ({start:%A}), {view['working_days']} working days")
    print(f"last working day {last} ({last:%A})")
    print(f"due at {view['due_at']} (UTC, as the hub stores it in the clock)")
    print(f"     = {view['due_at_jakarta']}, midnight Jakarta after the last working day")
    print(f"skipped {len(view['skipped'])} days:")
    for day in view["skipped"]:
        print(f"  {day['date']} {day['weekday'][:3]}  {_skipped_reason(day)}")
    for day in view["counted_as_working"]:
        print(f"counted as a working day: {day['date']} {day['name']}  [override: {day['source']}]")
    print("calendar:")
    for year, coverage in view["calendar"].items():
        print(f"  {year}: {coverage}")
    if view["provisional"]:
        years = ", ".join(str(year) for year in view["provisional_years"])
        print(
            f"PROVISIONAL: no holiday data for {years}; counted on weekends only, so the real "
            "due date may be later. Add that year's joint decree to the calendar overrides "
            "(KAWAL_CALENDAR_FILE) or upgrade the holidays package."
        )


def _skipped_reason(day: dict[str, Any]) -> str:
    if day["kind"] == "weekend":
        return "weekend"
    label = {"cuti_bersama": "cuti bersama", "override": "override"}.get(day["kind"], "holiday")
    return f"{label:<12}  {day['name']}  [{day['source']}]"
