"""The router's feeds carry exactly the disclosures the policy grants, event by event.

In process (the pipeline step, no broker): one case through every event that holds personal
data, each feed entry decoded, its disclosures compared with the table the domain asks for and
with the policy itself. The broker tests (``test_routing.py``) check the same on real topics.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from schemas.catalog import default_catalog
from streams.domain.authority import load_authority_map
from streams.domain.disclosure_policy import (
    DisclosurePolicyError,
    load_disclosure_policy,
)
from streams.domain.entries import EntryProblem, open_feed_disclosures
from streams.domain.institutions import load_institutions
from streams.domain.parties import case_roles, parties_of_report
from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Pipeline
from streams.topics import CASE_AUDIT, DLQ, OUTBOUND_PREFIX
from streams.vault.entries import unvault
from tests.disclosure_case import Step, closed, dated, reported, whole_case
from tests.hub.steptools import inbound_message, keyring, step_pipeline
from tests.hubtools import recommendation

REPORT = ("summary", "subject_nip", "subject_name", "reporter_identity")
REMEDY = ("appellant_nip", "grounds")
EVERY_PARTY_BUT_APPEALS = ("bawaslu", "bawaslu.33", "bkn", "ppk.3374", "inspektorat.3374")
#: Feed → disclosed fields, per event, for the whole case (BKN its authority). An institution
#: missing from an event's row does not receive it (its role does not consume it).
EXPECTED: dict[str, dict[str, tuple[str, ...]]] = {
    "ReportReceived": {"bawaslu": REPORT, "bawaslu.33": REPORT, "bkn": REPORT},
    "ReportRegistered": dict.fromkeys(EVERY_PARTY_BUT_APPEALS, ()),
    "VerificationCompleted": {
        "bawaslu": ("findings",),
        "bawaslu.33": ("findings",),
        "bkn": ("findings",),
        "ppk.3374": (),
        "inspektorat.3374": (),
    },
    "ReferralForwarded": {"bkn": ()},
    "ClarificationRequested": {"bkn": ("questions",), "ppk.3374": ("questions",)},
    "ClarificationReceived": {"bkn": ("summary",)},
    "RecommendationIssued": dict.fromkeys(EVERY_PARTY_BUT_APPEALS, ()),
    "DeadlineBreached": dict.fromkeys(("bkn", "kemenpanrb", "kemendagri"), ()),
    "PersonnelDataBlocked": {"bkn": ("subject_nip",), "ppk.3374": ("subject_nip",)},
    "SanctionImposed": dict.fromkeys(("bawaslu", "bawaslu.33", "bkn"), ()),
    "PersonnelDataUnblocked": {"bkn": ("subject_nip",), "ppk.3374": ("subject_nip",)},
    "ObjectionFiled": {"ppk.3374": REMEDY, "bpasn": REMEDY},
    "AppealFiled": {"ppk.3374": REMEDY, "bpasn": REMEDY},
    "AppealDecided": dict.fromkeys(EVERY_PARTY_BUT_APPEALS, ())
    | {"ppk.3374": ("considerations",), "bpasn": ("considerations",)},
    "CaseClosed": dict.fromkeys((*EVERY_PARTY_BUT_APPEALS, "bpasn"), ()) | {"bkn": ("remarks",)},
}


class Routed:
    """What the step produced for each event: the trail's disclosures and each feed's."""

    def __init__(self) -> None:
        self.full: dict[str, tuple[str, ...]] = {}
        self.feeds: dict[str, dict[str, tuple[str, ...]]] = {}


def run(step: Pipeline, steps: list[Step]) -> Routed:
    """Every step through the pipeline, each accepted; the disclosures it routed, by event."""
    cases, routed = CaseBatch({}), Routed()
    for offset, (event_type, record) in enumerate(steps):
        produced = step.decide(cases, inbound_message(step, event_type, record, offset))
        assert DLQ not in {topic for topic, *_ in produced}, event_type
        feeds = routed.feeds.setdefault(event_type, {})
        for topic, _, value, _ in produced:
            decoded = step.codec.decode(value)
            if decoded.full_name != "kawal.AuditEntry":
                continue  # the receipt to the sender
            fields = disclosed_fields(step, topic, decoded.record)
            if topic == CASE_AUDIT:
                routed.full[event_type] = fields
            elif topic.startswith(OUTBOUND_PREFIX):
                feeds[topic.removeprefix(OUTBOUND_PREFIX)] = fields
    return routed


def disclosed_fields(step: Pipeline, topic: str, entry: dict[str, Any]) -> tuple[str, ...]:
    """The fields an entry discloses to its reader: opened from the vault or the feed's seal.

    Nothing is ever in clear on a topic.
    """
    assert entry["disclosures"] == []
    catalog = step.codec.catalog
    if topic == CASE_AUDIT:
        case_id = entry["case_id"]
        key = step.case_keys.keys_for([case_id], create=False)[case_id]
        vaulted = entry["vaulted_disclosures"]
        items = unvault(catalog, key, case_id, entry["hash"], vaulted)
    else:
        reader = topic.removeprefix(OUTBOUND_PREFIX)
        opened = open_feed_disclosures(catalog, keyring(step), reader, entry)
        assert not isinstance(opened, EntryProblem), opened
        items = opened
    return tuple(item["field"] for item in items)


def not_proven(case_id: str, authority: str) -> Step:
    """The authority's RecommendationIssued finding no violation."""
    record = recommendation(case_id, authority)
    record |= {"proven": False, "sanction_level": None, "sanction_kind": None}
    return "RecommendationIssued", record


