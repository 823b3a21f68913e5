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
  histories.

Findings name heads by their line in the file, never a case's content.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from schemas.errors import KawalError
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
    extension_problem,
    signature_problem,
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


@dataclass(frozen=True)
class HeadsReport:
    """Outcome of checking a file of heads against the store."""

    #: Heads read from the file, and how many of them are the hub's.
    read: int
    signed: int
    #: Leaves in the store's log.
    tree_size: int
    findings: list[Finding] = field(default_factory=list)

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
            findings.append(Finding(HeadFinding.UNREADABLE, (number,), f"head {number}: {exc}"))
            continue
        refusal = signature_problem(head, keys)
        if refusal is not None:
            findings.append(Finding(refusal.code, (number,), not_the_hubs(number, refusal, keys)))
            continue
        kept.append((number, head))
    largest = max((head.tree_size for _, head in kept), default=0)
    log, log_findings = store_log(store, largest)
    findings += log_findings
    matching = {number: _matches(log, head) for number, head in kept}
    findings += [
        _mismatch(number, head, len(log), _last_match_before(kept, matching, head), store)
        for number, head in kept
        if not matching[number]
    ]
    findings += forks(kept, matching)
    return HeadsReport(read, len(kept), len(log), findings)


def not_the_hubs(number: int, refusal: HeadRefusal, keys: KeyRegistry) -> str:
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
            f"head {number} is not the hub's: {fact}, before the head was issued: whoever held "
            "the key then could have signed it, so it proves nothing about the store; the "
            "hub's heads since its restart are signed with its next key"
        )
    return (
        f"head {number} is not the hub's: {fact}. It was not signed by a hub key that "
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
        raise wrong_file
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
        if not is_number(leaf.log_index) or not len(log) <= leaf.log_index < limit:
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


#: What leaves without a usable entry mean.
ENTRIES_DELETED = "hold entries no longer in the store: entries were deleted"
HASH_EDITED = f"hold entries whose hash is not a SHA-256 in hex: {EDITED}"


def _log_finding(code: HeadFinding, leaves: list[int], meaning: str) -> Finding:
    return Finding(code, (), f"{len(leaves)} leaves of the log {meaning} (first: leaf {leaves[0]})")


def forks(kept: list[tuple[int, SignedTreeHead]], matching: dict[int, bool]) -> list[Finding]:
    """Pairs of signed heads that do not extend each other, each pair reported once."""
    pairs: dict[tuple[int, int], str] = {}

    def fork(first: int, second: int, why: str) -> None:
        pairs.setdefault((min(first, second), max(first, second)), why)

    by_size: dict[int, list[tuple[int, SignedTreeHead]]] = {}
    for number, head in kept:
        by_size.setdefault(head.tree_size, []).append((number, head))
    for number, head in kept:
        # A head's own proof from the head published before it, when that one was kept too.
        earlier_heads = by_size.get(head.previous_size, []) if head.previous_size else []
        for earlier_number, earlier in earlier_heads:
            if earlier.tree_size < head.tree_size:
                refusal = extension_problem(earlier, head)
                if refusal is not None:
                    fork(earlier_number, number, refusal.detail)
        for other_number, other in by_size[head.tree_size]:
            if other.root_hash != head.root_hash:
                fork(other_number, number, f"both are of size {head.tree_size}, with two roots")
    # The store's log is a prefix of every head it matches: a smaller head it does not start
    # with is no prefix of that head either.
    smallest_match: tuple[int, SignedTreeHead] | None = None
    for number, head in sorted(kept, key=lambda item: item[1].tree_size, reverse=True):
        if matching[number]:
            smallest_match = (number, head)
        elif smallest_match is not None and smallest_match[1].tree_size > head.tree_size:
            fork(
                number,
                smallest_match[0],
                f"the store matches head {smallest_match[0]} but does not start with head {number}",
            )
    return [
        Finding(
            HeadFinding.FORK, pair, f"heads {pair[0]} and {pair[1]} do not extend each other: {why}"
        )
        for pair, why in sorted(pairs.items())
    ]


def _matches(log: MerkleLog, head: SignedTreeHead) -> bool:
    return head.tree_size <= len(log) and log.root(head.tree_size) == head.root_hash


def _last_match_before(
    kept: list[tuple[int, SignedTreeHead]], matching: dict[int, bool], head: SignedTreeHead
) -> tuple[int, SignedTreeHead] | None:
    """The largest kept head smaller than ``head`` that the store still matches, if any."""
    smaller = [
        (number, other)
        for number, other in kept
        if matching[number] and other.tree_size < head.tree_size
    ]
    return max(smaller, key=lambda item: item[1].tree_size, default=None)


def _mismatch(
    number: int,
    head: SignedTreeHead,
    size: int,
    matched: tuple[int, SignedTreeHead] | None = None,
    store: AuditStore | None = None,
) -> Finding:
    if head.tree_size > size:
        return Finding(
            HeadFinding.BEYOND_STORE,
            (number,),
            f"head {number} covers {head.tree_size} entries but the store's log holds {size}: "
            "entries were removed, or the store is older than the head",
        )
    where = ""
    if matched is not None:
        # The store's first leaves still have the smaller head's root: what changed lies after.
        where = (
            f"; the store still matches head {matched[0]} (size {matched[1].tree_size}), so "
            f"the change is among leaves {matched[1].tree_size} to {head.tree_size - 1}"
        )
        if store is not None:
            where += _entries_among(store, matched[1].tree_size, head.tree_size)
    return Finding(
        HeadFinding.NOT_IN_STORE,
        (number,),
        f"head {number} (size {head.tree_size}, issued {head.issued_at.isoformat()}) does not "
        "match the store's log at that size: the store was rewritten after it was issued, or "
        f"the head is of another history{where}",
    )


#: How many of the entries at changed leaves a finding names.
NAMED_ENTRIES = 3


def _entries_among(store: AuditStore, start: int, end: int) -> str:
    """The entries the store now holds at leaves ``start`` to ``end - 1``, and what to do."""
    named: list[str] = []
    count = 0
    for leaf in TreeLog(store.engine).leaves(start):
        if not is_number(leaf.log_index) or leaf.log_index >= end:
            break
        count += 1
        if len(named) < NAMED_ENTRIES:
            named.append(leaf.named())
    if not named:
        return ""
    more = f" and {count - len(named)} more" if count > len(named) else ""
    return (
        f", where the store now holds {', '.join(named)}{more}: compare those cases' trails "
        "with what the institutions received (their connectors' feed chains), and restore the "
        "audit store from a backup taken before the head was issued"
    )
