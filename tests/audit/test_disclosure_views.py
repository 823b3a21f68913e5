"""Trail views show each reader exactly what the disclosure policy grants its roles.

In process, over a store holding one signed case through every event with personal data
(``tests/disclosure_case.py``): every institution party to it, the public and an operator read
the trail, and for each entry the values shown are compared with the policy and with the
domain's rules. Every view verifies, whatever it withholds.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.audit.access_log import AccessLog, shown_personal_fields
from streams.audit.store import AuditStore
from streams.audit.trail import WITHHELD, Directory, NotEntitledError, trail_view
from streams.audit.verify import verify_store
from streams.domain.authority import load_authority_map
from streams.domain.disclosure_policy import (
    PUBLIC,
    DisclosurePolicy,
    load_disclosure_policy,
)
from streams.domain.institutions import load_institutions
from streams.domain.parties import case_roles, parties_of_report
from streams.domain.principals import Principal, PrincipalRole
from streams.web.views import TrailReader
from tests.audit.treetools import hub_key_at
from tests.disclosure_case import NIP, Step, block, dated, reported, whole_case
from tests.entrytools import signed_rows, signing_registry
from tests.storetools import open_store

CATALOG = default_catalog()
CODEC = AvroCodec(CATALOG)
DIRECTORY = Directory(load_institutions(), load_authority_map())
PARTIES = ("bawaslu", "bawaslu.33", "bkn", "ppk.3374", "inspektorat.3374", "bpasn")
SECRETS = ("Test Reporter", "Test Subject", NIP, "Shared campaign material.")


@pytest.fixture(scope="module")
def policy() -> DisclosurePolicy:
    """The bundled policy."""
    return load_disclosure_policy(None, CATALOG)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    """A fresh SQLite store (the views read it the same way on PostgreSQL)."""
    opened = open_store("sqlite", tmp_path, None)
    yield opened
    opened.close()


def stored(store: AuditStore, steps: list[Step]) -> str:
    """The case of ``steps`` signed, chained and stored; its id."""
    store.insert(signed_rows(CODEC, [record for _, record in steps]))
    case_id: str = steps[0][1]["envelope"]["case_id"]
    return case_id


def view(
    store: AuditStore, policy: DisclosurePolicy, case_id: str, viewer: str | None
) -> dict[str, Any]:
    """``viewer``'s trail of ``case_id`` (None: the public's), signatures checked."""
    shown = trail_view(
        store, CODEC, CATALOG, policy, case_id, viewer, DIRECTORY, signing_registry()
    )
    assert shown is not None
    assert shown["verified"] is True, shown["problem"]
    return shown


def revealed(entry: dict[str, Any]) -> tuple[str, ...]:
    """The personal-data fields an entry of a view shows a value of, in schema order."""
    personal = CATALOG.personal_data_fields(entry["event_type"])
    fields = entry["fields"]
    return tuple(
        name for name in personal if fields.get(name) is not None and fields[name] != WITHHELD
    )


def by_event(shown: dict[str, Any]) -> dict[str, set[str]]:
    """Every field revealed, by event type, over the whole view."""
    found: dict[str, set[str]] = {}
    for entry in shown["entries"]:
        found.setdefault(entry["event_type"], set()).update(revealed(entry))
    return found


def test_every_view_shows_exactly_the_policys_fields(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    steps = whole_case()
    case_id = stored(store, steps)
    rows = store.trail(case_id)
    parties = parties_of_report(DIRECTORY.authority_map, steps[0][1])
    known = {inst.id: inst for inst in DIRECTORY.institutions}
    for institution in PARTIES:
        shown = view(store, policy, case_id, institution)
        roles = case_roles(known[institution], parties)
        assert roles is not None
        for row, entry in zip(rows, shown["entries"], strict=True):
            disclosed = [item["field"] for item in json.loads(row.disclosures or "[]")]
            assert revealed(entry) == policy.visible(roles, row.event_type, disclosed), (
                institution,
                row.event_type,
            )


def test_every_value_shown_comes_with_the_salt_that_opens_its_commitment(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    # A reader checks offline, with plain SHA-256, that each value is the one the sender
    # signed: the commitment is in the view's committed bytes, the salt in its disclosure.
    case_id = stored(store, whole_case())
    for institution in PARTIES:
        for entry in view(store, policy, case_id, institution)["entries"]:
            committed = CODEC.decode(bytes.fromhex(entry["committed_event"])).record
            opened = {}
            for item in entry["disclosures"]:
                salted = bytes.fromhex(item["salt"]) + item["value"].encode()
                assert committed[item["field"]] == "sha256:" + hashlib.sha256(salted).hexdigest()
                opened[item["field"]] = item["value"]
            assert {name: entry["fields"][name] for name in revealed(entry)} == opened
    public = view(store, policy, case_id, None)
    assert all(entry["disclosures"] == [] for entry in public["entries"])


def as_shown(value: Any) -> Any:
    """A decoded Avro value as a view's JSON gives it: ISO 8601, times in whole milliseconds."""
    if isinstance(value, dict):
        return {key: as_shown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_shown(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return value.isoformat() if isinstance(value, date) else value


def test_what_a_view_shows_beside_the_signed_bytes_is_read_from_them(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    # The view's envelope and fields are covered by no signature (docs/signing.md, "Checking a
    # trail view"): a reader compares them with the decoded committed_event, so they must be it.
    case_id = stored(store, whole_case())
    for institution in (*PARTIES, None):
        for entry in view(store, policy, case_id, institution)["entries"]:
            committed = CODEC.decode(bytes.fromhex(entry["committed_event"])).record
            envelope = as_shown(committed.pop("envelope"))
            assert entry["envelope"] == envelope
            assert (entry["event_id"], entry["event_type"]) == (
                envelope["event_id"],
                envelope["event_type"],
            )
            personal = CATALOG.personal_data_fields(entry["event_type"])
            shown = {k: v for k, v in entry["fields"].items() if k not in personal}
            assert shown == {k: as_shown(v) for k, v in committed.items() if k not in personal}


def test_a_personal_data_field_holding_no_value_shows_null_and_is_no_read(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    public = view(store, policy, stored(store, whole_case()), None)
    report = public["entries"][0]

    assert CODEC.decode(bytes.fromhex(report["committed_event"])).record["evidence_keys"] is None
    assert report["fields"]["evidence_keys"] is None
    assert report["fields"]["subject_name"] == WITHHELD
    assert shown_personal_fields(public, CATALOG) == ()


def test_the_ppk_sees_whom_the_case_concerns_never_who_reported(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    shown = view(store, policy, stored(store, whole_case()), "ppk.3374")

    report = shown["entries"][0]["fields"]
    assert (report["subject_nip"], report["subject_name"]) == (NIP, "Test Subject")
    assert report["reporter_identity"] == WITHHELD
    assert report["summary"] == WITHHELD
    assert "Test Reporter" not in str(shown)
    assert by_event(shown)["VerificationCompleted"] == set()


def test_the_appeals_body_sees_the_subject_only_on_appeal_entries(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    shown = view(store, policy, stored(store, whole_case()), "bpasn")

    seen = {event: fields for event, fields in by_event(shown).items() if fields}
    assert seen == {
        "ObjectionFiled": {"appellant_nip", "grounds"},
        "AppealFiled": {"appellant_nip", "grounds"},
        "AppealDecided": {"considerations"},
    }
    assert "Test Subject" not in str(shown)


def test_the_inspectorate_the_public_and_an_operator_see_no_personal_data(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    case_id = stored(store, whole_case())
    inspectorate = view(store, policy, case_id, "inspektorat.3374")
    public = view(store, policy, case_id, None)
    log = AccessLog(store.engine, hub_key_at())
    reader = TrailReader(store, CODEC, CATALOG, policy, DIRECTORY, log, signing_registry())
    operator = reader.read(case_id, Principal("ops", PrincipalRole.OPERATOR, "tok_x"), "/t")

    assert operator is not None
    for shown in (inspectorate, public, operator):
        assert set().union(*by_event(shown).values()) == set()
        assert not any(secret in str(shown) for secret in SECRETS)
    assert public["view"] == operator["view"] == PUBLIC
    assert log.entries([case_id]) == []  # nothing personal was shown, so nothing to log


def test_where_cases_are_public_an_institution_not_party_reads_the_publics_view(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    """Before, its credential got it 403 where no credential got the public view."""
    case_id = stored(store, whole_case())
    log = AccessLog(store.engine, hub_key_at())
    reader = TrailReader(store, CODEC, CATALOG, policy, DIRECTORY, log, signing_registry())
    stranger = Principal("ppk.3301", PrincipalRole.INSTITUTION, "tok_y")

    with pytest.raises(NotEntitledError):
        reader.read(case_id, stranger, "/t")  # cases not public: refused
    shown = reader.read_where_public(case_id, stranger, "/t")

    assert shown == reader.read_where_public(case_id, None, "/t")
    assert shown is not None
    assert shown["view"] == PUBLIC
    assert not any(secret in str(shown) for secret in SECRETS)
    party = reader.read_where_public(
        case_id, Principal("bkn", PrincipalRole.INSTITUTION, "t"), "/t"
    )
    assert party is not None
    assert party["view"] != PUBLIC  # a party still reads its own view


def test_bkn_as_authority_sees_the_reporter_and_as_personnel_agency_only_the_nip(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    recent = view(store, policy, stored(store, whole_case()), "bkn")
    # Reported and handled before the transfer: KASN is the authority, BKN only the personnel
    # agency.
    before = datetime(2023, 12, 4, 9, 30, tzinfo=UTC)
    steps = reported("kasn", at=before)
    case_id = steps[0][1]["envelope"]["case_id"]
    steps += [
        dated(block(case_id, "PersonnelDataBlocked"), before),
        dated(block(case_id, "PersonnelDataUnblocked"), before),
    ]
    older = view(store, policy, stored(store, steps), "bkn")

    assert recent["entries"][0]["fields"]["reporter_identity"] == "Test Reporter"
    assert {event: fields for event, fields in by_event(older).items() if fields} == {
        "PersonnelDataBlocked": {"subject_nip"},
        "PersonnelDataUnblocked": {"subject_nip"},
    }


def test_a_view_follows_the_policy_it_is_given(store: AuditStore, tmp_path: Path) -> None:
    # The same trail under a stricter table (KAWAL_DISCLOSURE_FILE): the PPK sees nothing.
    strict = tmp_path / "disclosure.toml"
    strict.write_text('[[sees_nothing]]\nrole = "ppk"\nwhy = "Stricter."\n', encoding="utf-8")
    shown = view(
        store, load_disclosure_policy(strict, CATALOG), stored(store, whole_case()), "ppk.3374"
    )

    assert set().union(*by_event(shown).values()) == set()


def test_a_case_handed_over_to_bkn_shows_bkn_the_authoritys_view_and_kasn_nothing(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    # Reported while KASN held the role; BKN's first event after the transfer hands it over.
    steps = reported("kasn", at=datetime(2024, 9, 10, 3, tzinfo=UTC))
    case_id = steps[0][1]["envelope"]["case_id"]
    steps.append(dated(block(case_id, "PersonnelDataBlocked"), datetime(2024, 11, 11, tzinfo=UTC)))
    case_id = stored(store, steps)

    handed = view(store, policy, case_id, "bkn")

    assert handed["entries"][0]["fields"]["reporter_identity"] == "Test Reporter"
    with pytest.raises(NotEntitledError) as refused:
        view(store, policy, case_id, "kasn")
    assert str(refused.value) == f"kasn is not party to case {case_id}"


def test_a_trail_cut_short_at_its_end_or_without_its_head_does_not_verify(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    case_id = stored(store, whole_case())
    last = store.trail(case_id)[-1].seq
    with store.engine.begin() as conn:
        conn.execute(
            text("DELETE FROM audit_entries WHERE case_id = :c AND seq = :s"),
            {"c": case_id, "s": last},
        )
    cut = trail_view(store, CODEC, CATALOG, policy, case_id)
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM case_heads WHERE case_id = :c"), {"c": case_id})
    headless = trail_view(store, CODEC, CATALOG, policy, case_id)

    assert cut is not None
    assert (cut["verified"], cut["first_bad_seq"]) == (False, last)
    assert cut["problem"].endswith("entries are missing from its end")
    assert headless is not None
    assert headless["verified"] is False
    assert headless["problem"].startswith("the hub never wrote this case")


def test_entries_stored_after_the_head_was_read_still_verify(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    # The sink stores entries with their head: a view reads the head first, so entries newer
    # than the head it read are the sink's latest, not a break.
    case_id = stored(store, whole_case())
    rows = store.trail(case_id)
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE case_heads SET last_seq = :s, last_hash = :h WHERE case_id = :c"),
            {"s": rows[-2].seq, "h": rows[-2].hash, "c": case_id},
        )

    shown = view(store, policy, case_id, None)

    assert len(shown["entries"]) == len(rows)


Row = dict[str, Any]


def rows_of(steps: list[Step]) -> list[Row]:
    """The audit-store rows of ``steps``' case, signed and chained."""
    return signed_rows(CODEC, [record for _, record in steps])


def sink_stores_after_the_first(
    store: AuditStore, monkeypatch: pytest.MonkeyPatch, read: str, *batches: list[Row]
) -> None:
    """The sink stores ``batches`` right after a reader's first ``read`` of the heads.

    A reader reads the heads before the entries, and the sink commits entries with their
    head in between: the entries are there, and newer than the head read.
    """
    first_read = getattr(store, read)

    def then_the_sink_stores(*args: Any) -> Any:
        heads = first_read(*args)
        monkeypatch.setattr(store, read, first_read)
        for rows in batches:
            store.insert(rows)
        return heads

    monkeypatch.setattr(store, read, then_the_sink_stores)


def test_a_case_the_sink_stores_while_its_trail_is_read_verifies(
    store: AuditStore, policy: DisclosurePolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = whole_case()
    sink_stores_after_the_first(store, monkeypatch, "case_head", rows_of(steps))

    shown = view(store, policy, steps[0][1]["envelope"]["case_id"], None)

    assert len(shown["entries"]) == len(steps)


def test_entries_the_sink_stores_while_the_store_is_verified_verify(
    store: AuditStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    grown = rows_of(whole_case())
    store.insert(grown[:3])
    # A new case's first entries, and the next entries of one already stored.
    sink_stores_after_the_first(store, monkeypatch, "heads", rows_of(whole_case()), grown[3:])

    report = verify_store(store)

    assert (report.cases, report.findings) == (2, [])


def test_every_time_a_view_gives_has_its_whole_milliseconds(
    store: AuditStore, policy: DisclosurePolicy
) -> None:
    # Before, 09:18:20.993000 beside 00:00:00 with none: a fixed-pattern parser in another
    # language failed on one or the other.
    case_id = stored(store, whole_case())
    whole_millis = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")
    for entry in view(store, policy, case_id, None)["entries"]:
        assert whole_millis.fullmatch(entry["recorded_at"]), entry["recorded_at"]
        assert whole_millis.fullmatch(entry["envelope"]["event_time"])
