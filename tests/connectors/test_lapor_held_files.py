"""A form sent back keeps its evidence files: without JavaScript, over real HTTP.

A browser never fills a file field in again, so a late report sent back for confirmation (or a
form with a field to mend, or one file refused) would come back without the files the
reporter had chosen. The portal holds them for the form's token
(:mod:`connectors.lapor.holding`), in the real SeaweedFS evidence store, and the page lists
them to send again.
"""

from __future__ import annotations

import hashlib
import html
import http.client
import logging
import re
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from minio import Minio

from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import EvidenceStore, S3Location, parse_evidence_keys
from connectors.lapor.holding import HOLD_SECONDS, Cleaned, Holding, place_of
from connectors.lapor.media import EvidenceLimits
from tests.connectors.test_lapor_filing import AFTER_LEBARAN, set_clock
from tests.connectors.test_lapor_portal import only_event, opened_intake
from tests.lapor_support import CHAT_LOG, EXECUTABLE, png, report_fields

#: Thursday 12 March 2026: 8 working days before AFTER_LEBARAN, so late.
LATE_DAY = "2026-03-12"
PHOTO_NAME = "IMG_20260310_Budi_Santoso.png"
TOKEN = "A" * 23 + "b"
OTHER_TOKEN = "C" * 23 + "d"


@pytest.fixture
def portal(location: S3Location, tmp_path: Path) -> Iterator[LaporIntake]:
    """The portal on 31 March 2026, so that a report of 12 March is late."""
    with opened_intake(location, tmp_path / "spool") as connector:
        set_clock(connector, AFTER_LEBARAN)
        yield connector


