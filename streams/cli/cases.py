"""``kawal case``, ``audit verify|proof``, ``replay``, ``stats``: the audit store and its readers.

The readers (``case list``, ``case trail``, ``audit verify``, ``stats``) open an existing store
and never create one: a wrong URL is an error that names it, not an empty database.
``audit verify`` is in :mod:`streams.cli.audit_verify`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.store import AuditStore

if TYPE_CHECKING:
    from streams.audit.replay import ReplayResult
    from streams.audit.trail import Directory
from streams.cli import audit_verify, overdue
from streams.cli.arguments import case_uuid, positive_count
from streams.cli.exits import (
    EXIT_NOT_ENTITLED,
    EXIT_OK,
    EXIT_UNKNOWN_CASE,
    EXIT_UNVERIFIED,
    EXIT_USAGE,
)
from streams.cli.output import unknown_case
from streams.cli.vault_calls import CommandVault, closed_after, vault_or_why
from streams.domain.keys import load_key_registry
from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add the commands that read or rebuild the audit store."""
    case = commands.add_parser("case", help="read cases from the audit store")
    case_commands = case.add_subparsers(dest="case_command", required=True)
    trail = case_commands.add_parser(
        "trail", help="a case's verified trail (exit 3 unknown, 4 broken, 5 not entitled)"
    )
    trail.add_argument("case_id", type=case_uuid, help="the case (its UUID)")
    trail.add_argument(
        "--as",
        dest="viewer",
        metavar="INSTITUTION",
        help="the view this institution may see (docs/disclosure-policy.md); its values are "
        "shown with --json, which records the read in the access log",
    )
    trail.add_argument("--json", action="store_true", help="machine-readable output")
    trail.set_defaults(run=_case_trail)
    listing = case_commands.add_parser("list", help="every case in the audit store")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(run=_case_list)
    overdue.add_parser(case_commands)

    replay = commands.add_parser(
        "replay",
        help=(
            "rebuild the audit store from kawal.case.audit (adds only what is missing; exit 4 "
            "when entries conflict with the stored trail or the hub did not make some)"
        ),
    )
    replay.add_argument("--json", action="store_true", help="machine-readable summary")
    replay.set_defaults(run=_replay)

    audit = commands.add_parser("audit", help="check the audit store")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    audit_verify.add_parser(audit_commands)
    proof = audit_commands.add_parser(
        "proof",
        help="the inclusion proof of a case's newest entry in the latest signed tree head "
        "(exit 3 unknown case, entry or head, 4 not in that head yet)",
    )
    proof.add_argument("case_id", type=case_uuid, help="the case (its UUID)")
    proof.add_argument("--seq", type=positive_count, help="an entry of the case, not its newest")
    proof.add_argument("--tree-size", type=positive_count, help="in the head of this size, kept")
    proof.add_argument("--json", action="store_true", help="machine-readable output")
    proof.set_defaults(run=_audit_proof)

    stats = commands.add_parser(
        "stats",
        help="public case counts (no personal data); with a filter or --format, every figure "
        "of the neutrality dashboard (docs/dashboard.md)",
    )
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    stats.add_argument("--format", choices=("text", "csv", "json"), help="the dashboard figures")
    stats.add_argument("--figure", help="only this figure (counts, handling_times, ...)")
    stats.add_argument("--election", help="only this election, e.g. pilkada-2024")
    stats.add_argument("--region", help="only this region and those within it, e.g. 33")
    stats.add_argument("--agency", help="only this employing agency, e.g. ppk.3374")
    stats.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day")
    stats.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day")
    stats.add_argument(
        "--unwithheld",
        action="store_true",
        help="every PPK's follow-up figures without the small-numbers rule, with the ids of "
        "its recommendations pending and overdue: an operator sees every case; not for "
        "publication",
    )
    stats.set_defaults(run=_stats)


def _case_trail(args: argparse.Namespace, settings: Settings) -> int:
    with AuditStore.open_existing(settings.audit_url) as store:
        vault = _vault(settings) if args.viewer is not None else None
        with closed_after(vault):
            return _shown_trail(args, settings, store, vault)


