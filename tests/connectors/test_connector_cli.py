"""The connector commands as an operator runs them: list, run, a refusal and its redelivery."""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from connectors.bawaslu.simulator import BawasluSystem
from connectors.contract import read_topic
from connectors.signed_fixtures import signed_entry
from schemas.catalog import default_catalog
from schemas.codec import AvroCodec
from schemas.envelope import envelope
from schemas.identity import case_id_for
from streams.domain.chain import GENESIS_HASH
from streams.domain.keyring import KeyRing
from streams.local.keyring import ensure_local_keys, keyring_of
from streams.local.processes import ChildProcess
from streams.settings import Settings
from streams.topics import outbound_topic
from tests.hubtools import START_SECONDS
from tests.in_process import Done, kawal_here

pytestmark = pytest.mark.slow

REFERENCE = {
    "bawaslu-webhook": "inbound",
    "bawaslu-callback": "outbound",
    "authority-outbox": "inbound",
    "authority-status": "outbound",
    "siasn": "outbound",
    "ppk-decrees": "inbound",
    "ppk-inbox": "outbound",
    "inspektorat-filedrop": "inbound",
    "inspektorat-feed": "outbound",
    "lapor-intake": "inbound",
    "lapor-status": "outbound",
}
TOKEN = "callback-token-for-tests"
#: A connector process's start (imports take a minute on a starved machine) and its work.
WAIT_SECONDS = START_SECONDS


def _kawal(env: dict[str, str], *args: str) -> Done:
    """``kawal ARGS`` with ``env``'s settings, in this process: its output is the subject."""
    return kawal_here(env, *args)


