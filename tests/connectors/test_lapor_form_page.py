"""The report form as a browser and a screen reader meet it, over real HTTP."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import S3Location
from tests.connectors.test_lapor_portal import opened_intake
from tests.lapor_support import EXECUTABLE, multipart, png, report_fields


def send(
    intake: LaporIntake, fields: dict[str, str], files: list[tuple[str, bytes]]
) -> tuple[int, str]:
    """Post the form as a browser does; the status and the page."""
    body, content_type = multipart(fields, files)
    connection = http.client.HTTPConnection("127.0.0.1", intake.config.listen_port, timeout=30)
    try:
        connection.request("POST", "/lapor", body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def file_input(page: str) -> str:
    tags: list[str] = re.findall(r'<input type="file"[^>]*>', page)
    assert len(tags) == 1
    return tags[0]


def test_a_refused_form_that_carried_files_keeps_them_even_without_its_token(
    intake: LaporIntake,
) -> None:
    # A browser never fills a file field in again: the portal holds the files instead, also
    # for a form that came without its token (it gets one: connectors/lapor/lost_token.py).
    status, page = send(intake, report_fields(summary=""), [("foto.png", png())])

    assert status == 400
    assert 'name="kept_evidence"' in page
    assert "foto.png" in page
    assert 'id="evidence-again"' not in page
    assert 'aria-describedby="evidence-hint"' in file_input(page)
    assert intake.read(None, 10) == []


def test_a_refused_form_without_files_asks_for_none(intake: LaporIntake) -> None:
    status, page = send(intake, report_fields(summary=""), [])

    assert status == 400
    assert "evidence-again" not in page
    # Only the hint of the limits is read out with the field.
    assert 'aria-describedby="evidence-hint"' in file_input(page)


def test_a_fault_of_the_evidence_is_tied_to_the_file_field(intake: LaporIntake) -> None:
    status, page = send(intake, report_fields(), [("foto.jpg", EXECUTABLE)])

    tag = file_input(page)
    assert status == 415
    assert 'aria-invalid="true"' in tag
    assert 'aria-describedby="evidence-fault evidence-again evidence-hint"' in tag
    assert '<p class="fault" id="evidence-fault">Berkas bukti ke-1 bukan foto' in page


def test_a_fault_of_the_anonymous_box_is_shown_at_the_box(intake: LaporIntake) -> None:
    status, page = send(intake, report_fields(anonymous="mungkin"), [])

    assert status == 400
    assert '<p class="fault" id="anonymous-fault">Pilih ya atau tidak.</p>' in page
    assert re.search(
        r'name="anonymous"[^>]*aria-describedby="anonymous-fault anonymous-hint"', page
    )


def test_each_hint_is_read_out_with_its_field(intake: LaporIntake) -> None:
    # A screen reader reads a field's label and what aria-describedby names, nothing around.
    status, page = send(intake, report_fields(summary=""), [])

    assert status == 400
    for field, hint in [("anonymous", "anonymous-hint"), ("region_code", "region-hint")]:
        assert f'id="{hint}"' in page
        assert re.search(rf'name="{field}"[^>]*aria-describedby="{hint}"', page), field
    # Not autocomplete="name": the browser would keep the name and offer it to the next person
    # on a shared phone; the reporter's safety comes before filling it in for them.
    for field in ("reporter_name", "reporter_contact"):
        assert re.search(rf'name="{field}"[^>]*autocomplete="off"', page), field


@pytest.mark.parametrize("name", ["employing_agency", "violation"])
def test_the_form_chooses_no_agency_or_violation_for_the_reporter(
    intake: LaporIntake, name: str
) -> None:
    # A first option chosen in advance would be sent by a reporter who skipped the field.
    connection = http.client.HTTPConnection("127.0.0.1", intake.config.listen_port, timeout=30)
    try:
        connection.request("GET", "/")
        page = connection.getresponse().read().decode()
    finally:
        connection.close()

    select = re.search(rf'<select id="{name}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert select is not None
    options = re.findall(r"<option[^>]*>", select.group(1))
    assert options[0] == '<option value="">'
    assert not any("selected" in option for option in options)


@pytest.fixture(scope="module")
def small_intake(
    location: S3Location, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LaporIntake]:
    """An intake taking at most 1 MB of evidence, shared by the tests of oversized requests.

    Shared: the portal's stop waits out aiohttp's lingering close (10 s) of a connection whose
    oversized body it refused unread, once for all of them rather than once each.
    """
    spool = tmp_path_factory.mktemp("small-intake") / "spool"
    with opened_intake(location, spool, max_total_mb=1, max_file_mb=1) as connector:
        yield connector


@pytest.mark.parametrize(
    ("lang", "words"),
    [("id", "paling banyak 1 MB"), ("en", "at most 1 MB (5 files of at most 1 MB each)")],
)
def test_a_request_too_large_says_how_much_evidence_fits(
    small_intake: LaporIntake, lang: str, words: str
) -> None:
    body, content_type = multipart(report_fields(), [("video.mp4", bytes(3 * 1024 * 1024))])
    port = small_intake.config.listen_port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        headers = {"Content-Type": content_type, "Accept-Language": lang}
        connection.request("POST", "/lapor", body=body, headers=headers)
        response = connection.getresponse()
        status, page = response.status, response.read().decode()
    finally:
        connection.close()

    assert status == 413
    assert words in page


def test_a_source_over_its_days_limit_is_told_to_wait_hours_not_a_minute(
    location: S3Location, tmp_path: Path
) -> None:
    with opened_intake(location, tmp_path / "spool", report_rate="10/minute;2/day") as connector:
        answers = [
            send(connector, report_fields(summary=f"Laporan ke-{n} tentang mobil dinas."), [])
            for n in range(3)
        ]
        port = connector.config.listen_port
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("POST", "/api/v1/reports", body=b"{}")
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()

    assert [status for status, _ in answers] == [201, 201, 429]
    assert response.status == 429
    assert 23 * 3600 < int(response.headers["Retry-After"]) <= 24 * 3600


def test_a_reporter_correcting_a_refused_form_is_not_counted_for_the_day(
    location: S3Location, tmp_path: Path
) -> None:
    # Before, every post counted: three corrections spent a day's limit of three reports.
    with opened_intake(location, tmp_path / "spool", report_rate="3/day") as connector:
        refused = [send(connector, report_fields(summary=""), [])[0] for _ in range(3)]
        kept = [
            send(connector, report_fields(summary=f"Laporan ke-{n} tentang mobil dinas."), [])
            for n in range(4)
        ]

        assert refused == [400, 400, 400]
        assert [status for status, _ in kept] == [201, 201, 201, 429]
        assert "Try again in" in kept[-1][1] or "Coba lagi dalam" in kept[-1][1]
        assert len(connector.read(None, 10)) == 3


def test_a_flood_of_posts_is_refused_kept_or_not(location: S3Location, tmp_path: Path) -> None:
    with opened_intake(location, tmp_path / "spool", attempt_rate="4/minute") as connector:
        statuses = [send(connector, report_fields(summary=""), [])[0] for _ in range(4)]
        over, page = send(connector, report_fields(summary="Laporan."), [])

        assert statuses == [400, 400, 400, 400]
        assert over == 429
        assert "Laporan." in page  # the reporter's words stay in the form
        assert connector.read(None, 10) == []


def test_json_sent_to_the_forms_address_is_told_where_json_goes(intake: LaporIntake) -> None:
    # Read as a form it would have no field, and every field it did send would be "missing".
    connection = http.client.HTTPConnection("127.0.0.1", intake.config.listen_port, timeout=30)
    try:
        body = json.dumps(report_fields()).encode()
        headers = {"Content-Type": "application/json", "Accept-Language": "en"}
        connection.request("POST", "/lapor", body=body, headers=headers)
        response = connection.getresponse()
        status, page = response.status, response.read().decode()
    finally:
        connection.close()

    assert status == 415
    assert "an application sends JSON to /api/v1/reports" in page
    assert "This field is required." not in page
    assert intake.read(None, 10) == []


def trickle(port: int, head: bytes, seconds: float) -> bytes:
    """Send ``head``, then one byte of body every 0.2 s for ``seconds``; what came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
        connection.sendall(head)
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            try:
                connection.sendall(b" ")
                answer = connection.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return b"closed"
            return answer or b"closed"
        return b""


