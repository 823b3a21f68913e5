"""What the form asks of a bystander, over real HTTP: a name only if known, a real account."""

from __future__ import annotations

import re

from connectors.lapor.connector import LaporIntake
from tests.connectors.test_lapor_portal import only_event, post_json, request
from tests.lapor_support import report_fields


def test_the_name_is_optional_and_the_form_says_how_to_identify_them(intake: LaporIntake) -> None:
    page = request(intake, "GET", "/")[2].decode()

    name = re.search(r'<input type="text" id="subject_name"[^>]*>', page)
    assert name is not None
    assert "required" not in name.group(0)
    assert "Nama (jika Anda tahu)" in page
    assert "tuliskan dalam cerita Anda di bawah jabatannya" in page


def test_the_agency_list_says_what_to_do_when_theirs_is_not_in_it(intake: LaporIntake) -> None:
    page = request(intake, "GET", "/")[2].decode()
    english = request(intake, "GET", "/?lang=en")[2].decode()

    assert 'aria-describedby="agency-hint"' in page
    assert "Laporkan ke Bawaslu kabupaten/kota tempat kejadian" in page
    assert "do not choose one that is not theirs" in english


def test_the_hints_are_worded_plainly(intake: LaporIntake) -> None:
    form = request(intake, "GET", "/")[2].decode()
    ask = request(intake, "GET", "/lacak")[2].decode()

    assert "nama berkas di perangkat Anda tidak ikut disimpan" in form
    assert "tidak ada berkas yang menyimpan nama" not in form
    assert "Paling sedikit 20 karakter, spasi tidak dihitung." in form
    assert "huruf besar/kecil, spasi, dan tanda hubung tidak berpengaruh" in ask


def test_a_report_without_the_name_is_taken_with_it_empty(intake: LaporIntake) -> None:
    status, answer = post_json(intake, report_fields(subject_name=""))

    assert status == 202, answer
    assert only_event(intake)["subject_name"] == ""


def test_a_one_character_account_is_refused_in_the_api(intake: LaporIntake) -> None:
    status, answer = post_json(intake, report_fields(summary="x"), lang="en")

    assert status == 400
    assert [(p["field"], p["code"]) for p in answer["problems"]] == [("summary", "too_short")]
    assert answer["problems"][0]["message"].startswith("Tell more (at least 20 characters")
    assert intake.read(None, 10) == []