@pytest.fixture(scope="module")
def step(tmp_path_factory: pytest.TempPathFactory) -> Pipeline:
    """The pipeline step with the bundled rules and disclosure policy."""
    return step_pipeline(tmp_path_factory.mktemp("disclosure"))


@pytest.fixture(scope="module")
def whole(step: Pipeline) -> tuple[list[Step], Routed]:
    """The whole case, and what the step routed of it."""
    steps = whole_case()
    return steps, run(step, steps)


def test_each_feed_carries_exactly_what_the_domain_grants(
    whole: tuple[list[Step], Routed],
) -> None:
    _, routed = whole
    assert routed.feeds == EXPECTED
    # The trail keeps every disclosure: the policy filters what is routed, not what is kept.
    assert routed.full["ReportReceived"] == REPORT


def test_each_feed_carries_exactly_the_policys_fields(whole: tuple[list[Step], Routed]) -> None:
    steps, routed = whole
    policy = load_disclosure_policy(None, default_catalog())
    # The case's deadlines were breached: the ministries are parties too (to the breach only).
    parties = replace(parties_of_report(load_authority_map(), steps[0][1]), breached=True)
    institutions = {inst.id: inst for inst in load_institutions()}

    assert {"kemendagri", "kemenpanrb"} <= set(routed.feeds["DeadlineBreached"])
    for event_type, feeds in routed.feeds.items():
        for institution, fields in feeds.items():
            roles = case_roles(institutions[institution], parties)
            assert roles is not None
            assert fields == policy.visible(roles, event_type, routed.full[event_type])


def test_no_ppk_feed_entry_carries_the_reporter(whole: tuple[list[Step], Routed]) -> None:
    _, routed = whole
    for event_type, feeds in routed.feeds.items():
        assert "reporter_identity" not in feeds.get("ppk.3374", ()), event_type


def test_the_appeals_body_receives_the_subject_only_with_an_appeal(
    whole: tuple[list[Step], Routed],
) -> None:
    _, routed = whole
    shown = {event: feeds["bpasn"] for event, feeds in routed.feeds.items() if "bpasn" in feeds}
    assert shown == {
        "ObjectionFiled": REMEDY,
        "AppealFiled": REMEDY,
        "AppealDecided": ("considerations",),
        "CaseClosed": (),
    }


def test_bkn_without_the_authority_of_a_case_receives_no_personal_data(step: Pipeline) -> None:
    # Reported before the transfer: KASN recommends, BKN is only the personnel agency.
    before = datetime(2023, 12, 4, 9, 30, tzinfo=UTC)
    steps = reported("kasn", at=before)
    case_id = steps[0][1]["envelope"]["case_id"]
    steps += [
        dated(not_proven(case_id, "kasn"), before),
        dated(closed(case_id, "kasn", "NOT_PROVEN"), before),
    ]
    routed = run(step, steps)

    bkn = {event: feeds["bkn"] for event, feeds in routed.feeds.items() if "bkn" in feeds}
    assert "ReportReceived" not in bkn
    assert set(bkn) >= {"VerificationCompleted", "CaseClosed"}
    assert set(bkn.values()) == {()}
    assert routed.feeds["ReportReceived"]["kasn"] == REPORT
    assert routed.feeds["CaseClosed"]["kasn"] == ("remarks",)


def test_the_step_applies_the_policy_file_of_its_settings(tmp_path: Path) -> None:
    granted = tmp_path / "disclosure.toml"
    granted.write_text(
        '[[allow]]\nrole = "recommending_authority"\nevents = ["ReportReceived"]\n'
        'fields = ["subject_nip"]\nwhy = "A stricter deployment."\n',
        encoding="utf-8",
    )
    routed = run(step_pipeline(tmp_path, granted), whole_case()[:3])

    assert routed.feeds["ReportReceived"] == {
        "bawaslu": (),
        "bawaslu.33": (),
        "bkn": ("subject_nip",),
    }
    assert set(routed.feeds["VerificationCompleted"].values()) == {()}


def test_a_wrong_policy_file_stops_the_step_from_being_built(tmp_path: Path) -> None:
    wrong = tmp_path / "disclosure.toml"
    wrong.write_text(
        '[[allow]]\nrole = "ppk"\nevents = ["ReportReceived"]\n'
        'fields = ["subject_nip", "case_number"]\nwhy = "Wrong."\n',
        encoding="utf-8",
    )
    with pytest.raises(DisclosurePolicyError, match=r"row 1 .*'case_number' is not a personal"):
        step_pipeline(tmp_path, wrong)
