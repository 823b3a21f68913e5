"""One row of an inspectorate batch → the shared event it stands for.

A row is a flat mapping of column to value: a CSV line under its header, or one object of a
JSON batch's ``records``. Its ``record_type`` says what it is:

``report`` → ``ReportReceived``: a report the inspectorate itself received (it opens a case)
    ``case_number``, ``election``, ``region_code``, ``employing_agency``, ``violation`` (a
    ``kawal.ViolationCategory`` symbol), ``discovered_on``, ``summary``, ``subject_nip``,
    ``subject_name``, ``reporter_ref`` (the office's own reference of the reporter, a
    ``kind:token``; the connector sends it as the reporter's pseudonym in the case, see
    :mod:`connectors.inspektorat.reporters`); ``reporter_identity`` is optional.
``examination`` → ``ExaminationHeld``: minutes of an examination the inspectorate took part in
    the case as ``case_id`` (the hub's id), or as ``case_reporter`` and ``case_number`` (the
    reporting institution and its own number); ``held_on``, ``minutes_reference``,
    ``subject_attended``, ``includes_direct_superior``, ``includes_personnel_unit``;
    ``member_refs`` is optional (CSV: separated by ``;``).

Every row has ``record_id`` (the office's own id; event ids derive from it, so a re-exported
record yields the same event) and ``recorded_at`` (ISO 8601; a time without an offset is local
time of the configured timezone); ``actor_ref`` is optional. Dates are ``YYYY-MM-DD``; yes/no
columns take ``ya``/``tidak``, ``true``/``false`` or ``1``/``0``. Those are the only two events
the ``regional_inspectorate`` role may emit (``kawal.emitted_by``).

A row that breaks these rules raises :class:`PermanentError` whose reason names the column and
what was expected, never the value (it may be personal data).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from connectors.base import Event, PermanentError
from connectors.ids import event_id_for
from schemas.envelope import envelope
from schemas.errors import InvalidIdentifierError
from schemas.field_formats import ELECTION, NIP, REGION_CODE, holds_nik_or_nip, is_actor_ref
from schemas.identity import case_id_for

#: Key under which a CSV row keeps fields beyond its header (``csv.DictReader``'s restkey).
EXTRA_FIELDS = "__extra_fields__"
#: Separator of ``member_refs`` in a CSV cell.
LIST_SEPARATOR = ";"

_RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
#: A pseudonymous reference is ``kind:token`` (``officer:7f3a9c``): never a name or a NIP.
_REFERENCE = re.compile(r"[a-z]+:[A-Za-z0-9._:-]{1,64}")
_YES = frozenset({"ya", "y", "true", "yes", "1"})
_NO = frozenset({"tidak", "t", "false", "no", "0"})


@dataclass(frozen=True)
class RowMapper:
    """Maps rows of one institution's batches.

    Attributes:
        institution: The inspectorate the rows come from (``inspektorat.3374``).
        timezone: Zone of timestamps written without an offset.
        violations: Known ``kawal.ViolationCategory`` symbols.
    """

    institution: str
    timezone: tzinfo
    violations: frozenset[str]

    def events(self, row: Any) -> list[Event]:
        """The event ``row`` stands for.

        Raises:
            PermanentError: the row is malformed; the reason names the column.
        """
        fields = _Fields(row)
        kind = fields.choice("record_type", frozenset({"report", "examination"}))
        if kind == "report":
            return [self._report(fields)]
        return [self._examination(fields)]

    def _envelope(self, fields: _Fields, event_type: str, case_id: str) -> dict[str, Any]:
        record_id = fields.matching("record_id", _RECORD_ID, "an id of letters, digits, ./_-")
        return envelope(
            event_id=event_id_for(self.institution, record_id, event_type),
            case_id=case_id,
            event_type=event_type,
            event_time=self._recorded_at(fields).astimezone(UTC),
            source=self.institution,
            actor_ref=fields.actor() or f"system:{self.institution}",
        )

    def _recorded_at(self, fields: _Fields) -> datetime:
        recorded = fields.timestamp("recorded_at")
        return recorded if recorded.tzinfo else recorded.replace(tzinfo=self.timezone)

    def _report(self, fields: _Fields) -> Event:
        case_number = fields.text("case_number")
        if holds_nik_or_nip(case_number):  # it travels in clear and names the case's id
            raise _bad(
                "bad_value",
                "column case_number is not the office's own register number: it holds 16 or 18 "
                "digits in a row, as a NIK or NIP does",
            )
        discovered_on = fields.date("discovered_on")
        if discovered_on > self._recorded_at(fields).astimezone(self.timezone).date():
            raise _bad("bad_date", "discovered_on is after recorded_at")
        record = {
            "envelope": self._envelope(
                fields, "ReportReceived", case_id_for(self.institution, case_number)
            ),
            "case_number": case_number,
            "election": fields.matching("election", ELECTION, "an election's name as text"),
            "region_code": fields.matching("region_code", REGION_CODE, "a Kemendagri code"),
            "employing_agency": fields.text("employing_agency"),
            "violation": fields.choice("violation", self.violations),
            "discovered_on": discovered_on,
            "summary": fields.text("summary"),
            "subject_nip": fields.matching("subject_nip", NIP, "an 18-digit NIP"),
            "subject_name": fields.text("subject_name"),
            "reporter_ref": fields.reference("reporter_ref", required=True),
            "reporter_identity": fields.optional("reporter_identity"),
        }
        return Event("ReportReceived", record)

    def _examination(self, fields: _Fields) -> Event:
        team = {
            "includes_direct_superior": fields.boolean("includes_direct_superior"),
            # The office exports only examinations it took part in: that is why it emits them.
            "includes_inspectorate": True,
            "includes_personnel_unit": fields.boolean("includes_personnel_unit"),
            "inspectorate": self.institution,
            "member_refs": fields.references("member_refs"),
        }
        record = {
            "envelope": self._envelope(fields, "ExaminationHeld", _case_of(fields)),
            "examination_team": team,
            "held_on": fields.date("held_on"),
            "minutes_reference": fields.text("minutes_reference"),
            "subject_attended": fields.boolean("subject_attended"),
        }
        return Event("ExaminationHeld", record)


def _case_of(fields: _Fields) -> str:
    """The examined case: the hub's case id, or the reporting institution and its number."""
    if fields.optional("case_id") is None:
        try:
            return case_id_for(fields.text("case_reporter"), fields.text("case_number"))
        except InvalidIdentifierError:
            raise _bad("bad_value", "case_reporter is not an institution id") from None
    try:
        return str(uuid.UUID(fields.text("case_id")))
    except ValueError:
        raise _bad("bad_value", "case_id is not a UUID") from None


