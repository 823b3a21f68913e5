"""Accepting a report: check it, store its evidence, spool it, hand out its tracking code.

No HTTP in here (:mod:`connectors.lapor.web` is the HTTP side). A report is accepted only once
everything it needs is durable: its evidence objects in the store, the report in the spool
(SQLite, ``synchronous=FULL``, mode 0600), the hash of its tracking code in the tracking store.
Only then does the reporter see the code; a failure before that answers "try again" and
leaves nothing the reporter would have to know about (a stored evidence object without a
report is ciphertext nobody has the key of, and is reused if the report is sent again).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.bawaslu.spool import PostIdConflictError, Spool, SpoolUnavailableError
from connectors.lapor.evidence import EvidenceError, EvidenceStore, evidence_keys
from connectors.lapor.field_reader import Problem, SubmissionRefusedError
from connectors.lapor.filing import Filing, Standing, jakarta_today
from connectors.lapor.media import EvidenceLimits, EvidenceRefusedError, check_files
from connectors.lapor.metadata import (
    LockedPdfError,
    MetadataRefusedError,
    MetadataUnavailableError,
    strip,
)
from connectors.lapor.resubmission import ReportIds, report_ids
from connectors.lapor.submission import Rules, read_submission, reporters_today
from connectors.lapor.tracking import TrackingStore, TrackingUnavailableError
from schemas.identity import case_id_for

log = logging.getLogger(__name__)

_MB = 1024 * 1024
#: The reporting channel of everything this intake accepts.
CHANNEL = "WEB_FORM"


@dataclass(frozen=True)
class Upload:
    """One evidence file as uploaded: the name the reporter's device gave it, and its bytes."""

    name: str
    data: bytes

    def __repr__(self) -> str:
        return f"Upload({len(self.data)} bytes)"  # the name may name a person


@dataclass(frozen=True)
class Accepted:
    """An accepted report: the code to show the reporter once, its case number and standing."""

    tracking_code: str
    case_number: str
    case_id: str
    #: The report under the filing rule: a late one's receipt says so.
    filing: Filing


@dataclass
class IntakeRefusedError(Exception):
    """A report that is not accepted, with an HTTP status and messages in both languages."""

    status: int
    code: str
    indonesian: str
    english: str
    problems: list[Problem] = field(default_factory=list)

    def message(self, locale: str) -> str:
        """The message in ``locale`` (``id`` or ``en``)."""
        return self.english if locale == "en" else self.indonesian

    def __str__(self) -> str:
        return f"{self.status} {self.code}"


@dataclass(frozen=True)
class IntakeParts:
    """What an intake works with."""

    institution: str
    rules: Rules
    limits: EvidenceLimits
    evidence: EvidenceStore
    spool: Spool
    tracking: TrackingStore
    form_key: bytes | None = None
    """Derives a form's report id and code (:mod:`connectors.lapor.resubmission`)."""


