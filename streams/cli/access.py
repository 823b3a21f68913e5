"""``kawal access log``: who read personal data of which case, when, and through what.

``kawal access verify`` checks the log is as the hub wrote it (:mod:`streams.audit.access_chain`).

Reads the access log of the audit store (:mod:`streams.audit.access_log`): ``--case`` one case,
``--institution`` the cases an institution is party to (who read its cases), ``--reader`` the
reads of one principal or through one credential (a token's id; ``cli:<os user>`` for a read on
the command line, whose principal is the institution it read for), ``--from``/``--to`` the reads
of a period (an audit's). Field names only; the log never holds a personal-data value. A case
the audit store does not hold is an error (exit 3), not an empty record.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.access_chain import AccessChainReport, verify_access_chain
from streams.audit.access_log import AccessLog, AccessRecord, cases_party_to
from streams.audit.store import AuditStore
from streams.audit.trail import Directory
from streams.cli.arguments import case_uuid
from streams.cli.exits import EXIT_OK, EXIT_UNVERIFIED
from streams.cli.output import reporting_errors, unknown_case
from streams.cli.terminal import one_row
from streams.cli.tokens import existing_store
from streams.domain.keys import load_key_registry
from streams.domain.read_period import PERIOD_FORMS, ReadPeriod, read_period
from streams.settings import Settings


def add_parsers(commands: Any) -> None:
    """Add ``access log`` and ``access verify``."""
    access = commands.add_parser("access", help="the record of personal-data reads")
    actions = access.add_subparsers(dest="access_command", required=True)
    log = actions.add_parser("log", help="logged reads of personal data, oldest first")
    log.add_argument("--case", type=case_uuid, help="only this case (its UUID)")
    log.add_argument(
        "--institution", help="only the cases this institution is party to (who read its cases)"
    )
    log.add_argument(
        "--reader",
        metavar="NAME",
        help="only the reads of this principal (bkn, ops.ana) or through this credential "
        "(tok_..., or cli:<os user> for `kawal case trail --as`)",
    )
    log.add_argument(
        "--from", dest="start", metavar="WHEN", help=f"only reads from then on: {PERIOD_FORMS}"
    )
    log.add_argument(
        "--to",
        dest="end",
        metavar="WHEN",
        help="only reads before then (a date: through that whole UTC day)",
    )
    log.add_argument("--json", action="store_true", help="machine-readable output")
    log.set_defaults(run=_log)
    verify = actions.add_parser(
        "verify",
        help="check that no read record was deleted, changed or written around the hub: each "
        f"row against its hash, the row before it and the hub's signature (exit "
        f"{EXIT_UNVERIFIED} naming the rows)",
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(run=_verify)


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    def check() -> int:
        store = existing_store(settings)
        try:
            keys = load_key_registry(settings.key_registry_file)
            report = verify_access_chain(store.engine, keys)
        finally:
            store.close()
        if args.json:
            print(json.dumps(report.to_json(), indent=2))
        else:
            for finding in report.findings:
                print(f"{finding.code}: {finding.detail}")
            print(_verdict(report))
        return EXIT_OK if report.ok else EXIT_UNVERIFIED

    return reporting_errors(check, as_json=args.json)


def _verdict(report: AccessChainReport) -> str:
    before = f" ({report.before_chain} from before the chain began)" if report.before_chain else ""
    if report.ok:
        return (
            f"access log verified: {report.chained} rows as the hub wrote and signed them{before}"
        )
    count = len(report.findings)
    return (
        f"access log NOT verified: {count} finding{'s' if count != 1 else ''} in "
        f"{report.chained} rows{before}; read records were deleted, changed or written around "
        "the hub: restore the audit store from a backup taken before (docs/operations.md, The "
        "access log)"
    )


def _log(args: argparse.Namespace, settings: Settings) -> int:
    def show() -> int:
        period = read_period(args.start, args.end)
        store = existing_store(settings)
        try:
            if args.case and store.case_head(args.case) is None:
                return unknown_case(args.case, settings, as_json=args.json)
            from streams.cli.cases import directory
            from streams.cli.overdue import unknown_institution

            found = directory(settings)
            if args.institution and args.institution not in {i.id for i in found.institutions}:
                return unknown_institution(args.institution, as_json=args.json)
            records = _records(args, found, store, period)
        finally:
            store.close()
        if args.json:
            print(json.dumps([record.as_json() for record in records], indent=2))
            return EXIT_OK
        for record in records:
            print(
                one_row(
                    f"{record.read_at.isoformat()}  {record.principal:<18} {record.role:<11} "
                    f"{record.credential or '-':<18} {record.case_id}  "
                    f"{','.join(record.fields)}  {record.path}"
                )
            )
        if not records:
            print(_nothing_read(args))
        return EXIT_OK

    return reporting_errors(show, as_json=args.json)


def _nothing_read(args: argparse.Namespace) -> str:
    """What an empty answer means: nothing at all, or nothing the filters select."""
    wanted = [
        f"{option} {value}"
        for option, value in (
            ("--case", args.case),
            ("--institution", args.institution),
            ("--reader", args.reader),
            ("--from", args.start),
            ("--to", args.end),
        )
        if value
    ]
    if not wanted:
        return "no personal data has been read"
    return f"no logged read of personal data matches {' '.join(wanted)}"


def _records(
    args: argparse.Namespace, found: Directory, store: AuditStore, period: ReadPeriod
) -> list[AccessRecord]:
    log = AccessLog(store.engine)
    cases = [args.case] if args.case else None
    if args.institution:
        codec = AvroCodec(default_catalog())
        candidates = cases if cases is not None else log.case_ids()
        cases = cases_party_to(args.institution, candidates, store, codec, found)
    return log.entries(cases, args.reader, period)
