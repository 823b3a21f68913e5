"""A form sent twice (the button pressed twice, the page sent again after going back) over real
HTTP, with a real SeaweedFS evidence store and spool: one report, one tracking code."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from connectors.lapor.connector import LaporIntake
from tests.connectors.test_lapor_portal import post_json, request
from tests.lapor_support import multipart, png, report_fields


def form_token(connector: LaporIntake) -> str:
    status, _, page = request(connector, "GET", "/")
    assert status == 200
    found = re.search(r'name="form_token" value="([A-Za-z0-9_-]+)"', page.decode())
    assert found, "the form carries no token"
    return found.group(1)


def send(connector: LaporIntake, fields: dict[str, str]) -> tuple[int, str]:
    body, content_type = multipart(fields, [("bukti.png", png(shade=7))])
    status, _, page = request(connector, "POST", "/lapor", body, {"Content-Type": content_type})
    text = page.decode()
    code = re.search(r'id="tracking-code">([^<]+)<', text)
    return status, code.group(1) if code else text


def spooled(connector: LaporIntake) -> int:
    return len(connector.read(None, 10))


def test_a_form_sent_twice_is_one_report_with_one_code(intake: LaporIntake) -> None:
    fields = report_fields(form_token=form_token(intake))

    first, second = send(intake, fields), send(intake, fields)

    assert first[0] == second[0] == 201
    assert first[1] == second[1]
    assert spooled(intake) == 1
    status, _, page = request(intake, "GET", f"/lacak/{first[1]}")
    assert status == 200, page.decode()


def test_a_button_pressed_twice_at_once_is_one_report(intake: LaporIntake) -> None:
    fields = report_fields(form_token=form_token(intake))

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: send(intake, fields), range(2)))

    assert [status for status, _ in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert spooled(intake) == 1


def test_a_form_changed_after_going_back_is_a_new_report(intake: LaporIntake) -> None:
    token = form_token(intake)

    first = send(intake, report_fields(form_token=token))
    second = send(
        intake, report_fields(form_token=token, summary="Koreksi: mobil dinas pelat merah.")
    )

    assert first[0] == second[0] == 201
    assert first[1] != second[1]
    assert spooled(intake) == 2


def test_the_form_keeps_its_token_when_it_comes_back_with_faults(intake: LaporIntake) -> None:
    token = form_token(intake)
    body, content_type = multipart(report_fields(form_token=token, summary=""), [])

    status, _, page = request(intake, "POST", "/lapor", body, {"Content-Type": content_type})

    assert status == 400
    assert f'name="form_token" value="{token}"' in page.decode()
    assert form_token(intake) != token  # every new form has a token of its own


def test_the_form_loads_the_script_keeping_its_token_which_the_portal_serves(
    intake: LaporIntake,
) -> None:
    # What the script does is checked by Node: tests/connectors/test_lapor_form_script.py.
    _, _, page = request(intake, "GET", "/")
    status, headers, script = request(intake, "GET", "/static/form.js")
    missing, _, _ = request(intake, "GET", "/static/other.js")

    assert '<script src="/static/form.js"></script>' in page.decode()
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert "sessionStorage" in script.decode()
    assert missing == 404


def test_an_api_client_retrying_with_its_own_token_gets_one_report(intake: LaporIntake) -> None:
    payload = report_fields(form_token="A" * 23 + "b")

    first, second = post_json(intake, payload), post_json(intake, payload)

    assert first[0] == second[0] == 202
    assert first[1]["tracking_code"] == second[1]["tracking_code"]


def test_a_token_that_is_none_is_refused_rather_than_ignored(intake: LaporIntake) -> None:
    # Ignored, each retry of the client's would have been a report of its own.
    status, answer = post_json(intake, report_fields(form_token="tok-abc-123456789012"))

    assert (status, answer["error"]) == (400, "invalid_report")
    [problem] = [p for p in answer["problems"] if p["field"] == "form_token"]
    assert problem["code"] == "invalid"
    assert "24" in problem["message"]
    assert post_json(intake, report_fields(form_token=""))[0] == 202  # none given: random ids
