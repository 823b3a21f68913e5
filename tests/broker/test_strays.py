"""Records on inbound topics the pipeline does not read: found, exported, logged and cleared.

On a real tansu broker, which creates any topic a producer names, as Kafka does by default.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaProducer
from prometheus_client import CollectorRegistry, generate_latest

from monitoring.strays import MAX_SERIES, StrayCollector
from streams.broker.endpoint import parse_broker_url
from streams.broker.strays import StrayWatch, stray_inbound, stray_remedy
from streams.cli import main
from streams.cli.exits import EXIT_ERROR, EXIT_OK, EXIT_PENDING
from streams.domain.institutions import InboundLane, Institution, load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.local.processes import free_port
from streams.topics import SHARED_INBOUND, inbound_topic, inbound_topics
from tests.brokers import start_ephemeral_broker

#: A registry with one institution of the shared lane and one of its own.
REGISTRY = """\
[[institution]]
id = "bawaslu.33"
role = "election_supervisor"
name = "Bawaslu Provinsi Jawa Tengah"

[[institution]]
id = "ppk.3301"
role = "ppk"
name = "PPK Kabupaten Cilacap"
inbound = "shared"
"""


def send(broker: EmbeddedBroker, topic: str, records: int) -> None:
    """``records`` records to ``topic``, acknowledged by the broker (which creates the topic)."""
    producer = KafkaProducer(bootstrap_servers=[broker.bootstrap_servers], acks="all")
    for number in range(records):
        producer.send(topic, key=str(number).encode(), value=b"a signed event").get(30)
    producer.close()


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    path = tmp_path / "institutions.toml"
    path.write_text(REGISTRY)
    return path


@dataclass(frozen=True)
class Ran:
    """What ``kawal topics strays`` did: its exit code, output and errors."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def kawal_strays(
    registry: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Ran]:
    """Runs ``kawal topics strays ARGS`` against a broker, with the registry of ``registry``."""

    def run(broker: EmbeddedBroker, *args: str) -> Ran:
        monkeypatch.setenv("KAWAL_BROKER_URL", broker.url)
        monkeypatch.setenv("KAWAL_HOME", str(registry.parent / "home"))
        monkeypatch.setenv("KAWAL_INSTITUTIONS_FILE", str(registry))
        code = main(["topics", "strays", *args])
        shown = capsys.readouterr()
        return Ran(code, shown.out, shown.err)

    return run


def test_only_inbound_topics_the_pipeline_does_not_read_are_strays() -> None:
    read = inbound_topics(load_institutions())
    topics = [*read, "kawal.inbound.bawaslu.3", "kawal.outbound.nobody", "kawal.dlq", "other"]
    assert stray_inbound(topics, read) == ["kawal.inbound.bawaslu.3"]
    assert SHARED_INBOUND in read


def test_the_remedy_names_the_topic_to_use_and_never_deletes_before_a_restart() -> None:
    shared = Institution("ppk.3301", "ppk", "PPK Kabupaten Cilacap", InboundLane.SHARED)
    by_id = {shared.id: shared}
    remedy = stray_remedy("kawal.inbound.ppk.3301", by_id)
    assert remedy.startswith("ppk.3301 is in the shared lane: have it publish them again to ")
    assert remedy.endswith("`kawal topics strays --delete kawal.inbound.ppk.3301`)")
    # A mistyped id is named with the registered one it resembles: before, only "not in".
    mistyped = stray_remedy("kawal.inbound.ppk.330l", by_id)
    assert mistyped.startswith(
        "'ppk.330l' is not in the registry this process read; did you mean 'ppk.3301'? If it was"
    )
    assert stray_remedy("kawal.inbound.PPK.3301", by_id).startswith(
        "'PPK.3301' is not in the registry this process read; did you mean 'ppk.3301'?"
    )
    unknown = stray_remedy("kawal.inbound.kemendagri", by_id)
    assert unknown.startswith("'kemendagri' is not in the registry this process read. If it was")
    assert "restart the worker: it then reads them." in unknown