def test_connector_list_shows_every_reference_connector() -> None:
    listed = _kawal(dict(os.environ), "connector", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    directions = {row["name"]: row["direction"] for row in json.loads(listed.stdout)}
    assert REFERENCE.items() <= directions.items()


def test_an_unknown_connector_or_bad_config_fails_with_what_to_do(tmp_path: Path) -> None:
    config = tmp_path / "callback.toml"
    config.write_text('institution = "bawaslu.33"\ncolour = "blue"\n')
    unknown = _kawal(dict(os.environ), "connector", "run", "nope", "--config", str(config))
    assert unknown.returncode == 1
    assert "known connectors:" in unknown.stderr
    assert "siasn" in unknown.stderr
    invalid = _kawal(
        dict(os.environ), "connector", "run", "bawaslu-callback", "--config", str(config)
    )
    assert invalid.returncode == 1
    assert "colour" in invalid.stderr
    assert "callback_url" in invalid.stderr


def _status_update(codec: AvroCodec, ring: KeyRing) -> dict[str, Any]:
    record = {
        "envelope": envelope(
            event_id=str(uuid.uuid4()),
            case_id=case_id_for("bawaslu.33", f"LP/{uuid.uuid4().hex[:8]}"),
            event_type="ReportRegistered",
            event_time=datetime(2024, 11, 4, 9, 0, tzinfo=UTC),
            source="bawaslu.33",
            actor_ref="actor:test",
        ),
        "registration_number": "Reg/001",
        "registered_on": date(2024, 11, 4),
        "needed_more_information": False,
    }
    return signed_entry(codec, "ReportRegistered", record, 1, GENESIS_HASH, ring)


def _wait(condition: Any, what: Callable[[], str]) -> None:
    """Waits for ``condition``; ``what`` says what happened if it never holds (read then)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, what()
        time.sleep(0.2)


def dead_letter_with(env: dict[str, str], reason_code: str) -> Callable[[], bool]:
    """Whether ``kawal dlq list`` (of ``env``'s broker) shows a letter for ``reason_code``."""

    def found() -> bool:
        letters = json.loads(_kawal(env, "dlq", "list", "--json").stdout)
        return any(letter["reason_code"] == reason_code for letter in letters)

    return found


def _records_on(bootstrap: str, topic: str) -> int:
    """How many records ``topic`` holds, read to its end (tansu's ListOffsets is not exact)."""
    return len(read_topic([bootstrap], topic))


def test_a_refused_token_ends_in_the_dlq_and_redelivery_from_its_position_delivers_it_once(
    own_broker: str, tmp_path: Path
) -> None:
    codec = AvroCodec(default_catalog())
    bawaslu = BawasluSystem(
        "http://127.0.0.1:9/unused", "secret", TOKEN
    ).start()  # bound at once: an ephemeral client port could take its port otherwise
    env = dict(
        os.environ,
        KAWAL_HOME=str(tmp_path / "home"),
        KAWAL_BROKER_URL=f"tansu://{own_broker}",
        KAWAL_CONNECTOR_METRICS_PORT="0",  # unread here; 6068 may be another process's
    )
    config = tmp_path / "callback.toml"

    def configure(token: str) -> None:
        config.write_text(
            f'institution = "bawaslu.33"\ncallback_url = "{bawaslu.callback_url}"\n'
            f'token = "{token}"\ntimeout_seconds = 0.5\n'
            "[retry]\nattempts = 3\ninitial_seconds = 0.1\nmax_seconds = 0.2\n"
        )

    configure("last-years-token")  # Bawaslu refuses it: each entry is dead-lettered
    # The connector checks the entry with the keys of its home, as the hub made them.
    settings = Settings(home=tmp_path / "home")
    ensure_local_keys(settings)
    entry = _status_update(codec, keyring_of(settings))
    producer = KafkaProducer(bootstrap_servers=[own_broker], acks="all")
    sent = producer.send(
        outbound_topic("bawaslu.33"),
        key=entry["case_id"].encode(),
        value=codec.encode("kawal.AuditEntry", entry),
    ).get(30)
    producer.close()
    command = [sys.executable, "-m", "streams.cli", "connector", "run", "bawaslu-callback"]
    connector = ChildProcess(
        "connector", [*command, "--config", str(config)], tmp_path / "c.log", env=env
    )
    connector.start()
    try:
        _wait(dead_letter_with(env, "callback_unauthorized"), connector.log_tail)
        assert bawaslu.recorded(entry["event_id"]) == 0
    finally:
        connector.stop(20)
    configure(TOKEN)  # the token corrected
    position = f"{sent.partition}:{sent.offset}"
    feed_before = _records_on(own_broker, outbound_topic("bawaslu.33"))
    replay = _kawal(
        env, "dlq", "replay", "--stage", "connector", "--reason", "callback_unauthorized"
    )
    assert replay.returncode == 1, replay.stderr  # nothing it selects is replayable
    lines = replay.stdout.splitlines()
    assert lines[0] == "replayed 0, already replayed 0, not replayable 1, permanent 0", (
        replay.stdout
    )
    assert "kawal.outbound.bawaslu.33, which only the hub writes" in lines[1]
    assert f"--redeliver-from {position}" in lines[1]
    assert _records_on(own_broker, outbound_topic("bawaslu.33")) == feed_before == 1
    redelivering = ChildProcess(
        "connector",
        [*command, "--config", str(config), "--redeliver-from", position],
        tmp_path / "r.log",
        env=env,
    )
    redelivering.start()
    try:
        _wait(lambda: bawaslu.recorded(entry["event_id"]) == 1, redelivering.log_tail)
    finally:
        redelivering.stop(20)
        bawaslu.stop()


def test_a_malformed_position_or_one_of_the_other_direction_is_refused(
    tmp_path: Path,
) -> None:
    config = tmp_path / "callback.toml"
    config.write_text(
        'institution = "bawaslu.33"\ncallback_url = "http://127.0.0.1:9/x"\ntoken = "t"\n'
    )
    run = ["connector", "run", "bawaslu-callback", "--config", str(config)]
    for position in ("two:17", "\u00b2:17"):  # a superscript two is a digit to isdigit()
        malformed = _kawal(dict(os.environ), *run, "--redeliver-from", position)
        assert malformed.returncode == 1
        assert "expected PARTITION:OFFSET" in malformed.stderr
    inbound = tmp_path / "decrees.toml"
    inbound.write_text(
        f'institution = "ppk.3374"\ndatabase_url = "sqlite:///{tmp_path / "decrees.db"}"\n'
    )
    decrees = ["connector", "run", "ppk-decrees", "--config", str(inbound)]
    wrong = _kawal(dict(os.environ), *decrees, "--redeliver-from", "0:1")
    assert wrong.returncode == 1
    assert "--redeliver-from applies to outbound connectors" in wrong.stderr, wrong.stderr
    backwards = _kawal(dict(os.environ), *run, "--reread-after", "0")
    assert backwards.returncode == 1
    assert "--reread-after applies to inbound connectors" in backwards.stderr, backwards.stderr


def test_redeliver_from_a_partition_the_feed_lacks_is_refused_before_running(
    kawal_broker: list[str], tmp_path: Path
) -> None:
    home = tmp_path / "home"
    ensure_local_keys(Settings(home=home))
    env = dict(
        os.environ,
        KAWAL_HOME=str(home),
        KAWAL_BROKER_URL=f"kafka://{kawal_broker[0]}",
        KAWAL_CONNECTOR_METRICS_PORT="0",
    )
    config = tmp_path / "callback.toml"
    config.write_text(
        'institution = "bawaslu.33"\ncallback_url = "http://127.0.0.1:9/x"\ntoken = "t"\n'
    )
    run = ["connector", "run", "bawaslu-callback", "--config", str(config)]

    refused = _kawal(env, *run, "--redeliver-from", "0:3", "--redeliver-from", "7:0")

    assert refused.returncode == 1, refused.stderr
    feed = outbound_topic("bawaslu.33")
    assert f"--redeliver-from 7:0: the feed {feed} has partition 0 only" in refused.stderr
    assert "Traceback" not in refused.stderr