class ReportIntake:
    """Checks and keeps reports of one Bawaslu office's portal."""

    def __init__(
        self, parts: IntakeParts, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.parts = parts
        self.clock = clock

    def submit(self, raw: Mapping[str, Any], uploads: list[Upload]) -> Accepted:
        """Accept one report: its fields ``raw`` and evidence ``uploads``.

        Raises:
            IntakeRefusedError: 400 with every field at fault (and the evidence's fault, if
                any), 400/413/415 for evidence alone at fault, 503 when the evidence store,
                spool or tracking store cannot be written now, or metadata cannot be removed.
        """
        now = self.clock()
        today = reporters_today(now, self.parts.rules.jurisdiction)
        try:
            submission = read_submission(raw, self.parts.rules, today, jakarta_today(now))
        except SubmissionRefusedError as exc:
            raise IntakeRefusedError(
                400,
                "invalid_report",
                "Laporan belum dapat diterima: periksa isian yang ditandai.",
                "The report cannot be accepted yet: check the fields marked.",
                # The evidence's fault with the fields': the reporter mends all of it at once.
                [*exc.problems, *self._evidence_problems(uploads)],
            ) from None
        stored = self._store_evidence(uploads)
        evidence = [item.reference() for item, _ in stored]
        ids = report_ids(
            self.parts.form_key,
            raw.get("form_token"),
            submission.fields(),
            [reference["sha256"] for reference in evidence],
        )
        report_id = ids.report_id
        # Two groups of eight: sixteen digits in a row would read as a NIK, which the hub refuses.
        case_number = f"WEB/{today:%Y}/{report_id[:8].upper()}-{report_id[8:16].upper()}"
        case_id = case_id_for(self.parts.institution, case_number)
        body = {
            "id": report_id,
            "case_number": case_number,
            "received_at": now.astimezone(UTC).isoformat(),
            "channel": CHANNEL,
            "report": submission.fields(),
            "evidence": evidence,
            "evidence_keys": evidence_keys(stored),
        }
        standing = submission.filing.standing
        self._keep(ids, json.dumps(body, ensure_ascii=False).encode(), case_id, now, standing)
        return Accepted(ids.tracking_code, case_number, case_id, submission.filing)

    def _evidence_problems(self, uploads: list[Upload]) -> list[Problem]:
        """What is wrong with ``uploads``, as the problem of the form's evidence field."""
        try:
            self._cleaned(uploads)
        except IntakeRefusedError as exc:
            return exc.problems
        return []

    def _cleaned(self, uploads: list[Upload]) -> list[tuple[bytes, str]]:
        """Each upload without its identifying metadata, and its sniffed media type.

        The limits are checked on the files as sent, then each is cleaned
        (:mod:`connectors.lapor.metadata`): what is hashed, stored and read by the
        institutions is the clean file, never the one with the reporter's location.

        Raises:
            IntakeRefusedError: 400/413/415, the evidence's fault as the ``evidence`` problem;
                503 when the metadata tool cannot be run.
        """
        try:
            types = check_files([upload.data for upload in uploads], self.parts.limits)
        except EvidenceRefusedError as exc:
            raise _evidence_refusal(exc, self.parts.limits) from None
        cleaned = []
        for index, (upload, media_type) in enumerate(zip(uploads, types, strict=True)):
            try:
                cleaned.append((strip(upload.data, media_type), media_type))
            except MetadataRefusedError as exc:
                code = "evidence_locked" if isinstance(exc, LockedPdfError) else "evidence_metadata"
                refused = EvidenceRefusedError(code, str(exc), index)
                raise _evidence_refusal(refused, self.parts.limits) from None
            except MetadataUnavailableError as exc:
                raise _unavailable("metadata_unavailable", str(exc)) from None
        return cleaned

    def _store_evidence(self, uploads: list[Upload]) -> list[tuple[Any, str]]:
        cleaned = self._cleaned(uploads)
        try:
            return [
                (self.parts.evidence.put(data, media_type), evidence_name(number, media_type))
                for number, (data, media_type) in enumerate(cleaned, start=1)
            ]
        except EvidenceError as exc:
            raise _unavailable("evidence_store_unavailable", str(exc)) from exc

    def _keep(
        self, ids: ReportIds, body: bytes, case_id: str, now: datetime, standing: Standing
    ) -> None:
        region = json.loads(body)["report"]["region_code"]
        try:
            added = self.parts.tracking.add(ids.tracking_code, case_id, region, now, standing)
        except TrackingUnavailableError as exc:
            raise _unavailable("tracking_unavailable", str(exc)) from exc
        try:
            self.parts.spool.append(ids.report_id, body)
        except PostIdConflictError:
            if not ids.derived:
                raise
            # The same form sent again (its body differs in received_at only): kept once.
        except SpoolUnavailableError as exc:
            if added:  # no report, no code; a code an earlier sending added stays
                self.parts.tracking.remove(ids.tracking_code)
            raise _unavailable("spool_unavailable", str(exc)) from exc


#: The file name extension of each accepted media type.
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
}


