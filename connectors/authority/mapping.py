"""How an outbox row of the authority becomes a shared event (pure: no database access).

Each kind has a payload model; fields the hub does not need are ignored, a missing or invalid
field is a :class:`PermanentError` naming the field, never its value (payloads hold names and
questions). Codes (violation, sanction level and kind, closing reason, party) are checked
against the shared schemas' enums, so a symbol added to a schema needs no connector release.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, tzinfo
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from connectors.base import Event, PermanentError
from connectors.ids import event_id_for
from connectors.json_input import read_json
from schemas.catalog import SchemaCatalog
from schemas.envelope import envelope
from schemas.errors import InvalidIdentifierError
from schemas.field_formats import is_actor_ref
from schemas.identity import case_id_for
from streams.domain.sanctions import KIND_LEVEL
from streams.sql_time import as_utc

#: Outbox kinds and the shared event each stands for.
EVENT_OF_KIND = {
    "recommendation.issued": "RecommendationIssued",
    "clarification.requested": "ClarificationRequested",
    "case.closed": "CaseClosed",
}


class OutboxMapper:
    """Maps one outbox row to its shared event (pure: no database access)."""

    def __init__(self, institution: str, catalog: SchemaCatalog, zone: tzinfo = UTC) -> None:
        self.institution = institution
        #: The zone of the database's times without one.
        self.zone = zone
        self.symbols = EnumSymbols(catalog)
        self._bodies: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "RecommendationIssued": self._recommendation,
            "ClarificationRequested": self._clarification,
            "CaseClosed": self._closure,
        }

    def event(self, row: Mapping[str, Any], source_id: str) -> Event:
        """The event of outbox row ``row`` (known to the hub as ``source_id``).

        Raises:
            PermanentError: the row cannot be mapped.
        """
        kind = row["event_kind"]
        event_type = EVENT_OF_KIND.get(kind)
        if event_type is None:
            raise PermanentError(
                "unknown_event_kind",
                f"outbox kind {shown(kind)} has no hub event; the connector maps "
                f"{', '.join(EVENT_OF_KIND)}",
            )
        case_id = case_reference(row.get("reported_by"), row.get("case_number"))
        payload = _json_object(row["payload"], kind)
        actor = parse(Actor, payload, kind).actor
        body = self._bodies[event_type](payload)
        header = envelope(
            # Outbox ids are unique in one database only: should the authority migrate or
            # rebuild it and number rows afresh, the case keeps new events from old ids.
            event_id=event_id_for(self.institution, f"{case_id}/{source_id}", event_type),
            case_id=case_id,
            event_type=event_type,
            event_time=as_utc(row["created_at"], self.zone),
            source=self.institution,
            actor_ref=f"user:{actor}" if actor else f"system:{self.institution}",
        )
        return Event(event_type, {"envelope": header, **body})

    def _recommendation(self, payload: dict[str, Any]) -> dict[str, Any]:
        found = parse(RecommendationPayload, payload, "recommendation.issued")
        violation = self.symbols.check("ViolationCategory", "violation", found.violation)
        level = self.symbols.check("SanctionLevel", "sanction_level", found.sanction_level)
        kind = self.symbols.check("SanctionKind", "sanction_kind", found.sanction_kind)
        if found.proven and level is None:
            _refuse("a proven recommendation needs sanction_level")
        if not found.proven and (level or kind):
            _refuse("a recommendation that is not proven recommends no sanction")
        if kind is not None and KIND_LEVEL.get(kind) != level:
            _refuse("sanction_kind does not belong to sanction_level (PP 94/2021 Art. 8)")
        return {
            "authority": self.institution,
            "proven": found.proven,
            "violation": violation,
            "sanction_level": level,
            "sanction_kind": kind,
            "follow_up_days": found.follow_up_days,
        }

    def _clarification(self, payload: dict[str, Any]) -> dict[str, Any]:
        found = parse(ClarificationPayload, payload, "clarification.requested")
        return {
            "clarification_id": str(found.clarification_id),
            "requested_from": self.symbols.check(
                "ClarificationParty", "requested_from", found.requested_from
            ),
            "addressee": found.addressee,
            "letter_number": found.letter_number,
            "due_on": found.due_on,
            "questions": found.questions,
        }

    def _closure(self, payload: dict[str, Any]) -> dict[str, Any]:
        found = parse(ClosurePayload, payload, "case.closed")
        reason = self.symbols.check("ClosingReason", "closing_reason", found.closing_reason)
        merged = found.merged_into
        if (reason == "MERGED_INTO_ANOTHER_CASE") != (merged is not None):
            _refuse("merged_into is required for MERGED_INTO_ANOTHER_CASE and only for it")
        sanction = found.final_sanction
        if sanction is not None:
            level = self.symbols.check("SanctionLevel", "final_sanction.level", sanction.level)
            kind = self.symbols.check("SanctionKind", "final_sanction.kind", sanction.kind)
            if KIND_LEVEL.get(str(kind)) != level:
                _refuse("final_sanction.kind does not belong to final_sanction.level")
        return {
            "closing_reason": reason,
            "closed_on": found.closed_on,
            "final_sanction": None if sanction is None else sanction.model_dump(),
            "merged_into_case_id": None
            if merged is None
            else case_reference(merged.reported_by, merged.case_number),
            "remarks": found.remarks,
        }


class _Payload(BaseModel):
    # Fields the hub does not need (internal notes, letter texts) are ignored, not refused.
    model_config = ConfigDict(extra="ignore", frozen=True)


P = TypeVar("P", bound=_Payload)


class Actor(_Payload):
    """Who acted: the staff member's internal user id, never a name or a number that names."""

    actor: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")

    @field_validator("actor")
    @classmethod
    def _pseudonymous(cls, actor: str | None) -> str | None:
        # actor_ref travels in clear to every party and no erasure reaches it.
        if actor is not None and not is_actor_ref(f"user:{actor}"):
            raise ValueError("has ten digits in a row, as a NIP or NIK has: give the user id")
        return actor


