"""`kawal topics apply` against a real tansu broker, as a user runs it, and its refusals.

Each test gets a broker of its own (tansu starts in milliseconds), so that topics can be made
the way an older Kawal or a cluster's defaults left them.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from streams.app import create_app
from streams.broker.preflight import require_hub_topics
from streams.broker.provision import ProvisioningError, apply_topics, provision_topics
from streams.broker.transport import Producer
from streams.domain.institutions import load_institutions
from streams.local.embedded import EmbeddedBroker
from streams.local.keyring import ensure_local_keys
from streams.local.processes import free_port
from streams.settings import Settings
from streams.topics import (
    ACCEPTED_TABLE,
    CASE_AUDIT,
    CASE_EVENTS,
    CASE_TABLE,
    DLQ,
    TopicSpec,
    all_topics,
    changelog_topic,
    inbound_topic,
    is_outbound,
    outbound_topic,
)
from tests.brokers import start_ephemeral_broker
from tests.in_process import Done, kawal_here
from tests.without_broker import Ran, run_without_broker

PARTITIONS = 4
COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"
FOREVER = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
#: Kafka's default retention, 7 days: what a cluster gives a topic created without configs.
KAFKA_DEFAULT_RETENTION_MS = "604800000"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    embedded = start_ephemeral_broker(tmp_path / "broker")
    try:
        yield embedded
    finally:
        embedded.stop()


@pytest.fixture
def admin(broker: EmbeddedBroker) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(bootstrap_servers=[broker.bootstrap_servers])
    try:
        yield client
    finally:
        client.close()


def _specs() -> list[TopicSpec]:
    return all_topics(load_institutions(), PARTITIONS)


def _create_without_configs(admin: KafkaAdminClient, specs: list[TopicSpec]) -> None:
    # As the provisioner before the topic table did: the broker's defaults everywhere.
    topics = {s.name: {"num_partitions": s.partitions, "replication_factor": 1} for s in specs}
    admin.create_topics(topics)


def _configs(admin: KafkaAdminClient, name: str) -> dict[str, str]:
    resource = ConfigResource(ConfigResourceType.TOPIC, name)
    described = admin.describe_configs([resource], config_filter="all")["topic"][name]
    return {key: entry["value"] for key, entry in described.items()}


def _kawal(broker_url: str, home: Path, *args: str, **settings: str) -> Done:
    """``kawal topics apply ARGS``, in this process: what it prints and returns is the test."""
    env = {"KAWAL_BROKER_URL": broker_url, "KAWAL_HOME": str(home), **settings}
    return kawal_here(env, "topics", "apply", *args)


def _kawal_command(
    broker_url: str, home: Path, command: list[str], **settings: str
) -> subprocess.CompletedProcess[str]:
    """``kawal COMMAND`` in a process of its own, with only the ``KAWAL_*`` settings given."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KAWAL_")}
    env.update(KAWAL_BROKER_URL=broker_url, KAWAL_HOME=str(home), **settings)
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_user_applies_the_table_to_default_configured_topics(
    broker: EmbeddedBroker, admin: KafkaAdminClient, tmp_path: Path
) -> None:
    specs = _specs()
    _create_without_configs(admin, [s for s in specs if s.name != DLQ])

    dry = _kawal(broker.url, tmp_path, "--dry-run")

    assert dry.returncode == 6, dry.stderr
    assert f"would create {DLQ} ({PARTITIONS} partitions)" in dry.stdout
    rows = {tuple(line.split()) for line in dry.stdout.splitlines()}
    assert (CASE_AUDIT, "retention.ms", "(not", "reported)", "-1") in rows
    assert (changelog_topic(CASE_TABLE), "cleanup.policy", "(not", "reported)", "compact") in rows
    assert "nothing changed" in dry.stdout
    assert _configs(admin, CASE_AUDIT) == {}
    assert DLQ not in admin.list_topics()

    applied = _kawal(broker.url, tmp_path)

    assert applied.returncode == 0, applied.stderr
    assert "created 1 topics" in applied.stdout
    assert _configs(admin, CASE_AUDIT) == FOREVER
    assert _configs(admin, changelog_topic(CASE_TABLE)) == {"cleanup.policy": "compact"}

    again = _kawal(broker.url, tmp_path, "--dry-run", "--json")

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"dry_run": True, "create": [], "changes": []}


def test_the_dry_run_lists_each_entry_with_its_current_and_wanted_value(
    broker: EmbeddedBroker, admin: KafkaAdminClient, tmp_path: Path
) -> None:
    specs = _specs()
    _create_without_configs(admin, specs)
    audit = ConfigResource(ConfigResourceType.TOPIC, CASE_AUDIT, {"retention.ms": "604800000"})
    admin.alter_configs([audit], raise_on_unknown=False, incremental=True)

    dry = _kawal(broker.url, tmp_path, "--dry-run", "--json")

    assert dry.returncode == 6, dry.stderr
    report = json.loads(dry.stdout)
    assert report["create"] == []
    changes = {(c["topic"], c["key"]): (c["current"], c["wanted"]) for c in report["changes"]}
    assert changes[(CASE_AUDIT, "retention.ms")] == (KAFKA_DEFAULT_RETENTION_MS, "-1")
    assert changes[(CASE_EVENTS, "retention.ms")] == (None, "-1")
    assert len(changes) == sum(len(spec.configs) for spec in specs)


