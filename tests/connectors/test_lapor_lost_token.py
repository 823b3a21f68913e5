"""A form posted without its token (an old page kept, a page saved offline), over real HTTP.

Such a form used to come back saying only to choose its files again, for no reason the
reporter could see. It now gets a fresh token (:mod:`connectors.lapor.lost_token`): sent back,
it keeps everything typed and its files, and says what happened and which files to attach.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.lapor.connector import LaporIntake
from connectors.lapor.evidence import S3Location
from connectors.lapor.lost_token import HELD_LOST, LOST
from connectors.lapor.resubmission import valid_form_token
from tests.connectors.test_lapor_filing import AFTER_LEBARAN, set_clock
from tests.connectors.test_lapor_held_files import (
    LATE_DAY,
    PHOTO_NAME,
    files_of,
    kept_on,
    late,
    post,
)
from tests.connectors.test_lapor_portal import opened_intake
from tests.lapor_support import CHAT_LOG, png, report_fields

SUMMARY = "Lurah membagikan kaus calon nomor 2 di balai kelurahan Tembalang, Senin pagi."
NAME = "Siti Canary-Reporter"
CONTACT = "0812-5555-0101"


@pytest.fixture
def portal(location: S3Location, tmp_path: Path) -> Iterator[LaporIntake]:
    """The portal on 31 March 2026, so that a report of 12 March is late."""
    with opened_intake(location, tmp_path / "spool") as connector:
        set_clock(connector, AFTER_LEBARAN)
        yield connector


def typed(**changes: str) -> dict[str, str]:
    """A late report an identified reporter typed, on a page that lost its token."""
    fields = report_fields(
        discovered_on=LATE_DAY,
        summary=SUMMARY,
        anonymous="false",
        reporter_name=NAME,
        reporter_contact=CONTACT,
    )
    return fields | changes


def token_on(page: str) -> str | None:
    found = re.search(r'name="form_token" value="([^"]*)"', page)
    return valid_form_token(found.group(1)) if found else None


@pytest.mark.parametrize("token", [None, "", "tok-abc", "A" * 25])
def test_a_form_without_its_token_comes_back_whole_saying_what_happened(
    portal: LaporIntake, location: S3Location, token: str | None
) -> None:
    fields = typed() if token is None else typed(form_token=token)
    photo = png(shade=17)

    status, page = post(portal, fields, [(PHOTO_NAME, photo)], lang="en")

    assert status == 400
    assert LOST[1] in page
    for value in (SUMMARY, NAME, CONTACT, "198501012010011001", "Budi Canary-Subject"):
        assert html.escape(value) in page  # everything typed, to check and send again
    assert 'id="discovered_on-fault"' in page  # and the real reason, to mend
    assert token_on(page) is not None  # a token of its own from now on
    kept = kept_on(page)
    assert len(kept) == 1  # its file held, listed: not asked for again
    assert html.escape(PHOTO_NAME) in page
    assert 'id="evidence-again"' not in page
    assert portal.read(None, 10) == []

    resent = fields | {"form_token": token_on(page) or "", "late_ok": "true"}
    status, page = post(portal, resent, [], kept, lang="en")

    assert status == 201, page
    assert files_of(portal, location) == [photo]


def test_a_copy_naming_files_held_for_its_earlier_page_is_never_sent_without_them(
    portal: LaporIntake,
) -> None:
    _, earlier = post(portal, late(), [(PHOTO_NAME, png(shade=23)), ("chat.txt", CHAT_LOG)])
    kept = kept_on(earlier)
    assert len(kept) == 2
    copy = typed(late_ok="true")  # the earlier page as saved, its token lost

    status, page = post(portal, copy, [("baru.txt", CHAT_LOG + b"lagi\n")], kept)

    assert status == 400
    assert portal.read(None, 10) == []
    assert LOST[0] in page
    assert HELD_LOST[0] in page  # not "expired after 60 minutes": out of this copy's reach
    assert "disimpan paling lama 60 menit" not in page
    assert "Juga 2 berkas yang disimpan bersama halaman sebelumnya" in page
    assert html.escape(SUMMARY) in page
    assert len(kept_on(page)) == 1  # the file attached with the copy is held
    assert not set(kept_on(page)) & set(kept)


def test_a_complete_form_without_its_token_is_taken(portal: LaporIntake) -> None:
    fields = report_fields(discovered_on="2026-03-31", summary=SUMMARY)

    status, page = post(portal, fields, [("chat.txt", CHAT_LOG)])

    assert status == 201, page
    assert 'id="tracking-code"' in page
    assert len(portal.read(None, 10)) == 1


def test_the_files_not_kept_are_named_to_choose_again(
    location: S3Location, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = "IMG_20260310_<b>rapat</b>.png"
    with opened_intake(location, tmp_path / "spool", attempt_rate="1/hour") as intake:
        set_clock(intake, AFTER_LEBARAN)
        post(intake, late(), [])
        with caplog.at_level(logging.DEBUG):
            status, page = post(
                intake, late(late_ok="true"), [(name, png(shade=5)), ("c.txt", CHAT_LOG)], lang="en"
            )

    assert status == 429  # not read, so nothing of it held: both are asked for by name
    assert f"Choose these again: {html.escape(name)}, c.txt." in page
    assert "<b>rapat" not in page
    assert "rapat" not in caplog.text
