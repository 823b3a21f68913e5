"""Bawaslu's posts → case events: one post, one event.

Every post carries ``id`` (Bawaslu's id of the post), ``type``, ``case_number`` (Bawaslu's
register number of the case; with the institution it gives the case id), ``occurred_at``
(ISO 8601 with its UTC offset: when the step happened) and, optionally, ``officer_ref`` (the
pseudonymous reference of the acting officer). A finding on a case Bawaslu learnt of from the
hub (a report filed through BKN's portal) names it by ``case_id`` instead of ``case_number``.
By ``type``:

=============== ========================== ===============================================
type            event                      fields
=============== ========================== ===============================================
report          ReportReceived             election, region_code, employing_agency,
                                           violation, discovered_on, summary,
                                           subject {nip, name}, reporter {ref, identity}
                                           (``reporter`` null for Bawaslu's own finding),
                                           optional channel (``HOTLINE``...; default
                                           ``SUPERVISOR_FINDING`` for a finding, else
                                           ``UNKNOWN``)
registration    ReportRegistered           registration_number, registered_on,
                                           needed_more_information (default false)
rejection       ReportRejected             reason, explanation, rejected_on, passed_to
verification    VerificationCompleted      verdict, violation, verified_by, completed_on,
                                           assessment_reference, findings
referral        ReferralForwarded          to_authority, referral_number, forwarded_on,
                                           violation
=============== ========================== ===============================================

A reporter's ``ref`` never leaves the connector as it is: the event carries its per-case
pseudonym (:mod:`connectors.pseudonyms`), so one person's reports cannot be joined across
cases by anyone without the office's key. Enumerations use the shared schemas' symbols
(``ETHICS_BANNER``, ``PROVEN``...). A post
that lacks a field or holds an invalid one is refused with a reason that names the field,
never its value: values may be personal data.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from connectors.base import Event
from connectors.errors import PermanentError
from connectors.ids import event_id_for
from connectors.pseudonyms import case_pseudonym
from schemas.catalog import SchemaCatalog
from schemas.envelope import envelope
from schemas.field_formats import ELECTION, NIP, REGION_CODE, is_actor_ref
from schemas.identity import case_id_for

T = TypeVar("T")

#: Reason code of a post that lacks a field or holds an invalid one.
INVALID_POST = "invalid_post"
#: Reason code of a post whose ``type`` the connector does not know.
UNKNOWN_POST_TYPE = "unknown_post_type"

#: The event each post type stands for.
EVENT_OF_POST = {
    "report": "ReportReceived",
    "registration": "ReportRegistered",
    "rejection": "ReportRejected",
    "verification": "VerificationCompleted",
    "referral": "ReferralForwarded",
}


class PostReader:
    """Typed, checked access to a post's fields."""

    def __init__(self, post: Mapping[str, Any], catalog: SchemaCatalog, prefix: str = "") -> None:
        self.post = post
        self.catalog = catalog
        self.prefix = prefix

    def invalid(self, name: str, why: str) -> PermanentError:
        """The refusal of field ``name`` (the field is named, its value never quoted)."""
        return PermanentError(
            INVALID_POST,
            f"field {self.prefix + name!r} {why}; correct the post in Bawaslu's system and "
            "send it again under a new id",
        )

    def text(self, name: str) -> str:
        """A required, non-empty string."""
        value = self.post.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.invalid(name, "is missing or not a non-empty string")
        return value

    def optional_text(self, name: str) -> str | None:
        """A string or null."""
        value = self.post.get(name)
        return None if value is None else self.text(name)

    def matching(self, name: str, pattern: re.Pattern[str], what: str) -> str:
        """A required string that matches ``pattern`` entirely."""
        value = self.text(name)
        if not pattern.fullmatch(value):
            raise self.invalid(name, f"is not {what}")
        return value

    def day(self, name: str) -> date:
        """An ISO 8601 date (``2024-11-04``)."""
        return self._parsed(name, date.fromisoformat, "an ISO 8601 date")

    def moment(self, name: str) -> datetime:
        """An ISO 8601 date and time with a UTC offset, in UTC."""
        value = self._parsed(name, datetime.fromisoformat, "an ISO 8601 date-time")
        if value.tzinfo is None:
            raise self.invalid(name, "has no UTC offset (send e.g. 2024-11-04T09:30:00+07:00)")
        return value.astimezone(UTC)

    def flag(self, name: str, default: bool) -> bool:
        """A boolean, ``default`` when absent."""
        value = self.post.get(name, default)
        if not isinstance(value, bool):
            raise self.invalid(name, "is not true or false")
        return value

    def symbol(self, name: str, enum: str) -> str:
        """A symbol of the shared enum ``enum`` (its catch-all ``UNKNOWN`` excluded)."""
        value = self.text(name)
        symbols = self.catalog.schema(enum)["symbols"]
        if value not in symbols or value == "UNKNOWN":
            known = ", ".join(s for s in symbols if s != "UNKNOWN")
            raise self.invalid(name, f"is not one of {known}")
        return value

    def nested(self, name: str) -> PostReader:
        """The reader of the object in field ``name``."""
        value = self.post.get(name)
        if not isinstance(value, Mapping):
            raise self.invalid(name, "is missing or not an object")
        return PostReader(value, self.catalog, f"{self.prefix}{name}.")

    def _parsed(self, name: str, parse: Callable[[str], T], what: str) -> T:
        try:
            return parse(self.text(name))
        except ValueError:
            raise self.invalid(name, f"is not {what}") from None


