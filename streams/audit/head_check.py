"""``kawal audit verify --heads FILE``: the store against the signed heads an institution kept.

The chains (:mod:`streams.audit.verify`) show that a store agrees with itself; a forger who
rewrites a case's entries and its head together, recomputing every hash, passes them. The
heads an institution kept are anchors outside the store. For each head of the file (JSON lines,
as connectors keep them, :mod:`streams.domain.tree_heads`):

- it must be the hub's, signed with its key valid when it was issued (else it proves nothing
  and is set aside);
- the store's log, computed from the entries as they are now, must have the head's root at
  the head's size: if not, the store was rewritten after the head was issued, or the head is
  of another history;
- every two heads must extend each other: two of one size with different roots, a head whose
  own consistency proof from an earlier head fails, or an earlier head that the store's log
  does not start with although a later one matches it, are a fork: the hub signed two
  histories (:mod:`streams.audit.head_forks`).

Where the store first changed is narrowed from every kept head
(:mod:`streams.audit.head_divergence`). Each head is checked against the store at its own size
and against the others by size, so the order of the heads in the file does not matter.
Findings name heads by their line in the file, never a case's content; each head has its
own finding, shown one line per problem (:mod:`streams.audit.head_summary`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from schemas.errors import KawalError
from streams.audit.head_divergence import first_divergence, where_changed
from streams.audit.head_forks import FORK_ADVICE, fork_pairs, store_side
from streams.audit.log_rows import hash_bytes
from streams.audit.row_shapes import EDITED, is_number
from streams.audit.store import AuditStore
from streams.audit.tree_log import TreeLog
from streams.domain.keys import KeyProblem, KeyRegistry
from streams.domain.merkle import MerkleLog
from streams.domain.tree_heads import (
    HeadFormatError,
    HeadRefusal,
    SignedTreeHead,
    signature_problem,
)

#: Why the order of the heads in the file does not matter, as the command says it.
ORDER_FREE = (
    "each head is checked against the store at its own size and against the others by "
    "size, so the order of the heads in the file does not matter"
)

#: The leaf data standing for an entry that is gone: no entry hashes to it, so every head
#: covering that leaf stops matching.
MISSING_ENTRY = b""


class HeadFinding(StrEnum):
    """What checking kept heads against the store found (signature refusals keep their code)."""

    UNREADABLE = "head_unreadable"
    BEYOND_STORE = "head_beyond_store"
    NOT_IN_STORE = "head_not_in_store"
    FORK = "fork"
    LEAF_WITHOUT_ENTRY = "leaf_without_entry"
    LEAF_MISSING = "leaf_missing"
    ENTRIES_OUTSIDE_LOG = "entries_outside_log"


@dataclass(frozen=True)
class Finding:
    """One finding: its code, the heads (lines of the file) it is about, and what it means."""

    code: str
    heads: tuple[int, ...]
    detail: str
    #: The sizes of those heads, when the finding is about heads.
    tree_sizes: tuple[int, ...] = ()
    #: What the finding says without naming its heads: findings with the same code and
    #: problem are one problem, shown as one line (:mod:`streams.audit.head_summary`).
    problem: str = ""


@dataclass(frozen=True)
class HeadsReport:
    """Outcome of checking a file of heads against the store."""

    #: Heads read from the file, and how many of them are the hub's.
    read: int
    signed: int
    #: Leaves in the store's log.
    tree_size: int
    findings: list[Finding] = field(default_factory=list)
    #: The lines of the hub's heads the store's log matches.
    matching: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every head is the hub's, matches the store and extends the others."""
        return not self.findings

    @property
    def no_head_at_all(self) -> bool:
        """Whether the file has lines and none of them is a head: not a heads file at all."""
        unreadable = sum(finding.code == HeadFinding.UNREADABLE for finding in self.findings)
        return self.read > 0 and unreadable == self.read


def verify_heads(store: AuditStore, lines: Iterable[str], keys: KeyRegistry) -> HeadsReport:
    """Check the heads of ``lines`` (one JSON head each) against ``store``'s log."""
    findings: list[Finding] = []
    kept: list[tuple[int, SignedTreeHead]] = []
    read = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        read += 1
        try:
            head = SignedTreeHead.from_json(line)
        except HeadFormatError as exc:
            findings.append(
                Finding(HeadFinding.UNREADABLE, (number,), f"head {number}: {exc}", (), str(exc))
            )
            continue
        refusal = signature_problem(head, keys)
        if refusal is not None:
            problem = not_the_hubs(refusal, keys)
            findings.append(
                Finding(
                    refusal.code,
                    (number,),
                    f"head {number} is {problem}",
                    (head.tree_size,),
                    problem,
                )
            )
            continue
        kept.append((number, head))
    return _against_store(store, kept, read, findings)


