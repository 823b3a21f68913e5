"""The inspectorate's share as the hub treats it: no link followed, no copy kept longer than needed.

The office writes the share, so a symbolic link, a folder or a pipe may sit where a batch should
be, and a folder of the layout may be a link elsewhere; none is followed or read. What the hub
moves aside (``processed/``, ``refused/``) is private to its user and deleted after the
retention; the clock is moved on, not waited for.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaProducer

from connectors.base import PermanentError, TransientError
from connectors.contract import FAST_RETRY, read_topic
from connectors.host import build
from connectors.inspektorat.connector import FileDropInbound
from connectors.inspektorat.simulator import InspectorateOffice
from connectors.runtime import InboundRunner
from connectors.signed_fixtures import contract_keyring
from streams.broker.checkpoints import CheckpointStore
from streams.topics import DLQ

NAME = "inspektorat-filedrop"
INSTITUTION = "inspektorat.3374"
#: A file of the hub's machine that a planted link points to (it must never be read).
SECRET = b"record_id,subject_nip\nX-1,199001012020011001\n"
LINKED = "ITDA3374_20241104T080000_09999.csv"
#: Who the office's files belong to when the office writes as its own user (nobody).
OTHER_UID = 65534


@pytest.fixture
def office(tmp_path: Path) -> InspectorateOffice:
    # A seed per test: no two tests on the shared broker share record ids.
    return InspectorateOffice(tmp_path / "office", seed=zlib.crc32(tmp_path.name.encode()))


def connect(office: InspectorateOffice, **overrides: object) -> FileDropInbound:
    config = {
        "institution": INSTITUTION,
        "drop_dir": str(office.share),
        "pseudonym_key_file": str(office.root / "connector" / "pseudonyms.key"),
    } | overrides
    connector = build(NAME, config)
    assert isinstance(connector, FileDropInbound)
    return connector


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def plant_link(office: InspectorateOffice, tmp_path: Path) -> Path:
    """A link in ``incoming/`` under a batch's name, to a file outside the share."""
    secret = tmp_path / "hub-secret.csv"
    secret.write_bytes(SECRET)
    secret.chmod(0o600)
    (office.share / "incoming" / LINKED).symlink_to(secret)
    return secret


# -- what the hub moves aside is private ------------------------------------------------------


def test_processed_and_refused_batches_are_private_receipts_stay_for_the_office(
    office: InspectorateOffice,
) -> None:
    connector = connect(office)
    name = office.export_batch(2)
    (office.share / "incoming" / name).chmod(0o644)
    connector.acknowledge(connector.read(None, 10))
    office.resend(name, changed=True)  # other rows under a used name: refused
    connector.read(f"{name}#2", 10)
    for folder in ("processed", "refused"):
        assert mode(office.share / folder) == 0o700
        assert mode(office.share / folder / name) == 0o600
    receipts = office.share / "receipts"
    assert mode(receipts / f"{name}.receipt.json") == 0o666 & ~_umask()
    assert office.receipts()[name]["status"] == "complete"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_batch_the_offices_user_owns_keeps_its_mode_behind_a_private_folder(
    office: InspectorateOffice,
) -> None:
    connector = connect(office)
    name = office.export_batch(1)
    os.chown(office.share / "incoming" / name, OTHER_UID, OTHER_UID)
    (office.share / "incoming" / name).chmod(0o644)
    connector.acknowledge(connector.read(None, 10))
    assert mode(office.share / "processed") == 0o700
    assert mode(office.share / "processed" / name) == 0o644


# -- entries that are no regular file ---------------------------------------------------------


