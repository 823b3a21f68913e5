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
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.bawaslu.spool import PostIdConflictError, Spool, SpoolUnavailableError
from connectors.lapor import refusals
from connectors.lapor.evidence import EvidenceError, EvidenceStore, StoredEvidence, evidence_keys
from connectors.lapor.evidence_words import not_held_words, refused_evidence_words
from connectors.lapor.field_reader import Problem, SubmissionRefusedError
from connectors.lapor.filing import Filing, Standing, jakarta_today
from connectors.lapor.holding import Cleaned, HeldFile, Holding, HoldingUnavailableError
from connectors.lapor.media import EvidenceLimits, EvidenceRefusedError
from connectors.lapor.metadata import MetadataUnavailableError
from connectors.lapor.resubmission import ReportIds, report_ids
from connectors.lapor.screening import Screened, screen
from connectors.lapor.submission import Rules, read_submission, reporters_today
from connectors.lapor.tracking import TrackingStore, TrackingUnavailableError
from schemas.identity import case_id_for

log = logging.getLogger(__name__)

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
    #: A form's files held for it (:mod:`connectors.lapor.holding`), listed on its page.
    held: list[HeldFile] = field(default_factory=list)
    #: How many of the files chosen are not held: the page asks for them again.
    not_kept: int = 0
    #: The names on the reporter's device of the files just sent that are not held, so the
    #: page says which to choose again (the rest of ``not_kept`` were held for an earlier
    #: page of the form and are named by it only).
    again: list[str] = field(default_factory=list)
    #: Seconds after which sending again may succeed (``Retry-After``); None: not a matter
    #: of waiting.
    retry_after: int | None = None

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
    holding: Holding | None = None
    """Holds a form's files while it is sent back (None: none is held)."""

    def close(self) -> None:
        """Close the stores the intake writes to."""
        self.evidence.close()
        self.spool.close()
        self.tracking.close()
        if self.holding is not None:
            self.holding.close()


