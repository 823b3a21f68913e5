"""The Bawaslu webhook's spool keeps every post sealed: no personal data in clear on disk.

Posts are sealed with AES-256-GCM under the spool key as they are accepted; a post that does
not open (another key, altered or moved in the file) is refused by name and position, and
kept; a spool an older release wrote in clear is sealed when first opened, and forwarded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.base import ConnectorConfig, InboundConnector
from connectors.contract import FAST_RETRY, read_topic
from connectors.errors import PermanentError
from connectors.host import build
from connectors.runtime import InboundRunner, system_topic
from connectors.signed_fixtures import contract_keyring
from schemas.identity import case_id_for
from streams.broker.checkpoints import CheckpointStore
from streams.local.processes import free_port
from streams.topics import DLQ, inbound_topic
from tests.connectors.test_bawaslu import NIP, WebhookBed, webhook_bed

#: The schema of the spool before posts were sealed, bodies in clear.
OLD_SCHEMA = (
    "CREATE TABLE posts (intake_id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "post_id TEXT NOT NULL UNIQUE, digest TEXT NOT NULL, body TEXT, "
    "received_at TEXT NOT NULL, forwarded_at TEXT)"
)


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[WebhookBed]:
    with webhook_bed(tmp_path) as running:
        yield running


def inbound(bed: WebhookBed, **overrides: object) -> InboundConnector[ConnectorConfig]:
    connector = build("bawaslu-webhook", bed.config | overrides)
    assert isinstance(connector, InboundConnector)
    return connector


def canaries() -> dict[str, str]:
    """Unique personal data for one post: the subject's name, the reporter, the summary."""
    unique = uuid.uuid4().hex
    return {
        "subject": f"subjek-{unique}",
        "reporter": f"pelapor-{unique}",
        "summary": f"ringkasan-{unique}",
    }


def personal_report(bed: WebhookBed, values: dict[str, str]) -> dict[str, Any]:
    return bed.bawaslu.report(
        summary=values["summary"],
        subject={"nip": NIP, "name": values["subject"]},
        reporter={"ref": "r-1", "identity": values["reporter"]},
    )


def in_clear(folder: Path, values: list[str]) -> dict[str, set[str]]:
    """Each file under ``folder`` holding any of ``values``, in clear or hex-encoded."""
    found: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            raw = path.read_bytes()
            hits = {v for v in values if v.encode() in raw or v.encode().hex().encode() in raw}
            if hits:
                found[path.name] = hits
    return found


def sealed_of(spool: Path) -> list[bytes]:
    with sqlite3.connect(spool) as db:
        return [row[0] for row in db.execute("SELECT sealed FROM posts ORDER BY intake_id")]


def set_sealed(spool: Path, intake_id: int, sealed: bytes) -> None:
    with sqlite3.connect(spool) as db:
        db.execute("UPDATE posts SET sealed = ? WHERE intake_id = ?", (sealed, intake_id))


def test_accepted_posts_are_in_no_file_of_the_spool_in_clear_yet_read_back_whole(
    bed: WebhookBed,
) -> None:
    values = [canaries(), canaries()]
    posts = [personal_report(bed, v) for v in values]
    for post in posts:
        assert bed.bawaslu.post(post)[0] == 202
    assert bed.bawaslu.post(posts[0])[1]["status"] == "duplicate"  # recognised while sealed
    every = [v for post_values in values for v in post_values.values()] + [NIP]
    assert in_clear(bed.spool.parent, every) == {}
    connector = inbound(bed)
    records = connector.read(None, 10)
    assert [dict(r.payload) for r in records] == posts
    assert [e.event_type for r in records for e in connector.to_events(r)] == ["ReportReceived"] * 2
    connector.close()


def test_an_altered_post_is_refused_by_position_and_kept(
    bed: WebhookBed, caplog: pytest.LogCaptureFixture
) -> None:
    values = canaries()
    bed.bawaslu.post(personal_report(bed, values))
    bed.bawaslu.post(bed.bawaslu.report())
    first = sealed_of(bed.spool)[0]
    set_sealed(bed.spool, 1, first[:-1] + bytes([first[-1] ^ 1]))
    connector = inbound(bed, retention_days=0)
    with caplog.at_level(logging.ERROR, logger="kawal.connector"):
        altered, intact = connector.read(None, 10)
    assert altered.payload == {"intake_id": 1, "post_id": altered.source_id}
    with pytest.raises(PermanentError) as refused:
        connector.to_events(altered)
    assert refused.value.reason_code == "spool_record_damaged"
    assert "intake id 1 " in refused.value.reason
    assert [e.event_type for e in connector.to_events(intact)] == ["ReportReceived"]
    logged = [r.getMessage() for r in caplog.records]
    assert any("intake id 1 " in m and "spool_record_damaged" in m for m in logged), logged
    assert not any(v in caplog.text or v in refused.value.reason for v in values.values())
    # It never reached the hub: no retention erases it, the next full read offers it again.
    connector.acknowledge([altered, intact])
    connector.expire(datetime.now(UTC))
    assert [s is not None for s in sealed_of(bed.spool)] == [True, False]
    assert [r.position for r in connector.read(None, 10)] == ["1"]
    connector.close()


def test_a_sealed_body_moved_to_another_post_does_not_open(bed: WebhookBed) -> None:
    bed.bawaslu.post(bed.bawaslu.report())
    bed.bawaslu.post(bed.bawaslu.report())
    set_sealed(bed.spool, 1, sealed_of(bed.spool)[1])
    connector = inbound(bed)
    moved = connector.read(None, 10)[0]
    with pytest.raises(PermanentError) as refused:
        connector.to_events(moved)
    assert refused.value.reason_code == "spool_record_damaged"
    connector.close()


