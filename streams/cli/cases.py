"""``kawal case``, ``audit verify``, ``replay`` and ``stats``: the audit store and its readers.

The readers (``case list``, ``case trail``, ``audit verify``, ``stats``) open an existing store
and never create one: a wrong URL is an error that names it, not an empty database.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.store import AuditStore
from streams.cli.exits import EXIT_NOT_ENTITLED, EXIT_OK, EXIT_UNKNOWN_CASE, EXIT_UNVERIFIED
from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add the commands that read or rebuild the audit store."""
    case = commands.add_parser("case", help="read cases from the audit store")
    case_commands = case.add_subparsers(dest="case_command", required=True)
    trail = case_commands.add_parser(
        "trail", help="a case's verified trail (exit 3 unknown, 4 broken, 5 not entitled)"
    )
    trail.add_argument("case_id")
    trail.add_argument(
        "--as",
        dest="viewer",
        metavar="INSTITUTION",
        help="the view this institution is entitled to",
    )
    trail.add_argument("--json", action="store_true", help="machine-readable output")
    trail.set_defaults(run=_case_trail)
    listing = case_commands.add_parser("list", help="every case in the audit store")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=_case_list)

    replay = commands.add_parser(
        "replay", help="rebuild the audit store from kawal.case.audit (adds only what is missing)"
    )
    replay.add_argument("--json", action="store_true", help="machine-readable summary")
    replay.set_defaults(run=_replay)

    audit = commands.add_parser("audit", help="check the audit store")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="re-verify every chain (exit 4 naming the case and first bad seq)"
    )
    verify.add_argument("case_id", nargs="?", help="only this case")
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(run=_audit_verify)

    stats = commands.add_parser("stats", help="public case counts (no personal data)")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.set_defaults(run=_stats)


def _case_trail(args: argparse.Namespace, settings: Settings) -> int:
    from streams.audit.trail import NotEntitledError, trail_view

    catalog = default_catalog()
    store = AuditStore.open_existing(settings.audit_url)
    try:
        view = trail_view(
            store, AvroCodec(catalog), catalog, args.case_id, args.viewer, _directory(settings)
        )
    except NotEntitledError as exc:
        print(f"kawal: {exc}", file=sys.stderr)
        return EXIT_NOT_ENTITLED
    if view is None:
        return _unknown_case(args.case_id, settings)
    if args.json:
        print(json.dumps(view, indent=2))
    else:
        _print_trail(view)
    return EXIT_OK if view["verified"] else EXIT_UNVERIFIED


def _unknown_case(case_id: str, settings: Settings) -> int:
    print(f"kawal: no case {case_id} in the audit store at {settings.audit_url}", file=sys.stderr)
    return EXIT_UNKNOWN_CASE


def _directory(settings: Settings) -> Any:
    from streams.audit.trail import Directory
    from streams.domain.authority import load_authority_map
    from streams.domain.institutions import load_institutions

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


def _case_list(args: argparse.Namespace, settings: Settings) -> int:
    from streams.audit.trail import cases_view

    cases = cases_view(AuditStore.open_existing(settings.audit_url))
    if args.json:
        print(json.dumps(cases, indent=2))
        return EXIT_OK
    for case in cases:
        print(f"{case['case_id']}  {case['entries']:>3} entries  last {case['last_event_type']}")
    if not cases:
        print("no cases yet")
    return EXIT_OK


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from streams.app import create_store
    from streams.audit.replay import replay
    from streams.broker.credentials import BrokerCredentials
    from streams.broker.endpoint import parse_broker_url

    bootstrap = list(parse_broker_url(settings.effective_broker_url).bootstrap)
    # Replay is the one reader that may create the store: rebuilding one is its purpose.
    store = create_store(settings)
    result = replay(
        bootstrap,
        store,
        AvroCodec(default_catalog()),
        progress=not args.json,
        credentials=BrokerCredentials.from_settings(settings),
    )
    if args.json:
        print(json.dumps(vars(result) | {"per_second": round(result.per_second)}))
    else:
        print(
            f"read {result.read} entries, stored {result.inserted} new, skipped "
            f"{result.undecodable} undecodable, {result.per_second:,.0f} entries/s"
        )
    return EXIT_OK


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from streams.audit.verify import verify_store

    report = verify_store(AuditStore.open_existing(settings.audit_url), args.case_id)
    if args.case_id is not None and report.cases == 0:
        return _unknown_case(args.case_id, settings)
    if args.json:
        findings = [vars(finding) for finding in report.findings]
        print(json.dumps({"cases": report.cases, "entries": report.entries, "findings": findings}))
    else:
        for finding in report.findings:
            print(f"{finding.case_id}: first bad seq {finding.seq}: {finding.reason}")
        verdict = "verified" if report.ok else f"{len(report.findings)} broken of"
        print(f"{verdict} {report.cases} cases, {report.entries} entries")
    return EXIT_OK if report.ok else EXIT_UNVERIFIED


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from streams.audit.stats import run_stats

    return run_stats(settings, as_json=args.json)