def _against_store(
    store: AuditStore, kept: list[tuple[int, SignedTreeHead]], read: int, findings: list[Finding]
) -> HeadsReport:
    """The hub's heads ``kept`` checked against the store's log and each other."""
    largest = max((head.tree_size for _, head in kept), default=0)
    log, log_findings = store_log(store, largest)
    findings += log_findings
    matching = {number: matches(log, head) for number, head in kept}
    forked = _forks(kept, matching)
    # A head of a fork whose other head the store matches is of the other history: it is
    # reported as the fork, not again as a store to restore, and says nothing of where the
    # store changed. One the store matches neither of is the store's changing too.
    other_history = {
        number
        for finding in forked
        for number in finding.heads
        if not matching[number] and any(matching[head] for head in finding.heads)
    }
    ours = [(number, head) for number, head in kept if number not in other_history]
    divergence = first_divergence(log, ours, matching)
    where = "" if divergence is None else "; " + where_changed(store, divergence)
    findings += [
        _mismatch(number, head, len(log), where) for number, head in ours if not matching[number]
    ]
    findings += forked
    matched = tuple(number for number, _ in kept if matching[number])
    return HeadsReport(read, len(kept), len(log), findings, matched)


def not_the_hubs(refusal: HeadRefusal, keys: KeyRegistry) -> str:
    """What a head the registry does not vouch for means to whoever checks a heads file.

    The key registry's own reasons tell a sender what to sign with; a head's reader has the
    heads of one hub and a registry, and one of the two is not the other's.
    """
    # The fact is the reason's first clause; what follows it is advice to a sender.
    fact = refusal.detail.split("; ", 1)[0]
    registry = "the bundled key registry" if keys.bundled else f"the key registry {keys.source}"
    if keys.source is None and not keys.bundled:
        registry = "the key registry in force"
    if refusal.code == "hub_" + KeyProblem.REVOKED.value:
        return (
            f"not the hub's: {fact}, before the head was issued: whoever held "
            "the key then could have signed it, so it proves nothing about the store; the "
            "hub's heads since its restart are signed with its next key"
        )
    return (
        f"not the hub's: {fact}. It was not signed by a hub key that "
        f"{registry} vouches for when the head was issued: the file holds heads of another "
        "hub, or this registry is not the one of the hub that issued them; check them with "
        "that hub's registry (KAWAL_KEYS_FILE), and treat a head that still fails as not the "
        "hub's (it proves nothing about the store)"
    )


def verify_heads_file(path: Path, store: AuditStore, keys: KeyRegistry) -> HeadsReport:
    """The heads of the file ``path`` checked against ``store``.

    Raises:
        KawalError: the file cannot be read, or no line of it is a head (another file given
            by mistake: one line says so, not a finding per line).
    """
    give = "give the file a connector keeps its heads in, KAWAL_HOME/connectors/<connector>"
    wrong_file = KawalError(
        f"{path} is not a heads file (no line is a signed tree head); {give}.heads.jsonl"
    )
    try:
        with path.open(encoding="utf-8") as lines:
            heads = verify_heads(store, lines, keys)
    except OSError as exc:
        raise KawalError(
            f"cannot read the heads file {path} ({exc.strerror}); give the file the "
            "connector keeps its heads in"
        ) from exc
    except UnicodeDecodeError:
        raise wrong_file from None
    if heads.no_head_at_all:
        # What the first line lacks: a heads file written by another client may be a head
        # per line in another form (a time as ms rather than ISO 8601).
        first = heads.findings[0]
        raise KawalError(f"{wrong_file}; line {first.heads[0]}, the first: {first.detail}")
    if heads.read == 0:
        # No head, no check: "consistent with 0 kept heads" would pass a wrong file.
        raise KawalError(f"{path} holds no heads (it is empty); {give}.heads.jsonl")
    return heads


