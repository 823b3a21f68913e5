"""Per-case pseudonyms of reporters: the same person, a different reference in every case.

A reporter's reference in the supervisor's own system (a SIGAP account, a form number) would
let anyone holding two cases' events see that one person reported both. The connector sends
instead ``reporter:`` + the first 24 hex digits of HMAC-SHA256(key, ``kawal.reporter_ref.v1``
‖ 0 ‖ case id ‖ 0 ‖ reference): stable within a case (a redelivered event keeps it), unlinkable
across cases without the key, which stays with the sending institution. The supervisor, who
knows its reporters and holds the key, recomputes a case's pseudonym to find the person.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "reporter:"
CONTEXT = b"kawal.reporter_ref.v1"
#: Hex digits kept: 96 bits, no collision among a nation's reports.
DIGITS = 24


def case_pseudonym(key: bytes, case_id: str, reference: str) -> str:
    """The reporter's pseudonym in case ``case_id``, from its ``reference`` and the ``key``."""
    message = b"\x00".join((CONTEXT, case_id.encode(), reference.encode()))
    return PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()[:DIGITS]


def pseudonym_key(secret: bytes) -> bytes:
    """A pseudonym key derived from a connector's secret, apart from the secret's other uses."""
    return hmac.new(secret, CONTEXT, hashlib.sha256).digest()
