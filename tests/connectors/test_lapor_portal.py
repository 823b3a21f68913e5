"""The reporting portal over real HTTP, with a real SeaweedFS evidence store and spool."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socket
import sqlite3
import stat
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.base import FeedEntry, HubRefusal
from connectors.host import build
from connectors.lapor.connector import LaporIntake, LaporStatus
from connectors.lapor.evidence import EvidenceStore, S3Location, parse_evidence_keys
from connectors.lapor.tracking import TrackingStore
from schemas.identity import case_id_for
from streams.local.processes import free_port
from tests.lapor_support import (
    CHAT_LOG,
    EXECUTABLE,
    multipart,
    png,
    report_fields,
)

SECRET = "lapor-portal-secret-of-at-least-32-chars"


def config(location: S3Location, spool: Path, **changes: Any) -> dict[str, Any]:
    return {
        "institution": "bawaslu.33",
        "listen_port": free_port(),
        "spool_dir": str(spool),
        "secret": SECRET,
        "s3_endpoint": location.endpoint,
        "s3_bucket": location.bucket,
        "s3_access_key": location.access_key,
        "s3_secret_key": location.secret_key,
        "report_rate": "50/minute",
        "spool_busy_seconds": 0.5,
    } | changes


@contextmanager
def opened_intake(location: S3Location, spool: Path, **changes: Any) -> Iterator[LaporIntake]:
    """The portal's intake on ``location`` with its spool at ``spool``, closed after."""
    connector = build("lapor-intake", config(location, spool, **changes))
    assert isinstance(connector, LaporIntake)
    try:
        yield connector
    finally:
        connector.close()


def request(
    connector: LaporIntake,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", connector.config.listen_port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def post_json(
    connector: LaporIntake, payload: dict[str, Any], lang: str = "id"
) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "Accept-Language": lang}
    status, _, body = request(
        connector, "POST", "/api/v1/reports", json.dumps(payload).encode(), headers
    )
    return status, json.loads(body)


def evidence(*files: tuple[str, bytes]) -> list[dict[str, str]]:
    return [
        {"name": name, "content_base64": base64.b64encode(data).decode()} for name, data in files
    ]


def only_event(connector: LaporIntake) -> dict[str, Any]:
    records = connector.read(None, 10)
    assert len(records) == 1
    (event,) = connector.to_events(records[0])
    assert event.event_type == "ReportReceived"
    return event.record


def test_the_form_is_indonesian_with_violations_in_plain_words(intake: LaporIntake) -> None:
    status, headers, body = request(intake, "GET", "/")

    page = body.decode()
    assert status == 200
    assert '<html lang="id">' in page
    assert "Laporkan pelanggaran netralitas" in page
    assert "Menggunakan fasilitas" in page or "fasilitas negara" in page
    assert "DISCIPLINE_USE_OF_OFFICE_FACILITIES" in page  # as the option's value only
    assert "PPK Pemerintah Kota Semarang" in page
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_the_form_speaks_english_when_asked(intake: LaporIntake) -> None:
    _, _, body = request(intake, "GET", "/?lang=en")

    page = body.decode()
    assert '<html lang="en">' in page
    assert "Report a neutrality violation" in page
    assert "Taking part in a campaign using state facilities" in page


def test_a_json_report_with_evidence_becomes_a_signed_ready_report_received(
    intake: LaporIntake, location: S3Location
) -> None:
    photo = png(shade=40)
    payload: dict[str, Any] = report_fields() | {"anonymous": True}
    payload["evidence"] = evidence(("spanduk.png", photo), ("grup.txt", CHAT_LOG))

    status, answer = post_json(intake, payload)

    assert status == 202, answer
    assert len(answer["tracking_code"]) >= 24  # 144 random bits
    assert answer["status_url"] == f"/lacak/{answer['tracking_code']}"
    record = only_event(intake)
    case_id = case_id_for("bawaslu.33", answer["case_number"])
    assert record["envelope"]["case_id"] == case_id
    assert record["envelope"]["source"] == "bawaslu.33"
    assert record["channel"] == "WEB_FORM"
    assert record["reporter_identity"] is None
    assert record["reporter_ref"].startswith("reporter:")
    assert record["subject_name"] == "Budi Canary-Subject"
    assert [item["media_type"] for item in record["evidence"]] == ["image/png", "text/plain"]
    assert record["evidence"][0]["sha256"] == hashlib.sha256(photo).hexdigest()
    assert "spanduk" not in json.dumps(record["evidence"])  # names travel sealed only
    # The event encodes with the shared schema.
    assert intake.context.codec.decode(intake.context.codec.encode("ReportReceived", record))


