"""Evidence reaches the store without the reporter's location, device, name or dates.

Real files with real metadata (tests/evidence_samples.py) go through the real portal (HTTP, a
real SeaweedFS, the spool), and what an entitled institution decrypts from the store is
checked: no identifying tag left, and the pixels of photos, the coded packets of videos and the
content of PDF pages exactly as sent.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from minio import Minio
from minio.error import S3Error

from connectors.lapor import metadata
from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import EvidenceStore, S3Location, object_name, parse_evidence_keys
from connectors.lapor.metadata import MetadataRefusedError, MetadataUnavailableError, strip
from tests.connectors.test_lapor_portal import (
    evidence,
    only_event,
    opened_intake,
    post_json,
    request,
)
from tests.evidence_samples import (
    TRACES,
    Sample,
    document,
    identifying,
    jpeg_scan,
    packets,
    pages,
    photo,
    pixels,
    tags_of,
    video,
)
from tests.lapor_support import CHAT_LOG, multipart, png, report_fields

#: A file that sniffs as a PDF but is none: nothing can rewrite it.
BROKEN_PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
#: A JPEG's first bytes, then nothing an image holds: exiftool cannot rewrite it.
BROKEN_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)

SAMPLES: dict[str, Callable[[], Sample]] = {
    "jpeg": lambda: photo("jpeg"),
    "png": lambda: photo("png"),
    "webp": lambda: photo("webp"),
    "heic": lambda: photo("heic"),
    "mp4": lambda: video("mp4"),
    "mov": lambda: video("mov"),
    "pdf": document,
}


def stored_files(
    connector: LaporIntake, location: S3Location
) -> list[tuple[dict[str, Any], bytes]]:
    """Each file of the one report spooled, as an entitled institution reads and checks it."""
    record = only_event(connector)
    keys = parse_evidence_keys(record["evidence_keys"])
    reader = EvidenceStore(location)  # the authority's: read access, no evidence key
    return [(ref, reader.read(ref, keys[ref["sha256"]][0])) for ref in record["evidence"]]


def in_store(location: S3Location, sha256: str) -> bool:
    client = Minio(
        location.endpoint.removeprefix("http://"),
        access_key=location.access_key,
        secret_key=location.secret_key,
        secure=False,
        region="us-east-1",
    )
    try:
        client.stat_object(location.bucket, object_name(sha256))
    except S3Error:
        return False
    return True


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_what_reaches_the_store_has_no_metadata_and_the_same_picture_or_stream(
    intake: LaporIntake, location: S3Location, kind: str
) -> None:
    sample = SAMPLES[kind]()
    assert identifying(sample.data), "the sample must carry the reporter's metadata"
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = evidence((sample.name, sample.data))

    assert post_json(intake, payload)[0] == 202
    ((reference, kept),) = stored_files(intake, location)

    assert identifying(kept) == []
    assert [trace for trace in TRACES if trace.encode() in kept] == []
    assert reference["media_type"] == sample.media_type
    assert reference["sha256"] == hashlib.sha256(kept).hexdigest()
    assert reference["size_bytes"] == len(kept)
    if sample.media_type.startswith("image/"):
        assert pixels(kept) == pixels(sample.data)
    elif sample.media_type.startswith("video/"):
        assert packets(kept) == packets(sample.data)
        assert len(packets(kept)) == 10
    else:
        assert pages(kept) == pages(sample.data) == [b"BT 20 100 Td (Undangan kampanye) Tj ET"]


def test_a_jpeg_keeps_its_scan_data_byte_for_byte_its_orientation_and_colours(
    intake: LaporIntake, location: S3Location
) -> None:
    sample = photo("jpeg")
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = evidence((sample.name, sample.data))

    assert post_json(intake, payload)[0] == 202
    ((_, kept),) = stored_files(intake, location)

    assert jpeg_scan(kept) == jpeg_scan(sample.data)  # not re-encoded
    tags = tags_of(kept)
    assert tags["IFD0:Orientation"] == "Rotate 90 CW"  # a portrait photo stays upright
    assert tags["ICC_Profile:ProfileDescription"] == "sRGB built-in"


def test_a_photo_sent_with_the_form_is_stored_clean_too(
    intake: LaporIntake, location: S3Location
) -> None:
    sample = photo("jpeg")
    body, content_type = multipart(report_fields(), [(sample.name, sample.data)])

    status, _, _ = request(intake, "POST", "/lapor", body, {"Content-Type": content_type})

    assert status == 201
    ((_, kept),) = stored_files(intake, location)
    assert identifying(kept) == []
    assert pixels(kept) == pixels(sample.data)


def test_files_without_metadata_are_stored_as_sent(
    intake: LaporIntake, location: S3Location
) -> None:
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = evidence(("chat.txt", CHAT_LOG), ("spanduk.png", png(shade=77)))

    assert post_json(intake, payload)[0] == 202

    assert [kept for _, kept in stored_files(intake, location)] == [CHAT_LOG, png(shade=77)]


#: The first half of a real PDF: qpdf reads it only by repairing it, into a blank page.
CUT_PDF = document().data[: len(document().data) // 2]


@pytest.mark.parametrize(
    "broken", [BROKEN_PDF, BROKEN_JPEG, CUT_PDF], ids=["pdf", "jpeg", "cut-short-pdf"]
)
def test_a_file_whose_metadata_cannot_be_removed_is_refused_and_nothing_is_kept(
    intake: LaporIntake, location: S3Location, broken: bytes
) -> None:
    good = photo("png")
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = evidence((good.name, good.data), ("bukti", broken))

    status, answer = post_json(intake, payload)
    status_en, answer_en = post_json(intake, payload, lang="en")

    assert (status, answer["error"], status_en) == (400, "evidence_metadata", 400)
    assert answer["message"].startswith(
        "Data yang dapat mengenali Anda (lokasi, kamera, penulis) tidak dapat dihapus dari "
        "berkas bukti ke-2"
    )
    assert "kirim tangkapan layarnya" in answer["message"]
    assert "send a screenshot of it" in answer_en["message"]
    assert answer["problems"][0]["field"] == "evidence"
    assert intake.read(None, 10) == []  # no report, no code
    # Not half-kept either: the other file was not stored.
    clean = strip(good.data, good.media_type)
    assert not in_store(location, hashlib.sha256(clean).hexdigest())
    assert not in_store(location, hashlib.sha256(good.data).hexdigest())


def locked_pdf() -> bytes:
    """A PDF that opens only with its password."""
    with pikepdf.open(io.BytesIO(document().data)) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(owner="pemilik", user="rahasia"))
        return out.getvalue()


def test_a_pdf_locked_with_a_password_is_refused_saying_so(intake: LaporIntake) -> None:
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = evidence(("undangan.pdf", locked_pdf()))

    status, answer = post_json(intake, payload)
    status_en, answer_en = post_json(intake, payload, lang="en")

    assert (status, answer["error"], status_en) == (400, "evidence_locked", 400)
    assert answer["message"].startswith("Berkas bukti ke-1 dikunci dengan kata sandi")
    assert "save it without the password" in answer_en["message"]
    assert intake.read(None, 10) == []  # no report, no code


def test_the_fault_is_listed_with_the_fields_at_fault(intake: LaporIntake) -> None:
    payload: dict[str, Any] = report_fields(summary="")
    payload["evidence"] = evidence(("undangan.pdf", BROKEN_PDF))

    status, answer = post_json(intake, payload)

    assert (status, answer["error"]) == (400, "invalid_report")
    assert ("evidence", "evidence_metadata") in {
        (problem["field"], problem["code"]) for problem in answer["problems"]
    }


def test_without_exiftool_the_portal_keeps_nothing_and_asks_to_try_again(
    intake: LaporIntake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(metadata, "EXIFTOOL", "/nonexistent/exiftool")
    sample = photo("jpeg")
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = evidence((sample.name, sample.data))

    headers = {"Content-Type": "application/json"}
    status, answered, body = request(
        intake, "POST", "/api/v1/reports", json.dumps(payload).encode(), headers
    )

    answer = json.loads(body)
    assert (status, answer["error"]) == (503, "metadata_unavailable")
    assert "coba lagi" in answer["message"]
    # Waiting mends nothing until the operator installs the tool: no time is promised.
    assert "Retry-After" not in answered
    assert intake.read(None, 10) == []
    assert "libimage-exiftool-perl" in caplog.text  # the operator is told what to install
    assert "IMG_0001" not in caplog.text


def test_a_portal_without_exiftool_does_not_start(
    location: S3Location, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metadata, "EXIFTOOL", "/nonexistent/exiftool")

    with (
        pytest.raises(MetadataUnavailableError, match="apt-get install libimage-exiftool-perl"),
        opened_intake(location, tmp_path / "spool"),
    ):
        pass


def test_a_tool_that_takes_too_long_is_a_refusal_not_a_hang() -> None:
    with pytest.raises(MetadataRefusedError, match="took over"):
        strip(photo("jpeg").data, "image/jpeg", timeout=0.001)


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_the_same_file_is_cleaned_to_the_same_bytes(kind: str) -> None:
    # A form sent twice is one report: its files' hashes must not change between sendings.
    sample = SAMPLES[kind]()
    cleaned = strip(sample.data, sample.media_type)

    assert strip(sample.data, sample.media_type) == cleaned
    assert strip(cleaned, sample.media_type) == cleaned


def test_exiftool_alone_would_leave_a_pdfs_author_in_the_file() -> None:
    # Why PDFs go through pikepdf: exiftool's edit is an incremental update.
    sample = document()
    done = subprocess.run(
        ["exiftool", "-all:all=", "-"], input=sample.data, capture_output=True, timeout=60
    )

    assert b"Budi Santoso" in done.stdout
    assert b"Budi Santoso" not in strip(sample.data, sample.media_type)


def test_the_form_tells_reporters_what_is_removed(intake: LaporIntake) -> None:
    pages_by_lang = {
        lang: request(intake, "GET", f"/?lang={lang}")[2].decode() for lang in ("id", "en")
    }

    assert "lokasi dan data kamera dihapus dari foto dan video" in pages_by_lang["id"]
    assert "location and camera details are removed from photos and videos" in (pages_by_lang["en"])