class PostMapper:
    """Maps the posts of one Bawaslu office to events of its shared schemas."""

    def __init__(self, institution: str, catalog: SchemaCatalog, pseudonyms: bytes) -> None:
        """Map posts of ``institution``; reporters get per-case pseudonyms under ``pseudonyms``."""
        self.institution = institution
        self.catalog = catalog
        self._pseudonyms = pseudonyms
        self._bodies: dict[str, Callable[[PostReader], dict[str, Any]]] = {
            "report": self._report,
            "registration": self._registration,
            "rejection": self._rejection,
            "verification": self._verification,
            "referral": self._referral,
        }

    def events(self, post_id: str, post: Mapping[str, Any]) -> list[Event]:
        """The event ``post`` stands for.

        Raises:
            PermanentError: unknown type, or a missing or invalid field.
        """
        kind = str(post.get("type"))
        body_of = self._bodies.get(kind)
        if body_of is None:
            raise PermanentError(
                UNKNOWN_POST_TYPE,
                f"post type {kind[:40]!r} is not one of {', '.join(EVENT_OF_POST)}; "
                "the connector does not map it",
            )
        reader = PostReader(post, self.catalog)
        event_type = EVENT_OF_POST[kind]
        record = {"envelope": self._envelope(post_id, event_type, reader)} | body_of(reader)
        reference = record.get("reporter_ref")
        if isinstance(reference, str) and not reference.startswith("finding:"):
            case_id = record["envelope"]["case_id"]
            record["reporter_ref"] = case_pseudonym(self._pseudonyms, case_id, reference)
        return [Event(event_type, record)]

    def _envelope(self, post_id: str, event_type: str, post: PostReader) -> dict[str, Any]:
        officer = post.optional_text("officer_ref")
        actor = f"officer:{self.institution}:{officer}" if officer else f"system:{self.institution}"
        if not is_actor_ref(actor):
            # It travels in clear to every party and no erasure reaches it.
            raise post.invalid(
                "officer_ref",
                "is not a pseudonymous reference: letters, digits, '.', '_', ':' and '-', no "
                "ten digits in a row; give the officer's id in Bawaslu's system, never a name, "
                "NIP or NIK",
            )
        return envelope(
            event_id=event_id_for(self.institution, post_id, event_type),
            case_id=self._case_id(post),
            event_type=event_type,
            event_time=post.moment("occurred_at"),
            source=self.institution,
            actor_ref=actor,
        )

    def _case_id(self, post: PostReader) -> str:
        # A case Bawaslu first heard of from the hub (a BKN portal report) keeps its case id.
        given = post.optional_text("case_id")
        if given is None:
            return case_id_for(self.institution, post.text("case_number"))
        try:
            return str(uuid.UUID(given))
        except ValueError:
            raise post.invalid("case_id", "is not a UUID") from None

    def _report(self, post: PostReader) -> dict[str, Any]:
        subject = post.nested("subject")
        reporter = None if post.post.get("reporter") is None else post.nested("reporter")
        return {
            "case_number": post.text("case_number"),
            "election": post.matching("election", ELECTION, "an election's name as text"),
            "region_code": post.matching("region_code", REGION_CODE, "a Kemendagri region code"),
            "employing_agency": post.text("employing_agency"),
            "violation": post.symbol("violation", "kawal.ViolationCategory"),
            "discovered_on": post.day("discovered_on"),
            "summary": post.text("summary"),
            "subject_nip": subject.matching("nip", NIP, "an 18-digit NIP"),
            "subject_name": subject.text("name"),
            # Bawaslu's own finding has no reporter; the reference then names the office. A
            # reporter's own reference becomes a per-case pseudonym (:meth:`events`).
            "reporter_ref": reporter.text("ref") if reporter else f"finding:{self.institution}",
            "reporter_identity": reporter.optional_text("identity") if reporter else None,
            "channel": self._channel(post, reporter is None),
        }

    def _channel(self, post: PostReader, finding: bool) -> str:
        # Bawaslu's system may not say how a report came in; its own finding says itself.
        if post.post.get("channel") is None:
            return "SUPERVISOR_FINDING" if finding else "UNKNOWN"
        return post.symbol("channel", "kawal.ReportingChannel")

    def _registration(self, post: PostReader) -> dict[str, Any]:
        return {
            "registration_number": post.text("registration_number"),
            "registered_on": post.day("registered_on"),
            "needed_more_information": post.flag("needed_more_information", False),
        }

    def _rejection(self, post: PostReader) -> dict[str, Any]:
        return {
            "reason": post.symbol("reason", "kawal.ReportRejectionReason"),
            "explanation": post.text("explanation"),
            "rejected_on": post.day("rejected_on"),
            "passed_to": post.optional_text("passed_to"),
        }

    def _verification(self, post: PostReader) -> dict[str, Any]:
        return {
            "verdict": post.symbol("verdict", "kawal.Verdict"),
            "violation": post.symbol("violation", "kawal.ViolationCategory"),
            "verified_by": post.symbol("verified_by", "kawal.VerifyingBody"),
            "completed_on": post.day("completed_on"),
            "assessment_reference": post.text("assessment_reference"),
            "findings": post.text("findings"),
        }

    def _referral(self, post: PostReader) -> dict[str, Any]:
        # Whether it names the case's authority is the hub's check, on its dated authority map.
        return {
            "to_authority": post.text("to_authority"),
            "referral_number": post.text("referral_number"),
            "forwarded_on": post.day("forwarded_on"),
            "violation": post.symbol("violation", "kawal.ViolationCategory"),
        }
