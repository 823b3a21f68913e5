"""A PPK's decree registry → ``SanctionImposed``, the ``ppk-decrees`` connector.

When the PPK (the head of the employing agency) signs a sanction decree (*surat keputusan*),
its registry marks the decree ``SIGNED``; only then is the sanction final, so drafts are never
read. Each signed decree becomes one ``SanctionImposed`` whose event id is derived from the
decree number, which the registry assigns once, at signing.

Why the checkpoint is the registry's change sequence, not the row id nor the signing time:

* **Not the row id.** A decree is drafted first and signed later, often after decrees drafted
  after it. With the id as checkpoint, decree 5 signed after decree 6 had been read would lie
  below the checkpoint and never be read.
* **Not ``signed_at`` (+ id).** The signing time is a business value: clerks enter it from the
  paper decree, often days later and back-dated, and a transaction that began earlier can
  commit later with an earlier time. Rows would appear below a checkpoint already stored.
* **The change sequence.** Every insert or update of a decree takes ``change_seq`` from a
  single counter row updated *in the same transaction*. The row lock held until commit makes
  changes take their numbers in commit order, with no gap (a rollback returns its number), so
  once ``n`` is visible every change up to ``n`` is too, and reading ``change_seq > checkpoint``
  misses nothing. Signing a draft, or revoking a signed decree, is a change: it gets a new
  number above the checkpoint and is read then. (A database sequence would not do: its values
  are drawn at insert but become visible at commit, in another order.)

A decree revoked after signing is dead-lettered: the shared schemas have no event that
withdraws a sanction, so a person must record the outcome (an objection or appeal decision).
A decree names its case by the hub's ``case_id`` (as the recommendation the hub delivered to
the registry names it, :mod:`connectors.ppk.inbox`) or by the case reference on the
recommendation letter (the reporting institution and its case number, from which the hub
derives the case id). A decree whose sanction is not a symbol of the shared enums, whose kind
does not belong to its level, which names no case, or whose civil servant's NIP is no NIP or
not the NIP of the subject the case's recommendation names
(:mod:`connectors.ppk.decree_subjects`) is dead-lettered too; reasons never quote the
decree's contents, and the NIP, read only for that comparison, is not in the record.

A decree the connector refuses is dead-lettered and, so that the PPK's office sees it too,
recorded in the registry's ``hub_refusals`` with ``refused_by`` ``connector``
(:meth:`Decrees.rejected`, called by the runtime once the dead letter is in).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select

from connectors.base import (
    ConnectorContext,
    Event,
    InboundConnector,
    PermanentError,
    SourceRecord,
)
from connectors.ids import event_id_for
from connectors.ppk.database import (
    COMPARED_COLUMNS,
    CONNECTOR,
    DECREES,
    HUB_REFUSALS,
    READ_COLUMNS,
    REVOKED,
    SIGNED,
)
from connectors.ppk.decree_subjects import SubjectCheck, check_subject
from connectors.ppk.writes import insert_of, writing
from connectors.source_start import SourceStart
from connectors.sql import DatabaseConfig, outage_is_transient
from schemas.envelope import envelope
from schemas.errors import InvalidIdentifierError
from schemas.field_formats import holds_nik_or_nip, is_actor_ref
from schemas.identity import canonical_case_id, case_id_for
from streams.domain.sanctions import KIND_LEVEL
from streams.sql_time import as_utc

#: What ``hub_refusals`` says of a reason that held a NIK's or a NIP's run of digits.
_WITHHELD = (
    "(the reason is withheld here: it held a number as long as a NIK or NIP); the hub's "
    "operators see it with kawal dlq list --stage connector"
)

#: A value safe to quote in a reason: an enum-like code, which cannot be a name or a NIP.
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


class RegistryConfig(DatabaseConfig):
    """Where the PPK's decree registry is."""

    example_file = "decrees.db"


