"""``kawal audit verify``: the store's log against the latest head the hub signed and stored.

The chains (:mod:`streams.audit.verify`) are each case's own: a case deleted whole, its
entries, its leaves and its case head, leaves no chain broken. Its leaves were in the log the
hub signed heads over, and those heads stay in the store (``tree_heads``). So the log computed
from the entries as they are now must hold every leaf from 0 up to the latest head's size and
have that head's root at that size, and the head must extend the head it proves from. A gap, a
mismatch, or a head the hub did not sign is a finding, found by the code of ``--heads`` and
with its codes (:mod:`streams.audit.head_check`).

This is the store against itself: whoever also deletes or re-signs the heads after a change
passes it, as a rewrite of entries and case head together passes the chains. The heads the
institutions kept (``--heads``) are the anchor outside the store.

Only the latest head keepers could keep (:mod:`streams.audit.keepable_heads`) and the head it
proves from are read, not every head: the sink stores up to one per KAWAL_TREE_HEAD_SECONDS,
millions over the years, and proved each from the one before when it signed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streams.audit.head_check import Finding, HeadFinding, matches, store_log
from streams.audit.head_divergence import first_divergence, where_changed
from streams.audit.head_forks import FORK_ADVICE, fork_pairs
from streams.audit.keepable_heads import last_keepable
from streams.audit.store import AuditStore
from streams.audit.tree_log import TreeError, TreeLog
from streams.domain.keys import KeyProblem, KeyRegistry
from streams.domain.merkle import MerkleLog
from streams.domain.tree_heads import HeadRefusal, SignedTreeHead, signature_problem

#: What to do about any finding of the store's log, as the command says it once.
ADVICE = (
    "entries were removed or changed behind the hub's back. Find which, and since when, by "
    "checking the store against the heads an institution kept (`kawal audit verify --heads "
    "FILE`, docs/tree-heads.md); then restore the audit store from a backup taken before the "
    "change and run `kawal replay` for what came after it (docs/operations.md, Back up and "
    "restore the audit store)"
)

#: What to do when the only findings are heads signed with keys the registry does not hold: a
#: copy of the store verified without its hub's key registry, most likely, not a change.
KEYS_ADVICE = (
    "the key registry in force does not hold the keys the hub signed its heads with. If "
    "KAWAL_KEYS_FILE is not the key registry of the hub that wrote this store (a copy verified "
    "on another machine), set it to that registry and verify again; if it is, the table "
    "tree_heads was edited outside the hub"
)
_KEY_UNKNOWN = "hub_" + KeyProblem.UNKNOWN.value


@dataclass(frozen=True)
class OwnHeadsReport:
    """The store's log checked against the latest signed head stored with it."""

    #: Leaves in the store's log.
    tree_size: int
    #: The head checked against; None while the hub has signed none over this store.
    head: SignedTreeHead | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the log is whole and has the signed root at the head's size."""
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        """The report for scripts: the head by size and time, each finding, what to do."""
        head = self.head
        return {
            "tree_size": self.tree_size,
            "head": None
            if head is None
            else {"tree_size": head.tree_size, "issued_at": head.issued_at.isoformat()},
            "findings": [vars(finding) for finding in self.findings],
            "advice": self.advice,
        }

    @property
    def advice(self) -> str | None:
        """What to do about the findings, once for all of them; None when there are none."""
        if self.ok:
            return None
        if all(finding.code == _KEY_UNKNOWN for finding in self.findings):
            return KEYS_ADVICE
        return ADVICE


def verify_own_heads(store: AuditStore, keys: KeyRegistry) -> OwnHeadsReport:
    """The store's log against the latest head the hub signed over it, and the one before.

    Raises:
        StoreError: the store cannot be read.
    """
    tree = TreeLog(store.engine)
    findings: list[Finding] = []
    # Heads before leaves: a head read covers only leaves stored before it, so the entries
    # the sink stores while the log is read lie beyond it and are no finding.
    try:
        heads = _latest_two(tree, keys)
    except TreeError as exc:
        heads = []
        findings.append(Finding(HeadFinding.UNREADABLE, (), str(exc)))
    refusals = [(head, signature_problem(head, keys)) for head in heads]
    kept = [(head.tree_size, head) for head, refusal in refusals if refusal is None]
    findings += [_unsigned(head, refusal) for head, refusal in refusals if refusal is not None]
    log, log_findings = store_log(store, max((size for size, _ in kept), default=0))
    findings += log_findings + _against_log(store, log, kept)
    return OwnHeadsReport(len(log), heads[-1] if heads else None, findings)


def _latest_two(tree: TreeLog, keys: KeyRegistry) -> list[SignedTreeHead]:
    """The latest head keepers could keep and the stored head it proves from, oldest first."""
    latest = last_keepable(tree, keys)
    if latest is None:
        return []
    before = tree.head_of_size(latest.previous_size) if latest.previous_size else None
    return [latest] if before is None else [before, latest]


def _against_log(
    store: AuditStore, log: MerkleLog, kept: list[tuple[int, SignedTreeHead]]
) -> list[Finding]:
    """A finding per head ``log`` lacks the root of, and one if the two do not extend."""
    matching = {size: matches(log, head) for size, head in kept}
    divergence = first_divergence(log, kept, matching)
    where = "" if divergence is None else "; " + where_changed(store, divergence)
    findings = [_mismatch(head, len(log), where) for size, head in kept if not matching[size]]
    findings += [
        Finding(
            HeadFinding.FORK,
            pair,
            f"the store's heads of sizes {pair[0]} and {pair[1]} do not extend each other: "
            f"{why}; {FORK_ADVICE}",
            pair,
            FORK_ADVICE,
        )
        for pair, why in sorted(fork_pairs(kept, matching).items())
    ]
    return findings


def _named(head: SignedTreeHead) -> str:
    return f"the hub's head of size {head.tree_size} (issued {head.issued_at.isoformat()})"


def _unsigned(head: SignedTreeHead, refusal: HeadRefusal) -> Finding:
    """A stored head the registry does not vouch for: it proves nothing about the log."""
    return Finding(
        refusal.code,
        (head.tree_size,),
        f"{_named(head)} stored in the audit store is not the hub's: {refusal.detail}; the table "
        "tree_heads was edited outside the hub, or KAWAL_KEYS_FILE is not the key registry of "
        "the hub that signed it",
    )


def _mismatch(head: SignedTreeHead, size: int, where: str) -> Finding:
    if head.tree_size > size:
        return Finding(
            HeadFinding.BEYOND_STORE,
            (head.tree_size,),
            f"{_named(head)} covers {head.tree_size} entries but the store's log holds {size}: "
            "entries it covered were deleted from the store, with their leaves (a case deleted "
            "whole leaves no chain broken)",
        )
    return Finding(
        HeadFinding.NOT_IN_STORE,
        (head.tree_size,),
        f"the store's log does not have the root of {_named(head)} at that size: entries it "
        f"covers were deleted, changed or reordered after the hub signed it{where}",
    )
