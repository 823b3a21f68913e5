"""Create every topic of the hub with its real partition count before any client runs.

Brokers that auto-create topics would give them a default partition count, which breaks the
co-partitioning of case topics and Faust tables, so the hub never relies on auto-creation.
"""

from __future__ import annotations

import logging

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from schemas.errors import KawalError
from streams.topics import TopicSpec

log = logging.getLogger(__name__)


class ProvisioningError(KawalError):
    """Topics could not be created, or exist with the wrong partition count."""


def provision_topics(bootstrap: list[str], specs: list[TopicSpec], replication: int = 1) -> int:
    """Create the missing topics and check the partition counts of existing ones.

    Returns:
        How many topics were created.

    Raises:
        ProvisioningError: the broker is unreachable, refused a topic, or an existing topic
            has a different partition count than the hub needs.
    """
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kawal-provision")
    except KafkaError as exc:
        raise ProvisioningError(
            f"cannot reach the broker at {','.join(bootstrap)} to create topics: {exc}"
        ) from exc
    try:
        existing = set(admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        _create(admin, missing, replication)
        _check_partitions(admin, [spec for spec in specs if spec.name in existing])
        return len(missing)
    finally:
        admin.close()


def _create(admin: KafkaAdminClient, specs: list[TopicSpec], replication: int) -> None:
    if not specs:
        return
    new_topics = [NewTopic(s.name, s.partitions, replication) for s in specs]
    try:
        admin.create_topics(new_topics)
    except TopicAlreadyExistsError:
        # Another process created some of them in the meantime: the check below still runs.
        pass
    except KafkaError as exc:
        raise ProvisioningError(f"the broker refused to create topics: {exc}") from exc
    log.info("created %d topics", len(specs))


def _check_partitions(admin: KafkaAdminClient, specs: list[TopicSpec]) -> None:
    if not specs:
        return
    described = admin.describe_topics([s.name for s in specs])
    actual = {d["name"]: len(d["partitions"]) for d in described}
    for spec in specs:
        if actual.get(spec.name) != spec.partitions:
            raise ProvisioningError(
                f"topic {spec.name} has {actual.get(spec.name)} partitions but the hub needs "
                f"{spec.partitions}; set KAWAL_PARTITIONS={actual.get(spec.name)} or recreate it"
            )
