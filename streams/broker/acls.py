"""Who may do what on the broker: the Kafka ACL matrix, as data.

Derived from the institution registry and the topic table (:mod:`streams.topics`), so a new
institution or topic gets its bindings without anyone writing them:

* an institution (principal ``User:<id>``) writes only its inbound topic
  ``kawal.inbound.<id>`` (or, in the shared lane, ``kawal.inbound``, where the hub takes from
  it only what its signature proves it sent) and the dead-letter topic ``kawal.dlq``, where its
  connectors put what they could not map or deliver (sealed to the hub); it reads only its
  feed ``kawal.outbound.<id>`` and the hub's signed tree heads ``kawal.heads`` (every
  institution keeps them), never ``kawal.dlq``, which holds the other institutions' letters,
  and uses only its own connectors' consumer groups (prefix ``kawal-connector:<id>:``);
* only the hub (``User:kawal``) writes what the hub says: ``kawal.case.events``,
  ``kawal.case.audit``, every feed, the signed tree heads ``kawal.heads`` and its own internal
  topics; it writes ``kawal.dlq`` too, and alone reads it. It reads every inbound topic; it
  writes ``kawal.inbound.kawal`` (the deadline timer) and, through ``kawal dlq replay``, any
  inbound topic: a refused record goes back unchanged, still signed by its sender, so the hub
  can resend but not forge one. It creates and configures the hub's topics (``kawal topics
  apply``).

Everything else is denied: a Kafka cluster with an authorizer denies what no ACL allows
(``allow.everyone.if.no.acl.found=false``, its default). Principals are SASL user names; for
mutual TLS, map the certificate's subject to the same names (``ssl.principal.mapping.rules``).

Since institutions write ``kawal.dlq``, a dead letter is its writer's word, not the hub's: its
stage and source are claims. ``kawal dlq replay`` sends only a record's own bytes back to an
inbound topic, where ingress checks the sender's signature and drops a duplicate as always.

tansu 0.6.0, the embedded broker, enforces no ACL at all (``docs/broker-security.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from schemas.errors import KawalError
from streams.domain.institutions import HUB_INSTITUTION, Institution
from streams.topics import (
    APP_ID,
    CONNECTOR_GROUP_PREFIX,
    DLQ,
    HEADS,
    INBOUND_PREFIX,
    INSTITUTION,
    OUTBOUND_PREFIX,
    SHARED_INBOUND,
    SINK_APP_ID,
    TOPIC_TABLE,
    connector_group_prefix,
    inbound_topic,
    inbound_topic_of,
    outbound_topic,
)

#: Characters Kafka allows in a topic name, so in an institution id (its topics' suffix).
_TOPIC_CHARACTERS = re.compile(r"^[A-Za-z0-9._-]+$")


class AclError(KawalError):
    """The registry holds an id no ACL can name safely."""


class ResourceType(StrEnum):
    """What an ACL is about."""

    TOPIC = "TOPIC"
    GROUP = "GROUP"


class PatternType(StrEnum):
    """How an ACL's resource name matches: the whole name, or its start."""

    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"


class Operation(StrEnum):
    """Kafka operations the matrix grants."""

    READ = "READ"
    WRITE = "WRITE"
    DESCRIBE = "DESCRIBE"
    CREATE = "CREATE"
    DESCRIBE_CONFIGS = "DESCRIBE_CONFIGS"
    ALTER_CONFIGS = "ALTER_CONFIGS"


#: Operations that let the principal describe the resource too (as Kafka's authorizer does).
_IMPLY_DESCRIBE = {Operation.READ, Operation.WRITE}


@dataclass(frozen=True, order=True)
class AclBinding:
    """One ALLOW rule: ``principal`` may do ``operation`` on the resources the pattern matches.

    Attributes:
        principal: ``User:<name>``.
        resource_type: Topic or consumer group.
        pattern_type: Whether ``resource_name`` is the whole name or its start.
        resource_name: The name, or the prefix of the names.
        operation: What is allowed.
        reason: Why, for the reader of a manifest.
    """

    principal: str
    resource_type: ResourceType
    pattern_type: PatternType
    resource_name: str
    operation: Operation
    reason: str = field(default="", compare=False)

    #: Every binding allows; whatever none allows is denied.
    permission = "ALLOW"
    #: From any host: the credential, not the address, names the principal.
    host = "*"

    def matches(self, resource_type: ResourceType, name: str) -> bool:
        """Whether this binding's pattern covers the resource ``name``."""
        if resource_type is not self.resource_type:
            return False
        if self.pattern_type is PatternType.PREFIXED:
            return name.startswith(self.resource_name)
        return name == self.resource_name

    def as_dict(self) -> dict[str, Any]:
        """The binding as JSON-ready data, in Kafka's words."""
        return {**asdict(self), "permission": self.permission, "host": self.host}


def principal(institution_id: str) -> str:
    """The broker principal of an institution or of the hub: ``User:<id>``."""
    return f"User:{institution_id}"


