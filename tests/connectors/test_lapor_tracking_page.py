"""The tracking page over real HTTP: its steps agree with the JSON, a late note ends in time."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import S3Location
from schemas.identity import case_id_for
from tests.connectors.test_lapor_filing import AFTER_LEBARAN, set_clock
from tests.connectors.test_lapor_portal import (
    feed_entry,
    opened_intake,
    post_json,
    request,
    status_connector,
)
from tests.lapor_support import report_fields


@pytest.fixture
def portal(location: S3Location, tmp_path: Path) -> Iterator[LaporIntake]:
    """The portal on 31 March 2026 (a report learnt of on 12 March is late)."""
    with opened_intake(location, tmp_path / "spool") as connector:
        set_clock(connector, AFTER_LEBARAN)
        yield connector


def deliver(tmp_path: Path, case_id: str, *event_types: str) -> None:
    status = status_connector(tmp_path)
    try:
        for seq, event_type in enumerate(event_types):
            status.deliver(feed_entry(case_id, seq, event_type))
    finally:
        status.close()


def views(portal: LaporIntake, answer: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The tracking page in Indonesian and English, and its JSON."""
    _, _, page = request(portal, "GET", answer["status_url"])
    _, _, english = request(portal, "GET", answer["status_url"] + "?lang=en")
    _, _, as_json = request(portal, "GET", "/api/v1/tracking/" + answer["tracking_code"])
    return page.decode(), english.decode(), json.loads(as_json)


def sent_late(portal: LaporIntake) -> dict[str, Any]:
    status, answer = post_json(
        portal, report_fields(discovered_on="2026-03-12") | {"late_ok": True}
    )
    assert status == 202
    return answer


def test_the_late_note_speaks_to_the_reporter_until_bawaslu_decides(
    portal: LaporIntake, tmp_path: Path
) -> None:
    answer = sent_late(portal)
    case_id = case_id_for("bawaslu.33", answer["case_number"])

    deliver(tmp_path, case_id, "ReportReceived")
    received, received_en, _ = views(portal, answer)
    deliver(tmp_path, case_id, "ReportReceived", "ReportRegistered")
    registered, _, registered_json = views(portal, answer)

    assert 'id="late-note"' in received
    assert "Anda mengirim laporan ini lebih dari 7 hari kerja setelah Anda mengetahui" in received
    assert "pelapor" not in received.split('id="late-note"')[1].split("</p>")[0]
    assert "You sent this report over 7 working days after you learnt" in received_en
    assert 'id="late-note"' not in registered
    assert "Bawaslu mungkin tidak meregistrasinya" not in registered
    assert registered_json["filing"]["standing"] == "late"  # the fact stays in the JSON


def test_the_late_note_ends_when_the_report_is_not_registered(
    portal: LaporIntake, tmp_path: Path
) -> None:
    answer = sent_late(portal)
    case_id = case_id_for("bawaslu.33", answer["case_number"])

    deliver(tmp_path, case_id, "ReportReceived", "ReportRejected")

    assert 'id="late-note"' not in views(portal, answer)[0]


def test_the_page_lists_the_steps_the_json_lists(portal: LaporIntake, tmp_path: Path) -> None:
    status, answer = post_json(portal, report_fields(discovered_on="2026-03-30"))
    assert status == 202
    case_id = case_id_for("bawaslu.33", answer["case_number"])

    before, _, before_json = views(portal, answer)
    deliver(tmp_path, case_id, "ReportReceived", "ReportRegistered")
    after, _, after_json = views(portal, answer)

    # Before the case system's first word, the portal's own step only, in both.
    assert "Laporan terkirim" in before
    assert before_json["status"] == "Laporan terkirim"
    assert before_json["steps"] == []
    # After it, the case system's steps only, in both: no "sent" beside "received".
    titles = re.findall(r"<li[^>]*><strong>([^<]+)</strong>", after)
    assert titles == [step["title"] for step in after_json["steps"]]
    assert titles == ["Laporan diterima", "Laporan diregistrasi"]


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("K7QM-2XRP-AB4T-MW3C-HZ5D", "Ini bukan kode pelacakan yang utuh"),  # a group left out
        ("K7QM-2XRP-AB4T-MW3C-HZ5D-Q6NE-Q6NE", "Ini bukan kode pelacakan yang utuh"),
        ("K7QM-2XRP-AB4T-MW9C-HZ5D-Q6NE", "kode hanya berisi huruf dan angka 2 sampai 7"),
    ],
)
def test_a_code_of_the_wrong_shape_is_told_so(portal: LaporIntake, typed: str, said: str) -> None:
    status, headers, page = request(portal, "POST", "/lacak", f"code={typed}".encode(), FORM)
    if status == 303:  # 24 characters with its dashes: it may be an earlier code, looked up
        status, _, page = request(portal, "GET", headers["Location"])

    assert status == 404
    assert said in page.decode()
    assert "Tidak ada laporan dengan kode pelacakan ini" not in page.decode()
    assert f'value="{typed}"' in page.decode()  # back in the box, to correct


def test_a_code_of_the_right_shape_no_report_has_is_unknown(portal: LaporIntake) -> None:
    body = b"code=k7qm 2xrp ab4t mw3c hz5d q6ne"

    status, headers, _ = request(portal, "POST", "/lacak?lang=en", body, FORM)
    assert status == 303
    status, _, page = request(portal, "GET", headers["Location"])

    assert status == 404
    assert "No report has this tracking code" in page.decode()


def test_an_earlier_code_no_report_has_is_unknown(portal: LaporIntake) -> None:
    status, _, page = request(portal, "GET", "/lacak/-q_Zl1IOo0bT4xYw9vKaN7cE")

    assert status == 404
    assert "Tidak ada laporan dengan kode pelacakan ini" in page.decode()
