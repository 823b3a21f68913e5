"""``kawal dlq list`` and ``replay`` on a real broker, as the runbooks tell operators to run them.

Each test writes its letters under a stage of its own on the session broker, out of time order
and over several partitions of ``kawal.dlq``, and selects them with ``--stage``.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kafka import KafkaProducer

from connectors.contract import read_topic
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.settings import Settings
from streams.topics import DLQ, inbound_topic, institution_of_inbound, outbound_topic
from tests.hubtools import report, signed_report

FEED = outbound_topic("bkn")
OWNER = "bawaslu.33"
INBOUND = inbound_topic(OWNER)


def at(hour: int) -> datetime:
    return datetime(2026, 12, 5, hour, 30, 17, tzinfo=UTC)


def write(
    bootstrap: list[str], stage: str, letters: list[tuple[int, str, str, int, datetime]]
) -> list[bytes]:
    """Dead letters ``(dlq partition, reason code, source topic, source offset, rejected at)``.

    Payloads are unsealed (as before dead letters were sealed), so replay needs no key. Those
    of an inbound topic are reports its institution signed with its key in ``KAWAL_HOME``
    (replay sends back no other), those of the reason ``bad_magic`` bytes of no format.

    Returns:
        The records the letters carry, in the order given.
    """
    codec = AvroCodec(default_catalog())
    ensure_local_keys(Settings())
    ring = keyring_of(Settings())
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    payloads: list[bytes] = []
    try:
        for partition, reason_code, topic, offset, rejected_at in letters:
            owner = institution_of_inbound(topic)
            if owner and reason_code != "bad_magic":
                payloads.append(signed_report(codec, ring, owner))
            else:
                payloads.append(f"record-{uuid.uuid4().hex}".encode())
            letter = {
                "stage": stage,
                "reason_code": reason_code,
                "reason": f"refused for {reason_code}",
                "source_topic": topic,
                "source_partition": 0,
                "source_offset": offset,
                "payload": payloads[-1],
                "sealed_to": "",
                "rejected_at": rejected_at,
            }
            value = codec.encode("kawal.DeadLetter", letter)
            producer.send(DLQ, value=value, partition=partition).get(30)
    finally:
        producer.close()
    return payloads


@pytest.fixture
def stage(kawal_broker: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A stage of this test's own; the CLI pointed at the session broker and a fresh home."""
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))
    monkeypatch.setenv("KAWAL_BROKER_URL", f"kafka://{kawal_broker[0]}")
    return f"test-{uuid.uuid4().hex[:8]}"


def test_list_shows_time_and_source_position_oldest_first(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        kawal_broker,
        stage,
        [
            (3, "callback_rejected", FEED, 11, at(14)),
            (0, "callback_rejected", FEED, 133, at(9)),
            (1, "bad_date", "system:inspektorat-filedrop", -1, at(12)),
        ],
    )

    code = main(["dlq", "list", "--stage", stage])

    lines = capsys.readouterr().out.splitlines()
    assert code == EXIT_OK
    assert lines[0].split() == [
        "REJECTED",
        "(UTC)",
        "DLQ",
        "STAGE",
        "REASON",
        "CODE",
        "SOURCE",
        "REASON",
    ]
    rows = [line.split() for line in lines[1:-1]]
    assert [row[0] for row in rows] == [
        "2026-12-05T09:30:17Z",
        "2026-12-05T12:30:17Z",
        "2026-12-05T14:30:17Z",
    ]
    assert [row[4] for row in rows] == [
        f"{FEED}:0:133",
        "system:inspektorat-filedrop",
        f"{FEED}:0:11",
    ]
    assert [row[1].split(":")[0] for row in rows] == ["0", "1", "3"]
    assert lines[-1] == "3 dead letters"


def test_list_selects_by_stage_and_reason(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        kawal_broker,
        stage,
        [(2, "callback_rejected", FEED, 7, at(10)), (2, "invalid_nip", FEED, 8, at(11))],
    )

    code = main(["dlq", "list", "--stage", stage, "--reason", "callback_rejected", "--json"])

    [letter] = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK
    assert (letter["stage"], letter["reason_code"], letter["source_offset"]) == (
        stage,
        "callback_rejected",
        7,
    )


