"""A report as the public submits it: the fields of the form or the JSON API, checked.

The web form and the JSON API take the same fields (the API: a JSON object, ``anonymous`` a
boolean, true when left out; the form: ``multipart/form-data``, ``anonymous`` a checkbox, which
a browser leaves out when it is unticked, so the form reads a missing one as false):

=================== ======================================================================
field               what
=================== ======================================================================
anonymous           true: no identity is asked or kept (default); false: name and contact
reporter_name       the reporter's name (identified reports only)
reporter_contact    a telephone number or e-mail address to reach the reporter
subject_name        name of the reported civil servant
subject_nip         the civil servant's 18-digit NIP, if the reporter knows it
employing_agency    the PPK employing them (an institution id of the registry, ``ppk.3374``)
province            Kemendagri code of the province where it happened (``33``): the form
                    offers the provinces by name
region_code         Kemendagri code of the region where it happened (``33`` or ``3374``);
                    optional with ``province``, which it must then lie in
election            the election concerned (one of the portal's configured elections)
violation           the violation category (``kawal.ViolationCategory`` code, labels from data)
happened_on         the day it happened or was seen (ISO 8601 date, not in the future nor over
                    ten years ago)
summary             what happened, in the reporter's words (a line break is one character:
                    CR LF, as a browser sends it, is read as LF)
=================== ======================================================================

No field may hold a control character (NUL, ESC...: nothing a reporter typed, and unseen on a
page), but the summary its line breaks and tabs.

A refusal names each field at fault with a code and a message in Indonesian and English, and
never quotes what was entered (it may be personal data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connectors.lapor.resubmission import valid_form_token
from schemas.field_formats import calendar_day, is_nip
from schemas.labels import load_violation_labels
from streams.domain.zones import ZONES, RegionError, province_of, provinces, zone_of

#: Reports of days longer ago are refused: two election cycles, past any case still handled.
OLDEST_REPORT_YEARS = 10
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
    "happened_on": 10,
    "summary": 5000,
}
#: A telephone number as people write it ((024) 8311234, 0812.3456.7890, +62 812-...) or an
#: e-mail address.
_CONTACT = re.compile(r"(\+?[0-9(][0-9 ().-]{6,22}|[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,})")
#: What separates the groups of a NIP as it is printed.
_NIP_SPACING = re.compile(r"[ .-]")
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


@dataclass(frozen=True)
class Rules:
    """What the portal accepts.

    Attributes:
        jurisdiction: the Bawaslu office's region prefix (``33``), or ``""`` for Bawaslu RI.
        agencies: institution ids of the PPKs a report may name.
        elections: the elections a report may concern.
    """

    jurisdiction: str
    agencies: frozenset[str]
    elections: tuple[str, ...]


@dataclass(frozen=True)
class Submission:
    """A checked report (its evidence files are checked apart, :mod:`connectors.lapor.media`)."""

    reporter_identity: str | None
    subject_name: str
    subject_nip: str
    employing_agency: str
    region_code: str
    election: str
    violation: str
    happened_on: date
    summary: str

    def fields(self) -> dict[str, Any]:
        """The report as the spool keeps it (the date in ISO 8601)."""
        return {
            "reporter_identity": self.reporter_identity,
            "subject_name": self.subject_name,
            "subject_nip": self.subject_nip,
            "employing_agency": self.employing_agency,
            "region_code": self.region_code,
            "election": self.election,
            "violation": self.violation,
            "happened_on": self.happened_on.isoformat(),
            "summary": self.summary,
        }


def reporters_today(now: datetime, jurisdiction: str) -> date:
    """The day it is for the office's reporters at ``now``: in its province's zone.

    A report of what happened this morning in Semarang, sent at 06:00 WIB, is dated the day
    before in UTC. Bawaslu RI takes reports from every zone: its day is the one that ends
    last, in WIT.
    """
    zone = zone_of(jurisdiction) if jurisdiction else ZONES["WIT"]
    return now.astimezone(zone).date()


def violation_codes() -> tuple[str, ...]:
    """The violation codes a reporter may choose (every labelled code but ``UNKNOWN``)."""
    return tuple(code for code in load_violation_labels() if code != "UNKNOWN")


class _Reader:
    """Collects every problem of a submission before refusing it."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[Problem] = []

    def fail(self, field: str, code: str, indonesian: str, english: str) -> str:
        self.problems.append(Problem(field, code, indonesian, english))
        return ""

    def text(self, field: str, *, required: bool = True) -> str:
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
        value = self.raw.get(field)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        self.fail(field, "invalid", "Pilih ya atau tidak.", "Choose yes or no.")
        return default


def read_submission(raw: Mapping[str, Any], rules: Rules, today: date) -> Submission:
    """The checked report of the fields ``raw`` (a JSON object, or the form's fields).

    Raises:
        SubmissionRefusedError: one or more fields are missing, too long or invalid.
    """
    reader = _Reader(raw)
    identity = _identity(reader)
    # As printed on a decree or an ID card: 19850101 201001 1 001.
    subject_nip = _NIP_SPACING.sub("", reader.text("subject_nip", required=False))
    if subject_nip and not is_nip(subject_nip):
        reader.fail(
            "subject_nip",
            "invalid",
            "NIP terdiri dari 18 angka (spasi boleh); kosongkan bila tidak tahu.",
            "A NIP has 18 digits (spaces allowed); leave it empty if you do not know it.",
        )
    _form_token(reader)
    submission = Submission(
        reporter_identity=identity,
        subject_name=reader.text("subject_name"),
        subject_nip=subject_nip,
        employing_agency=_choice(reader, "employing_agency", rules.agencies),
        region_code=_region(reader, rules.jurisdiction),
        election=_choice(reader, "election", frozenset(rules.elections)),
        violation=_choice(reader, "violation", frozenset(violation_codes())),
        happened_on=_day(reader, today),
        summary=reader.text("summary"),
    )
    if reader.problems:
        raise SubmissionRefusedError(reader.problems)
    return submission


