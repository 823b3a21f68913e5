"""Whatever reaches an inbound topic, the pipeline accepts it or refuses it for a reason.

The pipeline's step turns any failure it did not foresee into an ``internal_error`` refusal, so
that one record cannot stop the hub; such a refusal is still a defect. Generated records go
through the step as the worker runs it (its own vault, the hub's keys, a case batch that keeps
what earlier records made of their cases):

- events of every type with any values their schema takes, signed by the institution they
  name with its real key, on its topic or on another's;
- the same records with a byte changed, cut short or lengthened;
- any bytes.

For each: the step returns, and no record is refused as ``internal_error``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from faust.types import Message
from hypothesis import assume, given
from hypothesis import strategies as st

from monitoring.metrics import HubMetrics, Stage
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec, CodecError
from schemas.identity import case_id_for
from streams.app import create_app, create_disclosure_policy, create_pipeline, create_rules
from streams.broker.partitioner import partition_of
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.signed_events import encode_signed
from streams.domain.signing import KeyRing, SigningKeyError
from streams.hub.case_table import CaseBatch
from streams.hub.pipeline import Pipeline
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from streams.topics import inbound_topic
from tests.avro_strategies import catalog_records
from tests.fuzzing import fuzz_settings
from tests.hubtools import recommendation, referral, registration, report, sanction, verification

CATALOG = default_catalog()
CODEC = AvroCodec(CATALOG)
EVENT_TYPES = sorted(CATALOG.event_types())
SENDERS = ("bawaslu.33", "bkn", "ppk.3374", "inspektorat.3374", "kawal")
#: Case numbers reports are given, and the ids of their cases (with a stranger): generated
#: events meet the cases earlier reports opened.
CASE_NUMBERS = tuple(f"{n:03}/LP/2024" for n in range(1, 13))
CASES = (
    *(case_id_for(sender, number) for sender in SENDERS[:2] for number in CASE_NUMBERS),
    str(uuid.UUID(int=1)),
)
INTERNAL = "internal_error"


@dataclass
class Step:
    """The pipeline's step, its metrics, the keys that sign, and the cases it has made."""

    pipeline: Pipeline
    metrics: HubMetrics
    keyring: KeyRing
    cases: CaseBatch
    settings: Settings

    def internal_errors(self) -> float:
        labels = {"stage": Stage.INGRESS.value, "reason": INTERNAL}
        return self.metrics.registry.get_sample_value("kawal_rejections_total", labels) or 0.0


@pytest.fixture(scope="module")
def step(tmp_path_factory: pytest.TempPathFactory) -> Step:
    """The step of a worker whose home is new: its own vault and the local keys."""
    home: Path = tmp_path_factory.mktemp("ingress-fuzz") / "home"
    settings = Settings(home=home, broker_url="tansu://127.0.0.1:9", web_port=9)
    ensure_local_keys(settings)
    rules = create_rules(settings)
    metrics = HubMetrics()
    policy = create_disclosure_policy(settings, rules)
    pipeline = create_pipeline(settings, create_app(settings), rules, metrics, policy)
    return Step(pipeline, metrics, keyring_of(settings), CaseBatch({}), settings)


@st.composite
def signed_records(draw: st.DrawFn, keyring: KeyRing) -> tuple[str, str, bytes]:
    """Topic, key and value of an event of any type and values, signed by its sender."""
    event_type = draw(st.sampled_from(EVENT_TYPES))
    record: dict[str, Any] = draw(catalog_records(CATALOG, event_type))
    source = draw(st.sampled_from(SENDERS))
    envelope = record["envelope"]
    envelope["source"] = source
    envelope["case_id"] = draw(st.sampled_from(CASES))
    if event_type == "ReportReceived" and draw(st.booleans()):  # as its sender derives it
        record["case_number"] = draw(st.sampled_from(CASE_NUMBERS))
        envelope["case_id"] = case_id_for(source, record["case_number"])
    if draw(st.booleans()):  # a time the keys are valid at, as most senders' are
        envelope["event_time"] = datetime.now(UTC).replace(microsecond=0)
    topic, case_id, value = signed(keyring, event_type, record)
    if draw(st.integers(0, 4)) == 0:  # on another's topic
        topic = inbound_topic(draw(st.sampled_from(SENDERS)))
    return topic, case_id, value


