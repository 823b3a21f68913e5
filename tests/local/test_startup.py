"""``kawal up`` makes the feeds beside the worker's start, and every other topic before it."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaAdminClient

from streams.broker.credentials import PLAINTEXT
from streams.broker.provision import ProvisioningError
from streams.domain.institutions import load_institutions
from streams.local.startup import in_background, provision_feeds_later
from streams.settings import Settings
from streams.topics import all_topics, is_outbound
from tests.brokers import start_ephemeral_broker


def test_every_topic_but_the_feeds_exists_on_return_and_the_feeds_once_done(
    tmp_path: Path,
) -> None:
    broker = start_ephemeral_broker(tmp_path / "broker")
    try:
        topics = all_topics(load_institutions(), 4)
        feeds = {spec.name for spec in topics if is_outbound(spec.name)}

        settings = Settings(home=tmp_path / "home", replication=1)
        made = provision_feeds_later([broker.bootstrap_servers], topics, settings, PLAINTEXT)

        admin = KafkaAdminClient(bootstrap_servers=[broker.bootstrap_servers])
        try:
            assert {spec.name for spec in topics} - feeds <= set(admin.list_topics())
            assert made.result(timeout=60) == len(feeds)
            described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics()}
        finally:
            admin.close()
        assert {name: described[name] for name in feeds} == dict.fromkeys(feeds, 1)
    finally:
        broker.stop()


def test_a_failure_in_the_background_is_raised_where_the_result_is_asked_for() -> None:
    def refuse() -> int:
        raise ProvisioningError("the broker refused to create topics")

    made = in_background(refuse, "feeds")

    with pytest.raises(ProvisioningError, match="refused to create topics"):
        made.result(timeout=10)
