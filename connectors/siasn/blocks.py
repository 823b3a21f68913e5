"""SIASN's block log → ``PersonnelDataBlocked`` / ``PersonnelDataUnblocked``, ``siasn-blocks``.

The ``siasn`` connector asks SIASN to block a civil servant's personnel data when the follow-up
deadline of a recommendation is breached, and SIASN lifts the block when the sanction decree
is recorded or the case is closed. What SIASN actually applied, BKN reports to the hub: this
connector reads SIASN's block log (``GET /blocks/changes?after=N&limit=M``, rows numbered by a
counter that only grows; :mod:`connectors.siasn.block_log`) and publishes, signed as BKN, one
``PersonnelDataBlocked`` for each block applied and one ``PersonnelDataUnblocked`` for each
block lifted. The checkpoint is the last row's number, so a second read from it publishes
nothing twice; each event's id derives from the block reference, so a row read again (after a
crash before the checkpoint was stored) yields the same event, which the hub recognises.

A row the hub could not take is dead-lettered with a reason naming the column to correct,
never its value (a row holds the NIP): a block SIASN's operators made without linking it to a
neutrality case (``missing_case_reference``), a NIP that is not 18 digits, a reason outside
the shared enums, a time without its UTC offset. The log only grows and the checkpoint moves
past a dead-lettered row: the block is corrected in SIASN, which logs it anew, or the row is
corrected in SIASN's log and read again from the position the reason names
(``kawal connector run siasn-blocks --config FILE --reread-after N``); rows after it read again
yield the events the hub already holds, which it recognises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from connectors.base import Event, InboundConnector, PermanentError, SourceRecord, TransientError
from connectors.http import get_json
from connectors.ids import event_id_for
from connectors.siasn.block_log import BLOCKED, UNBLOCKED
from connectors.siasn.connector import SiasnConfig
from schemas.envelope import envelope
from schemas.field_formats import is_nip
from schemas.identity import canonical_case_id
from streams.domain.institutions import INSTITUTION_ID

#: The event each kind of row stands for, and the enum its ``reason`` is a symbol of.
EVENTS = {
    BLOCKED: ("PersonnelDataBlocked", "kawal.BlockReason"),
    UNBLOCKED: ("PersonnelDataUnblocked", "kawal.UnblockReason"),
}
#: SIASN's block references and decree numbers: codes, never a name or a NIP.
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._-]{0,63}")
#: A value safe to quote in a reason: an enum-like code.
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
#: What every reason tells to do: the log only grows, so a row read is not read again unless
#: the connector is told to (:func:`_reread`).
_FIX = (
    "correct the block in SIASN so that its log records it anew (a block made by hand: lift "
    "it and block again from its neutrality case)"
)


class SiasnBlocks(InboundConnector[SiasnConfig]):
    """Blocks SIASN applied and lifted → ``PersonnelDataBlocked`` / ``PersonnelDataUnblocked``."""

    name = "siasn-blocks"

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        """Up to ``limit`` rows of SIASN's block log numbered above ``after``.

        Raises:
            TransientError: SIASN cannot be reached, answers 5xx, refuses the token, or
                answers without a readable page (retried, and logged each time).
        """
        query = urlencode({"after": _row_number(after), "limit": limit})
        url = f"{str(self.config.base_url).rstrip('/')}/blocks/changes?{query}"
        headers = {"Authorization": f"Bearer {self.config.token.get_secret_value()}"}
        status, answer = get_json(url, headers, self.config.timeout_seconds, system="SIASN")
        if status in (401, 403):
            raise TransientError(
                f"SIASN refused the bearer token (HTTP {status}); renew `token` in the "
                "siasn-blocks configuration"
            )
        if status != 200:
            raise TransientError(f"SIASN answered HTTP {status} to a read of its block log")
        return [_record(row) for row in _rows(answer)]

    def to_events(self, record: SourceRecord) -> list[Event]:
        """The ``PersonnelDataBlocked`` or ``PersonnelDataUnblocked`` of one log row.

        Raises:
            PermanentError: the row names no case, or a column the shared schemas cannot take.
        """
        try:
            return self._events(record.payload)
        except PermanentError as exc:
            raise PermanentError(exc.reason_code, f"{exc.reason}; {_reread(record)}") from None

    def _events(self, row: Mapping[str, Any]) -> list[Event]:
        change = row.get("change")
        if change not in EVENTS:
            raise PermanentError(
                "unknown_block_change",
                f"change {_quoted(change)} is neither {BLOCKED} nor {UNBLOCKED}; {_FIX}",
            )
        event_type, reason_enum = EVENTS[change]
        reference = _reference(row, "blocking_reference")
        if reference is None:
            raise PermanentError("invalid_blocking_reference", f"blocking_reference: {_FIX}")
        head = {
            "envelope": self._envelope(row, event_type, reference),
            "blocking_reference": reference,
            "reason": self._reason(row, reason_enum),
            "subject_nip": _nip(row),
        }
        if change == BLOCKED:
            return [Event(event_type, head | _block_fields(row))]
        return [Event(event_type, head | _unblock_fields(row))]

    def _envelope(self, row: Mapping[str, Any], event_type: str, reference: str) -> dict[str, Any]:
        case_ref = row.get("case_ref")
        case_id = canonical_case_id(case_ref) if isinstance(case_ref, str) else None
        if case_id is None:
            raise PermanentError(
                "missing_case_reference",
                f"the block names no neutrality case (case_ref is not the hub's case id); {_FIX}",
            )
        return envelope(
            event_id=event_id_for(self.institution, f"block/{reference}", event_type),
            case_id=case_id,
            event_type=event_type,
            event_time=_time(row, "at"),
            source=self.institution,
            actor_ref=f"system:{self.institution}",
        )

    def _reason(self, row: Mapping[str, Any], enum: str) -> str:
        schema = self.context.catalog.schema(enum)
        value = row.get("reason")
        if value in schema["symbols"] and value != schema.get("default"):
            return str(value)
        raise PermanentError(
            "invalid_block_reason",
            f"reason {_quoted(value)} is not a {enum} symbol (schemas/avro/{enum}.avsc); {_FIX}",
        )


def _row_number(position: str | None) -> int:
    """The block log number a position stands for (0 before the first row).

    Raises:
        TransientError: the position is no row number (a wrong ``--reread-after``); retried
            and logged until the connector is restarted with a row number.
    """
    if position is None:
        return 0
    if position.isascii() and position.isdecimal():
        return int(position)
    raise TransientError(
        "the checkpoint of siasn-blocks is not a row number of SIASN's block log; restart it "
        "with `--reread-after N`, N the number of the last row already read (0: from the start)"
    )


def _reread(record: SourceRecord) -> str:
    """How to read a row again once it is corrected in SIASN's log itself."""
    before = int(record.position) - 1
    return (
        "or, once the row is corrected in SIASN's log itself, read it again: `kawal connector "
        f"run siasn-blocks --config FILE --reread-after {before}`"
    )