def evidence_name(number: int, media_type: str) -> str:
    """The name the ``number``-th file of a report is passed on under: ``bukti-1.jpg``...

    Never the name the reporter's device gave it: a phone names a photo by the second it was
    taken (``IMG_20261204_190512.jpg``), a chat export by the person chatted with, a path by
    the computer's user, and any of them can single out an anonymous reporter.
    """
    return f"bukti-{number}{EXTENSIONS.get(media_type, '')}"


def _evidence_refusal(exc: EvidenceRefusedError, limits: EvidenceLimits) -> IntakeRefusedError:
    # Not the reporter's file name (it may name a person): its place in the list.
    at = "" if exc.index is None else f" ke-{exc.index + 1}"
    of = "" if exc.index is None else f" {exc.index + 1}"
    total, size = limits.max_total_bytes // _MB, limits.max_file_bytes // _MB
    status, indonesian, english = {
        "evidence_type": (
            415,
            f"Berkas bukti{at} bukan foto, video, PDF atau teks: kirim foto (JPEG, PNG, WebP, "
            "HEIC), video (MP4, MOV), PDF atau teks.",
            f"Evidence file{of} is not a photo, video, PDF or text: send a photo (JPEG, PNG, "
            "WebP, HEIC), a video (MP4, MOV), a PDF or a text file.",
        ),
        "evidence_too_many": (
            413,
            f"Terlalu banyak berkas bukti: paling banyak {limits.max_files} berkas per laporan.",
            f"Too many evidence files: at most {limits.max_files} per report.",
        ),
        "evidence_too_large": (
            413,
            f"Berkas bukti{at} lebih dari {size} MB: kirim versi yang lebih kecil."
            if exc.index is not None
            else f"Berkas bukti bersama lebih dari {total} MB: kirim lebih sedikit atau lebih "
            "kecil.",
            f"Evidence file{of} is over {size} MB: send a smaller version."
            if exc.index is not None
            else f"The evidence files are over {total} MB together: send fewer or smaller ones.",
        ),
        "evidence_metadata": (
            400,
            f"Data yang dapat mengenali Anda (lokasi, kamera, penulis) tidak dapat dihapus dari "
            f"berkas bukti{at}, jadi laporan belum disimpan: kirim tangkapan layarnya, simpan "
            "atau ekspor ulang berkasnya, atau kirim tanpa berkas itu.",
            f"The details that could identify you (location, camera, author) could not be "
            f"removed from evidence file{of}, so the report was not kept yet: send a screenshot "
            "of it, save or export the file again, or send without it.",
        ),
        "evidence_locked": (
            400,
            f"Berkas bukti{at} dikunci dengan kata sandi, jadi isinya tidak dapat dibaca: "
            "simpan tanpa kata sandi lalu kirim lagi, kirim tangkapan layarnya, atau kirim tanpa "
            "berkas itu.",
            f"Evidence file{of} is locked with a password, so nothing of it can be read: save "
            "it without the password and send it again, send a screenshot of it, or send "
            "without it.",
        ),
        "evidence_empty": (
            400,
            f"Berkas bukti{at} kosong: pilih berkas lain atau kirim tanpa berkas itu.",
            f"Evidence file{of} is empty: choose another file or send without it.",
        ),
    }[exc.code]
    return IntakeRefusedError(
        status, exc.code, indonesian, english, [Problem("evidence", exc.code, indonesian, english)]
    )


def _unavailable(code: str, detail: str) -> IntakeRefusedError:
    log.warning("lapor: a report was refused for now: %s (%s)", code, detail)  # no report data
    return IntakeRefusedError(
        503,
        code,
        "Laporan tidak dapat disimpan saat ini. Silakan coba lagi beberapa saat lagi.",
        "The report cannot be stored right now. Please try again in a while.",
    )
