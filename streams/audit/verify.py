"""``kawal audit verify``: re-verify every chain in the audit store, end to end.

Each case's entries must form an unbroken chain (:func:`streams.domain.chain.verify_chain`: seq
1..n,
each ``prev_hash`` the hash before it, each hash recomputed from the stored bytes) that ends
exactly at the case's head, the newest seq and hash the writer stored in the same transaction
as the entries. So a flipped byte, a deleted, reordered or inserted entry, and a trail cut
short at its end are each reported at the first bad sequence number.

With the key registry, every entry's signatures are checked too: the sender's over the event
and the hub's over the hash (:mod:`streams.domain.entries`), so an edited column, a changed
event or a forged entry is reported even when its chain was recomputed. A forger holding the
hub's key and rewriting chain and head together is caught against anchors outside the store:
the receipts each institution holds and the signed tree heads it kept (``--heads``).

With the hub's vault, every entry's kept personal values must open under its case's data key
(:mod:`streams.audit.kept_values`): the chain does not cover them.

A case deleted whole (entries, leaves and case head) leaves no chain to break: the command
finds it with the store's log against the heads the hub signed and stored
(:mod:`streams.audit.own_heads`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.case_check import check_stored_case
from streams.audit.kept_values import unreadable_values
from streams.audit.row_shapes import case_label
from streams.audit.store import AuditStore
from streams.audit.tables import AuditRow
from streams.audit.trail import verify_signatures
from streams.domain.keys import KeyRegistry
from streams.vault.entries import CaseKeys


@dataclass(frozen=True)
class CaseFinding:
    """Where a case's trail stops verifying."""

    case_id: str
    seq: int
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of a verification run."""

    cases: int
    entries: int
    findings: list[CaseFinding]
    #: Entries that keep personal values (under their case's data key): what the vault checks.
    kept_values: int = 0

    @property
    def ok(self) -> bool:
        """Whether every chain verified."""
        return not self.findings


def verify_store(
    store: AuditStore,
    case_id: str | None = None,
    keys: KeyRegistry | None = None,
    vault: CaseKeys | None = None,
) -> VerifyReport:
    """Verify one case, or every case in the store; with ``keys``, every signature too.

    With ``vault``, that every entry's kept values open too.

    Raises:
        VaultError: the vault cannot be read.
    """
    codec = AvroCodec(default_catalog())
    heads = store.heads()
    if case_id is not None:
        heads = {case_id: heads[case_id]} if case_id in heads else {}
    findings: list[CaseFinding] = []
    cases = entries = kept = 0
    for current, rows in _cases_with_heads(store.entries(case_id), heads):
        rows, chain_break = check_stored_case(store, current, heads.get(current), rows)
        cases += 1
        entries += len(rows)
        kept += sum(1 for row in rows if row.vaulted_disclosures)
        if chain_break is None and keys is not None:
            chain_break = verify_signatures(rows, codec, keys)
        if chain_break is None and vault is not None:
            chain_break = unreadable_values(rows, vault, codec.catalog)
        if chain_break is not None:
            label = case_label(current)
            findings.append(CaseFinding(label, chain_break.seq, chain_break.reason))
    return VerifyReport(cases, entries, findings, kept)


def _cases_with_heads(
    entries: Iterable[AuditRow], heads: dict[str, tuple[int, str]]
) -> Iterator[tuple[str, list[AuditRow]]]:
    """Every case with its rows, including cases whose head remains but whose rows are gone."""
    seen: set[str] = set()
    for case_id, rows in groupby(entries, key=lambda row: row.case_id):
        seen.add(case_id)
        yield case_id, list(rows)
    # An edit outside the hub can leave a case id that is not text: sorted as shown.
    for case_id in sorted(heads.keys() - seen, key=str):
        yield case_id, []