def test_a_linked_batch_is_never_read_and_is_moved_aside_with_a_refusal(
    office: InspectorateOffice, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = plant_link(office, tmp_path)
    connector = connect(office)
    [record] = connector.read(None, 10)
    assert record.position == f"{LINKED}#0"
    assert b"199001012020011001" not in json.dumps(record.payload).encode()
    with pytest.raises(PermanentError) as refused:
        connector.to_events(record)
    assert refused.value.reason_code == "not_a_regular_file"
    assert "symbolic link" in refused.value.reason
    with caplog.at_level(logging.WARNING, logger="kawal.connector"):
        connector.acknowledge([record])
    moved = office.share / "refused" / LINKED
    assert moved.is_symlink()
    assert not (office.share / "incoming" / LINKED).exists()
    assert (secret.read_bytes(), mode(secret)) == (SECRET, 0o600)  # untouched, not followed
    refusal = json.loads((office.share / "receipts" / f"{LINKED}.refused.json").read_text())
    assert (refusal["status"], refusal["sha256"]) == ("refused", None)
    assert "symbolic link" in refusal["reason"]
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()] == [
        f"{NAME}: batch {LINKED} refused: the entry is a symbolic link, not a regular file"
    ]
    assert connector.read(record.position, 10) == []


def test_a_linked_batch_is_dead_lettered_by_the_runner(
    office: InspectorateOffice, tmp_path: Path, kawal_broker: list[str]
) -> None:
    name = LINKED.replace("09999", f"{zlib.crc32(tmp_path.name.encode()) % 99999:05d}")
    secret = tmp_path / "hub-secret.csv"
    secret.write_bytes(SECRET)
    (office.share / "incoming" / name).symlink_to(secret)
    connector = connect(office)
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
        assert runner.run_once() == 1
    finally:
        producer.close()
        checkpoints.close()
    codec = connector.context.codec
    letters = [codec.decode(m.value).record for m in read_topic(kawal_broker, DLQ)]
    [letter] = [letter for letter in letters if name in letter["reason"]]
    assert letter["reason_code"] == "not_a_regular_file"
    assert (office.share / "refused" / name).is_symlink()
    connector.close()


@pytest.mark.parametrize("kind", ["folder", "named pipe"])
def test_an_entry_of_another_kind_is_refused_without_being_opened(
    office: InspectorateOffice, kind: str
) -> None:
    entry = office.share / "incoming" / LINKED
    if kind == "folder":
        entry.mkdir()
    else:
        os.mkfifo(entry)  # opening it for reading would wait for a writer forever
    connector = connect(office)
    [record] = connector.read(None, 10)
    with pytest.raises(PermanentError, match=f"the entry is a {kind}, not a regular file"):
        connector.to_events(record)
    connector.acknowledge([record])
    assert os.path.lexists(office.share / "refused" / LINKED)
    assert not os.path.lexists(entry)


def test_a_link_in_processed_is_not_read_by_a_full_replay(
    office: InspectorateOffice, tmp_path: Path
) -> None:
    connector = connect(office)
    name = office.export_batch(1)
    connector.acknowledge(connector.read(None, 10))
    secret = tmp_path / "hub-secret.csv"
    secret.write_bytes(SECRET)
    (office.share / "processed" / LINKED).symlink_to(secret)
    assert [r.position for r in connector.read(None, 10)] == [f"{name}#1"]


def test_a_link_left_at_a_receipts_partial_name_is_not_written_through(
    office: InspectorateOffice, tmp_path: Path
) -> None:
    victim = tmp_path / "hub-file"
    victim.write_bytes(b"unchanged")
    name = office.export_batch(1)
    (office.share / "receipts" / f".{name}.receipt.json.part").symlink_to(victim)
    connector = connect(office)
    connector.acknowledge(connector.read(None, 10))
    assert victim.read_bytes() == b"unchanged"
    assert office.receipts()[name]["status"] == "complete"


# -- folders of the share that are links ------------------------------------------------------