def acl_matrix(institutions: Iterable[Institution]) -> list[AclBinding]:
    """Every ACL binding of the hub and of each registered institution, sorted.

    Raises:
        AclError: an institution id has characters a topic name cannot hold.
    """
    institutions = list(institutions)
    ids = [institution.id for institution in institutions]
    if bad := [i for i in ids if not _TOPIC_CHARACTERS.match(i)]:
        raise AclError(
            f"institution ids {bad} hold characters Kafka refuses in topic names; "
            "use only letters, digits, '.', '_' and '-'"
        )
    bindings = _hub()
    for institution in institutions:
        if institution.id != HUB_INSTITUTION:
            bindings += _institution(institution.id, inbound_topic_of(institution))
    return sorted(bindings)


def permits(
    bindings: Iterable[AclBinding],
    who: str,
    operation: Operation,
    resource_type: ResourceType,
    name: str,
) -> bool:
    """Whether ``bindings`` allow ``who`` to do ``operation`` on the resource ``name``.

    As Kafka's authorizer decides with ALLOW rules only: READ and WRITE imply DESCRIBE.
    """
    wanted = {operation} | (_IMPLY_DESCRIBE if operation is Operation.DESCRIBE else set())
    return any(
        binding.principal == who
        and binding.operation in wanted
        and binding.matches(resource_type, name)
        for binding in bindings
    )


def hub_topics() -> list[tuple[PatternType, str]]:
    """The topics only the hub writes: the topic table without the inbound topics.

    A per-institution row of the table becomes a prefix (``kawal.outbound.``).
    """
    found = []
    for rule in TOPIC_TABLE:
        if rule.name in (inbound_topic(INSTITUTION), SHARED_INBOUND):
            continue
        if INSTITUTION in rule.name:
            found.append((PatternType.PREFIXED, rule.name.split(INSTITUTION)[0]))
        else:
            found.append((PatternType.LITERAL, rule.name))
    return found


def _hub() -> list[AclBinding]:
    hub = principal(HUB_INSTITUTION)
    topic, group = ResourceType.TOPIC, ResourceType.GROUP
    literal, prefixed = PatternType.LITERAL, PatternType.PREFIXED
    bindings = []
    for pattern, name in hub_topics():
        bindings.append(AclBinding(hub, topic, pattern, name, Operation.WRITE, "only the hub"))
        if name != OUTBOUND_PREFIX:  # each feed is read by its institution alone
            reason = "the hub reads what it wrote (sink, recovery, replay, dlq)"
            bindings.append(AclBinding(hub, topic, pattern, name, Operation.READ, reason))
    bindings += [
        AclBinding(hub, topic, prefixed, INBOUND_PREFIX, Operation.READ, "the pipeline"),
        AclBinding(hub, topic, literal, SHARED_INBOUND, Operation.READ, "the pipeline"),
        AclBinding(
            hub,
            topic,
            literal,
            SHARED_INBOUND,
            Operation.WRITE,
            "dlq replay resends a refused record, still signed by its sender",
        ),
        AclBinding(
            hub,
            topic,
            prefixed,
            INBOUND_PREFIX,
            Operation.WRITE,
            "deadline timer (kawal.inbound.kawal); dlq replay resends a refused record, "
            "still signed by its sender, to its topic",
        ),
        *(
            AclBinding(hub, group, literal, app, Operation.READ, "consumer group of a hub app")
            for app in (APP_ID, SINK_APP_ID)
        ),
        AclBinding(
            hub,
            group,
            prefixed,
            CONNECTOR_GROUP_PREFIX,
            Operation.DESCRIBE,
            "consumer lag of every connector (kawal_consumer_lag_records)",
        ),
        *(
            AclBinding(hub, topic, prefixed, APP_ID, operation, "kawal topics apply")
            for operation in (Operation.CREATE, Operation.DESCRIBE_CONFIGS, Operation.ALTER_CONFIGS)
        ),
    ]
    return bindings


def _institution(institution_id: str, inbound: str) -> list[AclBinding]:
    who = principal(institution_id)
    topic, literal = ResourceType.TOPIC, PatternType.LITERAL
    outbound = outbound_topic(institution_id)
    lane = "the shared inbound topic" if inbound == SHARED_INBOUND else "its own inbound topic"
    return [
        AclBinding(who, topic, literal, inbound, Operation.WRITE, lane),
        AclBinding(who, topic, literal, inbound, Operation.DESCRIBE, lane),
        AclBinding(who, topic, literal, outbound, Operation.READ, "its own feed"),
        AclBinding(who, topic, literal, outbound, Operation.DESCRIBE, "its own feed"),
        AclBinding(who, topic, literal, HEADS, Operation.READ, "the hub's tree heads, kept"),
        *(
            AclBinding(who, topic, literal, DLQ, operation, "its connectors' dead letters")
            for operation in (Operation.WRITE, Operation.DESCRIBE)
        ),
        AclBinding(
            who,
            ResourceType.GROUP,
            PatternType.PREFIXED,
            connector_group_prefix(institution_id),
            Operation.READ,
            "its own outbound connectors' consumer groups",
        ),
    ]
