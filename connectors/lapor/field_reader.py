"""Reading the fields of a report as sent: each problem collected, none quoted back.

:class:`FieldReader` reads text and yes/no fields and notes every field at fault, with a code
and what to do in Indonesian and English, so that the reporter mends all of it at once
(:mod:`connectors.lapor.submission` reads a whole report with it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Longest text accepted per field, in characters.
FIELD_LIMITS = {
    "reporter_name": 200,
    "reporter_contact": 200,
    "subject_name": 200,
    "subject_nip": 24,
    "employing_agency": 64,
    "province": 2,
    "region_code": 4,
    "election": 64,
    "violation": 64,
    "discovered_on": 10,
    "summary": 5000,
}
#: Control characters (NUL, BEL, ESC...): no text anyone typed, and unseen by a reader.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # tab and line feed allowed
#: Fields that may hold line breaks and tabs.
_MULTILINE = frozenset({"summary"})
_TRUE = frozenset({"true", "on", "1", "yes", "ya"})
_FALSE = frozenset({"false", "off", "0", "no", "tidak", ""})


@dataclass(frozen=True)
class Problem:
    """One field at fault.

    Attributes:
        field: the field's name.
        code: machine-readable reason (``missing``, ``too_long``, ``invalid``...).
        indonesian: what to do, in Indonesian.
        english: what to do, in English.
    """

    field: str
    code: str
    indonesian: str
    english: str

    def message(self, locale: str) -> str:
        """The message in ``locale`` (``id`` or ``en``)."""
        return self.english if locale == "en" else self.indonesian

    def as_json(self, locale: str) -> dict[str, str]:
        """The problem as the API answers it."""
        return {"field": self.field, "code": self.code, "message": self.message(locale)}


class SubmissionRefusedError(ValueError):
    """A submission with fields at fault (every one of them is listed)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(", ".join(f"{p.field}: {p.code}" for p in problems))
        self.problems = problems


class FieldReader:
    """Collects every problem of a submission before refusing it."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def fail(self, field: str, code: str, indonesian: str, english: str) -> str:
        """Note ``field`` at fault; ``""``, the value a field at fault is read as."""
        self.problems.append(Problem(field, code, indonesian, english))
        return ""

    def text(self, field: str, *, required: bool = True) -> str:
        """The text of ``field``, trimmed; ``""`` when it is at fault (noted) or left empty."""
        value = self.raw.get(field, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            return self.fail(field, "invalid", "Isian ini harus berupa teks.", "Must be text.")
        # A browser counts a line break as one character against the textarea's maxlength
        # and sends it as CR LF: measured as sent, a text the form allowed would be refused.
        value = value.replace("\r\n", "\n").strip()
        if (_CONTROL_IN_TEXT if field in _MULTILINE else _CONTROL).search(value):
            return self.fail(
                field,
                "invalid",
                "Isian ini memuat karakter kendali yang tak terlihat; ketik ulang isian ini.",
                "This field holds invisible control characters; type it again.",
            )
        limit = FIELD_LIMITS[field]
        if len(value) > limit:
            return self.fail(
                field,
                "too_long",
                f"Paling banyak {limit} karakter.",
                f"At most {limit} characters.",
            )
        if required and not value:
            return self.fail(field, "missing", "Isian ini wajib diisi.", "This field is required.")
        return value

    def flag(self, field: str, default: bool) -> bool:
        """The yes/no ``field`` (a boolean, or the words a form sends); ``default`` if absent."""
        value = self.raw.get(field)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        self.fail(field, "invalid", "Pilih ya atau tidak.", "Choose yes or no.")
        return default