def store_log(store: AuditStore, largest_head: int = 0) -> tuple[MerkleLog, list[Finding]]:
    """The store's log computed from its entries as they are now, and what is wrong with it.

    A deleted leaf still counts, so later leaves keep their index; but no index the hub gave
    can lie beyond every entry it stored and every head it signed (``largest_head``, the
    largest kept one): a leaf there was moved by hand and is set aside, not padded up to.
    """
    tree = TreeLog(store.engine)
    limit = max(largest_head, tree.size(), store.count())
    log = MerkleLog()
    gone: list[int] = []
    unhashed: list[int] = []
    misplaced = missing = 0
    for leaf in tree.leaves():
        if not _in_place(leaf.log_index, len(log), limit):
            misplaced += 1
            continue
        while len(log) < leaf.log_index:
            log.append(MISSING_ENTRY)
            missing += 1
        data = None if leaf.hash is None else hash_bytes(leaf.hash)
        if leaf.hash is None:
            gone.append(leaf.log_index)
        elif data is None:
            unhashed.append(leaf.log_index)
        log.append(MISSING_ENTRY if data is None else data)
    findings = []
    if gone:
        findings.append(_log_finding(HeadFinding.LEAF_WITHOUT_ENTRY, gone, ENTRIES_DELETED))
    if unhashed:
        findings.append(_log_finding(HeadFinding.LEAF_WITHOUT_ENTRY, unhashed, HASH_EDITED))
    if missing:
        findings.append(
            Finding(HeadFinding.LEAF_MISSING, (), f"{missing} leaves of the log were deleted")
        )
    if misplaced:
        findings.append(
            Finding(
                HeadFinding.LEAF_MISSING,
                (),
                f"{misplaced} leaves of the log are at no index the hub gives (not a count, "
                f"repeated, or beyond every entry and head): {EDITED}",
            )
        )
    outside = tree.entries_outside()
    if outside:
        findings.append(
            Finding(
                HeadFinding.ENTRIES_OUTSIDE_LOG,
                (),
                f"{outside} entries are in no leaf of the log: they were written around the hub",
            )
        )
    return log, findings


def _in_place(index: object, size: int, limit: int) -> bool:
    """Whether a leaf's index is one the hub gives after ``size`` leaves read.

    Beyond ``limit`` only the next index is: the sink stores entries while the log is read.
    """
    if not is_number(index):
        return False
    return index == size or size <= index < limit


#: What leaves without a usable entry mean.
ENTRIES_DELETED = "hold entries no longer in the store: entries were deleted"
HASH_EDITED = f"hold entries whose hash is not a SHA-256 in hex: {EDITED}"


def _log_finding(code: HeadFinding, leaves: list[int], meaning: str) -> Finding:
    return Finding(code, (), f"{len(leaves)} leaves of the log {meaning} (first: leaf {leaves[0]})")


def matches(log: MerkleLog, head: SignedTreeHead) -> bool:
    """Whether ``log`` has ``head``'s root at ``head``'s size."""
    return head.tree_size <= len(log) and log.root(head.tree_size) == head.root_hash


def _mismatch(number: int, head: SignedTreeHead, size: int, where: str) -> Finding:
    if head.tree_size > size:
        problem = (
            f"they cover more entries than the store's log holds ({size}): entries were "
            "removed, or the store is older than the heads"
        )
        return Finding(
            HeadFinding.BEYOND_STORE,
            (number,),
            f"head {number} covers {head.tree_size} entries but the store's log holds {size}: "
            "entries were removed, or the store is older than the head",
            (head.tree_size,),
            problem,
        )
    problem = (
        "the store's log does not have their roots at their sizes: the store was rewritten "
        f"after they were issued, or they are of another history{where}"
    )
    return Finding(
        HeadFinding.NOT_IN_STORE,
        (number,),
        f"head {number} (size {head.tree_size}, issued {head.issued_at.isoformat()}) does not "
        "match the store's log at that size: the store was rewritten after it was issued, or "
        f"the head is of another history{where}",
        (head.tree_size,),
        problem,
    )


def _forks(kept: list[tuple[int, SignedTreeHead]], matching: dict[int, bool]) -> list[Finding]:
    """A finding per pair of kept heads that do not extend each other, with what to do."""
    sizes = {number: head.tree_size for number, head in kept}
    return [
        Finding(
            HeadFinding.FORK,
            pair,
            f"heads {pair[0]} and {pair[1]} do not extend each other: {why}; "
            f"{store_side(pair, matching)}; {FORK_ADVICE}",
            (sizes[pair[0]], sizes[pair[1]]),
            FORK_ADVICE,
        )
        for pair, why in sorted(fork_pairs(kept, matching).items())
    ]
