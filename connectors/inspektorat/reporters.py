"""The reporter's reference of an inspectorate row, as it leaves the connector: a pseudonym.

The office writes its own reference of the reporter (``reporter_ref``, say a complaint-desk
account). Sent unchanged, it would let anyone holding two cases' events see that one person
reported both, so the connector replaces it, as soon as it reads a row, by the reporter's
pseudonym in the row's case (:func:`connectors.pseudonyms.case_pseudonym`, under the key the
connector keeps). Replaced at reading, not at mapping: a row the mapper refuses goes to the
dead-letter topic as read, and must not carry the reference there either. A reference that is
not a well-formed ``kind:token``, or a row without a case number to tie it to, is withheld
(:data:`WITHHELD`); the mapper then refuses the row, naming the column, as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.pseudonyms import case_pseudonym
from schemas.identity import case_id_for

COLUMN = "reporter_ref"
#: Stands for a reference that cannot be pseudonymised; it is no ``kind:token``, so the mapper
#: refuses the row with the column's name.
WITHHELD = "(withheld)"
#: As :mod:`connectors.inspektorat.rows` reads a pseudonymous reference.
_REFERENCE = re.compile(r"[a-z]+:[A-Za-z0-9._:-]{1,64}")


def pseudonymised(row: Any, institution: str, key: bytes) -> Any:
    """``row`` with its reporter's reference replaced by the case pseudonym (or withheld).

    Args:
        row: A row as read (a mapping, or anything the mapper later refuses).
        institution: The inspectorate, whose numbering the row's ``case_number`` follows.
        key: The connector's pseudonym key.
    """
    if not isinstance(row, Mapping) or row.get(COLUMN) in (None, ""):
        return row
    reference, case_number = row[COLUMN], row.get("case_number")
    well_formed = isinstance(reference, str) and _REFERENCE.fullmatch(reference.strip())
    if not (well_formed and isinstance(case_number, str) and case_number.strip()):
        return {**row, COLUMN: WITHHELD}
    # As the mapper derives the case: the office's number, stripped, in its own numbering.
    case_id = case_id_for(institution, case_number.strip())
    return {**row, COLUMN: case_pseudonym(key, case_id, str(reference).strip())}
