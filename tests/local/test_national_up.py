"""`kawal up` with the national registry (1,743 institutions).

In memory, where its 3,500-odd topics are made in seconds; `make bench` starts it on durable
storage (bench/at_rest.py).

A regency-level Bawaslu office publishes on the shared inbound topic; its case reaches the
authority and the regency's PPK, and nobody else's PPK. On the shared topic the signature, not
the topic, names the sender: a forged source and a body that has a topic of its own are
refused, and no receipt goes to the institution a forger named.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.contract import read_topic
from streams.broker.endpoint import parse_broker_url
from streams.broker.publisher import EventPublisher
from streams.domain.hub_sealing import hub_sealing_key
from streams.domain.institutions import load_institutions
from streams.domain.signed_events import encode_signed
from streams.headers import cloud_event_headers
from streams.local.keyring import keyring_of
from streams.local.processes import free_port
from streams.local.storage import free_storage_base_port
from streams.settings import Settings
from streams.topics import DLQ, SHARED_INBOUND, outbound_topic
from tests.hubtools import UpProcess, default_codec, report, start_up, until_referral, up_env
from tests.national import NATIONAL_REGISTRY

pytestmark = pytest.mark.slow

START_SECONDS = 120.0
FEED_SECONDS = 60.0
OFFICE, PPK, OTHER_PPK = "bawaslu.3301", "ppk.3301", "ppk.3302"


@pytest.fixture(scope="module")
def national_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    home = tmp_path_factory.mktemp("national") / "home"
    env = up_env(home, free_port(), free_port(), free_storage_base_port())
    env["KAWAL_INSTITUTIONS_FILE"] = str(NATIONAL_REGISTRY)
    up = start_up(home, env, "--ephemeral")
    try:
        up.wait_healthy(START_SECONDS)
        yield up
    finally:
        # Its stop is not what these tests are about: its children die with it.
        if up.process.poll() is None:
            up.process.kill()
            up.process.wait()


def _settings(up: UpProcess) -> Settings:
    return Settings(home=up.home, institutions_file=NATIONAL_REGISTRY)


def _bootstrap(up: UpProcess) -> list[str]:
    return parse_broker_url(f"tansu://127.0.0.1:{up.broker_port}").bootstrap


def _publisher(up: UpProcess) -> EventPublisher:
    institutions = load_institutions(NATIONAL_REGISTRY)
    keyring = keyring_of(_settings(up))
    return EventPublisher(_bootstrap(up), default_codec(), keyring, institutions=institutions)


def _regency_report(source: str) -> dict[str, Any]:
    record = report(source)
    record.update(region_code="3301", employing_agency=PPK)
    return record


def _of_case(
    up: UpProcess, topic: str, case_id: str, *, receipts: bool = False
) -> list[dict[str, Any]]:
    """Records of ``case_id`` on ``topic``: its trail entries, or with ``receipts`` its receipts."""
    codec = default_codec()
    records = [codec.decode(m.value).record for m in read_topic(_bootstrap(up), topic)]
    return [r for r in records if r.get("case_id") == case_id and ("status" in r) is receipts]


def _wait_for(
    up: UpProcess, topic: str, case_id: str, count: int, *, receipts: bool = False
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + FEED_SECONDS
    while len(found := _of_case(up, topic, case_id, receipts=receipts)) < count:
        assert time.monotonic() < deadline, f"{topic}: {len(found)} of {count} records"
        assert up.process.poll() is None, up.text()
        time.sleep(0.5)
    return found


def test_a_regency_office_reaches_its_authority_and_its_ppk(national_up: UpProcess) -> None:
    publisher = _publisher(national_up)
    first = _regency_report(OFFICE)
    case_id = first["envelope"]["case_id"]
    events = [("ReportReceived", first), *until_referral(case_id, OFFICE)]
    for event_type, record in events:
        publisher.publish(event_type, record)
    assert publisher.flush() == len(events)
    publisher.close()

    receipts = _wait_for(national_up, outbound_topic(OFFICE), case_id, len(events), receipts=True)
    assert {r["status"] for r in receipts} == {"ACCEPTED"}
    assert {r["source_topic"] for r in receipts} == {SHARED_INBOUND}
    authority = _wait_for(national_up, outbound_topic("bkn"), case_id, 1)
    assert "ReferralForwarded" in {entry["event_type"] for entry in authority}
    assert _wait_for(national_up, outbound_topic(PPK), case_id, 1)
    assert _of_case(national_up, outbound_topic(OTHER_PPK), case_id) == []


def test_on_the_shared_topic_a_forged_or_misplaced_sender_is_refused(
    national_up: UpProcess,
) -> None:
    settings = _settings(national_up)
    keyring = keyring_of(settings)
    codec = default_codec()
    publisher = _publisher(national_up)
    # PPK 3302 signs an event that claims to come from PPK 3301.
    forged = _regency_report(PPK)
    now = datetime.now(UTC)
    hub = hub_sealing_key(keyring.registry, now)
    value = encode_signed(
        codec.catalog, codec, keyring.signing_key(OTHER_PPK, now), "ReportReceived", forged, hub
    )
    publisher.send_raw(
        PPK, forged["envelope"]["case_id"], value, cloud_event_headers(forged["envelope"])
    )
    # A provincial office, which has a topic of its own, publishes on the shared one.
    misplaced = report("bawaslu.33")
    own = encode_signed(
        codec.catalog,
        codec,
        keyring.signing_key("bawaslu.33", now),
        "ReportReceived",
        misplaced,
        hub,
    )
    publisher.producer.send(
        SHARED_INBOUND, key=misplaced["envelope"]["case_id"].encode(), value=own
    )
    publisher.close()

    reasons: dict[str, str] = {}
    deadline = time.monotonic() + FEED_SECONDS
    while len(reasons) < 2:
        assert time.monotonic() < deadline, reasons
        for message in read_topic(_bootstrap(national_up), DLQ):
            letter = codec.decode(message.value).record
            if message.key in (
                forged["envelope"]["case_id"].encode(),
                misplaced["envelope"]["case_id"].encode(),
            ):
                reasons[message.key.decode()] = letter["reason_code"]
    assert reasons == {
        forged["envelope"]["case_id"]: "key_of_another_institution",
        misplaced["envelope"]["case_id"]: "source_mismatch",
    }
    # Neither the named PPK nor the provincial office gets an entry; the named PPK, which did
    # not send the forged record, no receipt either. The provincial office's signature held:
    # it is told where it publishes (streams.hub.misplaced).
    assert _of_case(national_up, outbound_topic(PPK), forged["envelope"]["case_id"]) == []
    assert (
        _of_case(national_up, outbound_topic(PPK), forged["envelope"]["case_id"], receipts=True)
        == []
    )
    office = outbound_topic("bawaslu.33")
    assert _of_case(national_up, office, misplaced["envelope"]["case_id"]) == []
    [told] = _wait_for(national_up, office, misplaced["envelope"]["case_id"], 1, receipts=True)
    assert told["reason_code"] == "source_mismatch"
    assert "bawaslu.33 publishes on kawal.inbound.bawaslu.33" in told["reason"]