def _form_token(reader: _Reader) -> None:
    """Refuse a ``form_token`` given that is none: ignored, a retry would be a second report."""
    token = reader.raw.get("form_token")
    if token not in (None, "") and valid_form_token(token) is None:
        reader.fail(
            "form_token",
            "invalid",
            "form_token harus 24 karakter A-Z, a-z, 0-9, _ atau - (mis. "
            "secrets.token_urlsafe(18)); kirim token yang sama saat mengulang laporan ini.",
            "form_token must be 24 characters of A-Z, a-z, 0-9, _ or - (e.g. "
            "secrets.token_urlsafe(18)); send the same one when you send this report again.",
        )


#: Why a name or contact sent with an anonymous report is refused, by whether ``anonymous`` was
#: sent: dropped unseen, it would leave the reporter believing Bawaslu can reach them.
_AMBIGUOUS = {
    False: (
        "Nama atau kontak pelapor dikirim tanpa anonymous: kirim anonymous false agar "
        "dikenal, atau true (dan tanpa nama) agar tetap anonim.",
        "A reporter's name or contact was sent without anonymous: send anonymous false to "
        "be named, or true (and no name) to stay anonymous.",
    ),
    True: (
        "Melapor tanpa nama dipilih, tetapi nama atau kontak diisi: hapus centangnya agar "
        "Bawaslu dapat menghubungi Anda, atau kosongkan nama dan kontak.",
        "Report anonymously is chosen, but a name or contact was given: untick it so that "
        "Bawaslu can reach you, or empty the name and contact.",
    ),
}


def _identity(reader: _Reader) -> str | None:
    # The JSON API's default is anonymous; the form's box is ticked by default.
    if reader.flag("anonymous", default=True):
        if any(reader.raw.get(field) for field in ("reporter_name", "reporter_contact")):
            said = reader.raw.get("anonymous") is not None
            reader.fail("anonymous", "ambiguous", *_AMBIGUOUS[said])
        return None
    name = reader.text("reporter_name")
    contact = reader.text("reporter_contact")
    if contact and not _CONTACT.fullmatch(contact):
        reader.fail(
            "reporter_contact",
            "invalid",
            "Tulis nomor telepon atau alamat surel.",
            "Give a telephone number or an e-mail address.",
        )
    return f"{name} <{contact}>"


def _choice(reader: _Reader, field: str, allowed: frozenset[str]) -> str:
    value = reader.text(field)
    if value and value not in allowed:
        return reader.fail(
            field, "unknown", "Pilih salah satu dari daftar.", "Choose one of the list."
        )
    return value


def _region(reader: _Reader, jurisdiction: str) -> str:
    """The region: ``region_code``, else the ``province`` chosen (the form's list by name)."""
    province = reader.text("province", required=False)
    value = reader.text("region_code", required=not province)
    if province:
        if province not in provinces():
            return reader.fail(
                "province",
                "unknown",
                "Pilih provinsi dari daftar.",
                "Choose a province of the list.",
            )
        if value and value.isascii() and value.isdigit() and not value.startswith(province):
            return reader.fail(
                "region_code",
                "other_province",
                "Kode kabupaten/kota ini bukan di provinsi yang dipilih; periksa kodenya atau "
                "kosongkan.",
                "This regency or city code is not in the province chosen; check it or leave it "
                "empty.",
            )
        value = value or province
    if not value:
        return value
    try:
        province_of(value)  # 2 or 4 digits (the field holds 4), the first two a province's
        if value[2:] == "00":  # no regency or city is numbered 00: a province is 2 digits
            raise RegionError("no regency")
    except RegionError:
        return reader.fail(
            "region_code",
            "invalid",
            "Kode wilayah Kemendagri terdiri dari 2 angka untuk provinsi (misalnya 33) atau 4 "
            "angka untuk kabupaten/kota (misalnya 3374).",
            "A Kemendagri region code has 2 digits for a province (e.g. 33) or 4 for a regency "
            "or city (e.g. 3374).",
        )
    if not value.startswith(jurisdiction):
        return reader.fail(
            "region_code",
            "outside_jurisdiction",
            f"Kanal ini menerima laporan dari wilayah {jurisdiction} saja; laporkan ke Bawaslu "
            "wilayah tempat kejadian.",
            f"This channel takes reports of region {jurisdiction} only; report to the Bawaslu "
            "office of the region where it happened.",
        )
    return value


def _day(reader: _Reader, today: date) -> date:
    value = reader.text("happened_on")
    if not value:
        return today
    day = calendar_day(value)
    if day is None:
        reader.fail(
            "happened_on",
            "invalid",
            "Tulis tanggal seperti 2024-11-04.",
            "Give a date such as 2024-11-04.",
        )
        return today
    if day > today:
        reader.fail(
            "happened_on",
            "in_future",
            "Tanggal kejadian tidak boleh di masa depan.",
            "The day cannot be in the future.",
        )
    elif day < _earliest_day(today):
        reader.fail(
            "happened_on",
            "too_long_ago",
            f"Tanggal itu lebih dari {OLDEST_REPORT_YEARS} tahun lalu; periksa tahunnya.",
            f"That day is over {OLDEST_REPORT_YEARS} years ago; check the year.",
        )
    return day


def _earliest_day(today: date) -> date:
    """The first day a report may be of: a mistyped year (0204 for 2024) is refused."""
    try:
        return today.replace(year=today.year - OLDEST_REPORT_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - OLDEST_REPORT_YEARS, day=28)
