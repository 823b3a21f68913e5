"""SIASN's log of the blocks it applied and lifted, as its ``/blocks/changes`` API serves it.

Every block SIASN applies and every block it lifts appends one row, numbered by a counter that
only grows (``seq``), so a reader that remembers the last number it read misses nothing and
reads nothing twice. A row names the case the block was made for (``case_ref``), the civil
servant (``nip``) and, for a block, the PPK that let the deadline pass. The connector
``siasn-blocks`` (:mod:`connectors.siasn.blocks`) reads it into ``PersonnelDataBlocked`` and
``PersonnelDataUnblocked``.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

#: A row's ``change``: a block applied, or lifted.
BLOCKED, UNBLOCKED = "BLOCKED", "UNBLOCKED"
#: Most rows one page of ``/blocks/changes`` holds, whatever the reader asks.
MAX_PAGE = 500


class BlockLog:
    """The rows of SIASN's block log, oldest first (thread-safe)."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def blocked(
        self, reference: str, case: dict[str, Any], request: dict[str, Any]
    ) -> dict[str, Any]:
        """Log a block applied for ``case`` (SIASN's linked case) on ``request``."""
        return self.append(
            {
                "change": BLOCKED,
                "blocking_reference": reference,
                "case_ref": case["case_ref"],
                "nip": case["nip"],
                "employing_agency": request.get("responsible_agency") or case["employing_agency"],
                "reason": request["reason"],
                "breach_event_id": request.get("breach_event_id"),
                "decree_number": None,
            }
        )

    def unblocked(
        self, reference: str, case: dict[str, Any], because: str, decree: str | None
    ) -> dict[str, Any]:
        """Log a block of ``case`` lifted ``because`` (an UnblockReason), by ``decree`` if any."""
        return self.append(
            {
                "change": UNBLOCKED,
                "blocking_reference": reference,
                "case_ref": case["case_ref"],
                "nip": case["nip"],
                "employing_agency": case["employing_agency"],
                "reason": because,
                "breach_event_id": None,
                "decree_number": decree,
            }
        )

    def append(self, row: dict[str, Any]) -> dict[str, Any]:
        """Log ``row`` as given (a manual entry may lack fields), stamped now; the row logged."""
        with self._lock:
            logged = {"seq": len(self._rows) + 1, "at": datetime.now(UTC).isoformat()} | row
            logged["seq"] = len(self._rows) + 1
            self._rows.append(logged)
            return logged

    def correct(self, seq: int, **columns: Any) -> dict[str, Any]:
        """SIASN's operators correct ``columns`` of row ``seq`` in place; the row corrected.

        Its number stays, so a reader already past it reads it only when told to read again.
        """
        with self._lock:
            self._rows[seq - 1].update(columns)
            return dict(self._rows[seq - 1])

    def page(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` (at most :data:`MAX_PAGE`) rows numbered above ``after``."""
        with self._lock:
            return [dict(row) for row in self._rows[max(after, 0) :][: min(limit, MAX_PAGE)]]

    def rows(self) -> list[dict[str, Any]]:
        """Every row, oldest first."""
        with self._lock:
            return [dict(row) for row in self._rows]