class RecommendationPayload(_Payload):
    """Payload of ``recommendation.issued``."""

    proven: StrictBool
    violation: str
    sanction_level: str | None = None
    sanction_kind: str | None = None
    follow_up_days: int = Field(default=14, ge=1, le=365)


class ClarificationPayload(_Payload):
    """Payload of ``clarification.requested``."""

    clarification_id: uuid.UUID
    requested_from: str
    addressee: str = Field(min_length=1)
    letter_number: str = Field(min_length=1)
    due_on: date
    questions: str


class SanctionPayload(_Payload):
    """A sanction in force at closing."""

    level: str
    kind: str


class CaseReference(_Payload):
    """A case by its first reporter and that reporter's case number."""

    reported_by: str
    case_number: str


class ClosurePayload(_Payload):
    """Payload of ``case.closed``."""

    closing_reason: str
    closed_on: date
    final_sanction: SanctionPayload | None = None
    merged_into: CaseReference | None = None
    remarks: str | None = None


def parse(model: type[P], payload: dict[str, Any], kind: str) -> P:
    """``payload`` validated as ``model``.

    Raises:
        PermanentError: names the invalid fields, never their values.
    """
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in error["loc"]) for error in exc.errors()})
        raise PermanentError(
            "malformed_payload",
            f"{kind} payload has missing or invalid {', '.join(fields)}; correct the outbox row",
        ) from None


class EnumSymbols:
    """Symbols of the shared schemas' enums, so new symbols need no connector release."""

    def __init__(self, catalog: SchemaCatalog) -> None:
        self.catalog = catalog

    def check(self, enum: str, field: str, value: str | None) -> str | None:
        """``value`` if it is a symbol of ``kawal.<enum>`` (None stays None).

        Raises:
            PermanentError: not a symbol, or the readers' fallback ``UNKNOWN``.
        """
        if value is None:
            return None
        schema = self.catalog.schema(f"kawal.{enum}")
        if value not in schema["symbols"] or value == schema.get("default"):
            raise PermanentError(
                "invalid_code",
                f"{field} {shown(value)} is not a kawal.{enum} symbol "
                f"(schemas/avro/kawal.{enum}.avsc)",
            )
        return value


def case_reference(reported_by: Any, case_number: Any) -> str:
    """The hub's case id of a case named by its first reporter and that reporter's number.

    Raises:
        PermanentError: either part missing, or not a valid pair.
    """
    if not (isinstance(reported_by, str) and isinstance(case_number, str)):
        raise PermanentError(
            "missing_case_reference",
            "no case reference: reported_by and case_number are both required",
        )
    try:
        return case_id_for(reported_by, case_number)
    except InvalidIdentifierError:
        raise PermanentError(
            "missing_case_reference", "reported_by or case_number is empty or invalid"
        ) from None


#: A value safe to quote in a reason: an enum symbol or a dotted kind, never a name or a NIP.
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}|[a-z_]{1,32}(?:\.[a-z_]{1,32})+")


def shown(value: Any) -> str:
    """``value`` quoted if it looks like a code; otherwise only that it is not one."""
    return repr(value) if isinstance(value, str) and _CODE.fullmatch(value) else "(not a code)"


def _json_object(text: Any, kind: str) -> dict[str, Any]:
    try:
        payload = read_json(text)
    except (TypeError, ValueError):
        payload = None
    if not isinstance(payload, dict):
        raise PermanentError(
            "malformed_payload", f"{kind} payload is not a JSON object; correct the outbox row"
        )
    return payload


def _refuse(why: str) -> NoReturn:
    raise PermanentError("inconsistent_payload", f"{why}; correct the outbox row")