class Decrees(InboundConnector[RegistryConfig]):
    """Signed sanction decrees → ``SanctionImposed``."""

    name = "ppk-decrees"

    def __init__(self, config: RegistryConfig, context: ConnectorContext) -> None:
        super().__init__(config, context)
        self.engine = config.engine()
        self._start = SourceStart(self.name, "decree registry")
        self._subjects = SubjectCheck(self.name, context.log)

    def read(self, after: str | None, limit: int) -> Sequence[SourceRecord]:
        """Up to ``limit`` decrees signed, or revoked after signing, since change ``after``."""
        final = or_(
            DECREES.c.status == SIGNED,
            and_(DECREES.c.status == REVOKED, DECREES.c.signed_at.is_not(None)),
        )
        with outage_is_transient("decree registry"), self.engine.connect() as connection:
            start = self._start.after(
                int(after or 0),
                lambda: int(
                    connection.execute(select(func.max(DECREES.c.change_seq))).scalar() or 0
                ),
            )
            query = (
                select(*READ_COLUMNS, *COMPARED_COLUMNS)
                .where(DECREES.c.change_seq > start, final)
                .order_by(DECREES.c.change_seq)
                .limit(limit)
            )
            rows = [dict(row._mapping) for row in connection.execute(query)]
            self._subjects.judge(connection, rows, [_case_id_or_none(row) for row in rows])
        return [
            SourceRecord(
                position=str(row["change_seq"]), payload=row, source_id=f"decree/{row['id']}"
            )
            for row in rows
        ]

    def to_events(self, record: SourceRecord) -> list[Event]:
        """The ``SanctionImposed`` of a signed decree.

        Raises:
            PermanentError: revoked, no case reference, a subject NIP that is none or not the
                case's subject's, no number or dates, or a sanction outside the shared enums
                or not of its level.
        """
        decree = record.payload
        if decree["status"] == REVOKED:
            raise PermanentError(
                "decree_revoked",
                "the decree was revoked after it was signed and the hub has no event that "
                "withdraws a sanction; record the outcome as an objection or appeal decision",
            )
        case_id = _case_id(decree)
        check_subject(decree)
        for column in ("decree_number", "effective_on", "signed_at"):
            if decree[column] is None:
                raise PermanentError("incomplete_decree", f"a signed decree needs {column}")
        level = self._symbol("SanctionLevel", "sanction_level", decree["sanction_level"])
        kind = self._symbol("SanctionKind", "sanction_kind", decree["sanction_kind"])
        if KIND_LEVEL.get(kind) != level:
            raise PermanentError(
                "inconsistent_decree",
                "sanction_kind does not belong to sanction_level (PP 94/2021 Art. 8, "
                "PP 42/2004); correct the decree record",
            )
        return [Event("SanctionImposed", self._sanction(decree, case_id, level, kind))]

    def _sanction(
        self, decree: Mapping[str, Any], case_id: str, level: str, kind: str
    ) -> dict[str, Any]:
        signer = decree["signed_by"]
        # An internal user id is quoted in actor_ref; anything else (a name, a NIP) is not
        # passed on: the field travels in clear and is never erased.
        actor = signer if isinstance(signer, str) and is_actor_ref(f"user:{signer}") else None
        return {
            "envelope": envelope(
                event_id=self._event_id(decree["decree_number"]),
                case_id=case_id,
                event_type="SanctionImposed",
                event_time=as_utc(decree["signed_at"], self.config.zone),
                source=self.institution,
                actor_ref=f"user:{actor}" if actor else f"system:{self.institution}",
            ),
            "decree_number": decree["decree_number"],
            "sanction_level": level,
            "sanction_kind": kind,
            "effective_on": decree["effective_on"],
        }

    def _symbol(self, enum: str, column: str, value: Any) -> str:
        schema = self.context.catalog.schema(f"kawal.{enum}")
        if value not in schema["symbols"] or value == schema.get("default"):
            shown = (
                repr(value) if isinstance(value, str) and _CODE.fullmatch(value) else "(not a code)"
            )
            raise PermanentError(
                "invalid_sanction",
                f"{column} {shown} is not a kawal.{enum} symbol "
                f"(schemas/avro/kawal.{enum}.avsc); correct the decree record",
            )
        return str(value)

    def rejected(self, record: SourceRecord, error: PermanentError) -> None:
        """Record the refusal of a decree in ``hub_refusals``, where the PPK's office looks.

        The dead letter reaches the hub's operators only; the office would believe the
        recommendation followed up while its deadline runs. The row says ``refused_by``
        ``connector``, and is written once per refused change of the decree (its id and
        ``change_seq`` are the row's ``source``). A reason that holds a run of digits as
        long as a NIK's or a NIP's is not written.

        Raises:
            TransientError: the registry is down, locked or timed out.
            PermanentError: the registry refused the write (``hub_refusals`` without
                ``refused_by``, or a user that may not insert into it).
        """
        decree = record.payload
        number = decree.get("decree_number")
        row = {
            "source": f"system:{self.name}:{record.source_id}@{record.position}",
            "decree_id": decree.get("id"),
            "event_id": self._event_id(number) if number else None,
            "event_type": "SanctionImposed",
            "case_id": _case_id_or_none(decree),
            "reason_code": error.reason_code,
            "reason": _WITHHELD if holds_nik_or_nip(error.reason) else error.reason,
            "refused_at": datetime.now(UTC).astimezone(self.config.zone),
            "refused_by": CONNECTOR,
        }
        with writing(self.engine, "hub_refusals table") as connection:
            connection.execute(
                insert_of(connection, HUB_REFUSALS)
                .values(row)
                .on_conflict_do_nothing(index_elements=["source"])
            )

    def _event_id(self, decree_number: str) -> str:
        """The id of the ``SanctionImposed`` of decree ``decree_number``."""
        return event_id_for(self.institution, f"decree/{decree_number}", "SanctionImposed")

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()


def _case_id_or_none(decree: Mapping[str, Any]) -> str | None:
    """The decree's case id, or None when it names none (:meth:`Decrees.to_events` says why)."""
    try:
        return _case_id(decree)
    except PermanentError:
        return None


def _case_id(decree: Mapping[str, Any]) -> str:
    """The hub's id of the decree's case: its ``case_id``, else derived from its reference."""
    given = decree["case_id"]
    if isinstance(given, str) and given:
        canonical = canonical_case_id(given)
        if canonical is None:
            raise PermanentError(
                "invalid_case_id",
                "case_id is not a UUID: copy the case id of the hub's recommendation, as the "
                "registry's recommendations table holds it, or clear it and give reported_by "
                "and case_number",
            )
        return canonical
    reported_by, case_number = decree["reported_by"], decree["case_number"]
    try:
        if isinstance(reported_by, str) and isinstance(case_number, str):
            return case_id_for(reported_by, case_number)
    except InvalidIdentifierError:
        pass
    raise PermanentError(
        "missing_case_reference",
        "the decree names no case: either case_id (the hub's, as on the recommendation the "
        "hub delivered) or both reported_by and case_number (the reporting institution and "
        "its case number, as on the recommendation letter) are required",
    )
