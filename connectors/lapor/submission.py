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
subject_name        name of the reported civil servant, if the reporter knows it: a bystander
                    may not, and identifies them in ``summary`` by position, office and place
                    (the event's field is then empty, as an unknown NIP is)
subject_nip         the civil servant's 18-digit NIP, if the reporter knows it
employing_agency    the PPK employing them (an institution id of the registry, ``ppk.3374``)
province            Kemendagri code of the province where it happened (``33``): the form
                    offers the provinces by name
region_code         Kemendagri code of the region where it happened (``33`` or ``3374``);
                    optional with ``province``, which it must then lie in
election            the election concerned (one of the portal's configured elections)
violation           the violation category (``kawal.ViolationCategory`` code, labels from data)
discovered_on       the day the reporter learnt of it (ISO 8601 date, not in the future nor
                    over ten years ago): the filing rule counts from it
                    (:mod:`connectors.lapor.filing`)
late_ok             true: send a report filed over 7 working days after ``discovered_on``
                    all the same (Bawaslu decides whether to register it); without it such a
                    report is refused, saying so, before it is sent (default false)
summary             what happened, in the reporter's words, when it happened included (a
                    line break is one character: CR LF, as a browser sends it, is read as LF);
                    at least :data:`MIN_SUMMARY` characters not counting spaces
=================== ======================================================================

``happened_on``, which earlier versions took and sent on as the day of discovery, is refused
(``renamed``) rather than read as a day it may not be: the report has no field for the day it
happened, so that day belongs in ``summary``.

No field may hold a control character (NUL, ESC...: nothing a reporter typed, and unseen on a
page), but the summary its line breaks and tabs.

A refusal names each field at fault with a code and a message in Indonesian and English, and
never quotes what was entered (it may be personal data).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from connectors.lapor.discovery import check_late, discovery_day, refuse_happened_on
from connectors.lapor.field_reader import FieldReader, SubmissionRefusedError
from connectors.lapor.filing import Filing, FilingRule
from connectors.lapor.resubmission import valid_form_token
from schemas.field_formats import is_nip
from schemas.labels import load_violation_labels
from streams.domain.calendar import WorkingCalendar
from streams.domain.zones import ZONES, RegionError, province_of, provinces, zone_of

#: A telephone number as people write it ((024) 8311234, 0812.3456.7890, +62 812-...) or an
#: e-mail address.
_CONTACT = re.compile(r"(\+?[0-9(][0-9 ().-]{6,22}|[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,})")
#: What separates the groups of a NIP as it is printed.
_NIP_SPACING = re.compile(r"[ .-]")
#: The shortest account taken, in characters without spaces: a report Bawaslu can check needs
#: what happened, where and when, which no shorter text holds.
MIN_SUMMARY = 20


@dataclass(frozen=True)
class Rules:
    """What the portal accepts.

    Attributes:
        jurisdiction: the Bawaslu office's region prefix (``33``), or ``""`` for Bawaslu RI.
        agencies: institution ids of the PPKs a report may name.
        elections: the elections a report may concern.
        filing: the filing rule on the hub's calendar (by default the ``holidays`` package's
            days without the hub's overrides).
    """

    jurisdiction: str
    agencies: frozenset[str]
    elections: tuple[str, ...]
    filing: FilingRule = field(default_factory=lambda: FilingRule(WorkingCalendar()))


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
    discovered_on: date
    summary: str
    #: The report's standing under the filing rule on the day it was sent.
    filing: Filing

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
            "discovered_on": self.discovered_on.isoformat(),
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


def read_submission(
    raw: Mapping[str, Any], rules: Rules, today: date, filed_on: date | None = None
) -> Submission:
    """The checked report of the fields ``raw`` (a JSON object, or the form's fields).

    Args:
        raw: the fields.
        rules: what the portal accepts.
        today: the reporter's day (in the office's zone): no day after it is taken.
        filed_on: the day the filing rule counts to, Jakarta's (``today`` if None).

    Raises:
        SubmissionRefusedError: one or more fields are missing, too long or invalid, or the
            report is late and ``late_ok`` was not sent (``discovered_on``, ``late``).
    """
    reader = FieldReader(raw)
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
    refuse_happened_on(reader)
    discovered_on = discovery_day(reader, today)
    filing = rules.filing.filing(discovered_on, filed_on or today)
    check_late(reader, filing)
    submission = Submission(
        reporter_identity=identity,
        subject_name=reader.text("subject_name", required=False),
        subject_nip=subject_nip,
        employing_agency=_choice(reader, "employing_agency", rules.agencies),
        region_code=_region(reader, rules.jurisdiction),
        election=_choice(reader, "election", frozenset(rules.elections)),
        violation=_choice(reader, "violation", frozenset(violation_codes())),
        discovered_on=discovered_on,
        summary=_summary(reader),
        filing=filing,
    )
    if reader.problems:
        raise SubmissionRefusedError(reader.problems)
    return submission


def _summary(reader: FieldReader) -> str:
    """The account, refused when too short to tell what happened."""
    summary = reader.text("summary")
    if summary and len("".join(summary.split())) < MIN_SUMMARY:
        return reader.fail(
            "summary",
            "too_short",
            f"Ceritakan lebih lengkap (paling sedikit {MIN_SUMMARY} karakter, spasi tidak "
            "dihitung): apa yang terjadi, kapan, di mana, dan siapa yang terlibat.",
            f"Tell more (at least {MIN_SUMMARY} characters, spaces not counted): what happened, "
            "when, where and who took part.",
        )
    return summary


def _form_token(reader: FieldReader) -> None:
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


def _identity(reader: FieldReader) -> str | None:
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


def _choice(reader: FieldReader, field: str, allowed: frozenset[str]) -> str:
    value = reader.text(field)
    if value and value not in allowed:
        return reader.fail(
            field, "unknown", "Pilih salah satu dari daftar.", "Choose one of the list."
        )
    return value


def _region(reader: FieldReader, jurisdiction: str) -> str:
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
