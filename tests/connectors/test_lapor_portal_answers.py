"""What the portal answers a reporter who slips: another language, a wrong address, haste."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import S3Location
from schemas.identity import case_id_for
from tests.connectors.test_lapor_portal import (
    feed_entry,
    opened_intake,
    post_json,
    request,
    status_connector,
)
from tests.lapor_support import multipart, report_fields

BUNDLED_REGISTRY = Path(__file__).parents[2] / "streams" / "data" / "institutions.toml"


def test_the_language_links_after_sending_keep_the_tracking_code(intake: LaporIntake) -> None:
    body, content_type = multipart(report_fields(), [])

    status, _, page = request(intake, "POST", "/lapor", body, {"Content-Type": content_type})

    text = page.decode()
    code = text.split('id="tracking-code">')[1].split("<")[0]
    # The page after a post cannot be asked for again: a language link to "?lang=en" would
    # open an empty form and lose the code shown once.
    assert status == 201
    assert 'href="?lang=en"' not in text
    assert f'href="/lacak/{code}?lang=en"' in text
    status, _, english = request(intake, "GET", f"/lacak/{code}?lang=en")
    assert status == 200
    assert f'id="tracking-code">{code}<' in english.decode()
    assert "it is the only way to follow your report" in english.decode()


def test_a_tracking_link_with_a_trailing_slash_still_opens(intake: LaporIntake) -> None:
    _, answer = post_json(intake, report_fields())

    status, headers, _ = request(intake, "GET", answer["status_url"] + "/")

    assert status in (301, 308)
    assert headers["Location"] == answer["status_url"]


def test_a_wrong_address_is_a_page_in_the_readers_words(intake: LaporIntake) -> None:
    status, headers, page = request(intake, "GET", "/laporan-saya")
    en_status, _, english = request(intake, "GET", "/laporan-saya?lang=en")
    api_status, _, body = request(intake, "GET", "/api/v1/nothing")

    assert (status, headers["Content-Type"]) == (404, "text/html; charset=utf-8")
    assert "Halaman ini tidak ada" in page.decode()
    # Titled as what it is, not as something to try again later.
    assert "<title>Halaman tidak ditemukan" in page.decode()
    assert "Belum dapat diproses" not in page.decode()
    assert 'href="/lacak"' in page.decode()
    assert en_status == 404
    assert "This page does not exist" in english.decode()
    assert "<title>Page not found" in english.decode()
    assert (api_status, json.loads(body)["error"]) == (404, "not_found")


def test_a_method_the_address_does_not_take_is_a_page_in_the_readers_words(
    intake: LaporIntake,
) -> None:
    status, headers, page = request(intake, "POST", "/", b"x=1")
    en_status, _, english = request(intake, "POST", "/lacak/ABC?lang=en", b"x=1")
    api_status, api_headers, body = request(intake, "DELETE", "/api/v1/tracking/ABC")

    assert (status, headers["Content-Type"]) == (405, "text/html; charset=utf-8")
    assert headers["Allow"] == "GET,HEAD"
    assert "Alamat ini tidak menerima kiriman seperti itu" in page.decode()
    assert en_status == 405
    assert "This address does not take that kind of request" in english.decode()
    assert (api_status, json.loads(body)["error"]) == (405, "method_not_allowed")
    assert api_headers["Allow"] == "GET,HEAD"


def test_a_lost_code_is_told_what_can_still_be_done(intake: LaporIntake) -> None:
    status, _, page = request(intake, "GET", "/lacak/" + "A" * 24 + "?lang=en")

    assert status == 404
    assert "Lost your code? Bawaslu cannot give it again" in page.decode()


def test_a_form_over_the_rate_limit_comes_back_filled_saying_how_long_to_wait(
    location: S3Location, tmp_path: Path
) -> None:
    with opened_intake(location, tmp_path / "spool", report_rate="1/hour") as connector:
        assert post_json(connector, report_fields())[0] == 202
        body, content_type = multipart(report_fields(summary="Kampanye di balai desa."), [])

        status, headers, page = request(
            connector, "POST", "/lapor?lang=en", body, {"Content-Type": content_type}
        )

        text = page.decode()
        assert status == 429
        assert 0 < int(headers["Retry-After"]) <= 3600
        assert re.search(r"Try again in \d+ minutes?\.", text), text
        assert "Kampanye di balai desa." in text  # the reporter's words, not lost
        assert 'value="Budi Canary-Subject"' in text
        assert len(connector.read(None, 10)) == 1  # nothing of the refused one kept


def test_a_report_joined_with_another_is_not_told_finished(
    intake: LaporIntake, tmp_path: Path
) -> None:
    _, answer = post_json(intake, report_fields())
    case_id = case_id_for("bawaslu.33", answer["case_number"])
    status = status_connector(tmp_path)
    try:
        status.deliver(feed_entry(case_id, 0, "ReportReceived"))
        merged = {"closing_reason": "MERGED_INTO_ANOTHER_CASE", "merged_into_case_id": "x"}
        status.deliver(feed_entry(case_id, 1, "CaseClosed", **merged))
    finally:
        status.close()

    _, _, page = request(intake, "GET", answer["status_url"] + "?lang=en")

    assert '<h2 id="current-step">Joined with another report</h2>' in page.decode()
    assert "Handling of this report is finished" not in page.decode()


def test_every_page_names_the_office_the_report_goes_to(intake: LaporIntake) -> None:
    # Before, "Bawaslu" alone: a reporter could not tell a province's portal from another's.
    pages = [request(intake, "GET", path)[2].decode() for path in ("/", "/lacak", "/nowhere")]
    english = request(intake, "GET", "/?lang=en")[2].decode()

    for page in pages:
        assert "· Bawaslu Provinsi Jawa Tengah</title>" in page
        assert "Bawaslu Provinsi Jawa Tengah: kanal pelaporan netralitas" in page
    assert "Bawaslu Provinsi Jawa Tengah: reporting channel for the neutrality" in english


def test_a_ppk_registered_in_the_hubs_registry_is_offered_on_the_form(
    location: S3Location, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, the portal read the bundled registry only: a PPK registered since was not offered.
    registry = tmp_path / "institutions.toml"
    registry.write_text(
        BUNDLED_REGISTRY.read_text()
        + '\n[[institution]]\nid = "ppk.33"\nrole = "ppk"\nname = "PPK Provinsi Jawa Tengah"\n'
    )
    monkeypatch.setenv("KAWAL_INSTITUTIONS_FILE", str(registry))

    with opened_intake(location, tmp_path / "spool") as connector:
        form = request(connector, "GET", "/")[2].decode()
        fields = report_fields(employing_agency="ppk.33")
        status, _ = post_json(connector, fields)

    assert '<option value="ppk.33"' in form
    assert "PPK Provinsi Jawa Tengah" in form
    assert status == 202
