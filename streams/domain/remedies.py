"""The administrative remedies against a sanction, and who decides them (PP 79/2021, DOMAIN.md).

An objection (``ObjectionFiled``, keberatan) goes to the superior of the PPK that imposed the
sanction, an administrative appeal (``AppealFiled``, banding administratif) to BPASN. The
decision (``AppealDecided``) answers the remedy pending on the case, by the body it was filed
with; a decision that amends the sanction names the new one, which must fit the violation as
any sanction does (:mod:`streams.domain.sanctions`), and no other decision names one.
"""

from __future__ import annotations

from typing import Any

from streams.domain.reasons import Reason, Rejection, illegal_transition, invalid_content
from streams.domain.sanctions import kind_misfit, level_misfit

#: The body each remedy is filed with (kawal.AppealBody symbols).
REMEDY_BODY = {"ObjectionFiled": "PPK_SUPERIOR", "AppealFiled": "BPASN"}


def filing_misfit(event_type: str, record: dict[str, Any]) -> Rejection | None:
    """Why a filed remedy is addressed to the wrong body, or None."""
    body = REMEDY_BODY[event_type]
    if record["filed_with"] == body:
        return None
    return invalid_content(
        event_type,
        f"an {_name(event_type)} is filed with {body} (PP 79/2021); set filed_with to {body}, "
        f"or send {_other(event_type)} for the other remedy",
    )


def decision_misfit(
    pending_id: str | None, pending_body: str | None, violation: str, record: dict[str, Any]
) -> Rejection | None:
    """Why ``record`` (an AppealDecided) does not decide the pending remedy, or None.

    ``pending_id`` and ``pending_body`` are unknown (None) for a remedy accepted before the
    hub kept them; only the decided sanction is checked then.
    """
    if pending_id is not None and str(record["remedy_event_id"]) != pending_id:
        return illegal_transition(
            "AppealDecided",
            "remedy_event_id is not the event_id of the objection or appeal pending on this "
            "case; name that event",
        )
    if pending_body is not None and record["decided_by"] != pending_body:
        return illegal_transition(
            "AppealDecided",
            f"the pending remedy was filed with {pending_body}, which decides it; set "
            f"decided_by to {pending_body}",
        )
    return _amended_misfit(violation, record)


def _amended_misfit(violation: str, record: dict[str, Any]) -> Rejection | None:
    amended = record["amended_sanction"]
    if record["decision"] != "AMENDED":
        if amended is None:
            return None
        return invalid_content(
            "AppealDecided",
            "only an AMENDED decision names a sanction: send amended_sanction as null",
        )
    if amended is None:
        return invalid_content(
            "AppealDecided",
            "an AMENDED decision names the sanction that replaces the "
            "contested one in amended_sanction",
        )
    misfit = kind_misfit(amended["level"], amended["kind"]) or level_misfit(
        violation, amended["level"]
    )
    return Rejection(Reason.UNFIT_SANCTION, f"amended_sanction: {misfit}") if misfit else None


def _name(event_type: str) -> str:
    return "objection" if event_type == "ObjectionFiled" else "administrative appeal"


def _other(event_type: str) -> str:
    return "AppealFiled" if event_type == "ObjectionFiled" else "ObjectionFiled"
