"""``GET /access-log``'s query: a case the store lacks, a period, and what it refuses.

An officer exporting the reads of an audit period must get that period or a clear refusal,
never the whole log passed off as the period's; a mistyped case is "no such case", not
"nobody read it" or "not yours".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.access_log import AccessLog
from streams.audit.store import AuditStore
from streams.audit.trail import Directory, NotEntitledError
from streams.domain.authority import load_authority_map
from streams.domain.disclosure_policy import load_disclosure_policy
from streams.domain.institutions import load_institutions
from streams.domain.principals import Principal, PrincipalRole
from streams.domain.read_period import read_period
from streams.web.access import AccessReader, QueryError, UnknownCaseError, filters_of
from streams.web.case_audience import no_case_of_yours
from tests.audit.treetools import hub_key_at
from tests.entrytools import signed_rows
from tests.hubtools import report
from tests.storetools import open_store

CODEC = AvroCodec(default_catalog())
DIRECTORY = Directory(load_institutions(), load_authority_map())
POLICY = load_disclosure_policy(None, default_catalog())
OPERATOR = Principal("ops.ana", PrincipalRole.OPERATOR, "tok_ops")
SUPERVISOR = Principal("bawaslu.33", PrincipalRole.INSTITUTION, "tok_b")
BKN = Principal("bkn", PrincipalRole.INSTITUTION, "tok_bkn")
KASN = Principal("kasn", PrincipalRole.INSTITUTION, "tok_k")
ABSENT = "0b5c6a1e-0000-4000-8000-00000000dead"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    opened = open_store("sqlite", tmp_path, None)
    yield opened
    opened.close()


def reader_with_reads(store: AuditStore) -> tuple[AccessReader, str]:
    """A reader over a store holding a case bawaslu.33 reported, read on 1 and 3 March."""
    first = report("bawaslu.33")
    case_id: str = first["envelope"]["case_id"]
    store.insert(signed_rows(CODEC, [first]))
    log = AccessLog(store.engine, hub_key_at())
    for day in (1, 3):
        when = datetime(2026, 3, day, 9, tzinfo=UTC)
        log.record(SUPERVISOR, case_id, ["summary"], f"/cases/{case_id}/trail", when)
    return AccessReader(log, store, CODEC, DIRECTORY, POLICY), case_id


@pytest.mark.parametrize("principal", [OPERATOR, BKN])
def test_a_case_the_store_lacks_is_no_such_case_for_a_reader_of_every_case(
    store: AuditStore, principal: Principal
) -> None:
    reader, _ = reader_with_reads(store)
    with pytest.raises(UnknownCaseError, match=f"no case {ABSENT} in the audit store"):
        reader.reads_for(principal, ABSENT)


def test_a_case_the_store_lacks_is_refused_as_anothers_to_an_institution(
    store: AuditStore,
) -> None:
    reader, case_id = reader_with_reads(store)
    with pytest.raises(NotEntitledError) as unknown:
        reader.reads_for(SUPERVISOR, ABSENT)
    with pytest.raises(NotEntitledError) as anothers:
        reader.reads_for(KASN, case_id)
    assert str(unknown.value) == no_case_of_yours("bawaslu.33", DIRECTORY)
    assert str(anothers.value) == no_case_of_yours("kasn", DIRECTORY)


@pytest.mark.parametrize("principal", [OPERATOR, SUPERVISOR])
def test_the_reads_of_a_period_only(store: AuditStore, principal: Principal) -> None:
    reader, case_id = reader_with_reads(store)
    march_2 = read_period("2026-03-02", None)
    assert [r["read_at"][:10] for r in reader.reads_for(principal, None, march_2)] == ["2026-03-03"]
    to_march_1 = read_period(None, "2026-03-01")
    assert [r["read_at"][:10] for r in reader.reads_for(principal, case_id, to_march_1)] == [
        "2026-03-01"
    ]


def test_a_utc_moment_may_end_in_z() -> None:
    assert filters_of({"from": "2026-03-01T09:00Z"})[1].start == datetime(2026, 3, 1, 9, tzinfo=UTC)


def test_the_query_gives_the_case_and_the_period() -> None:
    case_id, period = filters_of({"case": ABSENT.upper(), "from": "2026-03-02", "to": "2026-03-02"})
    assert case_id == ABSENT
    assert (period.start, period.end) == (
        datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2026, 3, 3, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("query", "reason", "said"),
    [
        (
            {"since": "2026-03-01"},
            "invalid_filter",
            "unknown parameter since; the access log takes",
        ),
        ({"from": "March"}, "invalid_filter", "from 'March' is not a date"),
        ({"to": "2026-03-01T09:00"}, "invalid_filter", "with its offset"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "invalid_filter", "before it starts"),
        ({"case": "LP-1"}, "invalid_case", "case must be a case id"),
        ({"from": "2026-03-01T09:00 07:00"}, "invalid_filter", r"write \+ as %2B, or end"),
    ],
)
def test_a_query_the_view_cannot_take_says_what_to_send(
    query: dict[str, str], reason: str, said: str
) -> None:
    with pytest.raises(QueryError, match=said) as refused:
        filters_of(query)
    assert refused.value.reason == reason


def test_an_institution_sees_of_anothers_reads_only_the_fields_it_may_see_and_no_credential(
    store: AuditStore,
) -> None:
    # Before, the PPK learnt that the report named its reporter (reporter_identity was read)
    # and which member of Bawaslu's staff read it.
    reader, case_id = reader_with_reads(store)
    log = reader.log
    staff = Principal("bawaslu.33", PrincipalRole.INSTITUTION, "oidc:siti@bawaslu.go.id")
    read = ["reporter_identity", "subject_name", "summary"]
    log.record(staff, case_id, read, f"/cases/{case_id}/trail")
    ppk = Principal("ppk.3374", PrincipalRole.INSTITUTION, "tok_ppk")
    log.record(ppk, case_id, ["subject_name"], f"/cases/{case_id}/trail")

    seen_by_ppk = reader.reads_for(ppk, case_id)
    seen_by_bawaslu = reader.reads_for(SUPERVISOR, case_id)
    seen_by_operator = reader.reads_for(OPERATOR, case_id)

    assert [(r["principal"], r["credential"], r["fields"]) for r in seen_by_ppk[2:]] == [
        ("bawaslu.33", None, ["subject_name", "summary"]),
        ("ppk.3374", "tok_ppk", ["subject_name"]),
    ]
    assert seen_by_bawaslu[2]["fields"] == read
    assert seen_by_bawaslu[2]["credential"] == "oidc:siti@bawaslu.go.id"
    assert seen_by_bawaslu[3]["credential"] is None
    assert seen_by_operator[2]["credential"] == "oidc:siti@bawaslu.go.id"
    assert seen_by_operator[3]["credential"] == "tok_ppk"
