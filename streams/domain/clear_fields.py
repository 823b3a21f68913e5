"""Fields that travel in clear to every party and that no erasure reaches: what they may hold.

``envelope.actor_ref`` names an official by the sender's own pseudonymous token, and a report's
``case_number`` is its sender's register number, which also names the case's id and shows on
the case's page. Neither may hold a name, a NIK or a NIP. The hub refuses such an event; a
connector refuses it before it signs it (:mod:`connectors.clear_fields`), so it is never
published at all. No refusal quotes the value.
"""

from __future__ import annotations

from schemas.field_formats import ACTOR_REF_FORM, holds_nik_or_nip, is_actor_ref
from streams.domain.reasons import Reason, Rejection


def actor_ref_refusal(actor: object) -> Rejection | None:
    """Why ``actor`` (``envelope.actor_ref``) is refused, or None for a pseudonym."""
    if isinstance(actor, str) and is_actor_ref(actor):
        return None
    return Rejection(
        Reason.ACTOR_REF_NOT_PSEUDONYM,
        f"envelope.actor_ref must be {ACTOR_REF_FORM}; it travels in clear to every party "
        "and no erasure reaches it, so an official's name, NIP or NIK never goes there",
    )


def case_number_refusal(number: str) -> Rejection | None:
    """Why a report's ``case_number`` is refused, or None when it holds no NIK or NIP."""
    if not holds_nik_or_nip(number):
        return None
    return Rejection(
        Reason.CASE_NUMBER_NOT_PUBLIC,
        "case_number holds 16 or 18 digits in a row, as a NIK or a NIP does: it travels in "
        "clear to every party, names the case's id and no erasure reaches it; give the "
        "sender's own register number, and the civil servant's NIP in subject_nip",
    )