def _shown_trail(
    args: argparse.Namespace, settings: Settings, store: AuditStore, vault: CommandVault | None
) -> int:
    from streams.audit.trail import NotEntitledError, UnknownViewerError, trail_view
    from streams.domain.disclosure_policy import load_disclosure_policy

    catalog = default_catalog()
    policy = load_disclosure_policy(settings.disclosure_file, catalog)
    try:
        view = trail_view(
            store,
            AvroCodec(catalog),
            catalog,
            policy,
            args.case_id,
            args.viewer,
            directory(settings),
            load_key_registry(settings.key_registry_file),
            vault,
        )
    except UnknownViewerError as exc:
        print(f"kawal: --as: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NotEntitledError as exc:
        print(f"kawal: {exc}", file=sys.stderr)
        return EXIT_NOT_ENTITLED
    if view is None:
        return unknown_case(args.case_id, settings, as_json=args.json)
    if view["values_problem"]:
        print(f"kawal: {view['values_problem']}", file=sys.stderr)
    if args.json:
        if args.viewer is not None:
            _log_read(store, view, args.viewer, settings)
        print(json.dumps(view, indent=2))
    else:
        _print_trail(view)
    return EXIT_OK if view["verified"] else EXIT_UNVERIFIED


def _log_read(
    store: AuditStore, view: dict[str, Any], institution: str, settings: Settings
) -> None:
    """Record a read of personal data on the command line like one over HTTP.

    Only ``--json`` prints the view's values; the text listing shows none, so reads nothing.

    Raises:
        StoreError: the access log cannot be written or signed; the view is then not printed.
    """
    import getpass

    from streams.audit.access_log import AccessLog, shown_personal_fields
    from streams.domain.hub_signer import HubSigner
    from streams.domain.principals import Principal, PrincipalRole

    shown = shown_personal_fields(view, default_catalog())
    if shown:
        # The institution read, through the operating-system account that ran the command.
        reader = Principal(institution, PrincipalRole.INSTITUTION, f"cli:{getpass.getuser()}")
        command = f"kawal case trail {view['case_id']} --as {institution}"
        registry = load_key_registry(settings.key_registry_file)
        hub = HubSigner(settings.key_dir, registry, then="then run this command again")
        AccessLog(store.engine, hub.key_at).record(reader, view["case_id"], shown, command)


def directory(settings: Settings) -> Directory:
    """The registered institutions and the authority map, from their data files."""
    from streams.audit.trail import Directory
    from streams.domain.authority import load_authority_map
    from streams.domain.institutions import load_institutions

    return Directory(
        load_institutions(settings.institutions_file), load_authority_map(settings.authority_file)
    )


def _vault(settings: Settings) -> CommandVault | None:
    """The hub's vault, to open the disclosures an institution's view shows; None if absent."""
    vault, unopened = vault_or_why(settings)
    if unopened is not None:
        print(f"kawal: personal data not shown: {unopened}", file=sys.stderr)
    return vault


def _print_trail(view: dict[str, Any]) -> None:
    print(f"case {view['case_id']} ({view['view']} view)")
    for entry in view["entries"]:
        envelope = entry.get("envelope", {})
        # An entry edited outside the hub may show only its seq and what is wrong with it.
        print(
            f"  {entry['seq'] or '?':>3}  {envelope.get('event_time', '?'):<32}  "
            f"{entry.get('event_type', '?'):<22} {envelope.get('source', '?'):<18} "
            f"{entry.get('hash', '?')[:16]}"
        )
    if view["verified"]:
        print(f"chain verified: {len(view['entries'])} entries")
    else:
        print(f"CHAIN BROKEN at seq {view['first_bad_seq']}: {view['problem']}")
    if view["view"] != "public":
        print("fields and personal data are not listed here: --json shows the view's values")


def _case_list(args: argparse.Namespace, settings: Settings) -> int:
    from streams.audit.trail import cases_view

    with AuditStore.open_existing(settings.audit_url) as store:
        cases = cases_view(store)
    if args.json:
        print(json.dumps(cases, indent=2))
        return EXIT_OK
    for case in cases:
        print(f"{case['case_id']}  {case['entries']:>3} entries  last {case['last_event_type']}")
    if not cases:
        print("no cases yet")
    return EXIT_OK


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from streams.cli.output import reporting_errors

    return reporting_errors(lambda: _rebuild(args, settings), as_json=args.json)


def _rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from streams.app import create_store
    from streams.audit.replay import replay
    from streams.broker.credentials import BrokerCredentials
    from streams.broker.endpoint import parse_broker_url

    bootstrap = list(parse_broker_url(settings.effective_broker_url).bootstrap)
    # The hub's keys in the registry say which entries the hub made: only those are stored.
    keys = load_key_registry(settings.key_registry_file)
    # Replay is the one reader that may create the store: rebuilding one is its purpose.
    with create_store(settings) as store:
        result = replay(
            bootstrap,
            store,
            AvroCodec(default_catalog()),
            keys,
            progress=not args.json,
            credentials=BrokerCredentials.from_settings(settings),
            wait=settings.broker_wait_seconds,
        )
    if args.json:
        print(json.dumps(vars(result) | {"per_second": round(result.per_second)}))
    else:
        print(
            f"read {result.read} entries, stored {result.inserted} new, skipped "
            f"{result.undecodable} not audit entries (undecodable, or of another schema), "
            f"{result.per_second:,.0f} entries/s"
        )
    return _replay_exit(result)


def _replay_exit(result: ReplayResult) -> int:
    """Say what the replay did not store, and why; its exit code."""
    if result.refused:
        # The topic holds records the hub did not make: someone else wrote to it.
        refused = ", ".join(f"{code} ({count})" for code, count in sorted(result.refused.items()))
        print(
            f"kawal: entries not stored, as the hub did not make them: {refused}; something "
            "other than the hub's worker writes to kawal.case.audit, or KAWAL_KEYS_FILE is not "
            "this hub's registry: see docs/operations.md#kawalaudittopicforged",
            file=sys.stderr,
        )
    if result.conflicting:
        # The topic holds two histories of a case: the store kept the first one it met.
        print(
            f"kawal: entries not stored for a conflict with the stored trail (another entry at "
            f"their case and sequence number): {result.conflicting}; run `kawal audit verify` "
            "and see docs/operations.md#kawalchainverificationfailed",
            file=sys.stderr,
        )
    return EXIT_UNVERIFIED if result.refused or result.conflicting else EXIT_OK


def _audit_proof(args: argparse.Namespace, settings: Settings) -> int:
    with AuditStore.open_existing(settings.audit_url) as store:
        return _proven(args, settings, store)


def _proven(args: argparse.Namespace, settings: Settings, store: AuditStore) -> int:
    from streams.audit.case_proofs import ProofReader, UnknownEntryError, UnknownHeadError
    from streams.audit.heads import NotInHeadError

    try:
        proof = ProofReader(store).proof(args.case_id, args.seq, args.tree_size)
    except (NotInHeadError, UnknownEntryError, UnknownHeadError) as exc:
        print(f"kawal: {exc}", file=sys.stderr)
        return EXIT_UNVERIFIED if isinstance(exc, NotInHeadError) else EXIT_UNKNOWN_CASE
    if proof is None:
        return unknown_case(args.case_id, settings, as_json=args.json)
    if args.json:
        print(json.dumps(proof.to_json()))
    else:
        print(
            f"case {proof.case_id} seq {proof.seq} is leaf {proof.log_index} of the head of "
            f"size {proof.head.tree_size} issued {proof.head.issued_at.isoformat()}"
        )
        print(f"  root  {proof.head.root_hash.hex()}")
        for item in proof.proof:
            print(f"  path  {item.hex()}")
        print("proof verified" if proof.verifies() else "PROOF DOES NOT VERIFY")
    return EXIT_OK if proof.verifies() else EXIT_UNVERIFIED


#: Options of ``kawal stats`` that ask for the dashboard's figures rather than the counts.
FIGURE_OPTIONS = (
    "format", "figure", "election", "region", "agency", "date_from", "date_to", "unwithheld",
)  # fmt: skip


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from streams.audit.figures.command import run_figures, run_stats

    if not any(getattr(args, option) for option in FIGURE_OPTIONS):
        return run_stats(settings, as_json=args.json)
    from streams.audit.figures.filters import parse_filters

    filters = parse_filters(
        {
            "election": args.election,
            "region": args.region,
            "agency": args.agency,
            "from": args.date_from,
            "to": args.date_to,
        }
    )
    output = args.format or ("json" if args.json else "text")
    return run_figures(settings, filters, output, args.figure, unwithheld=args.unwithheld)