@pytest.mark.parametrize("sealed", [b"short", b"", "text, not bytes", 7])
def test_a_shortened_or_retyped_record_is_damaged_not_a_crash(
    bed: WebhookBed, sealed: object
) -> None:
    bed.bawaslu.post(bed.bawaslu.report())
    with sqlite3.connect(bed.spool) as db:
        db.execute("UPDATE posts SET sealed = ? WHERE intake_id = 1", (sealed,))
    connector = inbound(bed)
    (record,) = connector.read(None, 10)
    with pytest.raises(PermanentError) as refused:
        connector.to_events(record)
    assert refused.value.reason_code == "spool_record_damaged"
    connector.close()


def test_posts_sealed_under_another_key_are_refused_naming_both_keys(
    bed: WebhookBed, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    values = canaries()
    bed.bawaslu.post(personal_report(bed, values))
    other_key = tmp_path / "other" / "spool.key"
    # Another listen port: the running listener serves the spool under the first key.
    connector = inbound(bed, spool_key_file=str(other_key), listen_port=free_port())
    with caplog.at_level(logging.ERROR, logger="kawal.connector"):
        (record,) = connector.read(None, 10)
    with pytest.raises(PermanentError) as refused:
        connector.to_events(record)
    assert refused.value.reason_code == "spool_key_mismatch"
    assert "intake id 1 " in refused.value.reason
    assert "restore the spool key file" in refused.value.reason
    assert "spool_key_mismatch" in caplog.text
    assert not any(v in caplog.text or v in refused.value.reason for v in values.values())
    connector.close()
    # Under its own key, the post opens as ever.
    same = inbound(bed)
    assert dict(same.read(None, 10)[0].payload)["subject"]["name"] == values["subject"]
    same.close()


def test_the_runner_dead_letters_a_post_that_does_not_open_and_forwards_the_rest(
    bed: WebhookBed, tmp_path: Path, kawal_broker: list[str]
) -> None:
    altered_post, intact_post = bed.bawaslu.report(), bed.bawaslu.report()
    bed.bawaslu.post(altered_post)
    bed.bawaslu.post(intact_post)
    first = sealed_of(bed.spool)[0]
    set_sealed(bed.spool, 1, first[:-1] + bytes([first[-1] ^ 1]))
    connector = inbound(bed, retention_days=0)
    checkpoints = CheckpointStore(tmp_path / "checkpoints.db")
    producer = KafkaProducer(bootstrap_servers=kawal_broker, acks="all")
    try:
        runner = InboundRunner(
            connector,
            producer,
            connector.context.codec,
            checkpoints,
            FAST_RETRY,
            contract_keyring(),
        )
        assert runner.run_once() == 2
        assert checkpoints.get(connector.name) == "2"
    finally:
        producer.close()
        checkpoints.close()
    codec = connector.context.codec
    letters = [codec.decode(m.value).record for m in read_topic(kawal_broker, DLQ)]
    mine = [
        letter
        for letter in letters
        if letter["source_topic"] == system_topic(connector.name)
        and altered_post["id"] in letter["reason"]
    ]
    assert [letter["reason_code"] for letter in mine] == ["spool_record_damaged"]
    assert "intake id 1 " in mine[0]["reason"]
    published = read_topic(kawal_broker, inbound_topic(connector.institution))
    keys = {m.key for m in published}
    assert case_id_for(connector.institution, intact_post["case_number"]).encode() in keys
    assert case_id_for(connector.institution, altered_post["case_number"]).encode() not in keys
    connector.expire(datetime.now(UTC))
    assert [s is not None for s in sealed_of(bed.spool)] == [True, False]  # kept, not erased
    connector.close()


def old_spool(folder: Path, posts: list[dict[str, Any]]) -> None:
    """A spool as an older release left it: bodies in clear, one post forwarded already."""
    folder.mkdir(mode=0o700, exist_ok=True)  # the key, made at the connector's start, is there
    with sqlite3.connect(folder / "intake.db") as db:
        db.execute(OLD_SCHEMA)
        for post in posts:
            body = json.dumps(post)
            db.execute(
                "INSERT INTO posts (post_id, digest, body, received_at) VALUES (?, ?, ?, ?)",
                (post["id"], hashlib.sha256(body.encode()).hexdigest(), body, "2024-01-01"),
            )
    (folder / "intake.db").chmod(0o600)


def test_a_spool_an_older_release_kept_in_clear_is_sealed_then_forwarded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    values = [canaries(), canaries()]
    with webhook_bed(tmp_path) as bed:
        posts = [personal_report(bed, v) for v in values]
        old_spool(bed.spool.parent, posts)
        every = [v for post_values in values for v in post_values.values()]
        assert set().union(*in_clear(bed.spool.parent, every).values()) == set(every)
        connector = inbound(bed)
        with caplog.at_level(logging.INFO, logger="connectors.bawaslu.spool"):
            records = connector.read(None, 10)
        assert [dict(r.payload) for r in records] == posts  # nothing accepted is lost
        assert "sealed 2 posts an older release kept in clear" in caplog.text
        assert in_clear(bed.spool.parent, every) == {}
        assert [e.event_type for r in records for e in connector.to_events(r)] == [
            "ReportReceived"
        ] * 2
        assert bed.bawaslu.post(posts[1])[1] == {"intake_id": 2, "status": "duplicate"}
        connector.close()