def test_an_entitled_reader_opens_and_verifies_each_file(
    intake: LaporIntake, location: S3Location
) -> None:
    photo = png(shade=41)
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = evidence(("C:\\Users\\saksi\\foto.png", photo))

    assert post_json(intake, payload)[0] == 202
    record = only_event(intake)

    keys = parse_evidence_keys(record["evidence_keys"])
    reader = EvidenceStore(location)  # the authority's: read access, no evidence key
    (reference,) = record["evidence"]
    key, name = keys[reference["sha256"]]
    assert reader.read(reference, key) == photo
    assert name == "bukti-1.png"


@pytest.mark.parametrize(
    "sent",
    [
        "IMG_20261204_190512.png",  # the second the photo was taken
        "WhatsApp Chat with Budi Santoso.png",
        "C:\\Users\\Budi Santoso\\Pictures\\Screenshot.png",
        "..",
        "a\x00b\r\nX: y.jpg",
    ],
    ids=["phone-time", "chat-partner", "windows-path", "dot-dot", "controls"],
)
def test_no_name_the_reporters_device_gave_a_file_is_passed_on(
    intake: LaporIntake, sent: str
) -> None:
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = evidence((sent, png(shade=42)), ("chat.txt", CHAT_LOG))

    assert post_json(intake, payload)[0] == 202
    record = only_event(intake)

    names = sorted(name for _, name in parse_evidence_keys(record["evidence_keys"]).values())
    assert names == ["bukti-1.png", "bukti-2.txt"]
    assert "Budi" not in record["evidence_keys"]


def test_an_identified_report_carries_the_identity_to_seal(intake: LaporIntake) -> None:
    payload = report_fields(
        anonymous="false", reporter_name="Siti Canary", reporter_contact="siti@example.id"
    )

    status, answer = post_json(intake, payload)

    assert status == 202, answer
    record = only_event(intake)
    assert record["reporter_identity"] == "Siti Canary <siti@example.id>"
    assert "Siti" not in record["reporter_ref"]
    assert record["evidence"] == []
    assert record["evidence_keys"] is None


def test_the_same_report_read_twice_gives_the_same_event(intake: LaporIntake) -> None:
    assert post_json(intake, report_fields())[0] == 202
    (record,) = intake.read(None, 10)

    first, second = intake.to_events(record), intake.to_events(record)

    assert first == second


def test_the_form_shows_the_tracking_code_once(intake: LaporIntake, tmp_path: Path) -> None:
    body, content_type = multipart(report_fields(), [("bukti.png", png(shade=42))])

    status, _, page = request(intake, "POST", "/lapor", body, {"Content-Type": content_type})

    assert status == 201, page.decode()
    text = page.decode()
    assert "Terima kasih: laporan Anda telah diterima" in text
    # This page cannot be asked for again (its address is the form's): the tracking page can.
    assert "simpan (bookmark) halaman laporan Anda (tautan di bawah)" in text
    assert "Nomor perkara di Bawaslu (bukan kode pelacakan)" in text
    code = text.split('id="tracking-code">')[1].split("<")[0]
    assert len(code) >= 24
    record = only_event(intake)
    assert record["evidence"][0]["media_type"] == "image/png"
    # Neither the spool nor the tracking store keeps the code itself.
    for name in ("intake.db", "tracking.db"):
        assert code.encode() not in (tmp_path / "spool" / name).read_bytes()