@pytest.mark.parametrize("folder", ["incoming", "processed", "receipts", "refused"])
def test_a_linked_folder_of_the_share_stops_every_read_until_it_is_real_again(
    office: InspectorateOffice,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    folder: str,
) -> None:
    name = office.export_batch(1)
    real = office.share / folder
    elsewhere = tmp_path / "elsewhere"
    if real.exists():
        real.rename(elsewhere)
    else:
        elsewhere.mkdir()
    real.symlink_to(elsewhere)
    connector = connect(office)
    with caplog.at_level(logging.INFO, logger="kawal.connector"):
        for _ in range(2):
            with pytest.raises(TransientError, match="symbolic link"):
                connector.read(None, 10)
        real.unlink()
        elsewhere.rename(real)
        assert [r.position for r in connector.read(None, 10)] == [f"{name}#1"]
    logged = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert logged == [
        ("ERROR", f"{NAME}: {real} is a symbolic link, not a folder; the hub follows no links "
         "in the drop directory and reads nothing there until it is a real folder again"),
        ("INFO", f"{NAME}: the drop directory's folders are real again"),
    ]  # fmt: skip


def test_a_drop_directory_that_is_a_link_is_refused(
    office: InspectorateOffice, tmp_path: Path
) -> None:
    office.export_batch(1)
    link = tmp_path / "share-link"
    link.symlink_to(office.share)
    connector = connect(office, drop_dir=str(link))
    assert isinstance(connector, FileDropInbound)
    with pytest.raises(TransientError, match="share-link is a symbolic link"):
        connector.read(None, 10)
    connector.close()


def test_a_receipts_folder_linked_between_read_and_acknowledge_gets_nothing(
    office: InspectorateOffice, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    name = office.export_batch(1)
    connector = connect(office)
    records = connector.read(None, 10)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (office.share / "receipts").rmdir()
    (office.share / "receipts").symlink_to(elsewhere)
    with caplog.at_level(logging.WARNING, logger="kawal.connector"):
        connector.acknowledge(records)
    assert list(elsewhere.iterdir()) == []
    assert (office.share / "incoming" / name).exists()
    assert "not receipted yet (UnsafeShareError)" in caplog.records[0].getMessage()


# -- retention --------------------------------------------------------------------------------


def test_processed_and_refused_batches_are_deleted_after_retention_and_nothing_else(
    office: InspectorateOffice, caplog: pytest.LogCaptureFixture
) -> None:
    connector = connect(office)
    first, second = office.export_batch(1), office.export_batch(2)
    records = connector.read(None, 10)
    connector.acknowledge(records)
    office.resend(first, changed=True)
    connector.read(records[-1].position, 10)  # refused: name already used
    waiting = office.export_batch(1)  # not read yet: the office's, not the hub's copy
    now = datetime.now(UTC)

    connector.expire(now + timedelta(days=29))
    assert sorted(p.name for p in (office.share / "processed").iterdir()) == sorted([first, second])

    with caplog.at_level(logging.INFO, logger="kawal.connector"):
        connector.expire(now + timedelta(days=31))
    assert list((office.share / "processed").iterdir()) == []
    assert list((office.share / "refused").iterdir()) == []
    assert [p.name for p in (office.share / "incoming").iterdir()] == [waiting]
    assert sorted(office.receipts()) == sorted([first, second])  # the office's record stays
    assert [r.getMessage() for r in caplog.records if "deleted" in r.getMessage()] == [
        f"{NAME}: deleted 3 processed or refused batches older than 30 days"
    ]


def test_the_retention_is_the_institutions_to_set(office: InspectorateOffice) -> None:
    connector = connect(office, retention_days=2)
    name = office.export_batch(1)
    connector.acknowledge(connector.read(None, 10))
    connector.expire(datetime.now(UTC) + timedelta(days=1))
    assert (office.share / "processed" / name).exists()
    connector.expire(datetime.now(UTC) + timedelta(days=3))
    assert not (office.share / "processed" / name).exists()


def test_an_expired_link_is_deleted_itself_not_what_it_points_to(
    office: InspectorateOffice, tmp_path: Path
) -> None:
    secret = plant_link(office, tmp_path)
    connector = connect(office)
    connector.acknowledge(connector.read(None, 10))
    connector.expire(datetime.now(UTC) + timedelta(days=31))
    assert not os.path.lexists(office.share / "refused" / LINKED)
    assert secret.read_bytes() == SECRET


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
