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
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import groupby

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.kept_values import unreadable_values
from streams.audit.row_shapes import case_label, first_misshapen, head_problem
from streams.audit.store import AuditStore
from streams.audit.tables import AuditRow
from streams.audit.trail import verify_signatures
from streams.domain.chain import ChainBreak, verify_chain
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

    @property
    def ok(self) -> bool:
        """Whether every chain verified."""
        return not self.findings


def verify_case(rows: list[AuditRow], head: tuple[int, str] | None) -> ChainBreak | None:
    """The first break in one case's trail, given the head its writer stored."""
    chain_break = first_misshapen(rows) or verify_chain(rows)
    if chain_break is not None:
        return chain_break
    last_seq, last_hash = (rows[-1].seq, rows[-1].hash) if rows else (0, "")
    if head is None:
        return ChainBreak(1, "the hub never wrote this case: its entries were added outside it")
    wrong_head = head_problem(head)
    if wrong_head is not None:
        return ChainBreak(max(last_seq, 1), wrong_head)
    head_seq, head_hash = head
    if head_seq > last_seq:
        return ChainBreak(
            last_seq + 1,
            f"the trail ends at seq {last_seq} but the hub wrote up to seq {head_seq}: "
            "entries are missing from its end",
        )
    if head_seq < last_seq:
        return ChainBreak(head_seq + 1, f"entries after seq {head_seq}, the newest the hub wrote")
    if head_hash != last_hash:
        return ChainBreak(head_seq, "the newest entry's hash differs from the one the hub wrote")
    return None


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
    cases = entries = 0
    for current, rows in _cases_with_heads(store.entries(case_id), heads):
        cases += 1
        entries += len(rows)
        chain_break = verify_case(rows, heads.get(current))
        if chain_break is None and keys is not None:
            chain_break = verify_signatures(rows, codec, keys)
        if chain_break is None and vault is not None:
            chain_break = unreadable_values(rows, vault, codec.catalog)
        if chain_break is not None:
            label = case_label(current)
            findings.append(CaseFinding(label, chain_break.seq, chain_break.reason))
    return VerifyReport(cases, entries, findings)


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
