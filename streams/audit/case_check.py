"""One case's trail checked against the head its writer stored with it.

The entries must form an unbroken chain (:func:`streams.domain.chain.verify_chain`) that ends
exactly at the case's head: the newest seq and hash the audit sink stored in the same
transaction as the entries. So a trail cut short at its end, or extended outside the hub, is
found as surely as a flipped byte. ``kawal audit verify`` checks every case so, and each trail
view checks the case it shows (:mod:`streams.audit.trail`).
"""

from __future__ import annotations

from streams.audit.row_shapes import first_misshapen, head_problem
from streams.audit.tables import AuditRow
from streams.domain.chain import ChainBreak, verify_chain


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
