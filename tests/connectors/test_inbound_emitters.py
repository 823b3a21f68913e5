"""A connector never sends an event type its institution's roles do not emit.

The hub refuses such an event (``unauthorized_sender``) and the sender would hear of it only
from a rejection receipt. The runtime applies the hub's own rule before signing: on the real
broker, the record is dead-lettered at once with a reason naming the event type, the
institution and its roles, and the next record, whose event the institution may send, is
published.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.base import Event, SourceRecord
from connectors.emitters import emitter_of
from connectors.ids import event_id_for
from monitoring.connectors import ConnectorMetrics
from schemas.catalog import default_catalog
from schemas.envelope import envelope
from schemas.identity import case_id_for
from streams.broker.checkpoints import CheckpointStore
from streams.domain.authority import load_authority_map
from streams.domain.authorization import authorize
from streams.domain.institutions import load_institutions
from streams.settings import Settings
from tests.connectors.test_inbound_refusals import (
    INSTITUTION,
    NAME,
    SECRET_NIP,
    AsItComes,
    letters_naming,
    published_ids,
    report,
    runner_of,
)

OFF_ROLE = "SanctionImposed"


class SometimesOffRole(AsItComes):
    """Maps a record marked ``off_role`` to a sanction, which only a PPK emits."""

    def to_events(self, record: SourceRecord) -> list[Event]:
        if not record.payload.get("off_role"):
            return super().to_events(record)
        moment = datetime.fromisoformat(record.payload["reported_at"])
        header = envelope(
            event_id=event_id_for(INSTITUTION, record.source_id, OFF_ROLE),
            case_id=case_id_for(INSTITUTION, record.payload["case_number"]),
            event_type=OFF_ROLE,
            event_time=moment,
            source=INSTITUTION,
            actor_ref=f"system:{INSTITUTION}",
        )
        return [Event(OFF_ROLE, {"envelope": header, "subject_nip": SECRET_NIP})]


def test_an_event_type_the_institution_does_not_emit_is_dead_lettered_before_it_is_sent(
    kawal_broker: list[str],
    producer: KafkaProducer,
    checkpoints: CheckpointStore,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused, fine = report(off_role=True), report()
    connector = SometimesOffRole([refused, fine])
    metrics = ConnectorMetrics()
    runner = runner_of(connector, producer, checkpoints, metrics)

    with caplog.at_level(logging.WARNING):
        assert runner.run_once() == 2

    [letter] = letters_naming(kawal_broker, refused["id"])
    assert letter["reason_code"] == "unauthorized_sender"
    reason: str = letter["reason"]
    assert reason.startswith(f"record {refused['id']}: {INSTITUTION} (election_supervisor) ")
    assert f"may not emit {OFF_ROLE}; it is emitted by: ppk" in reason
    assert "map the record to an event type these roles emit" in reason
    assert SECRET_NIP not in reason
    published = published_ids(kawal_broker)
    assert event_id_for(INSTITUTION, refused["id"], OFF_ROLE) not in published
    assert event_id_for(INSTITUTION, fine["id"], "ReportReceived") in published
    assert checkpoints.get(NAME) == "2"
    labels = {"connector": NAME, "institution": INSTITUTION, "reason": "unauthorized_sender"}
    assert metrics.registry.get_sample_value("kawal_connector_dead_letters_total", labels) == 1


@pytest.mark.parametrize(
    ("institution", "event_type", "allowed"),
    [
        ("bawaslu.33", "ReportReceived", True),
        ("bawaslu.33", "SanctionImposed", False),
        ("ppk.3374", "SanctionImposed", True),
        ("ppk.3374", "ReportReceived", False),
        # Both held the recommending authority in a period of the authority map.
        ("kasn", "RecommendationIssued", True),
        ("bkn", "RecommendationIssued", True),
        ("bpasn", "RecommendationIssued", False),
    ],
)
def test_the_connector_refuses_what_the_hub_refuses_for_any_case(
    institution: str, event_type: str, allowed: bool
) -> None:
    catalog = default_catalog()
    emitter = emitter_of(institution, Settings())
    assert emitter is not None
    refusal = emitter.refusal(catalog, event_type)
    assert (refusal is None) == allowed
    # The hub's own decision, for a case whose authority is the one the map names at its
    # time: a body that holds the authority at some time may emit its events then.
    [sender] = [i for i in load_institutions() if i.id == institution]
    authorities = load_authority_map().authorities
    hub_allows = any(
        authorize(catalog, sender, event_type, _any_record(institution), None, held) is None
        for held in authorities
    )
    assert hub_allows == allowed


def test_an_unregistered_institution_has_no_roles_to_check() -> None:
    assert emitter_of("ppk.9999", Settings()) is None


def _any_record(sender: str) -> dict[str, Any]:
    """A record of ``sender`` the case-scope rules pass: they look at these fields only."""
    return {"authority": sender, "to_authority": "", "region_code": "33"}


class WithEnvelopeChanges(AsItComes):
    """Maps a record as :class:`AsItComes` does, then sets its ``envelope`` and ``body``."""

    def to_events(self, record: SourceRecord) -> list[Event]:
        payload = dict(record.payload)
        envelope_changes, body = payload.pop("envelope", {}), payload.pop("body", {})
        [event] = super().to_events(SourceRecord(record.position, payload, record.source_id))
        changed = dict(event.record["envelope"]) | envelope_changes
        return [Event(event.event_type, event.record | {"envelope": changed} | body)]


@pytest.mark.parametrize(
    ("change", "code", "said"),
    [
        (
            {"envelope": {"actor_ref": "officer:Budi " + SECRET_NIP}},
            "actor_ref_not_pseudonym",
            "envelope.actor_ref must be",
        ),
        (
            {"body": {"case_number": "LP/3201011505800001/2024"}},
            "case_number_not_public",
            "case_number holds 16 or 18 digits",
        ),
        ({"envelope": {"source": "ppk.3374"}}, "source_mismatch", f"set it to {INSTITUTION}"),
    ],
    ids=["nip-in-actor-ref", "nik-in-case-number", "another-source"],
)
def test_what_would_travel_in_clear_is_dead_lettered_before_it_is_signed_or_sent(
    kawal_broker: list[str],
    producer: KafkaProducer,
    checkpoints: CheckpointStore,
    change: dict[str, Any],
    code: str,
    said: str,
) -> None:
    # Found only by the hub, the NIP or NIK sat in clear on the inbound topic for 30 days.
    refused, fine = report(**change), report()
    runner = runner_of(
        WithEnvelopeChanges([refused, fine]), producer, checkpoints, ConnectorMetrics()
    )

    assert runner.run_once() == 2

    [letter] = letters_naming(kawal_broker, refused["id"])
    assert letter["reason_code"] == code
    assert said in letter["reason"]
    assert SECRET_NIP not in letter["reason"]
    assert "3201011505800001" not in letter["reason"]
    published = published_ids(kawal_broker)
    assert event_id_for(INSTITUTION, refused["id"], "ReportReceived") not in published
    assert event_id_for(INSTITUTION, fine["id"], "ReportReceived") in published
