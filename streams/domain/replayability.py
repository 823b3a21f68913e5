"""Which rejections a replay can never mend, and which can pass once the cause is fixed.

A record refused for a reason of :data:`PERMANENT` is refused again, for the same reason, each
time the same bytes come back: the fault is in what its sender wrote (its bytes, its signature,
its content), and nothing the hub's operator changes makes them pass. Replaying it only writes
a new, identical dead letter; its sender has to fix what it sends and publish the event anew.
A reason of :data:`FIXABLE` depends on what the hub knows (its key registry, institutions,
schemas, vault, the case's earlier events, the time): once that is fixed, the same bytes pass.

Every :class:`~streams.domain.reasons.Reason` is in exactly one of the two, each with why. A
reason code of no hub stage (a connector's ``callback_unauthorized``, say) is in neither, and is
taken as fixable: replay refuses only what it knows cannot pass.
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.domain.reasons import Reason

#: Reasons no fix on the hub's side mends, each with why: the sender has to send anew.
PERMANENT: Mapping[Reason, str] = {
    Reason.UNDECODABLE: "the body does not decode with the schema its header names",
    Reason.TOO_LARGE: "the record's size is the record's own",
    Reason.BAD_MAGIC: "the bytes are not Kawal Avro at all",
    Reason.TRUNCATED: "the bytes are cut short",
    Reason.SCHEMA_MISMATCH: "the bytes do not match the schema they name",
    Reason.NOT_AN_EVENT: "the record is of a type that is no case event",
    Reason.UNSIGNED: "no signature can be added to the sender's bytes but by the sender",
    Reason.BAD_SIGNATURE: "the signature does not verify over the bytes with the key it names",
    Reason.KEY_OF_ANOTHER_INSTITUTION: "a key id names one institution for good",
    Reason.KEY_NOT_YET_VALID: "a key's dates are facts, checked against the event's own time",
    Reason.KEY_EXPIRED: "a key's dates are facts, checked against the event's own time",
    Reason.KEY_REVOKED: "a revocation is never undone",
    Reason.DISCLOSURE_MISMATCH: "the disclosures do not open the signed commitments",
    Reason.NOT_PERSONAL_DATA: "a disclosure names a field that is no personal data",
    Reason.PERSONAL_DATA_IN_CLEAR: "the signed bytes carry personal data in clear",
    Reason.DISCLOSURES_IN_CLEAR: "the disclosures travel unsealed",
    Reason.NOT_SEALED_TO_HUB: "the disclosures are sealed to someone other than the hub",
    Reason.KEY_MISMATCH: "replay sends the record's own key, which is not its case_id",
    Reason.EVENT_BEFORE_REPORT: "the event's time and its case's report are both recorded",
    Reason.DUPLICATE: "the hub already has the event",
    Reason.CASE_CLOSED: "a closed case stays closed",
    Reason.ALREADY_SANCTIONED: "a case is sanctioned once; a changed sanction is an AppealDecided",
    Reason.CASE_PAST_STEP: "the case is past the state the event needs, and never goes back",
    Reason.ALREADY_ERASED: "a case is erased once",
    Reason.INVALID_CONTENT: "the event's own fields break a rule no state of its case changes",
    Reason.UNFIT_SANCTION: "the sanction the event names does not fit the violation",
    Reason.INVALID_ELECTION: "the election field is malformed",
    Reason.INVALID_NIP: "the NIP field is malformed",
    Reason.REPORTER_REF_NOT_PSEUDONYM: "the reporter reference is not a pseudonym",
    Reason.ACTOR_REF_NOT_PSEUDONYM: "the official's reference is not a pseudonym",
    Reason.CASE_ID_NOT_DERIVED: "the case_id is not derived from the report's own reference",
    Reason.CASE_NUMBER_NOT_PUBLIC: "the case number holds a NIK or a NIP",
    Reason.ENTRY_HASH_MISMATCH: "an audit entry's hash is not the hash of its own fields",
    Reason.HUB_SIGNATURE_INVALID: "only the hub's key can sign an audit entry's hash",
}

#: Reasons an operator's fix can mend, each with the fix that lets the same bytes pass.
FIXABLE: Mapping[Reason, str] = {
    Reason.UNKNOWN_SCHEMA: "passes once the hub runs a release that has the sender's schema",
    Reason.UNKNOWN_KEY: "passes once the key is registered and the hub restarted",
    Reason.UNSEALABLE: "passes once the hub holds the encryption key the sender sealed to",
    Reason.SOURCE_MISMATCH: "an unregistered source passes once the institution is registered",
    Reason.WRONG_PARTITION: "replay lets the default partitioner choose, the right partition",
    Reason.EVENT_TIME_IN_FUTURE: "passes once the replayed record arrives after its event time",
    Reason.UNAUTHORIZED: "passes once a wrong registry or authority map is corrected",
    Reason.ILLEGAL_TRANSITION: "passes once the case's missing earlier events arrive (a case "
    "past the event's step refuses it as case_past_step: streams.domain.phases; an event whose "
    "own fields break a rule, as invalid_content)",
    Reason.UNKNOWN_REGION: "passes once the region data has the new region",
    Reason.NOT_AN_EMPLOYING_AGENCY: "passes once the agency is registered as a PPK",
    Reason.DATA_KEY_MISSING: "passes once the case's data key is restored to the vault",
    Reason.INTERNAL_ERROR: "passes once the hub's defect is fixed",
    Reason.CHAIN_BROKEN: "an audit entry read before the one it follows passes once that one "
    "is stored: kawal replay reads kawal.case.audit again",
}


def is_permanent(reason_code: str) -> bool:
    """Whether a letter refused for ``reason_code`` would only be refused again if replayed.

    >>> is_permanent("bad_magic"), is_permanent("unknown_key"), is_permanent("registry_refused")
    (True, False, False)
    """
    return reason_code in PERMANENT
