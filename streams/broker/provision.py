"""Create every topic of the hub with its partition count and configuration, on any cluster.

Brokers that auto-create topics would give them a default partition count, which breaks the
co-partitioning of case topics and Faust tables, and a default configuration, under which
Kafka deletes the trail after 7 days. So the hub never relies on auto-creation: ``kawal topics
apply`` and ``kawal up`` (through :func:`apply_topics` both) create the missing topics of the
topic table (:mod:`streams.topics`) with their configuration and correct the configuration
of existing ones. A partition count is never changed: that would move cases between
partitions, so a mismatch is refused before anything changes.

Configuration is read with DescribeConfigs, always for every key: tansu 0.6.0 drops the
connection when the request names keys. It is changed with IncrementalAlterConfigs, SET
only: the older AlterConfigs replaces a topic's whole configuration (keys not sent fall back
to their defaults), and tansu 0.6.0 does not implement it. After a change the configuration
is read again, and a value the broker does not report back is an error, not a success.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import (
    IncompatibleBrokerVersion,
    InvalidReplicationFactorError,
    KafkaError,
    TopicAlreadyExistsError,
    for_code,
)

from schemas.errors import KawalError
from streams.broker.credentials import PLAINTEXT, BrokerCredentials
from streams.broker.endpoint import kafka_client, without_credentials
from streams.broker.topic_plan import (
    ConfigChange,
    PartitionMismatch,
    TopicPlan,
    changes_by_topic,
    describe_change,
    plan_topics,
)
from streams.topics import TopicSpec

log = logging.getLogger(__name__)

#: Topics per admin request: a national registry has thousands of topics.
CHUNK = 500
#: How long a hub starting (``kawal up``, the worker's preflight) waits for the broker to answer.
DEFAULT_WAIT_SECONDS = 30.0
_T = TypeVar("_T")


class ProvisioningError(KawalError):
    """Topics could not be created, or exist with the wrong partition count."""


class BrokerUnreachableError(ProvisioningError):
    """No broker answered within the wait, or it refused the credentials."""


class TopicConfigError(ProvisioningError):
    """The broker cannot report, refused, or did not keep a topic's configuration."""


@dataclass(frozen=True)
class ApplyResult:
    """What :func:`apply_topics` created and changed, or in a dry run would have."""

    created: tuple[TopicSpec, ...]
    changes: tuple[ConfigChange, ...]
    dry_run: bool

    @property
    def nothing_to_do(self) -> bool:
        """True when every topic already existed as configured."""
        return not (self.created or self.changes)