def _bad(code: str, reason: str) -> PermanentError:
    return PermanentError(code, f"{reason}; correct the row in the office system and export it")


class _Fields:
    """Typed access to a row's columns; every failure names the column, never its value."""

    def __init__(self, row: Any) -> None:
        if not isinstance(row, Mapping):
            raise _bad("not_a_record", "the row is not a record of named columns")
        if row.get(EXTRA_FIELDS):
            raise _bad("extra_fields", "the row has more fields than the header")
        self.row = row

    def optional(self, name: str) -> str | None:
        """The column's text; None if absent or empty."""
        value = self.row.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise _bad("bad_value", f"column {name} must be text")
        return value.strip() or None

    def text(self, name: str) -> str:
        """The column's text, which must be there and not empty."""
        if name not in self.row or self.row[name] is None:
            raise _bad("missing_column", f"column {name} is missing")
        value = self.optional(name)
        if value is None:
            raise _bad("empty_value", f"column {name} is empty")
        return value

    def matching(self, name: str, pattern: re.Pattern[str], expected: str) -> str:
        """The column's text, which must match ``pattern`` (described as ``expected``)."""
        value = self.text(name)
        if not pattern.fullmatch(value):
            raise _bad("bad_value", f"column {name} is not {expected}")
        return value

    def choice(self, name: str, allowed: frozenset[str]) -> str:
        """The column's text, which must be one of ``allowed``."""
        value = self.text(name)
        if value not in allowed:
            raise _bad("unknown_enum", f"column {name} holds a value this hub does not know")
        return value

    def date(self, name: str) -> date:
        """The column as a ``YYYY-MM-DD`` date."""
        try:
            return date.fromisoformat(self.text(name))
        except ValueError:
            raise _bad("bad_date", f"column {name} is not a date (YYYY-MM-DD)") from None

    def timestamp(self, name: str) -> datetime:
        """The column as an ISO 8601 timestamp (offset optional)."""
        try:
            return datetime.fromisoformat(self.text(name))
        except ValueError:
            raise _bad("bad_date", f"column {name} is not an ISO 8601 timestamp") from None

    def boolean(self, name: str) -> bool:
        """The column as yes/no (JSON ``true``/``false`` too)."""
        value = self.row.get(name)
        if isinstance(value, bool):
            return value
        text = self.text(name).lower()
        if text not in _YES | _NO:
            raise _bad("bad_value", f"column {name} is not yes/no (ya/tidak, true/false, 1/0)")
        return text in _YES

    def reference(self, name: str, *, required: bool = False) -> str | None:
        """A pseudonymous reference (``kind:token``); None if optional and absent."""
        value = self.text(name) if required else self.optional(name)
        if value is not None and not _REFERENCE.fullmatch(value):
            raise _bad("bad_value", f"column {name} is not a pseudonymous reference (kind:token)")
        return value

    def actor(self) -> str | None:
        """The optional ``actor_ref``: a reference without a NIP or NIK in it, or None."""
        value = self.reference("actor_ref")
        if value is not None and not is_actor_ref(value):
            # It travels in clear to every party and no erasure reaches it.
            raise _bad(
                "bad_value",
                "column actor_ref is not a pseudonymous reference: it holds ten digits in a row, "
                "as a NIP or NIK does",
            )
        return value

    def references(self, name: str) -> list[str]:
        """A list of pseudonymous references (JSON list, or a ``;``-separated cell)."""
        value = self.row.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            value = [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
        if not isinstance(value, list) or not all(
            isinstance(ref, str) and _REFERENCE.fullmatch(ref) for ref in value
        ):
            raise _bad("bad_value", f"column {name} must list pseudonymous references only")
        return value
