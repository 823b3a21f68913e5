"""Trust failures reach the worker's metrics: a trail that no longer verifies, a bad credential."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.hubtools import RunningHub, http_get, metric_value

pytestmark = pytest.mark.slow


def sample(hub: RunningHub, series: str) -> float:
    return metric_value(hub.base_url, series)


def test_a_trail_changed_behind_the_hubs_back_is_counted(hub: RunningHub) -> None:
    case_id = hub.open_case()
    token = hub.operator_token()
    series = 'kawal_chain_verification_failures_total{where="trail_view"}'
    before = sample(hub, series)
    status, _ = http_get(f"{hub.base_url}/cases/{case_id}/trail", token)
    assert status == 200
    assert sample(hub, series) == before  # a verified trail counts nothing
    with hub.store.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE audit_entries SET source_offset = source_offset + 1000 "
                "WHERE case_id = :case AND seq = 2"
            ),
            {"case": case_id},
        )
    status, body = http_get(f"{hub.base_url}/cases/{case_id}/trail", token)
    assert status == 200
    assert b'"verified": false' in body or b'"verified":false' in body
    assert sample(hub, series) == before + 1


def test_refused_credentials_are_counted_by_reason(hub: RunningHub) -> None:
    series = 'kawal_http_refusals_total{reason="malformed_authorization"}'
    before = sample(hub, series)
    status, _ = http_get(f"{hub.base_url}/cases/any/trail", token="not a token")
    assert status == 401
    status, _ = http_get(f"{hub.base_url}/cases/any/trail")  # no credential: the public
    assert status == 401  # asks for one: counted as authentication_required, not here
    assert sample(hub, series) == before + 1


@pytest.fixture(scope="module")
def bawaslus_case(hub: RunningHub) -> str:
    """A case bawaslu.33 reported, to which KASN (the authority before 2024) is no party."""
    return hub.open_case("bawaslu.33")


@pytest.mark.parametrize(
    ("path", "institution", "reason"),
    [
        ("/cases/{case_id}/trail", None, "authentication_required"),
        ("/cases/{case_id}", None, "authentication_required"),
        ("/access-log", None, "authentication_required"),
        ("/cases/{case_id}/trail", "kasn", "not_entitled"),
        ("/cases/{case_id}/proof", "kasn", "not_entitled"),
        ("/triage", "kasn", "not_entitled"),
        ("/cases/{case_id}/trail?as=kasn", None, "viewer_in_query"),
    ],
)
def test_every_refused_reader_is_counted_by_reason(
    hub: RunningHub, bawaslus_case: str, path: str, institution: str | None, reason: str
) -> None:
    # Someone trying case ids, with no credential or one of an institution not party to them,
    # shows in the metrics as a bad token does.
    token = hub.token(institution).secret if institution else None
    series = f'kawal_http_refusals_total{{reason="{reason}"}}'
    before = sample(hub, series)

    status, _ = http_get(hub.base_url + path.format(case_id=bawaslus_case), token=token)

    assert status in (400, 401, 403)
    assert sample(hub, series) == before + 1
