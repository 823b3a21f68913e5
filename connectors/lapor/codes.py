"""Tracking codes: how they are drawn, written for people, and read back as people type them.

A code is 120 random bits (or bits derived from a form's token, :mod:`.resubmission`) written
in RFC 4648 base32, in six groups of four: ``K7QM-2XRP-AB4T-MW3C-HZ5D-Q6NE``. Its alphabet
has one case and no 0, 1 or 8, so a code copied by hand or read over the phone cannot mix up
l, I and 1 or O and 0, and it never starts with a dash. Read back, case, spaces and dashes do
not matter, and 0, 1 and 8 are taken for the letters they look like.

Codes handed out before were 24 characters of URL-safe base64 (``secrets.token_urlsafe(18)``);
they are read as they were given, case and all, so they still follow their reports.
"""

from __future__ import annotations

import base64
import re
import secrets

#: Bits of a code: unguessable at any rate the portal lets a source ask (120 a minute).
CODE_BYTES = 15
_GROUP = 4
_BASE32 = re.compile(r"[A-Z2-7]{24}")
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B", "-": None, " ": None})
#: A code of the first format: URL-safe base64 of 18 bytes.
_EARLIER = re.compile(r"[A-Za-z0-9_-]{24}")
#: A text written in groups of four, as today's codes are.
_GROUPED = re.compile(r"[A-Za-z0-9]{4}(?:[- ]+[A-Za-z0-9]{4})+")
_ALPHABET = re.compile(r"[A-Z2-7]*")


def code_for(secret: bytes) -> str:
    """The code written for people of :data:`CODE_BYTES` bytes ``secret``."""
    text = base64.b32encode(secret[:CODE_BYTES]).decode()
    return "-".join(text[start : start + _GROUP] for start in range(0, len(text), _GROUP))


def new_code() -> str:
    """A fresh random code."""
    return code_for(secrets.token_bytes(CODE_BYTES))


def readings(typed: str) -> list[str]:
    """The codes ``typed`` may mean, as they were handed out: none if it cannot be a code.

    Most earlier codes are also 24 characters a person could have typed for a code of today
    (letters and 2-7 only): such a text has both readings, today's first.

    Args:
        typed: a code as a person typed or pasted it (any case, spaces, dashes, 0/1/8 for
            O/I/B), or an earlier code exactly as it was given.
    """
    text = typed.strip()
    compact = text.upper().translate(_LOOKALIKES)
    found = [code_for(base64.b32decode(compact))] if _BASE32.fullmatch(compact) else []
    if _EARLIER.fullmatch(text) and text not in found:
        found.append(text)
    return found


def read_code(typed: str) -> str | None:
    """Where to follow ``typed``: itself if it may be an earlier code, else today's reading.

    ``typed`` may be the whole link of the code's page (``.../lacak/CODE``), pasted. None if
    it cannot be a code. The page at that address tries each of its :func:`readings`.
    """
    text = typed.strip()
    if "/lacak/" in text:
        text = re.split(r"[/?#]", text.rsplit("/lacak/", 1)[1], maxsplit=1)[0]
    if _EARLIER.fullmatch(text):
        return text
    found = readings(text)
    return found[0] if found else None


def code_fault(typed: str) -> str | None:
    """Why ``typed``, which no report has, cannot be a code at all; None if it may be one.

    ``"character"``: it holds a character no code has (a code has letters and the digits 2 to
    7; 0, 1 and 8 are read as O, I and B); ``"length"``: it has more or fewer than 24 letters
    and digits (a group left out or doubled). A text in groups of four is judged as today's
    code, though 24 characters of it with its dashes could be an earlier one: it was looked up
    as both. A code has no check character, so one of the right shape with a character
    mistyped is just a code no report has.
    """
    text = typed.strip()
    compact = text.upper().translate(_LOOKALIKES)
    if _BASE32.fullmatch(compact):
        return None
    if _EARLIER.fullmatch(text) and not _GROUPED.fullmatch(text):
        return None
    return "length" if _ALPHABET.fullmatch(compact) else "character"
