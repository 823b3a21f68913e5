r"""The formats the event schemas give in words: NIPs, region codes, elections, numbers, days.

Digits are ASCII digits. Python's ``\d`` and ``str.isdigit`` also take Arabic-Indic, fullwidth
and superscript digits: a NIP typed in fullwidth digits would reach SIASN, which knows no such
NIP; ``33`` followed by two Arabic-Indic digits would count a case under a region of its own
beside ``3374``; and ``int`` fails on a superscript two that ``isdigit`` took.

Example:
    >>> is_region_code("3374"), is_region_code("33\u0667\u0664"), is_number("\u00b2")
    (True, False, False)
"""

import re
from datetime import date

#: A day as YYYY-MM-DD.
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: A civil servant's NIP: 18 digits.
NIP = re.compile(r"[0-9]{18}")
#: How a NIP is described to whoever wrote one that is not.
NIP_FORM = "18 digits 0-9"
#: A Kemendagri region code: a province (2 digits), regency or city (4), district (6) or
#: village (10), each extending its parent's code.
REGION_CODE = re.compile(r"[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{4})?)?)?")
#: How a region code is described to whoever wrote one that is not.
REGION_CODE_FORM = "2, 4, 6 or 10 digits 0-9, such as 33 (a province) or 3374 (a regency or city)"

#: An election, as the statistics attribute cases to it: printable text (no control
#: character, no space at either end) of 1 to 100 characters.
ELECTION = re.compile(r"[^\x00-\x20\x7f-\x9f](?:[^\x00-\x1f\x7f-\x9f]{0,98}[^\x00-\x20\x7f-\x9f])?")
#: How an election is described to whoever wrote one that is not.
ELECTION_FORM = (
    "printable text of 1 to 100 characters without spaces at its ends, such as pilkada-2024"
)

#: How a reporter's per-case pseudonym begins, and how many hex digits of an HMAC follow
#: (connectors.pseudonyms derives it; 96 bits, no collision among a nation's reports).
REPORTER_PREFIX = "reporter:"
REPORTER_DIGITS = 24
#: A reporter's per-case pseudonym: the prefix and lower-case hex digits.
REPORTER_PSEUDONYM = re.compile(re.escape(REPORTER_PREFIX) + f"[0-9a-f]{{{REPORTER_DIGITS}}}")
#: How a report's reporter_ref is described to whoever wrote one that is not.
REPORTER_REF_FORM = (
    "'reporter:' + 24 lower-case hex digits, the per-case pseudonym derived from the sender's "
    "own reference (docs/events.md), or 'finding:' + the sending institution's id for its own "
    "finding"
)

#: envelope.actor_ref, which travels in clear and is never erased: a kind in lower case, a colon
#: and the sender's own token for the official (letters, digits, '.', '_', ':', '-'), such as
#: ``user:u-0007``, ``officer:bawaslu.33:ab12`` or ``system:bkn``.
ACTOR_REF = re.compile(r"[a-z][a-z0-9_-]*:[A-Za-z0-9._:-]+")
ACTOR_REF_MAX = 100
#: Ten digits in a row: a NIP (18), a NIK (16) or a telephone number (10 to 13), never a token.
_LONG_NUMBER = re.compile(r"[0-9]{10,}")
#: How an actor_ref is described to whoever wrote one that is not.
ACTOR_REF_FORM = (
    f"'kind:token' of at most {ACTOR_REF_MAX} characters (letters, digits, '.', '_', ':' and "
    "'-'; no ten digits in a row), the sender's own pseudonymous reference of the official, "
    "such as user:u-0007 or system:bkn"
)


#: A NIK (16 digits) or a NIP (18 digits): a run of exactly that many digits, single spaces
#: allowed between them, as a NIP is printed (``19850119 201006 2 694``). Dots and hyphens are
#: not taken: register numbers join their dates and serials with them.
_NIK_OR_NIP = re.compile(r"(?<![0-9])(?<![0-9] )[0-9](?: ?[0-9]){15}(?:(?: ?[0-9]){2})?(?! ?[0-9])")


def holds_nik_or_nip(text: str) -> bool:
    """Whether ``text`` holds exactly 16 or 18 digits in a row, as a NIK or a NIP is.

    Example:
        >>> holds_nik_or_nip("LP/NIK-3201011505800001/2026"), holds_nik_or_nip("LP/2024/0012")
        (True, False)
        >>> holds_nik_or_nip("LP/19850119 201006 2 694/2026")
        True
    """
    return _NIK_OR_NIP.search(text) is not None


def is_actor_ref(text: str) -> bool:
    """Whether ``text`` is a pseudonymous reference of an official, never a name or a number.

    Example:
        >>> is_actor_ref("officer:bawaslu.33:ab12"), is_actor_ref("Drs. Bambang Sutrisno")
        (True, False)
        >>> is_actor_ref("user:198503152010011002")
        False
    """
    return (
        len(text) <= ACTOR_REF_MAX
        and ACTOR_REF.fullmatch(text) is not None
        and _LONG_NUMBER.search(text) is None
    )


def is_nip(text: str) -> bool:
    """Whether ``text`` is a NIP: 18 ASCII digits."""
    return NIP.fullmatch(text) is not None


def is_reporter_ref(text: str, source: str) -> bool:
    """Whether ``text`` is a reporter's pseudonym, or the finding of its sender ``source``.

    Example:
        >>> is_reporter_ref("reporter:" + "0a" * 12, "bawaslu"), is_reporter_ref("Budi", "b")
        (True, False)
    """
    return REPORTER_PSEUDONYM.fullmatch(text) is not None or text == f"finding:{source}"


def is_region_code(text: str) -> bool:
    """Whether ``text`` has the form of a Kemendagri region code (its province is not looked up)."""
    return REGION_CODE.fullmatch(text) is not None


def is_election(text: str) -> bool:
    """Whether ``text`` names an election the statistics can be filtered by."""
    return ELECTION.fullmatch(text) is not None


def is_number(text: str) -> bool:
    """Whether ``text`` is one or more ASCII digits: a non-negative integer ``int`` reads."""
    return text.isascii() and text.isdigit()


def calendar_day(text: str) -> date | None:
    """``text`` as a day written YYYY-MM-DD (ASCII digits), or None.

    ``date.fromisoformat`` also takes 20241102 and week dates (2024-W44-6): forms the messages
    asking for a day as YYYY-MM-DD do not name, so a reader of the answer could not tell
    which day was meant.

    Example:
        >>> calendar_day("2024-11-02"), calendar_day("20241102"), calendar_day("2024-02-30")
        (datetime.date(2024, 11, 2), None, None)
    """
    if DAY.fullmatch(text) is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:  # a day the month does not have
        return None
