"""Whether a sanction fits its violation (PP 94/2021 Art. 8, PP 42/2004, the 2022 joint decree).

Checked when the authority recommends (``RecommendationIssued``) and when a PPK reports
``SanctionImposed``: the kind must belong to the stated level, the level must suit the kind of
violation, and an imposed sanction may not be lighter than the recommendation: of a lower
level, or of the recommended level and a lighter kind than the one recommended.
"""

from __future__ import annotations

from typing import Any

from streams.domain.calendar import MAX_WORKING_DAYS
from streams.domain.reasons import Reason, Rejection, invalid_content

#: Level of each sanction kind (PP 94/2021 Art. 8 for discipline, PP 42/2004 for ethics), each
#: level's kinds from the lightest to the heaviest, in the order the regulations list them.
KIND_LEVEL = {
    "MORAL_CLOSED_STATEMENT": "ETHICS_MORAL",
    "MORAL_OPEN_STATEMENT": "ETHICS_MORAL",
    "ORAL_REPRIMAND": "LIGHT",
    "WRITTEN_REPRIMAND": "LIGHT",
    "WRITTEN_DISSATISFACTION": "LIGHT",
    "ALLOWANCE_CUT_25_6_MONTHS": "MEDIUM",
    "ALLOWANCE_CUT_25_9_MONTHS": "MEDIUM",
    "ALLOWANCE_CUT_25_12_MONTHS": "MEDIUM",
    "DEMOTION_12_MONTHS": "HEAVY",
    "STAFF_POST_12_MONTHS": "HEAVY",
    "HONOURABLE_DISCHARGE": "HEAVY",
}

#: Discipline levels from lightest to heaviest.
DISCIPLINE_ORDER = ("LIGHT", "MEDIUM", "HEAVY")
#: Sanction kinds from lightest to heaviest within their level.
KIND_ORDER = tuple(KIND_LEVEL)

#: Supporting a candidate is a medium-to-heavy discipline breach (2022 joint decree).
PARTISAN_DISCIPLINE_LEVELS = frozenset({"MEDIUM", "HEAVY"})


def unfit_sanction(
    violation: str, record: dict[str, Any], recommended: tuple[str | None, str | None]
) -> Rejection | None:
    """Why a SanctionImposed does not fit its case, or None.

    Args:
        violation: ViolationCategory symbol the authority decided on.
        record: the SanctionImposed.
        recommended: the level and kind the authority recommended (None: not recommended, or
            the kind left to the PPK).
    """
    misfit = sanction_misfit(
        violation, record["sanction_level"], record["sanction_kind"], *recommended
    )
    return Rejection(Reason.UNFIT_SANCTION, misfit) if misfit else None


def unfit_recommendation(record: dict[str, Any]) -> Rejection | None:
    """Why a RecommendationIssued gives the PPK no usable period or an unfit sanction, or None."""
    if record["proven"] and not 0 < record["follow_up_days"] <= MAX_WORKING_DAYS:
        return invalid_content(
            "RecommendationIssued",
            f"follow_up_days gives the PPK 1 to {MAX_WORKING_DAYS} working days to act; 14 is "
            "the usual period",
        )
    misfit = recommendation_misfit(
        record["violation"], record["proven"], record["sanction_level"], record["sanction_kind"]
    )
    return Rejection(Reason.UNFIT_SANCTION, misfit) if misfit else None


def sanction_misfit(
    violation: str,
    level: str,
    kind: str,
    recommended_level: str | None,
    recommended_kind: str | None = None,
) -> str | None:
    """Why the sanction does not fit, or None if it does.

    Args:
        violation: ViolationCategory symbol the authority decided on.
        level: SanctionLevel symbol imposed.
        kind: SanctionKind symbol imposed.
        recommended_level: the level the authority recommended, if any.
        recommended_kind: the kind it recommended, if it named one.
    """
    misfit = kind_misfit(level, kind) or level_misfit(violation, level)
    if misfit is None and _lighter(level, recommended_level):
        return (
            f"the {level} sanction is lighter than the recommended {recommended_level}; impose "
            f"a {recommended_level} sanction or a heavier one, or correct the decree's level "
            "if it was entered wrongly"
        )
    if misfit is None and level == recommended_level and _lighter_kind(kind, recommended_kind):
        return (
            f"{kind} is lighter than the recommended {recommended_kind} (PP 94/2021 Art. 8 "
            f"orders each level's sanctions); impose {recommended_kind} or a heavier one, or "
            "correct the decree's kind if it was entered wrongly"
        )
    return misfit


def recommendation_misfit(
    violation: str, proven: bool, level: str | None, kind: str | None
) -> str | None:
    """Why a recommendation's sanction does not fit its decision, or None if it does.

    A proven violation is recommended a level that suits it, and a kind of that level unless
    the kind is left to the PPK; a violation not proven is recommended no sanction.
    """
    if not proven:
        if level is None and kind is None:
            return None
        return (
            "a violation not proven is recommended no sanction: send sanction_level and "
            "sanction_kind as null"
        )
    if not violation.startswith(("ETHICS_", "DISCIPLINE_")):
        return (
            f"a proven violation takes a sanction that fits it: name the violation category "
            f"decided on, not {violation}"
        )
    if level is None:
        return (
            f"the violation {violation} is proven: recommend a sanction level (and a kind, or "
            "null to leave it to the PPK)"
        )
    return (kind_misfit(level, kind) if kind is not None else None) or level_misfit(
        violation, level
    )


def kind_misfit(level: str, kind: str) -> str | None:
    """Why ``kind`` is not a sanction of ``level``, or None."""
    if KIND_LEVEL.get(kind) != level:
        return f"sanction kind {kind} is not a {level} sanction; report the level of that kind"
    return None


def level_misfit(violation: str, level: str) -> str | None:
    """Why a sanction of ``level`` does not suit ``violation``, or None."""
    if violation.startswith("ETHICS_") and level != "ETHICS_MORAL":
        return (
            f"an ethics violation ({violation}) takes a moral sanction (PP 42/2004), not "
            f"{level}: give level ETHICS_MORAL and a moral statement as the kind"
        )
    if violation.startswith("DISCIPLINE_") and level not in PARTISAN_DISCIPLINE_LEVELS:
        return (
            f"supporting a candidate ({violation}) is a medium-to-heavy discipline breach "
            f"(PP 94/2021 Art. 8); {level} does not fit: give a MEDIUM or HEAVY sanction"
        )
    return None


def _lighter_kind(kind: str, recommended: str | None) -> bool:
    if recommended not in KIND_ORDER or kind not in KIND_ORDER:
        return False
    return KIND_ORDER.index(kind) < KIND_ORDER.index(recommended)


def _lighter(level: str, recommended: str | None) -> bool:
    if recommended not in DISCIPLINE_ORDER or level not in DISCIPLINE_ORDER:
        return False
    return DISCIPLINE_ORDER.index(level) < DISCIPLINE_ORDER.index(recommended)
