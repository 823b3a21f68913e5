"""``kawal audit verify``: every chain, the log against its own signed heads, and kept heads.

Exit 4 for any finding: a broken chain (naming its case and first bad seq), a log that lacks
leaves or the root of the latest head the hub signed and stored over it
(:mod:`streams.audit.own_heads`), or, with ``--heads FILE``, heads an institution kept that the
store does not match (:mod:`streams.audit.head_check`). Exit 9 when nothing was found wrong
but the kept personal values could not be checked: entries keep some and the hub's vault
cannot be opened (its KEK file or its database missing); a cron check must not take that for
a success. A store whose entries keep no personal value has nothing of the kind to check, and
exits 0. It opens the store and never creates one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streams.audit.store import AuditStore
from streams.cli.arguments import case_uuid
from streams.cli.exits import EXIT_OK, EXIT_UNCHECKED, EXIT_UNVERIFIED
from streams.cli.output import reporting_errors, unknown_case
from streams.cli.vault_calls import CommandVault, closed_after, vault_or_why
from streams.domain.keys import load_key_registry
from streams.settings import Settings

if TYPE_CHECKING:
    from streams.audit.head_check import HeadsReport
    from streams.audit.own_heads import OwnHeadsReport
    from streams.audit.verify import VerifyReport


def add_parser(audit_commands: Any) -> None:
    """Add ``kawal audit verify``."""
    verify = audit_commands.add_parser(
        "verify",
        help="re-verify every chain, every kept personal value with the hub's vault, and the "
        "store's log against the latest tree head the hub signed over it (exit 4 naming the "
        f"case and first bad seq, or what the log lacks; exit {EXIT_UNCHECKED} when the kept "
        "values could not be checked: the vault or its KEK file is missing)",
    )
    verify.add_argument(
        "case_id", nargs="?", type=case_uuid, help="only this case (its chain, not the log)"
    )
    verify.add_argument(
        "--heads",
        metavar="FILE",
        type=Path,
        help="also check the store against the signed tree heads an institution kept (JSON "
        "lines, as connectors write them): a rewritten store or a fork exits 4",
    )
    verify.add_argument("--json", action="store_true", help="machine-readable output")
    verify.set_defaults(run=_audit_verify)


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    return reporting_errors(lambda: _verify(args, settings), as_json=args.json)


def _verify(args: argparse.Namespace, settings: Settings) -> int:
    with AuditStore.open_existing(settings.audit_url) as store:
        vault, unopened = vault_or_why(settings)
        with closed_after(vault):
            return _verified(args, settings, store, vault, unopened)


def _verified(
    args: argparse.Namespace,
    settings: Settings,
    store: AuditStore,
    vault: CommandVault | None,
    unopened: str | None,
) -> int:
    from streams.audit.head_check import verify_heads_file
    from streams.audit.own_heads import verify_own_heads
    from streams.audit.verify import verify_store

    keys = load_key_registry(settings.key_registry_file)
    report = verify_store(store, args.case_id, keys, vault)
    if args.case_id is not None and report.cases == 0:
        return unknown_case(args.case_id, settings, as_json=args.json)
    # The log is the whole store's: one case's check leaves it to the whole store's.
    log = None if args.case_id is not None else verify_own_heads(store, keys)
    heads = None if args.heads is None else verify_heads_file(args.heads, store, keys)
    # Without the vault, what the store keeps of personal values went unchecked: said, and
    # not a success, unless the store keeps none (then there was nothing of the kind to check).
    unchecked = unopened if unopened is not None and report.kept_values else None
    if args.json:
        _print_json(report, log, heads, kept_values_checked=vault is not None, unchecked=unchecked)
    else:
        _print_text(report, log, heads)
        if unchecked is not None:
            print(_unchecked_line(report.kept_values, unchecked))
    ok = report.ok and (log is None or log.ok) and (heads is None or heads.ok)
    if not ok:
        return EXIT_UNVERIFIED
    return EXIT_OK if unchecked is None else EXIT_UNCHECKED


def _unchecked_line(entries: int, why: str) -> str:
    """What was not checked, why, and what to do, for the text output."""
    return (
        f"kept personal values not checked: {entries} entr{'ies' if entries != 1 else 'y'} "
        f"keep personal values, and the hub's vault cannot be opened here ({why}); run it where "
        f"the vault and its KEK file are, or restore them (exit {EXIT_UNCHECKED}: not verified)"
    )


def _print_json(
    report: VerifyReport,
    log: OwnHeadsReport | None,
    heads: HeadsReport | None,
    *,
    kept_values_checked: bool,
    unchecked: str | None,
) -> None:
    result: dict[str, Any] = {
        "cases": report.cases,
        "entries": report.entries,
        "findings": [vars(finding) for finding in report.findings],
        "kept_values_checked": kept_values_checked,
        "kept_value_entries": report.kept_values,
        # Why the kept values went unchecked while some are kept; null when they were checked
        # or none is kept.
        "kept_values_unchecked": unchecked,
    }
    if log is not None:
        result["log"] = log.to_json()
    if heads is not None:
        result["heads"] = {
            "read": heads.read,
            "signed": heads.signed,
            "tree_size": heads.tree_size,
            "findings": [vars(finding) for finding in heads.findings],
        }
    print(json.dumps(result))


def _print_text(
    report: VerifyReport, log: OwnHeadsReport | None, heads: HeadsReport | None
) -> None:
    from streams.audit.head_check import ORDER_FREE
    from streams.audit.head_summary import summary_lines

    for finding in report.findings:
        print(f"{finding.case_id}: first bad seq {finding.seq}: {finding.reason}")
    verdict = "verified" if report.ok else f"{len(report.findings)} broken of"
    print(f"{verdict} {report.cases} cases, {report.entries} entries")
    if log is not None:
        for line in _log_lines(log):
            print(line)
    if heads is not None:
        for line in summary_lines(heads):
            print(line)
        verdict = "consistent with" if heads.ok else f"{len(heads.findings)} findings in"
        print(
            f"{verdict} {heads.read} kept heads, against a log of {heads.tree_size} entries "
            f"({ORDER_FREE})"
        )


def _log_lines(log: OwnHeadsReport) -> list[str]:
    """The log's findings, one a line, and what they add up to and what to do."""
    lines = [f"{finding.code}: {finding.detail}" for finding in log.findings]
    head, entries = log.head, f"the store's log of {log.tree_size} entries"
    if not log.ok:
        found = len(log.findings)
        return [*lines, f"{found} finding{'s' * (found != 1)} in {entries}: {log.advice}"]
    if head is None:
        # A new store, or one rebuilt by `kawal replay`: nothing to check against yet.
        return [f"{entries} has no tree head the hub signed over it yet to be checked against"]
    return [
        f"{entries} matches the latest tree head the hub signed over it (size "
        f"{head.tree_size}, issued {head.issued_at.isoformat()})"
    ]