def test_missing_topics_are_created_with_their_configuration(
    broker: EmbeddedBroker, admin: KafkaAdminClient
) -> None:
    specs = _specs()

    created = provision_topics([broker.bootstrap_servers], specs)

    assert created == len(specs)
    for spec in specs:
        assert _configs(admin, spec.name) == spec.configs, spec.name
    assert apply_topics([broker.bootstrap_servers], specs, dry_run=True).nothing_to_do


def test_keys_outside_the_table_survive_a_correction(
    broker: EmbeddedBroker, admin: KafkaAdminClient
) -> None:
    specs = _specs()
    _create_without_configs(admin, specs)
    extra = ConfigResource(ConfigResourceType.TOPIC, CASE_AUDIT, {"segment.ms": "3600000"})
    admin.alter_configs([extra], raise_on_unknown=False, incremental=True)

    result = apply_topics([broker.bootstrap_servers], specs)

    assert not result.created
    assert len(result.changes) == sum(len(spec.configs) for spec in specs)
    assert _configs(admin, CASE_AUDIT) == {**FOREVER, "segment.ms": "3600000"}


def test_three_replicas_want_two_in_sync(broker: EmbeddedBroker, admin: KafkaAdminClient) -> None:
    specs = all_topics(load_institutions(), PARTITIONS, replication=3)

    apply_topics([broker.bootstrap_servers], specs, replication=3)

    assert _configs(admin, CASE_AUDIT) == {**FOREVER, "min.insync.replicas": "2"}


def test_a_wrong_partition_count_is_refused_and_nothing_changes(
    broker: EmbeddedBroker, admin: KafkaAdminClient, tmp_path: Path
) -> None:
    admin.create_topics({CASE_AUDIT: {"num_partitions": 2, "replication_factor": 1}})

    refused = _kawal(broker.url, tmp_path)

    assert refused.returncode == 1
    assert f"topic {CASE_AUDIT} has 2 partitions but the hub needs {PARTITIONS}" in refused.stderr
    assert "KAWAL_PARTITIONS=2" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert admin.list_topics() == [CASE_AUDIT]
    assert _configs(admin, CASE_AUDIT) == {}
    as_json = _kawal(broker.url, tmp_path, "--dry-run", "--json")
    assert as_json.returncode == 1
    assert "2 partitions" in json.loads(as_json.stdout)["error"]


