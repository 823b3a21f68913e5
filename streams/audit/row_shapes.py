"""Entries and case heads whose columns do not hold what the hub writes there.

SQLite keeps any value in any column: an edit outside the hub can leave text where the hub
writes a number (``seq``), a number or bytes where it writes text, text that is not UTF-8
(:mod:`streams.audit.stored_text`), a moment that does not parse, or no value at all in a table
rebuilt without its constraints. The chain code takes the hub's types for granted and would
stop on such a value, so these checks run first: each reports the entry as edited outside the
hub, naming its case, seq and column, never the value stored there.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeGuard

from streams.audit.stored_text import UndecodableText
from streams.audit.tables import AuditRow
from streams.domain.chain import ChainBreak

#: The columns of an entry, by what the hub writes into them.
TEXT_COLUMNS = (
    "case_id",
    "event_id",
    "event_type",
    "prev_hash",
    "hash",
    "source_topic",
    "disclosures",
    "key_id",
    "hub_key_id",
)
NUMBER_COLUMNS = ("seq", "source_partition", "source_offset")
BYTE_COLUMNS = ("event", "signature", "hub_signature", "vaulted_disclosures")
#: Characters of a UUID written out, as the hub writes case ids.
UUID_LENGTH = 36
#: What the reasons end with.
EDITED = "the row was edited outside the hub"


def kind_of(value: object) -> str:
    """What ``value`` is, in words that quote nothing of it."""
    if value is None:
        return "no value"
    if isinstance(value, UndecodableText):
        return "bytes that are not UTF-8 text"
    kinds: tuple[tuple[type, str], ...] = (
        (bool, "a truth value"),
        (int, "a whole number"),
        (float, "a fraction"),
        (str, "text"),
        (bytes, "bytes"),
        (datetime, "a moment"),
    )
    return next((said for cls, said in kinds if isinstance(value, cls)), type(value).__name__)


def is_text(value: object) -> bool:
    """Whether ``value`` is text the hub could have written."""
    return isinstance(value, str) and not isinstance(value, UndecodableText)


def is_number(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a whole number (a bool is not one)."""
    return isinstance(value, int) and not isinstance(value, bool)


def shape_problem(row: AuditRow) -> str | None:
    """The first column of ``row`` that holds what the hub never writes there, in words."""
    expected: tuple[tuple[tuple[str, ...], Any, str], ...] = (
        (TEXT_COLUMNS, is_text, "text"),
        (NUMBER_COLUMNS, is_number, "a whole number"),
        (BYTE_COLUMNS, lambda value: isinstance(value, bytes), "bytes"),
        # A stored moment that does not parse reads as None (tables.StoredMoment).
        (("recorded_at",), lambda value: isinstance(value, datetime), "a readable moment"),
    )
    for columns, fits, wanted in expected:
        for column in columns:
            value = getattr(row, column)
            if not fits(value):
                return f"its {column} holds {kind_of(value)} where the hub writes {wanted}"
    return None


def first_misshapen(rows: Sequence[AuditRow]) -> ChainBreak | None:
    """The first of one case's entries holding what the hub never writes, as a chain break.

    An entry whose own seq is not a number is reported at the first seq the others lack: the
    database sorts it apart from them, so its place in the trail says nothing.
    """
    for row in rows:
        problem = shape_problem(row)
        if problem is not None:
            seq = row.seq if is_number(row.seq) else _first_missing(rows)
            return ChainBreak(seq, f"{problem}: {EDITED}")
    return None


def _first_missing(rows: Sequence[AuditRow]) -> int:
    numbered = {row.seq for row in rows if is_number(row.seq)}
    return next(seq for seq in range(1, len(rows) + 2) if seq not in numbered)


def head_problem(head: tuple[Any, Any]) -> str | None:
    """What is wrong with a case's head ``(last_seq, last_hash)`` if not of the hub's types."""
    last_seq, last_hash = head
    if not is_number(last_seq):
        return f"the case's head holds {kind_of(last_seq)} as its seq: {EDITED}"
    if not is_text(last_hash):
        return f"the case's head holds {kind_of(last_hash)} as its hash: {EDITED}"
    return None


def case_label(case_id: object) -> str:
    """``case_id`` as a finding may show it: a case id, or what stands where one belongs.

    Every case id the hub writes is a UUID; anything else was written around it and may be a
    name, so it is described, not shown.
    """
    if is_text(case_id) and len(str(case_id)) == UUID_LENGTH:
        try:
            uuid.UUID(str(case_id))
            return str(case_id)
        except ValueError:
            pass
    return _not_a_case(case_id)


def _not_a_case(case_id: object) -> str:
    kind = "text that is not a case id" if is_text(case_id) else kind_of(case_id)
    return f"[{kind} where a case id belongs]"


def clear_disclosures(row: AuditRow) -> list[dict[str, str]]:
    """The disclosures an entry of signing format 1 keeps in clear (JSON, ``[]`` since format 2).

    Raises:
        ValueError: they are not a JSON list of ``{field, salt, value}`` texts.
    """
    unreadable = ValueError(f"its disclosures are not a list of disclosures: {EDITED}")
    try:
        stored = json.loads(row.disclosures or "[]") if is_text(row.disclosures) else None
    except (ValueError, RecursionError):
        raise unreadable from None
    if not isinstance(stored, list) or not all(_disclosure(item) for item in stored):
        raise unreadable
    return stored


def _disclosure(item: object) -> bool:
    return isinstance(item, dict) and all(
        is_text(item.get(name)) for name in ("field", "salt", "value")
    )
