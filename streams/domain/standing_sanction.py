"""The sanction standing on a case: the PPK's decree, then upheld, amended or overturned.

An objection or appeal contests the decree the PPK signed, so it names that decree's number; a
case closed names as its final sanction the one standing after every remedy, and none once it
was overturned. A case whose decree was accepted before the hub kept it has none known here,
and is not checked. Levels, kinds and decree numbers are acts of public bodies, no personal
data, but no refusal quotes a value: the sender has them.
"""

from __future__ import annotations

from typing import Any

from streams.domain.reasons import Reason, Rejection, illegal_transition, past_step

#: What the hub keeps: ``decree_number``, ``level``, ``kind``; ``overturned`` once it was.
Standing = dict[str, Any]


def standing_after(
    standing: Standing | None, event_type: str, record: dict[str, Any]
) -> Standing | None:
    """The sanction standing after ``record`` (an accepted event of ``event_type``)."""
    if event_type == "SanctionImposed":
        return {
            "decree_number": record["decree_number"],
            "level": record["sanction_level"],
            "kind": record["sanction_kind"],
        }
    if event_type != "AppealDecided" or standing is None:
        return standing
    if record["decision"] == "OVERTURNED":
        return standing | {"overturned": True}
    amended = record["amended_sanction"]
    if record["decision"] == "AMENDED" and amended is not None:
        return standing | {"level": amended["level"], "kind": amended["kind"]}
    return standing


def contested_misfit(
    standing: Standing | None, event_type: str, record: dict[str, Any]
) -> Rejection | None:
    """Why an ObjectionFiled or AppealFiled does not contest the case's decree, or None.

    A case takes one decree (:func:`second_decree`), so one naming another can never be
    recorded for it: ``case_past_step``, which no replay mends.
    """
    if standing is None or record["contested_decree_number"] == standing["decree_number"]:
        return None
    return past_step(
        event_type,
        "contested_decree_number is not the number of the decree the PPK reported for this "
        "case (its SanctionImposed), and a case takes one decree; name that decree, or check "
        "the case the remedy is sent for",
    )


#: Why a second decree is not a follow-up: the recommendation was followed up once.
_SECOND_SANCTION = (
    "SanctionImposed is not allowed now: a sanction was already imposed on this case, so the "
    "recommendation is followed up; a second decree is not recorded, and sent again it is "
    "refused again. A sanction that changes on objection or appeal is recorded by the "
    "decision (AppealDecided)"
)
#: Said after it: whether the hub knows which decree it holds.
_OTHER_DECREE = (
    "; the hub holds another decree_number for this case: check which decree your records "
    "hold for it, and the case reference of this one (it may belong to another case)"
)
_UNKNOWN_DECREE = (
    "; the hub took the case's decree before it kept decree numbers: if this is that decree, "
    "nothing more is needed, else check the case reference of this one"
)
#: The same decree entered again (another event_id): the hub holds it, as a duplicate.
_SAME_DECREE = (
    "SanctionImposed names the decree the hub already holds for this case (same "
    "decree_number, under another event_id): the decree stands and nothing more is needed"
)


def second_decree(standing: Standing | None, record: dict[str, Any]) -> Rejection:
    """The refusal of a SanctionImposed for a case already sanctioned.

    The decree the hub holds, entered again under another event id, is refused as a
    duplicate (nothing to do); any other decree as ``already_sanctioned``, which no replay
    mends. The numbers are compared, never quoted.
    """
    if standing is not None and record["decree_number"] == standing["decree_number"]:
        return Rejection(Reason.DUPLICATE, _SAME_DECREE)
    held = _UNKNOWN_DECREE if standing is None else _OTHER_DECREE
    return Rejection(Reason.ALREADY_SANCTIONED, _SECOND_SANCTION + held)


def closing_misfit(standing: Standing | None, record: dict[str, Any]) -> Rejection | None:
    """Why a CaseClosed's final sanction is not the one standing, or None."""
    final = record["final_sanction"]
    if standing is None:
        return None
    if standing.get("overturned"):
        if final is None and record["closing_reason"] != "SANCTION_IMPOSED":
            return None
        return illegal_transition(
            "CaseClosed",
            "the sanction was overturned on appeal (AppealDecided): close the case as "
            "SANCTION_OVERTURNED with final_sanction null",
        )
    if final is None or (final["level"], final["kind"]) == (standing["level"], standing["kind"]):
        return None
    return illegal_transition(
        "CaseClosed",
        f"final_sanction is not the sanction standing on the case ({standing['level']} "
        f"{standing['kind']}, as imposed or as amended on appeal); name that one, or null",
    )