def test_list_with_a_filter_that_selects_nothing_names_the_values_there_are(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write(kawal_broker, stage, [(0, "callback_rejected", FEED, 1, at(10))])

    code = main(["dlq", "list", "--stage", stage, "--reason", "delivery_faild"])

    printed = capsys.readouterr()
    assert code == EXIT_OK
    assert printed.out.splitlines() == ["0 dead letters"]
    assert "no dead letter matches the filter" in printed.err
    # The session's broker holds other tests' letters too: the stage is one value among them.
    [stages] = [line for line in printed.err.splitlines() if line.strip().startswith("--stage:")]
    assert f"{stage} (1)" in stages
    assert "callback_rejected (" in printed.err


def test_replay_of_only_feed_letters_exits_1_and_says_how_to_redeliver(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write(kawal_broker, stage, [(1, "callback_rejected", FEED, 133, at(10))])

    code = main(["dlq", "replay", "--stage", stage, "--reason", "callback_rejected"])

    printed = capsys.readouterr()
    assert code == EXIT_ERROR
    assert "replayed 0, already replayed 0, not replayable 1" in printed.out
    assert "--redeliver-from 0:133" in printed.out
    assert "none of the 1 selected dead letters can be replayed" in printed.err


def test_replay_that_sends_some_letters_back_exits_0(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        kawal_broker,
        stage,
        [(1, "unknown_key", INBOUND, 4, at(10)), (2, "callback_rejected", FEED, 9, at(11))],
    )

    first = main(["dlq", "replay", "--stage", stage])
    again = main(["dlq", "replay", "--stage", stage])

    printed = capsys.readouterr()
    assert (first, again) == (EXIT_OK, EXIT_OK)
    assert "replayed 1, already replayed 0, not replayable 1" in printed.out
    assert "replayed 0, already replayed 1, not replayable 1" in printed.out
    assert "none of" not in printed.err


def test_replay_skips_a_letter_no_fix_mends_counts_it_and_says_what_to_do(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage, fixable = write(
        kawal_broker,
        stage,
        [(0, "bad_magic", INBOUND, 5, at(10)), (3, "unknown_key", INBOUND, 6, at(11))],
    )

    code = main(["dlq", "replay", "--stage", stage])

    printed = capsys.readouterr()
    assert code == EXIT_OK
    assert printed.out.splitlines()[0] == (
        "replayed 1, already replayed 0, not replayable 0, permanent 1"
    )
    assert "not replayed, refused for good: bad_magic (1)." in printed.out
    assert "have the institution that sent each fix its sender" in printed.out
    assert "`--include-permanent` sends them anyway" in printed.out
    sent = [record.value for record in read_topic(kawal_broker, INBOUND)]
    assert (sent.count(garbage), sent.count(fixable)) == (0, 1)


def test_replay_with_include_permanent_sends_the_letters_no_fix_mends_too(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    [again] = write(kawal_broker, stage, [(2, "case_closed", INBOUND, 7, at(10))])

    skipped = main(["dlq", "replay", "--stage", stage])
    forced = main(["dlq", "replay", "--stage", stage, "--include-permanent"])

    printed = capsys.readouterr()
    # Nothing selected could be replayed without the option: told on stderr, exit 1.
    assert (skipped, forced) == (EXIT_ERROR, EXIT_OK)
    assert "replayed 0, already replayed 0, not replayable 0, permanent 1" in printed.out
    assert "replayed 1, already replayed 0, not replayable 0, permanent 0" in printed.out
    assert "none of the 1 selected dead letters can be replayed" in printed.err
    assert [record.value for record in read_topic(kawal_broker, INBOUND)].count(again) == 1


def test_duplicates_are_told_as_held_already_needing_nothing_not_as_refused(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # What a connector's --reread-after leaves: events the hub holds, sent again.
    again = write(
        kawal_broker,
        stage,
        [(1, "duplicate_event", INBOUND, 8, at(10)), (2, "duplicate_event", INBOUND, 9, at(11))],
    )

    listed = main(["dlq", "list", "--stage", stage])
    replayed = main(["dlq", "replay", "--stage", stage])

    printed = capsys.readouterr()
    assert (listed, replayed) == (EXIT_OK, EXIT_OK)
    assert "2 of them duplicate_event: the hub holds each of these events already" in printed.out
    assert "replayed 0, already replayed 0, not replayable 0, permanent 2" in printed.out
    assert "not replayed, already held: duplicate_event (2): " in printed.out
    assert "nothing needs doing" in printed.out
    assert "refused for good" not in printed.out
    assert "none of" not in printed.err
    sent = [record.value for record in read_topic(kawal_broker, INBOUND)]
    assert not set(again) & set(sent)


def test_include_permanent_never_sends_bytes_nobody_signed(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    [garbage] = write(kawal_broker, stage, [(2, "bad_magic", INBOUND, 7, at(10))])

    code = main(["dlq", "replay", "--stage", stage, "--include-permanent"])

    printed = capsys.readouterr()
    assert code == EXIT_ERROR
    assert "replayed 0, already replayed 0, not replayable 1, permanent 0" in printed.out
    assert f"its record does not decode, so nothing shows it is {OWNER}'s" in printed.out
    assert garbage not in [record.value for record in read_topic(kawal_broker, INBOUND)]


def test_a_line_feed_in_a_letter_starts_no_row_of_its_own(
    kawal_broker: list[str], stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Whoever may write kawal.dlq writes the reason: before, it could forge rows of the listing.
    write(kawal_broker, stage, [(0, "callback_rejected\nforged", FEED, 1, at(10))])

    assert main(["dlq", "list", "--stage", stage]) == EXIT_OK

    _header, row, total = capsys.readouterr().out.splitlines()
    assert "callback_rejected\\u000aforged" in row
    assert "refused for callback_rejected\\u000aforged" in row
    assert total == "1 dead letters"


def test_list_refuses_an_option_it_does_not_have(
    stage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dlq", "list", "--stages", stage])

    assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


def test_records_that_are_no_letters_are_skipped_and_named_and_the_letters_listed(
    own_broker: EmbeddedBroker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A misdirected producer's records on kawal.dlq: before, list and replay failed on them.

    On a broker of its own: the session broker's other readers of kawal.dlq take every record
    there for a letter.
    """
    bootstrap = [own_broker.bootstrap_servers]
    monkeypatch.setenv("KAWAL_HOME", str(tmp_path))
    monkeypatch.setenv("KAWAL_BROKER_URL", own_broker.url)
    codec = AvroCodec(default_catalog())
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(DLQ, value=b"not avro", partition=0).get(30)
        stray = codec.encode("ReportReceived", report())
        producer.send(DLQ, value=stray, partition=0).get(30)
    finally:
        producer.close()
    write(bootstrap, "ingress", [(0, "unknown_key", INBOUND, 5, at(9))])

    with caplog.at_level(logging.WARNING, logger="streams.broker.dead_letters"):
        assert main(["dlq", "list", "--json"]) == EXIT_OK
        listed = json.loads(capsys.readouterr().out)
        assert main(["dlq", "replay", "--stage", "ingress"]) == EXIT_OK

    assert [(x["reason_code"], x["dlq_position"]) for x in listed] == [("unknown_key", "0:2")]
    said = [r.getMessage() for r in caplog.records]
    tail = (
        "; skipped. Only the hub and connectors write kawal.dlq: find the producer that wrote "
        "it there"
    )
    assert (
        said.count(
            f"kawal.dlq:0:1 holds no dead letter (it is a kawal.events.ReportReceived){tail}"
        )
        == 2
    )
    assert (
        sum(
            line.startswith("kawal.dlq:0:0 holds no dead letter (it does not decode: ")
            for line in said
        )
        == 2
    )
    sent = [r for r in read_topic(bootstrap, INBOUND)]
    assert len(sent) == 1
