"""Whether a decree names the civil servant its case is about: ``ppk-decrees``' subject check.

A decree for the wrong civil servant, once the hub takes it, closes the case for good: BKN
records the sanction against the case, not against a person. So before a decree is signed as
``SanctionImposed``, its ``subject_nip`` must be a NIP (18 digits, as the shared schemas
describe it: :func:`schemas.field_formats.is_nip`) and, where the registry's in-tray knows the
case's subject (``recommendations.subject_nip``, written by ``ppk-inbox``), that NIP.

The NIP is read only here, with the decree, and replaced in the record by a verdict
(:data:`SUBJECT_CHECK`) before the record leaves :meth:`~connectors.ppk.connector.Decrees.read`:
a record's payload goes into the dead letter of a refused decree, and a NIP must never.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, inspect, select

from connectors.errors import PermanentError
from connectors.ppk.database import COMPARED_COLUMNS, RECOMMENDATIONS
from schemas.field_formats import NIP_FORM, is_nip

#: The payload key of the verdict that replaces the decree's NIP.
SUBJECT_CHECK = "subject_check"
#: Verdicts: not a NIP; another NIP than the case's subject; the case's; no subject known.
NOT_A_NIP, OTHER_SUBJECT, SAME_SUBJECT, NOT_COMPARED = (
    "NOT_A_NIP",
    "OTHER_SUBJECT",
    "SAME_SUBJECT",
    "NOT_COMPARED",
)
_NIP = COMPARED_COLUMNS[0].name


class SubjectCheck:
    """Judges the subject NIP of the decrees of one read, against the registry's in-tray.

    Args:
        connector: The connector's name, for its one log line.
        log: Where to say, once, that the in-tray holds no subjects to compare with.
    """

    def __init__(self, connector: str, log: logging.Logger) -> None:
        self._connector = connector
        self._log = log
        #: Whether the in-tray has its subject column; None until asked.
        self._compares: bool | None = None

    def judge(
        self, connection: Connection, rows: Sequence[dict[str, Any]], cases: Sequence[str | None]
    ) -> None:
        """Replace each row's NIP by its verdict; ``cases``: each row's case id, if it has one."""
        known = self._subjects(connection, {case for case in cases if case is not None})
        for row, case in zip(rows, cases, strict=True):
            nip = row.pop(_NIP)
            if not (isinstance(nip, str) and is_nip(nip)):
                row[SUBJECT_CHECK] = NOT_A_NIP
            elif case is None or case not in known:
                row[SUBJECT_CHECK] = NOT_COMPARED
            else:
                row[SUBJECT_CHECK] = SAME_SUBJECT if nip in known[case] else OTHER_SUBJECT

    def _subjects(self, connection: Connection, cases: set[str]) -> dict[str, set[str]]:
        """The subject NIPs the in-tray holds for ``cases``, by case."""
        if not cases or not self._in_tray_has_subjects(connection):
            return {}
        query = select(RECOMMENDATIONS.c.case_id, RECOMMENDATIONS.c.subject_nip).where(
            RECOMMENDATIONS.c.case_id.in_(cases), RECOMMENDATIONS.c.subject_nip.is_not(None)
        )
        found: dict[str, set[str]] = {}
        for case, nip in connection.execute(query):
            found.setdefault(case, set()).add(nip)
        return found

    def _in_tray_has_subjects(self, connection: Connection) -> bool:
        if self._compares is None:
            inspector = inspect(connection)
            self._compares = inspector.has_table(RECOMMENDATIONS.name) and _NIP in {
                column["name"] for column in inspector.get_columns(RECOMMENDATIONS.name)
            }
            if not self._compares:
                self._log.warning(
                    "%s: the registry's recommendations table has no %s (run ppk-inbox, and "
                    "connectors.ppk.database.upgrade on a registry made before it), so a "
                    "decree's NIP is checked for its form only, not against its case's subject",
                    self._connector,
                    _NIP,
                )
        return self._compares


def check_subject(decree: Mapping[str, Any]) -> None:
    """Refuse a decree whose verdict is not a NIP or another subject than its case's.

    Raises:
        PermanentError: ``invalid_subject_nip`` or ``subject_mismatch``; the reason never
            quotes the NIP.
    """
    verdict = decree.get(SUBJECT_CHECK)
    if verdict == NOT_A_NIP:
        raise PermanentError(
            "invalid_subject_nip",
            f"subject_nip is not a NIP ({NIP_FORM}, no spaces or dots): correct the civil "
            "servant's NIP in the decree record",
        )
    if verdict == OTHER_SUBJECT:
        raise PermanentError(
            "subject_mismatch",
            "subject_nip is not the NIP of the civil servant the case's recommendation names "
            "(recommendations.subject_nip of the same case_id): a decree for another civil "
            "servant would close this case; correct the decree's NIP or its case reference, "
            "or revoke it and draft the decree from the recommendation",
        )
