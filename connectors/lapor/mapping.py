"""A spooled report → the ``ReportReceived`` the portal's Bawaslu office sends.

The spool keeps what :class:`connectors.lapor.intake.ReportIntake` accepted (see there); this
maps it, deterministically, so that reading the same report again after a crash gives the same
event id, case id and reporter pseudonym. The reporter's reference is the report's own random
id: its pseudonym differs in every case, and only the office, which holds the key and the
spool, can link it back to the report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from connectors.base import Event, PermanentError
from connectors.ids import event_id_for
from connectors.pseudonyms import case_pseudonym
from schemas.envelope import envelope
from schemas.identity import case_id_for

#: Reason code of a spooled report the connector cannot map (the spool was altered).
INVALID_REPORT = "invalid_spooled_report"
_REPORT_FIELDS = (
    "subject_name",
    "subject_nip",
    "employing_agency",
    "region_code",
    "election",
    "violation",
    "summary",
)


def report_event(institution: str, pseudonyms: bytes, body: dict[str, Any]) -> Event:
    """The ``ReportReceived`` of one spooled report.

    Raises:
        PermanentError: the spooled report lacks a field or holds an invalid one (named,
            never quoted).
    """
    try:
        report = body["report"]
        missing = [name for name in _REPORT_FIELDS if not isinstance(report.get(name), str)]
        if missing:
            raise PermanentError(INVALID_REPORT, f"the spooled report lacks {missing[0]}")
        case_number = str(body["case_number"])
        case_id = case_id_for(institution, case_number)
        received_at = datetime.fromisoformat(body["received_at"]).astimezone(UTC)
        discovered_on = date.fromisoformat(_discovered_on(report))
        return Event(
            "ReportReceived",
            {
                "envelope": envelope(
                    event_id=event_id_for(institution, str(body["id"]), "ReportReceived"),
                    case_id=case_id,
                    event_type="ReportReceived",
                    event_time=received_at,
                    source=institution,
                    actor_ref=f"system:{institution}",
                ),
                "case_number": case_number,
                "election": report["election"],
                "region_code": report["region_code"],
                "employing_agency": report["employing_agency"],
                "violation": report["violation"],
                "discovered_on": discovered_on,
                "summary": report["summary"],
                "subject_nip": report["subject_nip"],
                "subject_name": report["subject_name"],
                "reporter_ref": case_pseudonym(pseudonyms, case_id, str(body["id"])),
                "reporter_identity": report.get("reporter_identity"),
                "channel": body["channel"],
                "evidence": list(body["evidence"]),
                "evidence_keys": body["evidence_keys"],
            },
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PermanentError(
            INVALID_REPORT,
            f"the spooled report is not one the portal wrote ({type(exc).__name__}); "
            "it was altered in the spool",
        ) from None


def _discovered_on(report: dict[str, Any]) -> Any:
    """The spooled report's day of discovery.

    A report spooled by an earlier version of the portal has ``happened_on`` instead: what its
    form asked, which it sent on as the day of discovery, and sends on the same again (the
    event of a report read again after a crash is the one sent before).
    """
    return report["discovered_on"] if "discovered_on" in report else report["happened_on"]
