"""Whether free text an operator writes looks like it names someone.

Some text an operator writes travels to every party and stays for good where no erasure
reaches: an erasure's reason, a retention rule's legal source (quoted in each erasure it
makes), a key's revocation reason (kept in the public key registry every institution holds).
Such text must say why without naming anyone; a long number (a NIP, NIK or telephone number)
or an e-mail address in it is refused.

Example:
    >>> names_someone("erasure request 2027/014 under Law 27/2022")
    False
    >>> names_someone("request of 198501012010011001"), names_someone("ask budi@example.org")
    (True, True)
"""

from __future__ import annotations

import re

#: Ten digits or more, single spaces, dots or hyphens between them allowed: a NIP (18
#: digits), a NIK (16) or a telephone number (10 to 13), never a letter number or a date.
_LONG_NUMBER = re.compile(r"\d(?:[ .\-]?\d){9,}")
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+")
#: What a refusal says of such text.
NAMES_SOMEONE = (
    "looks like it holds personal data (a number of ten digits or more, such as a NIP, NIK or "
    "telephone number, or an e-mail address)"
)


def names_someone(text: str) -> bool:
    """Whether ``text`` holds a long number or an e-mail address."""
    return bool(_LONG_NUMBER.search(text) or _EMAIL.search(text))