class ReportIntake:
    """Checks and keeps reports of one Bawaslu office's portal."""

    def __init__(
        self, parts: IntakeParts, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.parts = parts
        self.clock = clock

    def submit(
        self, raw: Mapping[str, Any], uploads: list[Upload], kept: Sequence[str] | None = None
    ) -> Accepted:
        """Accept one report: its fields ``raw`` and evidence ``uploads``.

        Args:
            raw: the report's fields.
            uploads: the evidence files sent with it.
            kept: the form's ``kept_evidence``, the SHA-256 of each file held for it
                (:mod:`connectors.lapor.holding`) to send with it; None (the JSON API): no
                file is held or kept, a client sends its files again.

        Raises:
            IntakeRefusedError: 400 with every field at fault (and the evidence's fault, if
                any), 400/413/415 for evidence alone at fault, 400 ``evidence_not_held`` for
                a kept file no longer held for the form, 503 when the evidence store, spool
                or tracking store cannot be written now, or metadata cannot be removed. A
                form's refusal lists the files held for it (``held``) and how many of those
                chosen are not (``not_kept``).
        """
        now = self.clock()
        held: list[HeldFile] = []
        lost = len(kept or ())  # until looked up: a store that cannot be read holds none
        try:
            held, lost = self._kept(raw, kept, now)
            return self._accept(raw, uploads, held, lost, now, holds=kept is not None)
        except IntakeRefusedError as exc:
            exc.not_kept = len(uploads) - len(exc.held) + lost
            exc.again = not_held_names(uploads, exc.held)
            exc.held = [*held, *exc.held]
            raise

    def _accept(
        self,
        raw: Mapping[str, Any],
        uploads: list[Upload],
        held: list[HeldFile],
        lost: int,
        now: datetime,
        *,
        holds: bool,
    ) -> Accepted:
        today = reporters_today(now, self.parts.rules.jurisdiction)
        screened = self._screen(uploads, held)
        fault = None if screened.fault is None else self._refusal_of(screened.fault)
        try:
            submission = read_submission(raw, self.parts.rules, today, jakarta_today(now))
        except SubmissionRefusedError as exc:
            # The evidence's fault with the fields': the reporter mends all of it at once.
            problems = [*exc.problems, *(_not_held().problems if lost else [])]
            refused = IntakeRefusedError(
                400,
                "invalid_report",
                "Laporan belum dapat diterima: periksa isian yang ditandai.",
                "The report cannot be accepted yet: check the fields marked.",
                [*problems, *(fault.problems if fault else [])],
            )
            raise self._sent_back(refused, raw, screened, now, holds=holds) from None
        if lost:
            raise self._sent_back(_not_held(), raw, screened, now, holds=holds)
        if fault:
            raise self._sent_back(fault, raw, screened, now, holds=holds)
        stored = self._take(raw, held) + self._store_evidence(screened.files)
        named = [
            (item, evidence_name(number, item.media_type))
            for number, item in enumerate(stored, start=1)
        ]
        evidence = [item.reference() for item in stored]
        ids = report_ids(
            self.parts.form_key,
            raw.get("form_token"),
            submission.fields(),
            [item.sha256 for item in stored],
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
            "evidence_keys": evidence_keys(named),
        }
        standing = submission.filing.standing
        self._keep(ids, json.dumps(body, ensure_ascii=False).encode(), case_id, now, standing)
        return Accepted(ids.tracking_code, case_number, case_id, submission.filing)

    def still_held(self, raw: Mapping[str, Any], kept: Sequence[str]) -> tuple[list[HeldFile], int]:
        """The files of ``kept`` still held for the form ``raw``, and how many are not.

        For a form sent back unread (over a rate limit): a store that cannot be read holds none.
        """
        try:
            return self._kept(raw, kept, self.clock())
        except IntakeRefusedError:
            return [], len(kept)

    def _kept(
        self, raw: Mapping[str, Any], kept: Sequence[str] | None, now: datetime
    ) -> tuple[list[HeldFile], int]:
        if not kept:
            return [], 0
        if self.parts.holding is None:
            return [], len(kept)
        try:
            return self.parts.holding.kept(raw.get("form_token"), kept, now)
        except HoldingUnavailableError as exc:
            raise _unavailable("evidence_store_unavailable", str(exc)) from exc

    def _screen(self, uploads: list[Upload], held: list[HeldFile]) -> Screened:
        """The files sent, checked with those held and cleaned (:mod:`.screening`).

        What is hashed, stored and read by the institutions is the clean file, never the one
        with the reporter's location.

        Raises:
            IntakeRefusedError: 503 when the metadata tool cannot be run.
        """
        try:
            return screen(uploads, held, self.parts.limits)
        except MetadataUnavailableError as exc:
            raise _unavailable("metadata_unavailable", str(exc)) from None

    def _refusal_of(self, fault: EvidenceRefusedError) -> IntakeRefusedError:
        return _evidence_refusal(fault, self.parts.limits)

    def _sent_back(
        self,
        refusal: IntakeRefusedError,
        raw: Mapping[str, Any],
        screened: Screened,
        now: datetime,
        *,
        holds: bool,
    ) -> IntakeRefusedError:
        """``refusal``, after holding the files without fault of a form (``held``)."""
        if holds and self.parts.holding is not None:
            refusal.held = self.parts.holding.hold(raw.get("form_token"), screened.files, now)
        return refusal

    def _take(self, raw: Mapping[str, Any], held: list[HeldFile]) -> list[StoredEvidence]:
        if not held or self.parts.holding is None:
            return []
        try:
            return self.parts.holding.take(str(raw.get("form_token")), held)
        except HoldingUnavailableError as exc:
            raise _unavailable("evidence_store_unavailable", str(exc)) from exc

    def _store_evidence(self, files: list[Cleaned]) -> list[StoredEvidence]:
        try:
            return [self.parts.evidence.put(file.data, file.media_type) for file in files]
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


def not_held_names(uploads: Sequence[Upload], held: Sequence[HeldFile]) -> list[str]:
    """The names of ``uploads`` that are not among the files ``held`` for them, in order."""
    left = Counter(file.name for file in held)
    names = []
    for upload in uploads:
        if left[upload.name]:
            left[upload.name] -= 1
        else:
            names.append(upload.name)
    return names


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
    status, indonesian, english = refused_evidence_words(exc, limits)
    problem = Problem("evidence", exc.code, indonesian, english)
    return IntakeRefusedError(status, exc.code, indonesian, english, [problem])


def _not_held() -> IntakeRefusedError:
    """The refusal of a form naming kept files no longer held for it (expired, or another's)."""
    indonesian, english = not_held_words()
    problem = Problem("evidence", "evidence_not_held", indonesian, english)
    return IntakeRefusedError(400, "evidence_not_held", indonesian, english, [problem])


def _unavailable(code: str, detail: str) -> IntakeRefusedError:
    """A report refused for now: a store of the portal, or its metadata tool, cannot be used.

    A store's fault passes by itself, so the refusal says when to send again
    (:data:`~connectors.lapor.refusals.STORE_RETRY_SECONDS`); a metadata tool that cannot be run
    waits on the operator (the log says what to install), so it names no time.
    """
    log.warning("lapor: a report was refused for now: %s (%s)", code, detail)  # no report data
    if code == "metadata_unavailable":
        return IntakeRefusedError(
            503,
            code,
            "Laporan tidak dapat disimpan saat ini. Silakan coba lagi beberapa saat lagi.",
            "The report cannot be stored right now. Please try again in a while.",
        )
    wait_id, wait_en = refusals.wait_words(refusals.STORE_RETRY_SECONDS)
    return IntakeRefusedError(
        503,
        code,
        f"Laporan tidak dapat disimpan saat ini. Silakan coba lagi dalam {wait_id}.",
        f"The report cannot be stored right now. Please try again in {wait_en}.",
        retry_after=refusals.STORE_RETRY_SECONDS,
    )