def test_the_portals_files_are_private(intake: LaporIntake, tmp_path: Path) -> None:
    assert post_json(intake, report_fields())[0] == 202

    folder = tmp_path / "spool"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("intake.db", "tracking.db"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600


def test_missing_fields_are_each_named_without_echoing_values(intake: LaporIntake) -> None:
    payload = report_fields(subject_name="", subject_nip="12345-CANARY", summary="")

    status, answer = post_json(intake, payload)

    assert status == 400
    assert answer["error"] == "invalid_report"
    # The name may be left empty (a bystander may not know it); the NIP and account may not.
    assert {p["field"] for p in answer["problems"]} == {"subject_nip", "summary"}
    assert "Isian ini wajib diisi." in [p["message"] for p in answer["problems"]]
    assert "CANARY" not in json.dumps(answer)
    assert intake.read(None, 10) == []


def test_refusals_speak_english_when_asked(intake: LaporIntake) -> None:
    status, answer = post_json(intake, report_fields(discovered_on="2999-01-01"), lang="en")

    assert status == 400
    assert answer["problems"] == [
        {
            "field": "discovered_on",
            "code": "in_future",
            "message": "The day you learnt of it cannot be in the future: check the date.",
        }
    ]


@pytest.mark.parametrize("day", ["0001-01-01", "0204-11-01"])
def test_a_mistyped_year_long_ago_is_refused(intake: LaporIntake, day: str) -> None:
    status, answer = post_json(intake, report_fields(discovered_on=day), lang="en")

    assert status == 400
    assert answer["problems"] == [
        {
            "field": "discovered_on",
            "code": "too_long_ago",
            "message": "That day is over 10 years ago; check the year.",
        }
    ]
    assert intake.read(None, 10) == []


def test_a_day_within_ten_years_is_taken(intake: LaporIntake) -> None:
    long_ago = (datetime.now(UTC).date() - timedelta(days=9 * 365)).isoformat()

    # Sent all the same: years after, Bawaslu may still take it as information.
    assert post_json(intake, report_fields(discovered_on=long_ago, late_ok="true"))[0] == 202


def test_a_region_outside_the_offices_is_refused(intake: LaporIntake) -> None:
    status, answer = post_json(intake, report_fields(region_code="3171"))

    assert status == 400
    assert answer["problems"][0]["code"] == "outside_jurisdiction"


def test_an_unknown_violation_or_agency_is_refused(intake: LaporIntake) -> None:
    status, answer = post_json(intake, report_fields(violation="UNKNOWN", employing_agency="bkn"))

    assert status == 400
    assert {p["field"] for p in answer["problems"]} == {"violation", "employing_agency"}


@pytest.mark.parametrize(
    ("anonymous", "what_to_do"),
    [
        # The API's default is anonymous: the name was dropped unseen with a 202.
        (None, "send anonymous false to be named"),
        # The form's box is ticked by default: a name typed beside it vanished unseen too.
        ("true", "untick it so that Bawaslu can reach you"),
    ],
)
def test_a_name_sent_with_an_anonymous_report_is_asked_about_not_dropped(
    intake: LaporIntake, anonymous: str | None, what_to_do: str
) -> None:
    payload = report_fields(reporter_name="Siti Canary", reporter_contact="0812 3456 7890")
    if anonymous is None:
        del payload["anonymous"]

    status, answer = post_json(intake, payload, lang="en")

    assert status == 400
    [problem] = answer["problems"]
    assert (problem["field"], problem["code"]) == ("anonymous", "ambiguous")
    assert what_to_do in problem["message"]
    assert "Siti" not in json.dumps(answer)
    assert intake.read(None, 10) == []


def test_an_identified_report_needs_a_contact(intake: LaporIntake) -> None:
    payload = report_fields(anonymous="false", reporter_name="Siti", reporter_contact="x")

    status, answer = post_json(intake, payload)

    assert status == 400
    assert answer["problems"][0]["field"] == "reporter_contact"


def test_a_program_sent_as_a_photo_is_refused(intake: LaporIntake) -> None:
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = evidence(("foto.jpg", EXECUTABLE))

    status, answer = post_json(intake, payload)

    assert status == 415
    assert answer["error"] == "evidence_type"
    assert intake.read(None, 10) == []


def test_the_form_shows_its_faults_and_keeps_what_was_entered(intake: LaporIntake) -> None:
    body, content_type = multipart(report_fields(summary=""), [("x.jpg", EXECUTABLE)])

    status, _, page = request(intake, "POST", "/lapor", body, {"Content-Type": content_type})

    text = page.decode()
    assert status == 400
    assert 'aria-invalid="true"' in text
    assert "Isian ini wajib diisi." in text
    assert 'value="Budi Canary-Subject"' in text
    # The file's fault with the fields': before, it came only once they were mended.
    assert "Berkas bukti ke-1 bukan foto, video, PDF atau teks" in text


def test_a_json_report_lists_its_evidence_fault_with_its_fields(intake: LaporIntake) -> None:
    payload: dict[str, Any] = report_fields(summary="")
    payload["evidence"] = evidence(("foto.jpg", EXECUTABLE))

    status, answer = post_json(intake, payload)

    assert (status, answer["error"]) == (400, "invalid_report")
    assert [(p["field"], p["code"]) for p in answer["problems"]] == [
        ("summary", "missing"),
        ("evidence", "evidence_type"),
    ]
    assert intake.read(None, 10) == []


def test_a_form_that_is_not_utf8_is_refused_with_what_to_do(intake: LaporIntake) -> None:
    body, content_type = multipart(report_fields(), [])
    broken = body.replace(b"Budi Canary-Subject", b"Budi \xff\xfe")

    status, _, page = request(intake, "POST", "/lapor", broken, {"Content-Type": content_type})
    assert status == 400
    assert "tidak terbaca sebagai teks UTF-8" in page.decode()
    assert intake.read(None, 10) == []

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, page = request(intake, "POST", "/lacak", b"code=\xff\xfe", form)
    assert status == 404
    assert "Tidak ada laporan dengan kode pelacakan ini." in page.decode()


def test_a_form_part_with_a_broken_header_is_refused_not_a_server_error(
    intake: LaporIntake,
) -> None:
    # A control character in a part's header (here a file name) is no valid header at all.
    body, content_type = multipart(report_fields(), [("Foto Budi\x01.png", png())])
    form = {"Content-Type": content_type}

    status, headers, page = request(intake, "POST", "/lapor", body, form)
    assert status == 400
    assert headers["Cache-Control"] == "no-store"
    assert "tidak terbaca sebagai teks UTF-8" in page.decode()
    assert intake.read(None, 10) == []

    status, _, page = request(intake, "POST", "/lacak", body, form)
    assert status == 404
    assert "Tidak ada laporan dengan kode pelacakan ini." in page.decode()


def test_malformed_json_and_evidence_are_refused(intake: LaporIntake) -> None:
    headers = {"Content-Type": "application/json"}
    deep = b"[" * 100_000 + b"]" * 100_000
    # A lone surrogate is no text: the spool and the event could not be written with it.
    lone = json.dumps(report_fields(summary="x \ud800 y")).encode()
    for body in (b"{not json", deep, lone):
        status, _, refusal = request(intake, "POST", "/api/v1/reports", body, headers)
        assert (status, json.loads(refusal)["error"]) == (400, "malformed_json")

    bad: dict[str, Any] = report_fields()
    bad["evidence"] = [{"name": "a", "content_base64": "***"}]
    status, answer = post_json(intake, bad)
    assert (status, answer["error"]) == (400, "invalid_evidence")


def test_a_request_too_large_is_refused(location: S3Location, tmp_path: Path) -> None:
    connector = build("lapor-intake", config(location, tmp_path / "s", max_total_mb=1))
    assert isinstance(connector, LaporIntake)
    try:
        payload: dict[str, Any] = report_fields()
        payload["evidence"] = evidence(("big.txt", b"a" * (2 * 1024 * 1024)))

        status, answer = post_json(connector, payload)

        assert status == 413
        assert answer["error"] == "too_large"
    finally:
        connector.close()


def test_a_body_declared_too_large_is_refused_before_it_is_sent(intake: LaporIntake) -> None:
    # A gigabyte announced and a byte sent: waiting for the rest would hold the connection for
    # as long as the largest body takes at the slowest rate taken (an hour and more).
    with socket.create_connection(("127.0.0.1", intake.config.listen_port), timeout=5) as peer:
        peer.sendall(
            b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000000000\r\n\r\n{"
        )
        answer = peer.makefile("rb")
        status = answer.readline()
        headers = http.client.parse_headers(answer)
        body = answer.read(int(headers["Content-Length"]))

    assert status.startswith(b"HTTP/1.1 413 "), status
    assert json.loads(body)["error"] == "too_large"


def test_a_source_sending_too_many_reports_is_slowed_down(
    location: S3Location, tmp_path: Path
) -> None:
    connector = build("lapor-intake", config(location, tmp_path / "s", report_rate="2/hour"))
    assert isinstance(connector, LaporIntake)
    try:
        statuses = [post_json(connector, report_fields())[0] for _ in range(3)]
        status, _, _ = request(connector, "GET", "/health")

        assert statuses == [202, 202, 429]
        assert status == 200  # the portal itself is still there
        assert len(connector.read(None, 10)) == 2
    finally:
        connector.close()


def test_an_unreachable_evidence_store_keeps_nothing(tmp_path: Path) -> None:
    down = S3Location(f"http://127.0.0.1:{free_port()}", "kawal-evidence", "a", "b")
    connector = build("lapor-intake", config(down, tmp_path / "s"))
    assert isinstance(connector, LaporIntake)
    try:
        payload: dict[str, Any] = report_fields()
        payload["evidence"] = evidence(("a.png", png(shade=43)))

        headers = {"Content-Type": "application/json"}
        status, answered, body = request(
            connector, "POST", "/api/v1/reports", json.dumps(payload).encode(), headers
        )

        answer = json.loads(body)
        assert status == 503
        assert answer["error"] == "evidence_store_unavailable"
        assert "coba lagi dalam 30 detik" in answer["message"]
        assert answered["Retry-After"] == "30"
        assert connector.read(None, 10) == []
    finally:
        connector.close()


def feed_entry(case_id: str, seq: int, event_type: str, **fields: Any) -> FeedEntry:
    at = datetime(2024, 11, seq + 1, 2, 30, tzinfo=UTC)
    event = {"envelope": {"event_time": at}} | fields
    entry = {"case_id": case_id, "seq": seq, "event_id": f"{case_id}-{seq}"}
    return FeedEntry(entry=entry, event=event, event_type=event_type)


def status_connector(tmp_path: Path) -> LaporStatus:
    connector = build(
        "lapor-status", {"institution": "bawaslu.33", "spool_dir": str(tmp_path / "spool")}
    )
    assert isinstance(connector, LaporStatus)
    return connector


def test_the_tracking_page_follows_the_feed(intake: LaporIntake, tmp_path: Path) -> None:
    _, answer = post_json(intake, report_fields())
    case_id = case_id_for("bawaslu.33", answer["case_number"])
    path = answer["status_url"]
    _, _, before = request(intake, "GET", path)
    status = status_connector(tmp_path)
    try:
        status.deliver(feed_entry(case_id, 0, "ReportReceived"))
        status.deliver(feed_entry(case_id, 1, "ReportRegistered"))
        status.deliver(feed_entry(case_id, 1, "ReportRegistered"))  # redelivered: once
        status.deliver(feed_entry("another-case", 0, "ReportRegistered"))  # not tracked
        status.deliver(feed_entry(case_id, 2, "PersonalDataErased"))  # no step
    finally:
        status.close()

    _, _, after = request(intake, "GET", path)
    _, _, english = request(intake, "GET", path + "?lang=en")
    _, _, as_json = request(intake, "GET", "/api/v1/tracking/" + answer["tracking_code"])

    assert "Laporan terkirim" in before.decode()
    page = after.decode()
    assert '<h2 id="current-step">Laporan diregistrasi</h2>' in page
    assert "sedang diverifikasi" in page
    assert page.count('data-step="registered"') == 1
    assert "2 Nov 2024, 09.30 WIB" in page  # 02:30 UTC in Semarang's zone
    assert "Budi" not in page
    assert "ppk.3374" not in page
    assert "Report registered" in english.decode()
    assert [s["step"] for s in json.loads(as_json)["steps"]] == ["received", "registered"]


def test_a_report_the_hub_refused_is_told_not_forwarded_until_it_is_received(
    intake: LaporIntake, tmp_path: Path
) -> None:
    _, answer = post_json(intake, report_fields())
    case_id = case_id_for("bawaslu.33", answer["case_number"])
    tracking = "/api/v1/tracking/" + answer["tracking_code"]
    refusal = HubRefusal(
        event_id=str(uuid.uuid4()),
        case_id=case_id,
        event_type="ReportReceived",
        reason_code="key_expired",
        reason="the signing key of bawaslu.33 expired; publish with a valid key",
        source="kawal.inbound.bawaslu.33:0:7",
        issued_at=datetime(2024, 11, 1, 2, 30, tzinfo=UTC),
    )
    status = status_connector(tmp_path)
    try:
        status.refused(refusal)
        status.refused(refusal)  # the receipt redelivered: once
        status.refused(replace(refusal, case_id=str(uuid.uuid4())))  # not tracked
        _, _, refused = request(intake, "GET", tracking)
        _, _, page = request(intake, "GET", answer["status_url"])
        status.deliver(feed_entry(case_id, 1, "ReportReceived"))  # fixed, sent again
        _, _, received = request(intake, "GET", tracking)
    finally:
        status.close()

    told = json.loads(refused)
    assert told["status"] == "Laporan belum dapat diteruskan"
    assert "Bawaslu telah diberi tahu" in told["next"]
    assert [s["step"] for s in told["steps"]] == ["not_forwarded"]
    assert "key_expired" not in page.decode()  # the hub's reasons are the office's to read
    assert [s["step"] for s in json.loads(received)["steps"]] == ["not_forwarded", "received"]
    assert json.loads(received)["status"] == "Laporan diterima"


def test_verdicts_are_told_in_plain_words(intake: LaporIntake, tmp_path: Path) -> None:
    _, answer = post_json(intake, report_fields())
    case_id = case_id_for("bawaslu.33", answer["case_number"])
    status = status_connector(tmp_path)
    try:
        status.deliver(feed_entry(case_id, 3, "VerificationCompleted", verdict="NOT_PROVEN"))
    finally:
        status.close()

    _, _, page = request(intake, "GET", answer["status_url"])

    assert "Tidak terbukti ada pelanggaran" in page.decode()


def test_an_unknown_code_finds_nothing(intake: LaporIntake) -> None:
    status, _, page = request(intake, "GET", "/lacak/" + "A" * 24)
    api_status, _, body = request(intake, "GET", "/api/v1/tracking/" + "A" * 24)

    assert status == 404
    assert "Tidak ada laporan dengan kode pelacakan ini" in page.decode()
    assert (api_status, json.loads(body)["error"]) == (404, "unknown_code")


def test_the_code_form_leads_to_the_page(intake: LaporIntake) -> None:
    _, answer = post_json(intake, report_fields())
    body = f"code={answer['tracking_code']}".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    status, response_headers, _ = request(intake, "POST", "/lacak", body, headers)

    assert status == 303
    assert response_headers["Location"] == answer["status_url"]


@pytest.mark.parametrize(
    "pasted",
    ["http://portal.example/lacak/{code}", "/lacak/{code}?lang=en", " https://x/lacak/{code}/ "],
)
def test_the_code_form_takes_the_pages_whole_link(intake: LaporIntake, pasted: str) -> None:
    """The page tells reporters to bookmark it: its link, pasted, is its code."""
    _, answer = post_json(intake, report_fields())
    typed = urllib.parse.quote(pasted.format(code=answer["tracking_code"]))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    status, response_headers, _ = request(
        intake, "POST", "/lacak", f"code={typed}".encode(), headers
    )

    assert status == 303
    assert response_headers["Location"] == answer["status_url"]


def test_a_percent_encoded_field_that_is_not_utf8_is_refused(intake: LaporIntake) -> None:
    """Before, aiohttp turned it into U+FFFD and the report was taken with its text changed."""
    fields = report_fields() | {"subject_name": "Caf\u00e9 Rahmat"}
    body = urllib.parse.urlencode(fields, encoding="latin-1").encode()
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    status, _, page = request(intake, "POST", "/lapor", body, form)

    assert status == 400
    assert "tidak terbaca sebagai teks UTF-8" in page.decode()
    assert intake.read(None, 10) == []


def test_the_stream_sends_the_steps(intake: LaporIntake) -> None:
    _, answer = post_json(intake, report_fields())
    connection = http.client.HTTPConnection("127.0.0.1", intake.config.listen_port, timeout=30)
    try:
        connection.request("GET", answer["status_url"] + "/events")
        response = connection.getresponse()
        first = b""
        while not first.endswith(b"\n\n"):
            first += response.read1(4096)
    finally:
        connection.close()

    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    assert first.startswith(b"event: steps\ndata: ")
    assert "Laporan terkirim" in first.decode()


def test_the_tracking_store_keeps_hashes_only(tmp_path: Path) -> None:
    store = TrackingStore(tmp_path)
    store.add("code-of-the-reporter-0001", "case-1", "3374", datetime.now(UTC))

    assert store.follow("code-of-the-reporter-0001") is not None
    assert store.follow("code-of-the-reporter-0002") is None
    store.close()
    assert b"code-of-the-reporter" not in (tmp_path / "tracking.db").read_bytes()


def test_a_source_holds_a_few_streams_at_most(intake: LaporIntake) -> None:
    _, answer = post_json(intake, report_fields())
    path = answer["status_url"] + "/events"
    open_streams = []
    try:
        for _ in range(4):
            connection = http.client.HTTPConnection(
                "127.0.0.1", intake.config.listen_port, timeout=30
            )
            connection.request("GET", path)
            response = connection.getresponse()
            assert response.status == 200
            assert response.read1(4096).startswith(b"event: steps")
            open_streams.append(connection)

        status, headers, body = request(intake, "GET", path)

        assert (status, json.loads(body)["error"]) == (429, "rate_limited")
        # When the oldest of the four ends by itself (STREAM_SECONDS after it opened).
        assert 290 <= int(headers["Retry-After"]) <= 300
        assert "Tutup salah satunya, atau coba lagi dalam 5 menit" in json.loads(body)["message"]
    finally:
        for connection in open_streams:
            connection.close()
    # A reader that went away frees its place (noticed within a poll of the store).
    deadline = time.monotonic() + 30
    while stream_status(intake, path) == 429:
        assert time.monotonic() < deadline, "closed streams still count after 30 s"
        time.sleep(0.2)


def stream_status(intake: LaporIntake, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", intake.config.listen_port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def test_a_spool_that_cannot_be_written_refuses_for_now_and_keeps_no_code(
    intake: LaporIntake, tmp_path: Path
) -> None:
    spool = tmp_path / "spool" / "intake.db"
    assert post_json(intake, report_fields())[0] == 202  # the spool exists
    locker = sqlite3.connect(spool, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        status, answer = post_json(intake, report_fields(summary="Kedua kalinya: mobil dinas."))
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert status == 503
    assert answer["error"] == "spool_unavailable"
    tracking = sqlite3.connect(tmp_path / "spool" / "tracking.db")
    try:
        assert tracking.execute("SELECT count(*) FROM codes").fetchone() == (1,)
    finally:
        tracking.close()


def test_a_form_refused_for_now_says_when_to_send_again_and_keeps_its_words(
    intake: LaporIntake, tmp_path: Path
) -> None:
    assert post_json(intake, report_fields())[0] == 202  # the spool exists
    body, content_type = multipart(report_fields(summary="Kedua kalinya: mobil dinas."), [])
    locker = sqlite3.connect(tmp_path / "spool" / "intake.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        status, headers, page = request(
            intake, "POST", "/lapor?lang=en", body, {"Content-Type": content_type}
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert status == 503
    assert headers["Retry-After"] == "30"
    assert "Please try again in 30 seconds." in page.decode()
    assert "Kedua kalinya: mobil dinas." in page.decode()  # the form again, filled in


def test_the_forms_address_leads_back_to_the_form(intake: LaporIntake) -> None:
    status, headers, _ = request(intake, "GET", "/lapor?lang=en")

    assert (status, headers["Location"]) == (303, "/?lang=en")


def test_an_unticked_anonymous_box_sends_the_identity_with_the_form(intake: LaporIntake) -> None:
    # A browser sends nothing for an unticked checkbox: the reporter chose to give a name.
    fields = report_fields(reporter_name="Siti Canary", reporter_contact="siti@example.id")
    del fields["anonymous"]
    body, content_type = multipart(fields, [])

    status, _, page = request(intake, "POST", "/lapor", body, {"Content-Type": content_type})

    assert status == 201, page.decode()
    assert only_event(intake)["reporter_identity"] == "Siti Canary <siti@example.id>"


def test_an_unticked_anonymous_box_stays_unticked_when_the_form_comes_back(
    intake: LaporIntake,
) -> None:
    fields = report_fields(reporter_name="Siti Canary", reporter_contact="", summary="")
    del fields["anonymous"]
    body, content_type = multipart(fields, [])

    status, _, page = request(intake, "POST", "/lapor", body, {"Content-Type": content_type})

    text = page.decode()
    assert status == 400
    assert 'name="anonymous" value="true" aria-describedby="anonymous-hint">' in text  # unchecked
    assert 'id="reporter_contact-fault"' in text


def test_a_summary_within_the_forms_limit_is_taken_whatever_its_line_breaks(
    intake: LaporIntake,
) -> None:
    # The textarea counts a line break as one character; the browser sends it as CR LF.
    summary = "\r\n".join(["a" * 99] * 50)  # 4,999 characters in the browser, 5,048 sent
    body, content_type = multipart(report_fields(summary=summary), [])

    status, _, page = request(intake, "POST", "/lapor", body, {"Content-Type": content_type})

    assert status == 201, page.decode()
    assert only_event(intake)["summary"] == summary.replace("\r\n", "\n")


def test_a_recommendation_finding_no_violation_is_not_told_as_a_sanction_to_come(
    intake: LaporIntake, tmp_path: Path
) -> None:
    _, answer = post_json(intake, report_fields())
    case_id = case_id_for("bawaslu.33", answer["case_number"])
    status = status_connector(tmp_path)
    try:
        status.deliver(feed_entry(case_id, 3, "VerificationCompleted", verdict="PROVEN"))
        status.deliver(feed_entry(case_id, 5, "RecommendationIssued", proven=False))
    finally:
        status.close()

    _, _, page = request(intake, "GET", answer["status_url"])
    _, _, english = request(intake, "GET", answer["status_url"] + "?lang=en")

    text = page.decode()
    assert "menjatuhkan sanksi" not in text
    assert '<h2 id="current-step">Rekomendasi: pelanggaran tidak terbukti</h2>' in text
    assert "no sanction" in english.decode()


@pytest.mark.parametrize("contact", ["(024) 8311234", "0812.3456.7890", "+62 812-3456-7890"])
def test_a_telephone_number_as_people_write_it_is_taken(intake: LaporIntake, contact: str) -> None:
    payload = report_fields(anonymous="false", reporter_name="Siti", reporter_contact=contact)

    status, answer = post_json(intake, payload)

    assert status == 202, answer
    assert only_event(intake)["reporter_identity"] == f"Siti <{contact}>"


def test_a_nip_as_printed_with_spaces_is_taken_as_its_digits(intake: LaporIntake) -> None:
    status, answer = post_json(intake, report_fields(subject_nip="19850101 201001 1 001"))

    assert status == 202, answer
    assert only_event(intake)["subject_nip"] == "198501012010011001"


def test_a_region_code_that_is_no_number_is_told_so_not_blamed_on_the_province(
    intake: LaporIntake,
) -> None:
    status, answer = post_json(intake, report_fields(province="33", region_code="abcd"))

    assert status == 400
    [problem] = answer["problems"]
    assert (problem["field"], problem["code"]) == ("region_code", "invalid")


def test_the_form_tells_the_limit_of_all_files_together_and_of_photos(
    intake: LaporIntake,
) -> None:
    _, _, body = request(intake, "GET", "/")

    page = body.decode()
    assert "ukuran semua berkas bersama-sama paling besar 25 MB" in page
    assert "lokasi dan data kamera dihapus dari foto dan video" in page
