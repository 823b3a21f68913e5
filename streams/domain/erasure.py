"""Erasing a case's personal data: the ``PersonalDataErased`` event, and what it may say.

The hub erases a case by destroying its data key (crypto-shredding, see
``docs/envelope-encryption.md``), then tells every party with a ``PersonalDataErased`` it signs
itself. ``kawal erase`` and the retention timer (:mod:`streams.domain.retention`) build the
same event. Its id is a UUIDv5 of the case id, so asking twice, from either side, gives one
event: ingress refuses the second as a duplicate, and the lifecycle refuses any other erasure
of an erased case (:mod:`streams.domain.lifecycle`).

The reason goes with the event to every party and stays in the trail for good, where no
erasure reaches: :func:`reason_problem` refuses an empty one, an overlong one, and one that
looks like it names someone (a long number such as a NIP, NIK or telephone number, or an
e-mail address).

Example:
    >>> reason_problem("erasure request 2027/014 under Law 27/2022") is None
    True
    >>> reason_problem("request of 198501012010011001")[:39]
    'the reason looks like it holds personal'
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from schemas.envelope import envelope
from streams.domain.free_text import NAMES_SOMEONE, names_someone
from streams.domain.institutions import HUB_INSTITUTION

#: The event type, as the lifecycle and the schemas name it.
ERASURE_EVENT = "PersonalDataErased"
#: Namespace of erasure event ids: one erasure per case, whoever asks and however often.
ERASURE_NAMESPACE = uuid.UUID("283ae6f0-9b3c-434c-9160-db724c5b287b")
#: Longest reason, in characters: what the vault keeps with its tombstone.
REASON_MAX = 500
#: ``envelope.actor_ref`` of each way a case is erased: the command or the retention timer.
COMMAND_ACTOR = "kawal:erase-command"
RETENTION_ACTOR = "kawal:retention-timer"


def erasure_event_id(case_id: str) -> str:
    """The id of the one ``PersonalDataErased`` a case can have."""
    return str(uuid.uuid5(ERASURE_NAMESPACE, case_id))


def reason_problem(reason: str) -> str | None:
    """Why ``reason`` may not be an erasure's reason, or None if it may; never repeats it."""
    text = reason.strip()
    if not text:
        return "an erasure needs a reason: say why, e.g. 'erasure request 2027/014'"
    if len(text) > REASON_MAX:
        return f"the reason has {len(text)} characters; keep it to {REASON_MAX}"
    if names_someone(text):
        return (
            f"the reason {NAMES_SOMEONE}; it goes to every party and is never erased, so say "
            "why without naming anyone, e.g. 'erasure request 2027/014 under Law 27/2022'"
        )
    return None


def erasure_event(
    case_id: str,
    *,
    reason: str,
    erased_at: datetime,
    retention_rule: str | None,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """The hub's ``PersonalDataErased`` of ``case_id``, to be signed with the hub's key.

    Args:
        case_id: The erased case.
        reason: Why, as the vault's tombstone keeps it (checked by :func:`reason_problem`
            before the key was destroyed).
        erased_at: When the data key was destroyed, from the tombstone (timezone-aware).
        retention_rule: Id of the rule whose period ended; None for ``kawal erase``.
        actor: :data:`COMMAND_ACTOR` or :data:`RETENTION_ACTOR`.
        now: The event's time (timezone-aware); the hub's signing key must be valid then.
    """
    return {
        "envelope": envelope(
            event_id=erasure_event_id(case_id),
            case_id=case_id,
            event_type=ERASURE_EVENT,
            event_time=now,
            source=HUB_INSTITUTION,
            actor_ref=actor,
        ),
        "reason": reason,
        "retention_rule": retention_rule,
        "erased_at": erased_at,
    }