def provision_topics(
    bootstrap: list[str],
    specs: list[TopicSpec],
    replication: int = 1,
    credentials: BrokerCredentials = PLAINTEXT,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> int:
    """Create the missing topics, correct configurations, check partition counts.

    Returns:
        How many topics were created.

    Raises:
        ProvisioningError: as :func:`apply_topics`.
    """
    applied = apply_topics(
        bootstrap, specs, replication, wait_seconds=wait_seconds, credentials=credentials
    )
    return len(applied.created)


def apply_topics(
    bootstrap: list[str],
    specs: Sequence[TopicSpec],
    replication: int = 1,
    *,
    dry_run: bool = False,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    credentials: BrokerCredentials = PLAINTEXT,
) -> ApplyResult:
    """Bring the broker's topics in line with ``specs``.

    Args:
        bootstrap: Bootstrap servers of the broker.
        specs: The wanted topics (:func:`streams.topics.all_topics`).
        replication: Replication factor of created topics.
        dry_run: Only read: say what would be created and changed.
        wait_seconds: How long to wait for the broker to answer at all.
        credentials: How the admin client authenticates.

    Returns:
        The topics created and the configuration entries changed (or that would be).

    Raises:
        ProvisioningError: the broker is unreachable or refused a topic, or an existing topic
            has another partition count than the hub needs (nothing is changed then).
        TopicConfigError: the broker cannot read or change topic configurations, refused a
            value, or does not report a value it accepted.
    """
    with _admin(bootstrap, wait_seconds, credentials) as admin:
        try:
            return _apply(admin, specs, replication, dry_run)
        except KafkaError as exc:
            raise ProvisioningError(
                f"the broker at {','.join(bootstrap)} failed while kawal read or changed its "
                f"topics: {exc}; check that it runs, then run `kawal topics apply` again"
            ) from exc


def missing_topics(
    bootstrap: list[str],
    names: Sequence[str],
    *,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    credentials: BrokerCredentials = PLAINTEXT,
) -> list[str]:
    """The topics of ``names`` the broker does not have (or does not show these credentials).

    Raises:
        ProvisioningError: the broker is unreachable or did not list its topics.
    """
    with _admin(bootstrap, wait_seconds, credentials) as admin:
        try:
            existing = set(admin.list_topics())
        except KafkaError as exc:
            raise ProvisioningError(
                f"the broker at {','.join(bootstrap)} did not list its topics: {exc}; check "
                "that it runs"
            ) from exc
    return sorted(set(names) - existing)


def some_topics(topics: list[str], shown: int = 4) -> str:
    """``topic a`` or ``topics a, b, c, d and 3 more``: a list of topics short enough to log."""
    if len(topics) == 1:
        return f"topic {topics[0]}"
    more = f" and {len(topics) - shown} more" if len(topics) > shown else ""
    return f"topics {', '.join(topics[:shown])}{more}"


def _apply(
    admin: KafkaAdminClient, specs: Sequence[TopicSpec], replication: int, dry_run: bool
) -> ApplyResult:
    plan = _read_plan(admin, specs, "nothing was changed")
    if dry_run or plan.nothing_to_do:
        return ApplyResult(plan.create, plan.changes, dry_run)
    _create(admin, plan.create, replication)
    # Read again: a topic created meanwhile by another process, or created without the
    # configuration asked for, is corrected like any existing one.
    created = "only missing topics were created"
    changes = _read_plan(admin, specs, created).changes if plan.create else plan.changes
    _alter(admin, changes)
    check_kept(_read_plan(admin, specs, created))
    return ApplyResult(plan.create, changes, dry_run)


@contextmanager
def _admin(
    bootstrap: list[str], wait_seconds: float, credentials: BrokerCredentials
) -> Iterator[KafkaAdminClient]:
    try:
        admin = kafka_client(
            KafkaAdminClient,
            bootstrap,
            credentials.client_kwargs(),
            wait_seconds,
            client_id="kawal-provision",
        )
    except KafkaError as exc:
        # A broker that refuses the credentials looks to kafka-python like one that is down.
        raise BrokerUnreachableError(
            f"cannot reach the broker at {without_credentials(','.join(bootstrap))} "
            f"{credentials.describe()} within {wait_seconds:g} s to create or configure topics: "
            f"{_shown(exc, bootstrap)}; check KAWAL_BROKER_URL, that the broker runs and that it "
            "accepts these credentials (KAWAL_BROKER_SECURITY_PROTOCOL, KAWAL_BROKER_USERNAME, "
            "KAWAL_BROKER_PASSWORD)"
        ) from exc
    try:
        yield admin
    finally:
        admin.close()


def _shown(exc: KafkaError, bootstrap: list[str]) -> str:
    """``exc``'s text with the servers in it named without credentials."""
    text = str(exc)
    for server in bootstrap:
        text = text.replace(server, without_credentials(server))
    return text


def _read_plan(admin: KafkaAdminClient, specs: Sequence[TopicSpec], so_far: str) -> TopicPlan:
    partitions = {
        topic["name"]: len(topic["partitions"])
        for topic in admin.describe_topics()
        if topic.get("error_code", 0) == 0
    }
    existing = [spec.name for spec in specs if spec.name in partitions]
    plan = plan_topics(specs, partitions, _describe_configs(admin, existing))
    if plan.mismatches:
        raise ProvisioningError(f"{_mismatch_message(plan.mismatches)}; {so_far}")
    return plan


def _describe_configs(
    admin: KafkaAdminClient, names: list[str]
) -> dict[str, dict[str, str | None]]:
    described: dict[str, dict[str, str | None]] = {}
    for chunk in _chunks(names):
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in chunk]
        try:
            result: dict[str, Any] = admin.describe_configs(resources, config_filter="all")
        except IncompatibleBrokerVersion as exc:
            raise TopicConfigError(
                "the broker does not support DescribeConfigs, so kawal cannot read the "
                "configuration of its topics; check them with the broker's own tools"
            ) from exc
        for name, entries in result.get("topic", {}).items():
            described[name] = {key: entry.get("value") for key, entry in entries.items()}
    return described


