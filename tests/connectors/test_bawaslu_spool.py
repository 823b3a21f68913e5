"""The Bawaslu webhook's spool on disk: private to the hub, emptied of personal data on time.

A post's body (the reported civil servant, the reporter) stays in the spool until it reached
the hub, then ``retention_days`` more; the clock is moved on, not waited for.
"""

from __future__ import annotations

import logging
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.base import ConnectorConfig, InboundConnector
from connectors.errors import TransientError
from connectors.host import build
from tests.connectors.test_bawaslu import NIP, WebhookBed, webhook_bed

#: Personal data of the posts whose erasure is checked (fictitious).
SUBJECT = "Retensi Subjek Uji"
REPORTER = "Retensi Pelapor Uji"


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[WebhookBed]:
    with webhook_bed(tmp_path) as running:
        yield running


def inbound(bed: WebhookBed, **overrides: object) -> InboundConnector[ConnectorConfig]:
    connector = build("bawaslu-webhook", bed.config | overrides)
    assert isinstance(connector, InboundConnector)
    return connector


def personal_post(bed: WebhookBed) -> None:
    post = bed.bawaslu.report(
        subject={"nip": NIP, "name": SUBJECT}, reporter={"ref": "r-1", "identity": REPORTER}
    )
    assert bed.bawaslu.post(post)[0] == 202


def bodies(bed: WebhookBed) -> list[bool]:
    """Whether each spooled post, in intake order, still has its (sealed) body."""
    with sqlite3.connect(bed.spool) as db:
        return [
            row[0] for row in db.execute("SELECT sealed IS NOT NULL FROM posts ORDER BY intake_id")
        ]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_spool_and_its_folder_are_private(bed: WebhookBed) -> None:
    personal_post(bed)
    connector = inbound(bed)
    connector.acknowledge(connector.read(None, 10))
    connector.close()
    folder = bed.spool.parent
    assert mode(folder) == 0o700
    # The journal is gone; the spool key, by default, sits beside the spool.
    assert {entry.name: mode(entry) for entry in folder.iterdir()} == {
        "intake.db": 0o600,
        "spool.key": 0o600,
    }


def test_a_spool_an_older_release_left_readable_is_tightened(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    folder.mkdir(mode=0o755)
    sqlite3.connect(folder / "intake.db").close()
    (folder / "intake.db").chmod(0o644)
    (folder / "intake.db-journal").write_bytes(b"")  # a crash's leftover, default mode
    (folder / "intake.db-journal").chmod(0o644)
    with webhook_bed(tmp_path) as bed:
        personal_post(bed)
    assert mode(folder) == 0o700
    assert {entry.name: mode(entry) for entry in folder.iterdir()} == {
        "intake.db": 0o600,
        "spool.key": 0o600,
    }


def test_delivered_posts_lose_their_bodies_after_retention_undelivered_ones_never(
    bed: WebhookBed, caplog: pytest.LogCaptureFixture
) -> None:
    personal_post(bed)
    personal_post(bed)
    connector = inbound(bed, retention_days=30)
    delivered, undelivered = connector.read(None, 10)
    connector.acknowledge([delivered])
    now = datetime.now(UTC)

    connector.expire(now + timedelta(days=29))
    assert bodies(bed) == [True, True]  # delivered, but not long enough ago

    with caplog.at_level(logging.INFO, logger="kawal.connector"):
        connector.expire(now + timedelta(days=31))
        connector.expire(now + timedelta(days=400))  # nothing more: the other never reached the hub
    assert bodies(bed) == [False, True]
    assert [r.position for r in connector.read(None, 10)] == [undelivered.position]
    erased = [r.getMessage() for r in caplog.records if "erased" in r.getMessage()]
    assert erased == [
        "bawaslu-webhook: erased the bodies of 1 posts forwarded more than 30 days ago"
    ]
    connector.close()


def test_an_erased_body_leaves_no_trace_in_the_spool_file(bed: WebhookBed) -> None:
    personal_post(bed)
    connector = inbound(bed, retention_days=0)
    connector.acknowledge(connector.read(None, 10))
    connector.expire(datetime.now(UTC))
    connector.close()
    raw = bed.spool.read_bytes()
    for value in (SUBJECT, REPORTER, NIP):
        assert value.encode() not in raw  # secure_delete overwrote the page's free space


def test_a_repeat_of_an_erased_post_is_still_recognised(bed: WebhookBed) -> None:
    post = bed.bawaslu.report()
    bed.bawaslu.post(post)
    connector = inbound(bed, retention_days=0)
    connector.acknowledge(connector.read(None, 10))
    connector.expire(datetime.now(UTC))
    assert bed.bawaslu.post(post)[1]["status"] == "duplicate"
    connector.close()


@pytest.mark.parametrize("linked", ["folder", "file"])
def test_a_spool_behind_a_symbolic_link_is_refused_and_nothing_written_there(
    tmp_path: Path, linked: str
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    spool = tmp_path / "spool"
    if linked == "folder":
        spool.symlink_to(elsewhere)
    else:
        spool.mkdir()
        (elsewhere / "intake.db").write_bytes(b"")
        (spool / "intake.db").symlink_to(elsewhere / "intake.db")
    # The key elsewhere, so that the spool's own refusal is what is seen (a key file under a
    # linked folder stops the connector's start: tests/connectors/test_bawaslu_spool_key.py).
    key = tmp_path / "keys" / "spool.key"
    with webhook_bed(tmp_path, spool_dir=str(spool), spool_key_file=str(key)) as bed:
        status, answer = bed.bawaslu.post(bed.bawaslu.report())
        assert (status, answer["error"]) == (503, "spool_unavailable")
        connector = inbound(bed)
        with pytest.raises(TransientError, match="symbolic link"):
            connector.read(None, 10)
        connector.close()
    # Nothing was created or written where the link points.
    assert [path.stat().st_size for path in elsewhere.iterdir()] == (
        [] if linked == "folder" else [0]
    )


def test_a_checkpoint_kept_for_another_spool_skips_none_of_this_ones_posts(
    bed: WebhookBed, caplog: pytest.LogCaptureFixture
) -> None:
    # The connector ran before on another spool (the demo's, or a spool since restored from
    # an older backup): its checkpoint, intake id 28, is past everything this spool holds.
    connector = inbound(bed)
    with caplog.at_level(logging.WARNING, logger="kawal.connector"):
        assert connector.read("28", 10) == []  # the spool is still empty
        for _ in range(3):
            personal_post(bed)
        read = connector.read("28", 2)
        assert [r.position for r in read] == ["1", "2"]
        assert [r.position for r in connector.read("28", 10)] == ["1", "2", "3"]  # not stored
        assert [r.position for r in connector.read("2", 10)] == ["3"]  # stored: as ever
        personal_post(bed)
        assert [r.position for r in connector.read("3", 10)] == ["4"]
    warned = [r.getMessage() for r in caplog.records if "past the last post" in r.getMessage()]
    assert len(warned) == 1
    assert "checkpoint (intake id 28)" in warned[0]
    connector.close()


def test_a_checkpoint_of_this_spool_is_read_after_as_ever(bed: WebhookBed) -> None:
    for _ in range(3):
        personal_post(bed)
    connector = inbound(bed)
    assert [r.position for r in connector.read("2", 10)] == ["3"]
    assert connector.read("3", 10) == []
    connector.close()
