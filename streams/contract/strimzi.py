"""Strimzi's custom resources for the hub's cluster, from the topic table and the ACL matrix.

Written against Strimzi's ``kafka.strimzi.io/v1beta2`` API: a ``Kafka`` cluster in KRaft mode
(three nodes of one ``KafkaNodePool``, each controller and broker, replication 3,
``min.insync.replicas`` 2, SCRAM-SHA-512 over TLS, the ``simple`` authorizer), a
``KafkaTopic`` per topic of :func:`streams.topics.all_topics` with its partitions and
configuration, and a ``KafkaUser`` per registered institution with the bindings of
:func:`streams.broker.acls.acl_matrix`. Nothing here is typed by hand per topic or user.

Example:
    >>> from streams.domain.institutions import load_institutions
    >>> users = kafka_users(load_institutions())
    >>> [user["metadata"]["name"] for user in users][:2]
    ['bawaslu', 'bawaslu.33']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from streams.broker.acls import AclBinding, AclError, PatternType, acl_matrix
from streams.domain.institutions import Institution
from streams.topics import all_topics

Json = dict[str, Any]

STRIMZI_API = "kafka.strimzi.io/v1beta2"
CLUSTER = "kawal"
NODE_POOL = "dual-role"
#: Brokers of the cluster; every topic is replicated to each of them.
REPLICATION = 3
#: Partitions of every case-keyed topic on the cluster (``KAWAL_PARTITIONS`` of the hub).
PARTITIONS = 12
#: Port of the TLS listener with SCRAM-SHA-512; the hub's bootstrap address uses it.
TLS_PORT = 9093
CLUSTER_LABEL = {"strimzi.io/cluster": CLUSTER}

_OPERATIONS = {
    "READ": "Read",
    "WRITE": "Write",
    "DESCRIBE": "Describe",
    "CREATE": "Create",
    "DESCRIBE_CONFIGS": "DescribeConfigs",
    "ALTER_CONFIGS": "AlterConfigs",
}
_PATTERNS = {PatternType.LITERAL: "literal", PatternType.PREFIXED: "prefix"}
#: A Kubernetes object name (DNS-1123 subdomain): a KafkaUser's, which Strimzi makes the SCRAM
#: user's name and the name of the Secret with its password.
_OBJECT_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_MAX_OBJECT_NAME = 253


def bootstrap_address() -> str:
    """The in-cluster bootstrap address Strimzi gives the TLS listener."""
    return f"{CLUSTER}-kafka-bootstrap:{TLS_PORT}"


def kafka_cluster() -> list[Json]:
    """The ``KafkaNodePool`` and the ``Kafka`` (KRaft, three nodes) the hub runs on."""
    pool = {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaNodePool",
        "metadata": {"name": NODE_POOL, "labels": CLUSTER_LABEL},
        "spec": {
            "replicas": REPLICATION,
            "roles": ["controller", "broker"],
            "storage": {
                "type": "persistent-claim",
                "size": "100Gi",
                "deleteClaim": False,
            },
        },
    }
    return [pool, _kafka()]


def _kafka() -> Json:
    config: dict[str, Any] = {
        "default.replication.factor": REPLICATION,
        "min.insync.replicas": 2,
        "offsets.topic.replication.factor": REPLICATION,
        "transaction.state.log.replication.factor": REPLICATION,
        "transaction.state.log.min.isr": 2,
        "auto.create.topics.enable": False,
    }
    listener = {
        "name": "tls",
        "port": TLS_PORT,
        "type": "internal",
        "tls": True,
        "authentication": {"type": "scram-sha-512"},
    }
    return {
        "apiVersion": STRIMZI_API,
        "kind": "Kafka",
        "metadata": {
            "name": CLUSTER,
            "annotations": {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"},
        },
        "spec": {
            "kafka": {
                "listeners": [listener],
                "authorization": {"type": "simple"},
                "config": config,
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
        },
    }


def kafka_topics(institutions: Sequence[Institution]) -> list[Json]:
    """One ``KafkaTopic`` per topic of the hub, with its partitions and configuration."""
    return [
        {
            "apiVersion": STRIMZI_API,
            "kind": "KafkaTopic",
            "metadata": {
                "name": resource_name(spec.name),
                "labels": CLUSTER_LABEL,
                "annotations": {"kawal/reason": spec.reason or "the hub's topic table"},
            },
            "spec": {
                "topicName": spec.name,
                "partitions": spec.partitions,
                "replicas": REPLICATION,
                "config": dict(sorted(spec.configs.items())),
            },
        }
        for spec in all_topics(tuple(institutions), PARTITIONS, REPLICATION)
    ]


def kafka_users(institutions: Iterable[Institution]) -> list[Json]:
    """One ``KafkaUser`` per registered institution (the hub too) with its ACLs.

    Raises:
        AclError: an institution id no ACL can name (see :func:`acl_matrix`), or one no
            KafkaUser can be named (upper case, ``_``, a ``.`` or ``-`` at either end).
    """
    grouped: dict[str, list[AclBinding]] = {}
    for binding in acl_matrix(institutions):
        grouped.setdefault(binding.principal.removeprefix("User:"), []).append(binding)
    if bad := [n for n in grouped if len(n) > _MAX_OBJECT_NAME or not _OBJECT_NAME.fullmatch(n)]:
        raise AclError(
            f"institution ids {sorted(bad)} cannot name a KafkaUser, whose name is the "
            "institution's SCRAM user: use lower-case letters, digits, '-' and '.', beginning "
            "and ending with a letter or digit, for these ids in the registry"
        )
    return [_user(name, bindings) for name, bindings in sorted(grouped.items())]


def _user(name: str, bindings: list[AclBinding]) -> Json:
    return {
        "apiVersion": STRIMZI_API,
        "kind": "KafkaUser",
        "metadata": {"name": name, "labels": CLUSTER_LABEL},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": _acls(bindings)},
        },
    }


def _acls(bindings: list[AclBinding]) -> list[Json]:
    """Strimzi ACL rules: one per resource, with every operation the matrix grants on it."""
    rules: dict[tuple[str, str, str], list[str]] = {}
    for binding in bindings:
        key = (binding.resource_type.lower(), binding.resource_name, binding.pattern_type)
        rules.setdefault(key, []).append(_OPERATIONS[binding.operation])
    return [
        {
            "resource": {
                "type": kind,
                "name": name,
                "patternType": _PATTERNS[PatternType(pattern)],
            },
            "operations": sorted(set(operations)),
            "host": AclBinding.host,
        }
        for (kind, name, pattern), operations in rules.items()
    ]


def resource_name(topic: str) -> str:
    """A Kubernetes object name for ``topic``: lower case, ``_`` as ``-``."""
    return re.sub(r"[^a-z0-9.-]", "-", topic.lower())