@pytest.mark.parametrize("path", ["/api/v1/reports", "/lacak"])
def test_a_body_that_trickles_in_is_cut_off(
    location: S3Location, tmp_path: Path, path: str
) -> None:
    # One byte now and then, forever: each such connection would be held open for good.
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: 800\r\n\r\n"
    ).encode()
    with opened_intake(location, tmp_path / "spool", idle_seconds=1) as connection:
        answer = trickle(connection.config.listen_port, head, seconds=8)

    assert answer.startswith(b"HTTP/1.1 408") or answer == b"closed", answer[:100]


def test_a_tracking_code_form_far_too_large_is_not_read(intake: LaporIntake) -> None:
    head = (
        b"POST /lacak HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 30000000\r\n\r\ncode="
    )

    answer = trickle(intake.config.listen_port, head, seconds=8)

    assert answer.startswith(b"HTTP/1.1 404"), answer[:100]


def post_report(connector: LaporIntake, files: list[bytes]) -> tuple[int, dict[str, str]]:
    """A JSON report with ``files`` as evidence; the status and the answer."""
    payload: dict[str, Any] = report_fields()
    payload["evidence"] = [
        {"name": f"bukti-{n}", "content_base64": base64.b64encode(data).decode()}
        for n, data in enumerate(files)
    ]
    port = connector.config.listen_port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        body = json.dumps(payload).encode()
        connection.request("POST", "/api/v1/reports", body=body)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_evidence_refusals_say_the_limit_and_what_to_do(
    location: S3Location, tmp_path: Path
) -> None:
    big = b"%PDF-1.4\n" + bytes(1024 * 1024)
    with opened_intake(location, tmp_path / "spool", max_files=2, max_file_mb=1) as connector:
        answers = [
            post_report(connector, files)
            for files in ([png(shade=n) for n in range(3)], [big], [png(), b""])
        ]

    assert [(status, answer["error"]) for status, answer in answers] == [
        (413, "evidence_too_many"),
        (413, "evidence_too_large"),
        (400, "evidence_empty"),
    ]
    assert [answer["message"] for _, answer in answers] == [
        "Terlalu banyak berkas bukti: paling banyak 2 berkas per laporan.",
        "Berkas bukti ke-1 lebih dari 1 MB: kirim versi yang lebih kecil.",
        "Berkas bukti ke-2 kosong: pilih berkas lain atau kirim tanpa berkas itu.",
    ]