def _create(admin: KafkaAdminClient, specs: Sequence[TopicSpec], replication: int) -> None:
    for chunk in _chunks(specs):
        request = {
            spec.name: {
                "num_partitions": spec.partitions,
                "replication_factor": replication,
                "configs": spec.configs,
            }
            for spec in chunk
        }
        response = admin.create_topics(request, raise_errors=False, wait_for_metadata=True)
        refused = [
            f"{topic['name']}: {for_code(topic['error_code']).__name__} "
            f"({topic.get('error_message') or 'no message'})"
            for topic in response["topics"]
            # Another process created it in the meantime: it is checked like any other.
            if topic["error_code"] not in (0, TopicAlreadyExistsError.errno)
        ]
        if refused:
            raise ProvisioningError(
                f"the broker refused to create topics: {'; '.join(refused)}"
                + _replication_hint(response["topics"], replication)
            )
    if specs:
        log.info("created %d topics", len(specs))


def _replication_hint(topics: list[dict[str, Any]], replication: int) -> str:
    if any(t["error_code"] == InvalidReplicationFactorError.errno for t in topics):
        return f"; KAWAL_REPLICATION={replication} needs at least as many brokers: lower it"
    return ""


def _alter(admin: KafkaAdminClient, changes: Sequence[ConfigChange]) -> None:
    grouped = list(changes_by_topic(changes).items())
    for chunk in _chunks(grouped):
        resources = [ConfigResource(ConfigResourceType.TOPIC, t, dict(c)) for t, c in chunk]
        try:
            # kafka-python's check of unknown keys reads the keys already set on a topic,
            # which on tansu are none; incremental, never the AlterConfigs that resets keys.
            result = admin.alter_configs(resources, raise_on_unknown=False, incremental=True)
        except IncompatibleBrokerVersion as exc:
            raise TopicConfigError(
                "the broker does not support IncrementalAlterConfigs (Apache Kafka 2.3 and "
                "newer do), so kawal cannot correct topic configurations; set these with the "
                f"broker's own tools: {_listing(changes)}"
            ) from exc
        refused = {t: r for t, r in result.get("topic", {}).items() if r != "OK"}
        if refused:
            reasons = "; ".join(f"{topic}: {reason}" for topic, reason in refused.items())
            raise TopicConfigError(f"the broker refused topic configurations: {reasons}")
    if changes:
        log.info("changed %d configuration entries of %d topics", len(changes), len(grouped))


def check_kept(plan: TopicPlan) -> None:
    """Refuse a plan, read after applying, that still has topics to create or change.

    Raises:
        TopicConfigError: the broker accepted what it does not report back.
    """
    if plan.create or plan.changes:
        missing = [spec.name for spec in plan.create]
        raise TopicConfigError(
            "the broker accepted the topics and configuration but does not report them back, "
            "so it may not apply them: "
            + _listing(plan.changes)
            + (f"; topics missing: {', '.join(missing)}" if missing else "")
            + "; set them with the broker's own tools, then check with "
            "`kawal topics apply --dry-run`"
        )


def _mismatch_message(mismatches: Sequence[PartitionMismatch]) -> str:
    groups: dict[tuple[int, int], list[str]] = {}
    for mismatch in mismatches:
        groups.setdefault((mismatch.actual, mismatch.wanted), []).append(mismatch.topic)
    found = "; ".join(
        f"{some_topics(topics)} {'has' if len(topics) == 1 else 'have'} {actual} partitions but "
        f"the hub needs {wanted}"
        for (actual, wanted), topics in groups.items()
    )
    (actual, wanted), *others = groups
    fix = "set KAWAL_PARTITIONS to the existing case topics' count"
    if not others and wanted != 1:
        fix = f"set KAWAL_PARTITIONS={actual}, the existing topics' count,"
    return (
        f"{found}. Partition counts are never changed (cases would move between partitions): "
        f"{fix} or delete these topics (their records are lost) and run again"
    )


def _listing(changes: Sequence[ConfigChange], shown: int = 10) -> str:
    listed = "; ".join(describe_change(change) for change in changes[:shown])
    return listed + (f"; and {len(changes) - shown} more" if len(changes) > shown else "")


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