def test_feeds_made_with_four_partitions_keep_them_and_the_hub_writes_by_their_count(
    broker: EmbeddedBroker, admin: KafkaAdminClient, tmp_path: Path
) -> None:
    # An upgrade: every topic as the hub made them when feeds had the case partition count.
    older = [
        replace(spec, partitions=PARTITIONS) if spec.keeps_partitions else spec for spec in _specs()
    ]
    provision_topics([broker.bootstrap_servers], older)
    admin.delete_topics([outbound_topic("bkn")])
    _wait_until_gone(admin, outbound_topic("bkn"))

    applied = _kawal(broker.url, tmp_path)

    assert applied.returncode == 0, applied.stderr
    assert "created 1 topics" in applied.stdout
    counts = {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
    assert counts[outbound_topic("bkn")] == 1
    assert counts[outbound_topic("bawaslu")] == PARTITIONS
    settings = Settings(home=tmp_path / "home", broker_url=broker.url, web_port=free_port())
    learned = asyncio.run(_partition_counts(settings, ["bkn", "bawaslu"]))
    assert learned == {"bkn": 1, "bawaslu": PARTITIONS}


async def _partition_counts(settings: Settings, institutions: list[str]) -> dict[str, int]:
    producer = create_app(settings).producer
    assert isinstance(producer, Producer)
    await producer.start()
    try:
        return {i: await producer.partition_count(outbound_topic(i)) for i in institutions}
    finally:
        await producer.stop()


def _wait_until_gone(admin: KafkaAdminClient, topic: str) -> None:
    deadline = time.monotonic() + 10
    while topic in admin.list_topics():
        assert time.monotonic() < deadline, f"{topic} was not deleted"
        time.sleep(0.1)


def test_a_wrong_partition_count_of_a_leader_topic_names_no_setting(
    broker: EmbeddedBroker, admin: KafkaAdminClient
) -> None:
    admin.create_topics(
        {"kawal-__assignor-__leader": {"num_partitions": 2, "replication_factor": 1}}
    )

    with pytest.raises(ProvisioningError, match=r"needs 1.*KAWAL_PARTITIONS to the existing"):
        apply_topics([broker.bootstrap_servers], _specs())


#: KAWAL_BROKER_WAIT_SECONDS of the refusals below, s; ``--wait`` is half of it.
SETTING_WAIT = 2


@pytest.fixture(scope="module")
def unreachable(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    """``kawal topics apply`` with and without ``--wait``, on a broker URL nobody answers.

    The commands run one after another in one child process (see tests/without_broker.py).
    """
    home = tmp_path_factory.mktemp("unreachable")
    settings = {
        "KAWAL_BROKER_URL": f"kafka://127.0.0.1:{free_port()}",
        "KAWAL_HOME": str(home),
        "KAWAL_BROKER_WAIT_SECONDS": str(SETTING_WAIT),
    }
    waited = ["topics", "apply", "--wait", str(SETTING_WAIT // 2)]
    commands = {"waited": waited, "waited_json": [*waited, "--json"], "set": ["topics", "apply"]}
    done = run_without_broker(settings, home / "ran.json", *commands.values())
    return dict(zip(commands, done, strict=True))


def test_an_unreachable_broker_is_refused_within_the_wait(unreachable: dict[str, Ran]) -> None:
    refused, as_json = unreachable["waited"], unreachable["waited_json"]

    assert refused.returncode == 1
    assert "cannot reach the broker" in refused.stderr
    # The wait given on the command line, not the setting's (2 s here), was the one used.
    assert "within 1 s to create or configure topics" in refused.stderr
    assert "check KAWAL_BROKER_URL" in refused.stderr
    assert as_json.returncode == 1
    assert "cannot reach the broker" in json.loads(as_json.stdout)["error"]
    assert "within 1 s" in json.loads(as_json.stdout)["error"]


def test_apply_waits_as_long_as_the_broker_wait_setting_says(unreachable: dict[str, Ran]) -> None:
    refused = unreachable["set"]

    assert refused.returncode == 1
    assert "cannot reach the broker" in refused.stderr
    # The default wait is 15 s: the refusal names the wait of the setting, the one used.
    assert "within 2 s to create or configure topics" in refused.stderr


def test_inbound_topics_follow_the_registry(
    broker: EmbeddedBroker, admin: KafkaAdminClient, tmp_path: Path
) -> None:
    registry = tmp_path / "institutions.toml"
    registry.write_text('[[institution]]\nid = "bkn"\nrole = "personnel_agency"\nname = "BKN"\n')

    applied = _kawal(broker.url, tmp_path, "--json", KAWAL_INSTITUTIONS_FILE=str(registry))

    assert applied.returncode == 0, applied.stderr
    created = {topic["topic"] for topic in json.loads(applied.stdout)["create"]}
    assert inbound_topic("bkn") in created
    assert inbound_topic("bawaslu") not in created


def test_compose_applies_the_topics_before_worker_and_sink_start() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]

    # The image's entrypoint is `kawal` (deploy/Dockerfile): the command is its arguments.
    assert services["topics"]["command"].startswith("topics apply")
    assert services["topics"]["environment"]["KAWAL_REPLICATION"] == "3"
    for name in ("worker", "sink"):
        after = services[name]["depends_on"]["topics"]
        assert after == {"condition": "service_completed_successfully"}, name
        assert (
            services[name]["environment"]["KAWAL_PARTITIONS"]
            == (services["topics"]["environment"]["KAWAL_PARTITIONS"])
        )


def _hub_settings(broker: EmbeddedBroker, home: Path) -> Settings:
    return Settings(home=home, broker_url=broker.url, partitions=PARTITIONS, web_port=free_port())


def test_a_worker_refuses_to_start_without_a_changelog_naming_it(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    # A worker of a new version started before `kawal topics apply` made its table's changelog
    # used to run, recover nothing and process nothing, silently.
    missing = changelog_topic(ACCEPTED_TABLE)
    provision_topics([broker.bootstrap_servers], [s for s in _specs() if s.name != missing])
    ensure_local_keys(_hub_settings(broker, tmp_path / "home"))

    worker = _kawal_command(
        broker.url,
        tmp_path / "home",
        ["worker"],
        KAWAL_PARTITIONS=str(PARTITIONS),
        KAWAL_WEB_PORT=str(free_port()),
    )

    assert worker.returncode == 1
    assert f"lacks 1 of the hub's topics (topic {missing})" in worker.stderr
    assert "run `kawal topics apply`" in worker.stderr


def test_missing_feeds_do_not_stop_a_worker_from_starting(
    broker: EmbeddedBroker, admin: KafkaAdminClient, tmp_path: Path
) -> None:
    # `kawal up` makes the feeds beside the worker's start on a first start.
    provision_topics([broker.bootstrap_servers], [s for s in _specs() if not is_outbound(s.name)])
    settings = _hub_settings(broker, tmp_path / "home")

    require_hub_topics(settings, "worker")

    admin.delete_topics([CASE_AUDIT])
    _wait_until_gone(admin, CASE_AUDIT)
    with pytest.raises(
        ProvisioningError, match=f"lacks 1 of the hub's topics \\(topic {CASE_AUDIT}\\)"
    ):
        require_hub_topics(settings, "sink")
