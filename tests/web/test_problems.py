"""Every refusal of the HTTP API is an RFC 9457 problem document, as docs/openapi.yaml says.

Refusals this hub cannot be made to give here are checked where they can: a log that cannot
be written in tests/web/test_readers.py, a bad JWT in tests/web/test_tls.py.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from streams.audit.tokens import TokenStore
from tests.hubtools import RunningHub, http_request, problem_of
from tests.web.openapi_spec import check_body, served_by

#: Views that take a credential (all but the probes).
READ_PATHS = sorted(served_by("worker") - {"/health", "/livez", "/readyz", "/metrics"})


@dataclass(frozen=True)
class Setting:
    """A referred case of bawaslu.33 and the bad credentials to send."""

    case_id: str
    credentials: dict[str, str]
    outsider: str
    uninvolved: str


@pytest.fixture(scope="module")
def setting(hub: RunningHub) -> Setting:
    revoked = hub.token("bkn")
    TokenStore(hub.store.engine).revoke(revoked.id, "lost laptop")
    expired = hub.token("bkn", expires_at=datetime.now(UTC) - timedelta(minutes=1))
    credentials = {
        "malformed_authorization": "Basic YnVuZ2E6c2VjcmV0",
        "unknown_token": "Bearer kawal_" + secrets.token_urlsafe(32),
        "token_expired": f"Bearer {expired.secret}",
        "token_revoked": f"Bearer {revoked.secret}",
        "unknown_institution": f"Bearer {hub.token('bawaslu.99').secret}",
        "oidc_not_configured": "Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
    }
    case_id = hub.open_case("bawaslu.33")  # reported now: BKN's period, not KASN's
    return Setting(case_id, credentials, hub.token("kasn").secret, hub.token("ppk.3374").secret)


def check_refusal(
    hub: RunningHub, path: str, url: str, status: int, reason: str, **headers: str
) -> dict[str, str]:
    """GET ``url`` (an instance of ``path``); fail unless it is the documented problem."""
    got, answer_headers, body = http_request(hub.base_url + url, None, headers)
    found = problem_of(got, answer_headers, body)
    assert (got, found["reason"]) == (status, reason), url
    check_body(path, got, "application/problem+json", found)
    return answer_headers


@pytest.mark.parametrize("path", READ_PATHS)
def test_every_bad_credential_on_every_view_is_a_problem(
    hub: RunningHub, setting: Setting, path: str
) -> None:
    url = path.format(case_id=setting.case_id, figure="counts")
    for reason, authorization in setting.credentials.items():
        headers = check_refusal(hub, path, url, 401, reason, Authorization=authorization)

        assert headers["WWW-Authenticate"].startswith('Bearer realm="kawal", error=')


@pytest.mark.parametrize("path", READ_PATHS)
def test_a_token_in_the_address_is_refused_on_every_view(
    hub: RunningHub, setting: Setting, path: str
) -> None:
    # Good or not, a token in the query is no credential: it is refused rather than served the
    # public view, so the client learns at once that logs and history now hold its secret.
    token = hub.token("bawaslu.33").secret
    url = path.format(case_id=setting.case_id, figure="counts") + f"?access_token={token}"

    headers = check_refusal(hub, path, url, 401, "credential_in_query")

    assert 'error="invalid_request"' in headers["WWW-Authenticate"]


@pytest.mark.parametrize("path", READ_PATHS)
def test_the_retired_viewer_parameter_is_refused_on_every_view(
    hub: RunningHub, setting: Setting, path: str
) -> None:
    # Ignored, it would serve the public view to a client that believes it asked as BKN.
    url = path.format(case_id=setting.case_id, figure="counts") + "?as=bkn"

    check_refusal(
        hub, path, url, 400, "viewer_in_query", Authorization=f"Bearer {setting.outsider}"
    )


@pytest.mark.parametrize(
    ("path", "url", "status", "reason"),
    [
        ("/access-log", "/access-log", 401, "authentication_required"),
        # Read as no filter, a script would take every sanction for the ones it asked for.
        ("/register", "/register?election=pilkada-2024&format=json", 400, "bad_query"),
        ("/register", "/register?format=json&format=csv", 400, "bad_query"),
        # Asked for CSV, a script would get the page and read it as its data.
        ("/triage", "/triage?format=csv", 400, "invalid_format"),
        ("/register", "/register?format=xlsx", 400, "invalid_format"),
        ("/triage", "/triage?format=json", 401, "authentication_required"),
        ("/cases/{case_id}/trail", "/cases/{case_id}/trail?as=bkn", 400, "viewer_in_query"),
        ("/cases/{case_id}/trail", "/cases/KWL-NONE/trail", 401, "authentication_required"),
        ("/cases/{case_id}", "/cases/{case_id}", 401, "authentication_required"),
        ("/register", "/register", 404, "register_disabled"),
        ("/dashboard/figures.json", "/dashboard/figures.json?region=Jawa", 400, "invalid_filter"),
        ("/dashboard/{figure}.csv", "/dashboard/counts.csv?to=2024-13-01", 400, "invalid_filter"),
        ("/dashboard/{figure}.svg", "/dashboard/counts.svg?from=x", 400, "invalid_filter"),
        ("/dashboard/{figure}.csv", "/dashboard/everything.csv", 404, "no_such_figure"),
        ("/dashboard/{figure}.svg", "/dashboard/catatan_merah.svg", 404, "no_such_chart"),
    ],
)
def test_every_refusal_of_a_request_is_a_problem(
    hub: RunningHub, setting: Setting, path: str, url: str, status: int, reason: str
) -> None:
    headers = check_refusal(hub, path, url.format(case_id=setting.case_id), status, reason)

    if status == 401:
        assert headers["WWW-Authenticate"] == 'Bearer realm="kawal"'


def test_an_unknown_case_is_a_problem_to_a_reader_who_may_ask(hub: RunningHub) -> None:
    check_refusal(
        hub, "/cases/{case_id}/trail", "/cases/KWL-NONE/trail", 404, "no_such_case",
        Authorization=f"Bearer {hub.operator_token()}",
    )  # fmt: skip


def test_an_access_log_case_that_is_no_uuid_is_a_problem(hub: RunningHub, setting: Setting) -> None:
    check_refusal(
        hub, "/access-log", "/access-log?case=LP-2024-001", 400, "invalid_case",
        Authorization=f"Bearer {setting.outsider}",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("path", "url", "who"),
    [
        ("/cases/{case_id}/trail", "/cases/{case_id}/trail", "outsider"),
        ("/access-log", "/access-log?case={case_id}", "outsider"),
        ("/triage", "/triage", "uninvolved"),
    ],
)
def test_a_reader_not_entitled_gets_a_problem(
    hub: RunningHub, setting: Setting, path: str, url: str, who: str
) -> None:
    token = setting.outsider if who == "outsider" else setting.uninvolved
    headers = check_refusal(
        hub, path, url.format(case_id=setting.case_id), 403, "not_entitled",
        Authorization=f"Bearer {token}",
    )  # fmt: skip

    assert "WWW-Authenticate" not in headers