def signed(keyring: KeyRing, event_type: str, record: dict[str, Any]) -> tuple[str, str, bytes]:
    """Topic, key and value of ``record`` signed by its source, on the source's topic."""
    envelope = record["envelope"]
    try:
        key = keyring.signing_key(envelope["source"], envelope["event_time"])
        hub = hub_sealing_key(keyring.registry, envelope["event_time"])
        value = encode_signed(CATALOG, CODEC, key, event_type, record, hub)
    except (CodecError, SigningKeyError, ValueError):
        assume(False)  # no sender could have sent it
        raise
    return inbound_topic(envelope["source"]), envelope["case_id"], value


#: A case's steps as their senders send them (tests.hubtools), by the case they go to.
STEPS: tuple[tuple[str, Callable[[str], dict[str, Any]]], ...] = (
    ("ReportRegistered", registration),
    ("VerificationCompleted", verification),
    ("ReferralForwarded", referral),
    ("RecommendationIssued", recommendation),
    ("SanctionImposed", sanction),
)


@st.composite
def case_steps(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A step of a Bawaslu case as its sender sends it, one or two of its fields any value."""
    number = draw(st.sampled_from(CASE_NUMBERS))
    if draw(st.integers(0, len(STEPS))) == 0:
        event_type, record = "ReportReceived", report("bawaslu.33", number)
    else:
        event_type, build = draw(st.sampled_from(STEPS))
        record = build(case_id_for("bawaslu.33", number))
    odd: dict[str, Any] = draw(catalog_records(CATALOG, event_type))
    for name in draw(st.lists(st.sampled_from(sorted(set(record) - {"envelope"})), max_size=2)):
        record[name] = odd[name]
    return event_type, record


@st.composite
def inbound_records(draw: st.DrawFn, keyring: KeyRing) -> tuple[str, str, bytes]:
    """A signed record as sent, changed, or any bytes."""
    kind = draw(st.sampled_from(("step", "signed", "changed", "bytes")))
    if kind == "bytes":
        return inbound_topic("bkn"), draw(st.sampled_from(CASES)), draw(st.binary(max_size=300))
    if kind == "step":
        return signed(keyring, *draw(case_steps()))
    topic, case_id, value = draw(signed_records(keyring))
    if kind == "changed":
        at = draw(st.integers(0, len(value) - 1))
        change = draw(st.sampled_from(("flip", "cut", "grow")))
        if change == "flip":
            value = value[:at] + bytes([value[at] ^ draw(st.integers(1, 255))]) + value[at + 1 :]
        elif change == "cut":
            value = value[:at]
        else:
            value = value[:at] + draw(st.binary(min_size=1, max_size=20)) + value[at:]
    return topic, case_id, value


def message(step: Step, topic: str, case_id: str, value: bytes, offset: int) -> Message:
    """The record as the worker's consumer hands it to the step."""
    key = case_id.encode()
    return Message(
        topic=topic,
        partition=partition_of(key, step.settings.partitions),
        offset=offset,
        timestamp=time.time(),
        timestamp_type=0,
        headers=[],
        key=key,
        value=value,
        checksum=None,
    )


def test_no_inbound_record_is_refused_as_an_internal_error(step: Step) -> None:
    offsets = iter(range(10**9))

    @fuzz_settings(300)
    @given(sent=inbound_records(step.keyring))
    def handled(sent: tuple[str, str, bytes]) -> None:
        topic, case_id, value = sent
        keys = step.pipeline.case_keys.keys_for([case_id], create=True)
        hub_key = step.pipeline.hub_key.key_at(datetime.now(UTC))
        before = step.internal_errors()
        step.pipeline.decide(
            step.cases, message(step, topic, case_id, value, next(offsets)), keys, hub_key
        )
        assert step.internal_errors() == before, sent

    handled()
