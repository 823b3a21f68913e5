"""The ``kawal`` command line.

Exit codes: 0 success, 1 error (the message says what to do), 2 usage error, 3 unknown case,
4 a trail that does not verify, 5 an institution not entitled to the view it asked for,
6 a deadline counted through a year without holiday data (its due date is provisional).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.errors import KawalError
from streams.settings import Settings

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_UNKNOWN_CASE = 3
EXIT_UNVERIFIED = 4
EXIT_NOT_ENTITLED = 5
EXIT_PROVISIONAL = 6


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="kawal", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="run the whole hub on this machine (embedded broker)")
    up.add_argument("--demo", action="store_true", help="feed a few realistic demo cases")
    up.add_argument(
        "--ephemeral", action="store_true", help="keep broker data in memory (lost on stop)"
    )
    commands.add_parser("worker", help="run one stream-processing worker (KAWAL_BROKER_URL)")
    commands.add_parser(
        "sink", help="run the audit sink: kawal.case.audit into the audit store (KAWAL_BROKER_URL)"
    )
    commands.add_parser("demo", help="publish the demo cases to a running hub")

    case = commands.add_parser("case", help="read cases from the audit store")
    case_commands = case.add_subparsers(dest="case_command", required=True)
    trail = case_commands.add_parser("trail", help="a case's verified trail")
    trail.add_argument("case_id")
    trail.add_argument(
        "--as",
        dest="viewer",
        metavar="INSTITUTION",
        help="the view this institution is entitled to",
    )
    trail.add_argument("--json", action="store_true", help="machine-readable output")
    listing = case_commands.add_parser("list", help="every case in the audit store")
    listing.add_argument("--json", action="store_true", help="machine-readable output")

    replay = commands.add_parser(
        "replay", help="rebuild the audit store from kawal.case.audit (adds only what is missing)"
    )
    replay.add_argument("--json", action="store_true", help="machine-readable summary")

    audit = commands.add_parser("audit", help="check the audit store")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="re-verify every chain (exit 4 naming the case and first bad seq)"
    )
    verify.add_argument("case_id", nargs="?", help="only this case")
    verify.add_argument("--json", action="store_true", help="machine-readable output")

    from connectors.commands import add_parsers

    add_parsers(commands)

    _add_deadline_parser(commands)

    stats = commands.add_parser("stats", help="public case counts (no personal data)")
    stats.add_argument("--json", action="store_true", help="machine-readable output")

    schema = commands.add_parser("schema", help="the shared Avro schemas")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    schema_check = schema_commands.add_parser(
        "check", help="gate: current schemas compatible with every release (exit 1 if not)"
    )
    schema_check.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _add_deadline_parser(commands: Any) -> None:
    deadline = commands.add_parser("deadline", help="check deadlines on the working-day calendar")
    deadline_commands = deadline.add_subparsers(dest="deadline_command", required=True)
    due = deadline_commands.add_parser(
        "due",
        help="due date of a clock started on a day, with every day skipped and why "
        "(exit 6 if provisional)",
    )
    due.add_argument("--start", required=True, type=_day, help="day the clock starts, YYYY-MM-DD")
    due.add_argument(
        "--days", required=True, type=_working_days, help="working days the clock runs"
    )
    due.add_argument("--json", action="store_true", help="machine-readable output")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-12-21") from None


def _working_days(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days, 1 or more")
    return int(text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``kawal``."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args, Settings())
    except KawalError as exc:
        print(f"kawal: {exc}", file=sys.stderr)
        return EXIT_ERROR


def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "up":
        from streams.supervisor import run_up

        return run_up(settings, demo=args.demo, ephemeral=args.ephemeral)
    if args.command in ("worker", "sink"):
        from streams.hub import Role
        from streams.worker import run_worker

        return run_worker(settings, Role(args.command))
    if args.command == "demo":
        from streams.supervisor import publish_demo

        broker_url = _broker_url(settings)
        web_url = f"http://{settings.web_host}:{settings.web_port}"
        print("\n".join(publish_demo(broker_url, web_url)))
        return EXIT_OK
    if args.command in ("connector", "dlq"):
        from connectors.commands import run_command

        return run_command(args, settings, _broker_url(settings))
    if args.command == "stats":
        from streams.stats import run_stats

        return run_stats(settings, as_json=args.json)
    if args.command == "schema":
        from schemas.gate import run_check

        return run_check(as_json=args.json)
    if args.command == "replay":
        return _replay(settings, as_json=args.json)
    if args.command == "deadline":
        return _deadline_due(settings, args.start, args.days, as_json=args.json)
    if args.command == "audit":
        return _audit_verify(settings, args.case_id, as_json=args.json)
    if args.case_command == "trail":
        return _case_trail(settings, args.case_id, args.viewer, as_json=args.json)
    return _case_list(settings, as_json=args.json)


def _store(settings: Settings) -> Any:
    from streams.store import AuditStore

    store = AuditStore(settings.audit_url)
    store.create_schema()
    return store


def _case_trail(settings: Settings, case_id: str, viewer: str | None, *, as_json: bool) -> int:
    from streams.trail import NotEntitledError, trail_view

    catalog = default_catalog()
    try:
        view = trail_view(
            _store(settings), AvroCodec(catalog), catalog, case_id, viewer, _directory(settings)
        )
    except NotEntitledError as exc:
        print(f"kawal: {exc}", file=sys.stderr)
        return EXIT_NOT_ENTITLED
    if view is None:
        print(
            f"kawal: no case {case_id} in the audit store at {settings.audit_url}", file=sys.stderr
        )
        return EXIT_UNKNOWN_CASE
    if as_json:
        print(json.dumps(view, indent=2))
    else:
        _print_trail(view)
    return EXIT_OK if view["verified"] else EXIT_UNVERIFIED


def _directory(settings: Settings) -> Any:
    from streams.authority import load_authority_map
    from streams.institutions import load_institutions
    from streams.trail import Directory

    return Directory(
        load_institutions(settings.institutions_file), load_authority_map(settings.authority_file)
    )


def _print_trail(view: dict[str, Any]) -> None:
    print(f"case {view['case_id']} ({view['view']} view)")
    for entry in view["entries"]:
        envelope = entry.get("envelope", {})
        print(
            f"  {entry['seq']:>3}  {envelope.get('event_time', '?'):<25}  "
            f"{entry['event_type']:<22} {envelope.get('source', '?'):<18} {entry['hash'][:16]}"
        )
    if view["verified"]:
        print(f"chain verified: {len(view['entries'])} entries")
    else:
        print(f"CHAIN BROKEN at seq {view['first_bad_seq']}: {view['problem']}")


def _case_list(settings: Settings, *, as_json: bool) -> int:
    from streams.trail import cases_view

    cases = cases_view(_store(settings))
    if as_json:
        print(json.dumps(cases, indent=2))
        return EXIT_OK
    for case in cases:
        print(f"{case['case_id']}  {case['entries']:>3} entries  last {case['last_event_type']}")
    if not cases:
        print("no cases yet")
    return EXIT_OK


def _broker_url(settings: Settings) -> str:
    """The configured broker, or the one `kawal up` runs on this machine."""
    return settings.broker_url or f"tansu://127.0.0.1:{settings.embedded_broker_port}"


def _replay(settings: Settings, *, as_json: bool) -> int:
    from streams.broker import parse_broker_url
    from streams.replay import replay

    bootstrap = list(parse_broker_url(_broker_url(settings)).bootstrap)
    result = replay(bootstrap, _store(settings), AvroCodec(default_catalog()), progress=not as_json)
    if as_json:
        print(json.dumps(vars(result) | {"per_second": round(result.per_second)}))
    else:
        print(
            f"read {result.read} entries, stored {result.inserted} new, skipped "
            f"{result.undecodable} undecodable, {result.per_second:,.0f} entries/s"
        )
    return EXIT_OK


def _audit_verify(settings: Settings, case_id: str | None, *, as_json: bool) -> int:
    from streams.audit_verify import verify_store

    report = verify_store(_store(settings), case_id)
    if case_id is not None and report.cases == 0:
        print(
            f"kawal: no case {case_id} in the audit store at {settings.audit_url}", file=sys.stderr
        )
        return EXIT_UNKNOWN_CASE
    if as_json:
        findings = [vars(finding) for finding in report.findings]
        print(json.dumps({"cases": report.cases, "entries": report.entries, "findings": findings}))
    else:
        for finding in report.findings:
            print(f"{finding.case_id}: first bad seq {finding.seq}: {finding.reason}")
        verdict = "verified" if report.ok else f"{len(report.findings)} broken of"
        print(f"{verdict} {report.cases} cases, {report.entries} entries")
    return EXIT_OK if report.ok else EXIT_UNVERIFIED


def _deadline_due(settings: Settings, start: date, days: int, *, as_json: bool) -> int:
    from streams.calendar import load_calendar
    from streams.deadlines import explain_due

    view = explain_due(load_calendar(settings.calendar_file), start, days)
    if as_json:
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


if __name__ == "__main__":
    sys.exit(main())
