"""One case's trail checked against the head its writer stored with it.

The entries must form an unbroken chain (:func:`streams.domain.chain.verify_chain`) that ends
exactly at the case's head: the newest seq and hash the audit sink stored in the same
transaction as the entries. So a trail cut short at its end, or extended outside the hub, is
found as surely as a flipped byte. ``kawal audit verify`` checks every case so, and each trail
view checks the case it shows (:mod:`streams.audit.trail`). Both read while the sink writes: a
reader reads the head before the entries, and reads both again before it reports a break.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streams.audit.row_shapes import first_misshapen, head_problem
from streams.audit.tables import AuditRow
from streams.domain.chain import ChainBreak, verify_chain

if TYPE_CHECKING:
    from streams.audit.store import AuditStore

Head = tuple[int, str]


def verify_case(rows: list[AuditRow], head: Head | None) -> ChainBreak | None:
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


def check_stored_case(
    store: AuditStore, case_id: str, head: Head | None, rows: list[AuditRow]
) -> tuple[list[AuditRow], ChainBreak | None]:
    """The case's entries and their first break, given its head and entries read in that order.

    Entries the sink stored after the head was read (a case's next entries, or a new case's
    first, whose head was not there yet) are not the head's: the entries up to it are checked.
    A case found broken is read again, head first, once: the sink may have stored it between
    the two reads in a way the first reading cannot tell apart from an edit (a new case), and a
    trail edited outside the hub is as broken the second time.
    """
    chain_break = first_misshapen(rows) or verify_case(up_to(rows, head), head)
    if chain_break is None:
        return rows, None
    head = store.case_head(case_id)
    rows = store.trail(case_id)
    return rows, first_misshapen(rows) or verify_case(up_to(rows, head), head)


def up_to(rows: list[AuditRow], head: Head | None) -> list[AuditRow]:
    """The well-shaped ``rows`` up to the head's seq: those written with it or before."""
    if head is None or not isinstance(head[0], int):
        return rows  # the check reports a missing or damaged head
    return [row for row in rows if row.seq <= head[0]]