def post(
    intake: LaporIntake,
    fields: dict[str, str],
    files: list[tuple[str, bytes]],
    kept: Sequence[str] = (),
    lang: str = "id",
) -> tuple[int, str]:
    """Post the form as a browser without JavaScript does, kept files ticked; status, page."""
    boundary = "----kawal-held-boundary-41c"
    parts = [(name, value) for name, value in fields.items()]
    parts += [("kept_evidence", sha256) for sha256 in kept]
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in parts
    )
    for filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        body += head.encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    connection = http.client.HTTPConnection("127.0.0.1", intake.config.listen_port, timeout=30)
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    try:
        connection.request("POST", "/lapor?lang=en" if lang == "en" else "/lapor", body, headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def kept_on(page: str) -> list[str]:
    """The files a page lists as kept, ticked: what a browser sends back unless unticked."""
    return re.findall(r'name="kept_evidence" value="([0-9a-f]{64})" checked', page)


def late(**changes: str) -> dict[str, str]:
    return report_fields(discovered_on=LATE_DAY, form_token=TOKEN) | changes


def objects(location: S3Location, prefix: str) -> list[str]:
    client = Minio(
        location.endpoint.removeprefix("http://"),
        access_key=location.access_key,
        secret_key=location.secret_key,
        secure=False,
    )
    found = client.list_objects(location.bucket, prefix=prefix, recursive=True)
    return [str(item.object_name) for item in found]


def files_of(intake: LaporIntake, location: S3Location) -> list[bytes]:
    """The files of the one report kept, as Bawaslu reads them from the evidence store."""
    record: dict[str, Any] = only_event(intake)
    keys = parse_evidence_keys(record["evidence_keys"])
    reader = EvidenceStore(location)  # read access, no evidence key: an institution's
    return [reader.read(ref, keys[ref["sha256"]][0]) for ref in record["evidence"]]


def test_a_late_report_confirmed_without_javascript_keeps_both_files(
    portal: LaporIntake, location: S3Location, caplog: pytest.LogCaptureFixture
) -> None:
    photo = png(shade=91)
    with caplog.at_level(logging.DEBUG):
        status, page = post(portal, late(), [(PHOTO_NAME, photo), ("chat.txt", CHAT_LOG)])

        assert status == 400
        assert "Anda mengetahuinya 8 hari kerja yang lalu" in page
        assert "Berkas yang disimpan bersama laporan ini" in page
        assert html.escape(PHOTO_NAME) in page
        assert "chat.txt" in page
        assert "evidence-again" not in page  # nothing to choose again
        kept = kept_on(page)
        assert len(kept) == 2
        assert portal.read(None, 10) == []

        status, page = post(portal, late(late_ok="true"), [], kept)

    assert status == 201, page
    assert files_of(portal, location) == [photo, CHAT_LOG]
    assert {f"sha256/{sha256}" for sha256 in kept} <= set(objects(location, "sha256/"))
    assert "Budi" not in caplog.text
    assert "chat.txt" not in caplog.text


def test_the_confirmation_sent_twice_is_one_report_with_its_files(
    portal: LaporIntake, location: S3Location
) -> None:
    _, page = post(portal, late(), [(PHOTO_NAME, png(shade=92)), ("chat.txt", CHAT_LOG)])
    kept = kept_on(page)

    first = post(portal, late(late_ok="true"), [], kept)
    second = post(portal, late(late_ok="true"), [], kept)

    assert first[0] == second[0] == 201
    code = re.compile(r'id="tracking-code">([^<]+)<')
    assert code.findall(first[1]) == code.findall(second[1])
    assert len(files_of(portal, location)) == 2


def test_the_kept_files_are_listed_in_english(portal: LaporIntake) -> None:
    status, page = post(portal, late(), [(PHOTO_NAME, png(shade=93))], lang="en")

    assert status == 400
    assert "Files kept with this report" in page
    assert "kept with this form for 60 minutes" in page
    assert len(kept_on(page)) == 1


def test_a_file_unticked_is_left_out(portal: LaporIntake, location: S3Location) -> None:
    photo = png(shade=94)
    _, page = post(portal, late(), [(PHOTO_NAME, photo), ("chat.txt", CHAT_LOG)])
    photo_hash, _ = kept_on(page)

    status, _ = post(portal, late(late_ok="true"), [], [photo_hash])

    assert status == 201
    assert files_of(portal, location) == [photo]


def test_a_confirmation_after_the_files_expired_says_to_choose_them_again(
    portal: LaporIntake, location: S3Location, tmp_path: Path
) -> None:
    _, page = post(portal, late(), [(PHOTO_NAME, png(shade=95)), ("chat.txt", CHAT_LOG)])
    kept = kept_on(page)
    later = AFTER_LEBARAN + timedelta(seconds=HOLD_SECONDS + 1)
    set_clock(portal, later)

    status, page = post(portal, late(late_ok="true"), [], kept)
    status_en, page_en = post(portal, late(late_ok="true"), [], kept, lang="en")

    assert status == status_en == 400
    assert "sudah tidak ada: berkas disimpan paling lama 60 menit" in page
    assert "Pilih lagi berkasnya di bawah, lalu kirim laporan" in page
    assert "are no longer there: files are kept for 60 minutes at most" in page_en
    assert 'id="evidence-again"' in page_en  # the file field asks for them again
    assert kept_on(page) == []
    assert portal.read(None, 10) == []
    # The expiry round deletes the held copies and their rows.
    held = {f"held/{place_of(TOKEN)}/{sha256}" for sha256 in kept}
    assert held <= set(objects(location, "held/"))
    portal.expire(later)
    assert not held & set(objects(location, "held/"))
    with sqlite3.connect(tmp_path / "spool" / "held.db") as db:
        assert db.execute("SELECT COUNT(*) FROM held").fetchone() == (0,)


def test_a_file_held_for_another_form_is_refused(portal: LaporIntake) -> None:
    _, page = post(portal, late(), [(PHOTO_NAME, png(shade=96)), ("chat.txt", CHAT_LOG)])
    theirs = kept_on(page)

    status, page = post(portal, late(late_ok="true", form_token=OTHER_TOKEN), [], theirs)

    assert status == 400
    assert "sudah tidak ada" in page
    assert PHOTO_NAME not in page
    assert kept_on(page) == []
    assert portal.read(None, 10) == []


def test_a_missing_field_sends_the_form_back_with_its_files(
    portal: LaporIntake, location: S3Location
) -> None:
    photo = png(shade=97)
    fields = report_fields(discovered_on="2026-03-31", form_token=TOKEN)
    status, page = post(
        portal, fields | {"summary": ""}, [(PHOTO_NAME, photo), ("c.txt", CHAT_LOG)]
    )

    assert status == 400
    assert 'id="summary-fault"' in page
    kept = kept_on(page)
    assert len(kept) == 2

    status, _ = post(portal, fields, [], kept)
    assert status == 201
    assert files_of(portal, location) == [photo, CHAT_LOG]


def test_one_refused_file_drops_none_of_the_others(
    portal: LaporIntake, location: S3Location
) -> None:
    photo = png(shade=98)
    fields = report_fields(discovered_on="2026-03-31", form_token=TOKEN)
    status, page = post(portal, fields, [(PHOTO_NAME, photo), ("program.jpg", EXECUTABLE)])

    assert status == 415
    assert "Berkas bukti ke-2 bukan foto" in page
    assert "Berkas lain yang Anda pilih belum tersimpan" in page
    kept = kept_on(page)
    assert len(kept) == 1

    status, _ = post(portal, fields, [("chat.txt", CHAT_LOG)], kept)
    assert status == 201
    assert files_of(portal, location) == [photo, CHAT_LOG]


def test_kept_files_count_against_the_limit(location: S3Location, tmp_path: Path) -> None:
    with opened_intake(location, tmp_path / "spool", max_files=2) as intake:
        set_clock(intake, AFTER_LEBARAN)
        fields = report_fields(discovered_on="2026-03-31", form_token=TOKEN)
        _, page = post(intake, fields | {"summary": ""}, [("a.png", png(shade=99))])
        kept = kept_on(page)

        status, page = post(intake, fields, [("b.png", png(shade=100)), ("c.txt", CHAT_LOG)], kept)

        assert status == 413
        assert "paling banyak 2 berkas per laporan" in page
        assert kept_on(page) == kept  # the kept one stays kept
        assert intake.read(None, 10) == []


def test_a_form_over_the_rate_limit_keeps_its_held_files_listed(
    location: S3Location, tmp_path: Path
) -> None:
    with opened_intake(location, tmp_path / "spool", attempt_rate="2/hour") as intake:
        set_clock(intake, AFTER_LEBARAN)
        _, page = post(intake, late(), [(PHOTO_NAME, png(shade=101))])
        kept = kept_on(page)
        post(intake, late(), [], kept)  # the second attempt, refused as late again

        status, page = post(intake, late(late_ok="true"), [("c.txt", CHAT_LOG)], kept)

        assert status == 429
        assert kept_on(page) == kept  # held before: still listed, to send later
        assert 'id="evidence-again"' in page  # the file just chosen was not read: again
        assert intake.read(None, 10) == []


def test_held_files_past_the_bound_are_asked_for_again(
    location: S3Location, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = EvidenceStore(location, b"k" * 32)
    holding = Holding(tmp_path, store, EvidenceLimits(max_total_bytes=100))  # 4,000 bytes
    now = AFTER_LEBARAN
    small = Cleaned(CHAT_LOG, "text/plain", "Budi Santoso.txt")
    large = Cleaned(bytes(4000), "text/plain", "Budi Santoso 2.txt")

    with caplog.at_level(logging.WARNING):
        assert [file.name for file in holding.hold(TOKEN, [small], now)] == [small.name]
        assert holding.hold(OTHER_TOKEN, [large], now) == []

    assert "at their bound" in caplog.text
    assert "Budi" not in caplog.text
    assert holding.kept(OTHER_TOKEN, [hashlib.sha256(large.data).hexdigest()], now) == ([], 1)
    # Once the first expired, there is room again.
    later = now + timedelta(seconds=HOLD_SECONDS + 1)
    assert len(holding.hold(OTHER_TOKEN, [large], later)) == 1
    assert holding.kept(TOKEN, [hashlib.sha256(CHAT_LOG).hexdigest()], later) == ([], 1)
    holding.close()
