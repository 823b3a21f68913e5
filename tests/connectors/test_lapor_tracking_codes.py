"""Tracking codes a person can copy by hand and type back any way, and the old ones still work."""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime

import pytest

from connectors.lapor.codes import new_code, read_code, readings
from connectors.lapor.connector import LaporIntake
from connectors.lapor.tracking import TrackingStore
from tests.connectors.test_lapor_portal import post_json, request
from tests.lapor_support import report_fields

SHAPE = re.compile(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){5}")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
#: A code of the first format (URL-safe base64 of 18 bytes), as reporters still hold them.
EARLIER = "-q_Zl1IOo0bT4xYw9vKaN7cE"
LETTERS_ONLY = "abcdEFGHijklMNOPqrstUVWX"


def test_a_code_has_one_case_no_lookalikes_and_no_leading_dash() -> None:
    codes = {new_code() for _ in range(200)}

    assert len(codes) == 200
    assert all(SHAPE.fullmatch(code) for code in codes)


@pytest.mark.parametrize(
    "typed",
    [
        "{code}",
        "{lower}",
        "{compact}",
        "  {spaced}  ",
        "{lookalikes}",
    ],
)
def test_a_code_is_read_back_however_it_was_typed(typed: str) -> None:
    code = "OIBA-2345-67QR-STUV-WXYZ-KLMN"
    variants = {
        "code": code,
        "lower": code.lower(),
        "compact": code.replace("-", ""),
        "spaced": code.replace("-", " "),
        "lookalikes": code.replace("O", "0").replace("I", "1").replace("B", "8"),
    }

    assert readings(typed.format(**variants))[0] == code


@pytest.mark.parametrize(
    "typed", ["", "ABCD-EFGH", "ABCD-EFGH-2345-JKLM-NPQR-STU9", "<script>", "A" * 65]
)
def test_what_cannot_be_a_code_is_none(typed: str) -> None:
    assert readings(typed) == []
    assert read_code(typed) is None


def test_an_earlier_code_is_read_exactly_as_given() -> None:
    assert readings(EARLIER) == [EARLIER]
    assert read_code(EARLIER) == EARLIER
    assert EARLIER not in readings(EARLIER.upper())


def test_an_earlier_code_that_looks_like_one_of_today_has_both_readings() -> None:
    # A third of earlier codes are letters and 2-7 only.
    assert readings(LETTERS_ONLY) == ["ABCD-EFGH-IJKL-MNOP-QRST-UVWX", LETTERS_ONLY]


def test_a_code_typed_loosely_leads_to_its_page(intake: LaporIntake) -> None:
    _, answer = post_json(intake, report_fields())
    code = answer["tracking_code"]
    loose = code.lower().replace("-", " ").replace("o", "0").replace("i", "1")
    body = f"code={urllib.parse.quote(loose)}".encode()

    status, headers, _ = request(intake, "POST", "/lacak", body, FORM)
    page_status, _, page = request(intake, "GET", f"/lacak/{code.lower()}")

    assert SHAPE.fullmatch(code)
    assert (status, headers["Location"]) == (303, f"/lacak/{code}")
    assert page_status == 200
    assert f'id="tracking-code">{code}<' in page.decode()  # written as it was given
    assert f'data-stream="/lacak/{code}/events"' in page.decode()


@pytest.mark.parametrize("earlier", [EARLIER, LETTERS_ONLY])
def test_an_earlier_code_still_follows_its_report(intake: LaporIntake, earlier: str) -> None:
    store = TrackingStore(intake.config.spool_dir)
    try:
        store.add(earlier, "case-of-an-earlier-code", "3374", datetime.now(UTC))
    finally:
        store.close()

    typed, headers, _ = request(intake, "POST", "/lacak", f"code={earlier}".encode(), FORM)
    status, _, page = request(intake, "GET", f"/lacak/{earlier}")
    api_status, _, _ = request(intake, "GET", f"/api/v1/tracking/{earlier}")

    assert (typed, headers["Location"]) == (303, f"/lacak/{earlier}")
    assert (status, api_status) == (200, 200)
    assert f'id="tracking-code">{earlier}<' in page.decode()


def test_an_empty_code_is_asked_for_not_called_unknown(intake: LaporIntake) -> None:
    status, _, page = request(intake, "POST", "/lacak?lang=en", b"code=+", FORM)

    assert status == 400
    assert "Type your tracking code" in page.decode()
    assert "No report has this tracking code" not in page.decode()


def test_a_wrong_code_comes_back_in_the_box_to_correct(intake: LaporIntake) -> None:
    typed = "ABCD-EFGH-2345-JKLM-NPQR-STU"  # a character short

    status, _, page = request(intake, "POST", "/lacak?lang=en", f"code={typed}".encode(), FORM)

    assert status == 404
    assert "This is not a whole tracking code" in page.decode()  # its shape, not "unknown"
    assert f'value="{typed}"' in page.decode()


def test_a_body_that_is_no_form_holds_no_code(intake: LaporIntake) -> None:
    """Before, the portal read a JSON body as parts of a form and answered 500 (the fuzz test)."""
    body = b'{"code": "ABCD-EFGH-2345-JKLM-NPQR-STUV"}'

    status, _, page = request(
        intake, "POST", "/lacak?lang=en", body, {"Content-Type": "application/json"}
    )

    assert status == 400
    assert "Type your tracking code" in page.decode()
