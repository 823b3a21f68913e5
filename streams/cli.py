"""The ``kawal`` command line.

Exit codes: 0 success, 1 error (the message says what to do), 2 usage error, 3 unknown case,
4 a trail that does not verify, 5 an institution not entitled to the view it asked for,
6 `topics apply --dry-run` found topics to create or configuration to change.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
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

    from streams.topics_command import add_parser as add_topics_parser

    add_topics_parser(commands)

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

    stats = commands.add_parser("stats", help="public case counts (no personal data)")
    stats.add_argument("--json", action="store_true", help="machine-readable output")

    schema = commands.add_parser("schema", help="the shared Avro schemas")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    schema_check = schema_commands.add_parser(
        "check", help="gate: current schemas compatible with every release (exit 1 if not)"
    )
    schema_check.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


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
    if args.command == "topics":
        from streams.topics_command import run_topics_apply

        return run_topics_apply(
            settings, _broker_url(settings), dry_run=args.dry_run, as_json=args.json, wait=args.wait
        )
    if args.command == "stats":
        from streams.stats import run_stats

        return run_stats(settings, as_json=args.json)
    if args.command == "schema":
        from schemas.gate import run_check

        return run_check(as_json=args.json)
    if args.command == "replay":
        return _replay(settings, as_json=args.json)
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


if __name__ == "__main__":
    sys.exit(main())
