"""Why the hub refuses a record: machine-readable reason codes and the rejection value.

Reasons name what was wrong and what to do, never a value from the record, so no personal
data reaches the dead-letter topic, receipts, logs or metric labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Machine-readable rejection reasons."""

    UNDECODABLE = "undecodable"
    TOO_LARGE = "event_too_large"
    BAD_MAGIC = "bad_magic"
    TRUNCATED = "truncated"
    UNKNOWN_SCHEMA = "unknown_schema"
    SCHEMA_MISMATCH = "schema_mismatch"
    NOT_AN_EVENT = "not_an_event"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    KEY_OF_ANOTHER_INSTITUTION = "key_of_another_institution"
    KEY_NOT_YET_VALID = "key_not_yet_valid"
    KEY_EXPIRED = "key_expired"
    KEY_REVOKED = "key_revoked"
    DISCLOSURE_MISMATCH = "disclosure_mismatch"
    NOT_PERSONAL_DATA = "disclosure_not_personal_data"
    PERSONAL_DATA_IN_CLEAR = "personal_data_in_clear"
    DISCLOSURES_IN_CLEAR = "disclosures_in_clear"
    NOT_SEALED_TO_HUB = "not_sealed_to_hub"
    UNSEALABLE = "unsealable"
    SOURCE_MISMATCH = "source_mismatch"
    KEY_MISMATCH = "key_mismatch"
    WRONG_PARTITION = "wrong_partition"
    EVENT_TIME_IN_FUTURE = "event_time_in_future"
    EVENT_BEFORE_REPORT = "event_before_report"
    DUPLICATE = "duplicate_event"
    UNAUTHORIZED = "unauthorized_sender"
    ILLEGAL_TRANSITION = "illegal_transition"
    CASE_PAST_STEP = "case_past_step"
    INVALID_CONTENT = "invalid_content"
    ALREADY_SANCTIONED = "already_sanctioned"
    CASE_CLOSED = "case_closed"
    ALREADY_ERASED = "already_erased"
    UNFIT_SANCTION = "unfit_sanction"
    UNKNOWN_REGION = "unknown_region"
    NOT_AN_EMPLOYING_AGENCY = "not_an_employing_agency"
    INVALID_ELECTION = "invalid_election"
    INVALID_NIP = "invalid_nip"
    REPORTER_REF_NOT_PSEUDONYM = "reporter_ref_not_pseudonym"
    ACTOR_REF_NOT_PSEUDONYM = "actor_ref_not_pseudonym"
    CASE_ID_NOT_DERIVED = "case_id_not_derived"
    CASE_NUMBER_NOT_PUBLIC = "case_number_not_public"
    DATA_KEY_MISSING = "data_key_missing"
    #: The audit sink's: a record of ``kawal.case.audit`` whose hash is not its statement's.
    ENTRY_HASH_MISMATCH = "entry_hash_mismatch"
    #: The audit sink's: the hub's signature of the entry's hash does not verify.
    HUB_SIGNATURE_INVALID = "hub_signature_invalid"
    #: The audit sink's: the entry's prev_hash is not the hash of the entry before it.
    CHAIN_BROKEN = "chain_broken"
    INTERNAL_ERROR = "internal_error"


@dataclass(frozen=True)
class Rejection:
    """A refused record: its reason code and a sentence saying what to do."""

    reason: Reason
    detail: str


def illegal_transition(event_type: str, why: str) -> Rejection:
    """The refusal of ``event_type`` in the case's present state, saying ``why``."""
    return Rejection(Reason.ILLEGAL_TRANSITION, f"{event_type} is not allowed now: {why}")


#: Said after every ``case_past_step`` refusal: what the sender does instead of sending again.
_PAST_STEP_ADVICE = (
    ". Sent again, it is refused again: check the case's trail against your own records, and "
    "the case reference this event was sent for (it may belong to another case)"
)


def past_step(event_type: str, why: str) -> Rejection:
    """The refusal of ``event_type`` for a case that can never take it again, saying ``why``.

    The case moved past the state the event needs (:mod:`streams.domain.phases`), so no
    replay mends it, unlike :func:`illegal_transition`.
    """
    return Rejection(
        Reason.CASE_PAST_STEP,
        f"{event_type} cannot be recorded for this case any more: {why}{_PAST_STEP_ADVICE}",
    )


#: Said after every ``invalid_content`` refusal: what the sender does instead of sending again.
_CORRECTION_ADVICE = (
    ". This is in the event itself, whatever its case holds: sent again unchanged (a replay "
    "included), it is refused again; the sender must send a corrected event in its place"
)


def invalid_content(event_type: str, why: str) -> Rejection:
    """The refusal of ``event_type`` for what its own fields say, saying ``why``.

    Its fields break a rule no state of the case changes (a follow-up period of 0 days, a
    remedy addressed to the wrong body), so no replay mends it, unlike
    :func:`illegal_transition`: only a corrected event from its sender passes.
    """
    return Rejection(
        Reason.INVALID_CONTENT,
        f"{event_type} cannot be recorded as sent: {why}{_CORRECTION_ADVICE}",
    )