def _rows(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    changes = answer.get("changes")
    if not isinstance(changes, list) or not all(
        isinstance(row, dict) and type(row.get("seq")) is int for row in changes
    ):
        raise TransientError(
            "SIASN answered a read of its block log without a list of numbered changes; "
            "check the API version SIASN serves at `base_url`"
        )
    return changes


def _record(row: Mapping[str, Any]) -> SourceRecord:
    return SourceRecord(
        position=str(row["seq"]), payload=row, source_id=f"block-change/{row['seq']}"
    )


def _block_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    agency = row.get("employing_agency")
    if not (isinstance(agency, str) and INSTITUTION_ID.fullmatch(agency)):
        raise PermanentError("invalid_employing_agency", f"employing_agency: {_FIX}")
    breach = row.get("breach_event_id")
    breach_id = canonical_case_id(breach) if isinstance(breach, str) else None
    if breach is not None and breach_id is None:
        raise PermanentError("invalid_breach_event_id", f"breach_event_id is no UUID; {_FIX}")
    return {
        "employing_agency": agency,
        "blocked_at": _time(row, "at"),
        "breach_event_id": breach_id,
    }


def _unblock_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    decree = row.get("decree_number")
    if decree is not None and _reference(row, "decree_number") is None:
        raise PermanentError("invalid_decree_number", f"decree_number: {_FIX}")
    return {"unblocked_at": _time(row, "at"), "sanction_decree_number": decree}


def _nip(row: Mapping[str, Any]) -> str:
    nip = row.get("nip")
    if isinstance(nip, str) and is_nip(nip):
        return nip
    raise PermanentError("invalid_nip", f"nip is not the civil servant's 18-digit NIP; {_FIX}")


def _time(row: Mapping[str, Any], column: str) -> datetime:
    value = row.get(column)
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise PermanentError(
            "invalid_time", f"{column} is not an ISO 8601 time with its UTC offset; {_FIX}"
        )
    return moment


def _reference(row: Mapping[str, Any], column: str) -> str | None:
    value = row.get(column)
    return value if isinstance(value, str) and _REFERENCE.fullmatch(value) else None


def _quoted(value: Any) -> str:
    return repr(value) if isinstance(value, str) and _CODE.fullmatch(value) else "(not a code)"