def test_the_watch_counts_records_nobody_reads_and_logs_each_new_arrival(
    broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    stray = inbound_topic(f"ppk.{uuid.uuid4().hex[:6]}")
    institutions = {institution.id: institution for institution in load_institutions()}
    send(broker, stray, 3)
    send(broker, inbound_topic("bawaslu.33"), 1)  # read by the pipeline: no stray
    watch = StrayWatch(parse_broker_url(broker.url), institutions)
    with caplog.at_level(logging.ERROR, logger="streams.broker.strays"):
        watch.refresh()
        watch.refresh()  # nothing new: said once
        send(broker, stray, 1)
        watch.refresh()
    strays, failures = watch.snapshot()
    assert strays is not None
    assert strays[stray] == 4
    assert failures == 0
    assert inbound_topic("bawaslu.33") not in strays
    said = [r.getMessage() for r in caplog.records if stray in r.getMessage()]
    assert [line.split(",")[0] for line in said] == [
        f"3 records are on {stray}",
        f"4 records are on {stray}",
    ]
    assert "are not processed and their senders get no receipt" in said[0]
    registry = CollectorRegistry()
    registry.register(StrayCollector(watch.snapshot))
    text = generate_latest(registry).decode()
    assert f'kawal_stray_inbound_records{{topic="{stray}"}} 4.0' in text
    assert "kawal_stray_inbound_read_failures_total 0.0" in text


def test_an_unreachable_broker_is_counted_and_the_last_reading_kept() -> None:
    # In a child process: kafka-python leaves the refused socket to the garbage collector.
    script = f"""
from streams.broker.endpoint import parse_broker_url
from streams.broker.strays import StrayWatch
watch = StrayWatch(parse_broker_url("tansu://127.0.0.1:{free_port()}"), {{}}, timeout=2)
watch.strays = {{"kawal.inbound.ppk.9999": 2}}
watch.refresh()
print(watch.snapshot())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "({'kawal.inbound.ppk.9999': 2}, 1)" in done.stdout
    assert "stray inbound topics could not be read (KafkaTimeoutError)" in done.stderr


def test_the_series_are_bounded_and_none_is_exported_before_the_first_reading() -> None:
    many = {f"kawal.inbound.x{number:03d}": number + 1 for number in range(MAX_SERIES + 10)}
    registry = CollectorRegistry()
    registry.register(StrayCollector(lambda: (many, 0)))
    text = generate_latest(registry).decode()
    assert text.count("kawal_stray_inbound_records{") == MAX_SERIES
    assert 'topic="kawal.inbound.x059"} 60.0' in text  # the fullest first
    assert 'topic="kawal.inbound.x000"' not in text
    assert f"kawal_stray_inbound_topics {float(len(many))}" in text
    before = CollectorRegistry()
    before.register(StrayCollector(lambda: (None, 0)))
    text = generate_latest(before).decode()
    assert "kawal_stray_inbound_records{" not in text
    assert "kawal_stray_inbound_topics -1.0" in text


def test_an_operator_lists_the_strays_and_deletes_them_once_handled(
    kawal_strays: Callable[..., Ran], tmp_path: Path
) -> None:
    broker = start_ephemeral_broker(tmp_path / "broker")
    try:
        clean = kawal_strays(broker)
        assert clean.returncode == EXIT_OK, clean.stderr
        assert "no inbound topic holds records the pipeline does not read" in clean.stdout
        send(broker, "kawal.inbound.ppk.3301", 2)  # the shared lane's institution, own topic
        send(broker, "kawal.inbound.bawaslu.3", 1)  # a misspelt id
        send(broker, "kawal.inbound.bawaslu.33", 1)  # where it belongs
        listed = kawal_strays(broker)
        assert listed.returncode == EXIT_PENDING, listed.stderr
        lines = listed.stdout.splitlines()
        assert lines[0].startswith("kawal.inbound.bawaslu.3: 1 records not processed; ")
        assert lines[1].startswith(
            "kawal.inbound.ppk.3301: 2 records not processed; ppk.3301 is in the shared lane: "
            "have it publish them again to kawal.inbound, then delete the topic"
        )
        as_json = json.loads(kawal_strays(broker, "--json").stdout)
        assert [(s["topic"], s["records"]) for s in as_json["strays"]] == [
            ("kawal.inbound.bawaslu.3", 1),
            ("kawal.inbound.ppk.3301", 2),
        ]
        deleted = kawal_strays(broker, "--delete", "kawal.inbound.bawaslu.3")
        assert deleted.returncode == EXIT_OK, deleted.stderr
        assert deleted.stdout.strip() == "deleted kawal.inbound.bawaslu.3"
        left = json.loads(kawal_strays(broker, "--json").stdout)["strays"]
        assert [stray["topic"] for stray in left] == ["kawal.inbound.ppk.3301"]
    finally:
        broker.stop()


@pytest.mark.parametrize(
    ("topics", "message"),
    [
        (["kawal.inbound.bawaslu.33"], "the pipeline reads kawal.inbound.bawaslu.33"),
        (["kawal.inbound"], "the pipeline reads kawal.inbound "),
        (["kawal.dlq"], "kawal.dlq is not an inbound topic (kawal.inbound.…)"),
        (["kawal.inbound.nowhere"], "no topic kawal.inbound.nowhere on the broker"),
        # One refusal among several deletes nothing.
        (["kawal.inbound.bawaslu.4", "kawal.inbound.bawaslu.33"], "the pipeline reads"),
    ],
)
def test_a_delete_of_anything_but_a_stray_is_refused_and_deletes_nothing(
    broker: EmbeddedBroker, kawal_strays: Callable[..., Ran], topics: list[str], message: str
) -> None:
    send(broker, "kawal.inbound.bawaslu.4", 1)
    refused = kawal_strays(broker, "--delete", *topics)
    assert refused.returncode == EXIT_ERROR
    assert message in refused.stderr
    assert "nothing was deleted" in refused.stderr
    admin = KafkaAdminClient(bootstrap_servers=[broker.bootstrap_servers])
    try:
        assert "kawal.inbound.bawaslu.4" in admin.list_topics()
    finally:
        admin.close()
