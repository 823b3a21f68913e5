"""Whom a case is about, as the hub disclosed it to the PPK: ``case_subjects`` in the registry.

A recommendation does not name the civil servant. The case's ``ReportReceived`` does, and the
disclosure policy lets the PPK see its ``subject_nip`` and ``subject_name``
(``docs/disclosure-policy.md``), but the hub routes that event to the PPK's feed only if its
``kawal.consumed_by`` names ``ppk``, and as released it names the supervisor and the authority
only: the feed discloses the NIP with a ``PersonnelDataBlocked`` at the earliest, weeks after
the recommendation. So ``ppk-inbox`` also reads the case's trail at the hub over HTTP, as the
PPK, with its own bearer token (``hub_url``, ``token_file``): an entitled read the hub writes to
its access log, checked as the feed's entries are (:mod:`connectors.ppk.trail_subjects`), when a
recommendation arrives and until it succeeds (:mod:`connectors.ppk.subject_reads`). Without
``hub_url`` it keeps what the feed discloses only.

Whichever comes first, the trail or an entry of the feed, is kept per case and filled into
the case's recommendations. A withheld field holds a commitment, not a value, and is never
kept; nor is a NIP that is not 18 digits. A trail read whose view withholds both fields (an
erased case) keeps a row without them, so the case is not read again; a later entry of the
feed still fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select, update

from connectors.ppk.database import CASE_SUBJECTS, RECOMMENDATIONS
from connectors.ppk.writes import insert_of
from schemas.field_formats import is_nip
from streams.domain.commitments import is_commitment


@dataclass(frozen=True)
class Subject:
    """The civil servant a case is about; a field the entry did not disclose is None."""

    nip: str | None
    name: str | None

    def as_columns(self) -> dict[str, str | None]:
        """The values of the registry's ``subject_nip`` and ``subject_name`` columns."""
        return {"subject_nip": self.nip, "subject_name": self.name}


def disclosed_subject(event: dict[str, Any]) -> Subject | None:
    """The subject a feed entry's event discloses to the PPK; None if it discloses neither."""
    nip = _disclosed(event.get("subject_nip"))
    name = _disclosed(event.get("subject_name"))
    subject = Subject(nip if nip is not None and is_nip(nip) else None, name)
    return subject if subject.nip or subject.name else None


def _disclosed(value: Any) -> str | None:
    """``value`` if the entry disclosed it: a string that is no commitment."""
    if isinstance(value, str) and value and not is_commitment(value):
        return value
    return None


def keep_subject(connection: Connection, case_id: str, event_id: str, subject: Subject) -> None:
    """Keep ``subject`` as the case's, and fill it into the case's recommendations lacking it.

    Idempotent: a field already known is kept; a later entry only fills in one not known yet.
    """
    statement = insert_of(connection, CASE_SUBJECTS).values(
        case_id=case_id, event_id=event_id, **subject.as_columns()
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["case_id"],
            set_={
                name: func.coalesce(CASE_SUBJECTS.c[name], statement.excluded[name])
                for name in ("subject_nip", "subject_name")
            },
        )
    )
    for name, value in subject.as_columns().items():
        if value is not None:
            connection.execute(
                update(RECOMMENDATIONS)
                .where(RECOMMENDATIONS.c.case_id == case_id, RECOMMENDATIONS.c[name].is_(None))
                .values({name: value})
            )


def cases_without_subject(connection: Connection) -> list[str]:
    """The cases of recommendations with no subject, and of which nothing was disclosed yet.

    A case in ``case_subjects`` was disclosed something, or its trail was read and the PPK's
    view showed neither field (an erased case): reading it again would give nothing more.
    """
    known = select(CASE_SUBJECTS.c.case_id)
    query = (
        select(RECOMMENDATIONS.c.case_id)
        .where(RECOMMENDATIONS.c.subject_nip.is_(None), RECOMMENDATIONS.c.case_id.not_in(known))
        .distinct()
        .order_by(RECOMMENDATIONS.c.case_id)
    )
    return list(connection.execute(query).scalars())


def subject_of(connection: Connection, case_id: str) -> Subject:
    """The case's subject as kept so far (both None when nothing was disclosed yet)."""
    query = select(CASE_SUBJECTS.c.subject_nip, CASE_SUBJECTS.c.subject_name).where(
        CASE_SUBJECTS.c.case_id == case_id
    )
    row = connection.execute(query).one_or_none()
    return Subject(None, None) if row is None else Subject(row.subject_nip, row.subject_name)
