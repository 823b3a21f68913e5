"""Every topic of the hub, in one place: names, partition counts, configuration and why.

All case topics are keyed by ``case_id`` and share one partition count, so that a case is
always in order and Faust tables are co-partitioned with the streams that update them.

:data:`TOPIC_TABLE` is the topic table: one row per topic (or per institution's topic) with
its configuration on the broker and the reason for it. ``kawal topics apply`` and ``kawal up``
create and correct topics from it; keys it does not name are left to the broker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from streams.domain.institutions import InboundLane, Institution

APP_ID = "kawal"
#: The audit sink's Faust app, a consumer group of its own (``kawal sink``).
SINK_APP_ID = "kawal-audit-sink"
INBOUND_PREFIX = "kawal.inbound."
#: The inbound topic shared by the institutions of the ``shared`` lane (:class:`InboundLane`).
SHARED_INBOUND = "kawal.inbound"
OUTBOUND_PREFIX = "kawal.outbound."
#: Partitions of a new outbound feed; an older feed keeps its count (:data:`TOPIC_TABLE`).
FEED_PARTITIONS = 1
CASE_EVENTS = "kawal.case.events"
CASE_AUDIT = "kawal.case.audit"
DLQ = "kawal.dlq"
#: The hub's signed tree heads (``kawal.TreeHead``), one partition: keepers read them in order.
HEADS = "kawal.heads"
#: Start of every outbound connector's consumer group (:func:`connector_group`).
CONNECTOR_GROUP_PREFIX = "kawal-connector:"

#: The Faust table of every case's lifecycle and chain head (:mod:`streams.hub.case_table`); its
#: changelog topic is named ``<app id>-<table>-changelog``.
CASE_TABLE = "case-state"
#: The Faust table of every accepted event's inbound position and entry, co-partitioned with
#: the case table (:mod:`streams.hub.case_table`).
ACCEPTED_TABLE = "accepted-events"

#: Stands for each registered institution's id in a row of the topic table.
INSTITUTION = "{institution}"
DAY_MS = 24 * 60 * 60 * 1000

#: Never deleted, by age or size. ``delete`` is spelled out so that a cluster whose default
#: policy is ``compact`` cannot keep only the newest record of each case.
KEPT_FOREVER = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
#: Only the newest record of each key is kept, however old.
COMPACTED = {"cleanup.policy": "compact"}
#: From this replication factor on, every topic also gets :data:`REPLICATED`.
MIN_REPLICATION_FOR_ISR = 3
#: With 3 replicas and ``acks=all``, a write needs 2 in sync: one broker may be down without
#: stopping the hub, and no acknowledged record lives on a single broker. Fewer replicas would
#: stop writes at the first broker failure, so below 3 the broker's own setting stays.
REPLICATED = {"min.insync.replicas": "2"}


def kept_for(days: int) -> dict[str, str]:
    """Deleted by age after ``days``; never by size, so a burst cannot cut the window short."""
    return {"cleanup.policy": "delete", "retention.ms": str(days * DAY_MS), "retention.bytes": "-1"}


def inbound_topic(institution_id: str) -> str:
    """Inbound topic an institution publishes to."""
    return f"{INBOUND_PREFIX}{institution_id}"


def inbound_topic_of(institution: Institution) -> str:
    """The topic ``institution`` publishes to: its own, or the shared one."""
    if institution.inbound is InboundLane.SHARED:
        return SHARED_INBOUND
    return inbound_topic(institution.id)


def inbound_topics(institutions: tuple[Institution, ...]) -> list[str]:
    """Every inbound topic the pipeline reads: the shared one, then each own topic."""
    return [SHARED_INBOUND] + [
        inbound_topic(inst.id) for inst in institutions if inst.inbound is InboundLane.OWN
    ]


def is_outbound(topic: str) -> bool:
    """Whether ``topic`` is an institution's outbound feed."""
    return topic.startswith(OUTBOUND_PREFIX)


def outbound_topic(institution_id: str) -> str:
    """Outbound feed an institution consumes."""
    return f"{OUTBOUND_PREFIX}{institution_id}"


def connector_group_prefix(institution_id: str) -> str:
    """Start of the consumer groups of an institution's outbound connectors.

    A broker ACL grants an institution the groups with this prefix. The colon ends the id: it
    cannot occur in one (ids are topic-name suffixes), so ``bawaslu``'s prefix does not cover
    ``bawaslu.33``'s groups.
    """
    return f"{CONNECTOR_GROUP_PREFIX}{institution_id}:"


def connector_group(institution_id: str, connector_name: str) -> str:
    """Consumer group of the outbound connector ``connector_name`` of an institution."""
    return f"{connector_group_prefix(institution_id)}{connector_name}"


def institution_of_inbound(topic: str) -> str | None:
    """The institution id a topic belongs to, if it is an inbound topic."""
    if topic.startswith(INBOUND_PREFIX):
        return topic[len(INBOUND_PREFIX) :]
    return None


def changelog_topic(table: str) -> str:
    """Changelog topic Faust uses for ``table``."""
    return f"{APP_ID}-{table}-changelog"


def leader_topic(app_id: str) -> str:
    """Faust's leader-election topic of the app ``app_id``."""
    return f"{app_id}-__assignor-__leader"


@dataclass(frozen=True)
class TopicRule:
    """One row of the topic table.

    Attributes:
        name: The topic's name; :data:`INSTITUTION` in it makes one topic per institution.
        partitions: Its partition count; ``None`` is the hub's case partition count
            (``KAWAL_PARTITIONS``), shared by every case-keyed topic.
        configs: Its configuration on the broker.
        reason: Why it is configured so.
        keeps_partitions: An existing topic keeps whatever partition count it has: nothing
            co-partitions with it, and its writers ask the broker for the count.
    """

    name: str
    partitions: int | None
    configs: Mapping[str, str]
    reason: str
    keeps_partitions: bool = False


#: The topic table.
TOPIC_TABLE: tuple[TopicRule, ...] = (
    TopicRule(
        CASE_AUDIT,
        None,
        KEPT_FOREVER,
        "the canonical trail, append-only and kept forever: the audit store is rebuilt from it "
        "(kawal replay) and every chain is verified against it; compaction would keep only "
        "each case's last entry",
    ),
    TopicRule(
        HEADS,
        1,
        KEPT_FOREVER,
        "the signed tree heads every institution keeps: a connector that starts later, or an "
        "auditor, reads them all from the beginning, so none may expire; one partition keeps "
        "them in the order each proves consistency with the one before; compaction would "
        "keep only the newest, and with it no proof a new keeper could check",
    ),
    TopicRule(
        CASE_EVENTS,
        None,
        KEPT_FOREVER,
        "every accepted event in committed form: readers and rebuilds start from its "
        "beginning, so none may expire; compaction would keep only each case's last event",
    ),
    TopicRule(
        changelog_topic(CASE_TABLE),
        None,
        COMPACTED,
        "Faust rebuilds the case table from it: only each case's newest value counts, and it "
        "must survive however long the case is quiet (deleting by age would restart a quiet "
        "case's chain); compaction keeps recovery from reading every change ever made",
    ),
    TopicRule(
        changelog_topic(ACCEPTED_TABLE),
        None,
        COMPACTED,
        "Faust rebuilds the accepted-event index from it: each accepted event's position and "
        "entry, written once, must survive as long as its case, or a late duplicate would be "
        "chained again; compaction keeps one record of each event however often it was sent",
    ),
    TopicRule(
        inbound_topic(INSTITUTION),
        None,
        kept_for(30) | {"message.timestamp.type": "LogAppendTime"},
        "transit: once read, an accepted event's signed bytes are on kawal.case.audit and a "
        "refused one's on kawal.dlq, so it need only outlast an outage of the hub; 30 days "
        "cover the longest (holidays included) without keeping raw traffic forever. The "
        "broker stamps each record's time: it is the entry's hashed recorded_at, which the "
        "sender must not choose",
    ),
    TopicRule(
        SHARED_INBOUND,
        None,
        kept_for(30) | {"message.timestamp.type": "LogAppendTime"},
        "transit, as an institution's own inbound topic, for the many institutions that "
        "publish little: their signatures, not the topic, name the sender",
    ),
    TopicRule(
        outbound_topic(INSTITUTION),
        FEED_PARTITIONS,
        kept_for(90),
        "delivery queue of receipts and routed entries to one institution, whose connector "
        "may be down far longer than the hub; the canonical copy stays on kawal.case.audit "
        "(and its trail by HTTP), so 90 days bound it. One partition: one connector reads "
        "it, in one order, and 1,743 feeds of the case partition count would be 7,000 "
        "partitions on tansu (a first start twice as long) and 21,000 on a cluster of 12; "
        "a feed made with more keeps them",
        keeps_partitions=True,
    ),
    TopicRule(
        DLQ,
        None,
        kept_for(90),
        "refused records wait for ops to inspect and replay (kawal dlq replay); the sender "
        "already holds a rejection receipt; a quarter covers a review cycle, after which "
        "they expire instead of piling up",
    ),
    TopicRule(
        leader_topic(APP_ID),
        1,
        kept_for(1),
        "Faust's leader election (one partition by design): the member assigned it leads; "
        "nothing is written to it, the short bound only keeps a stray record from staying",
    ),
    TopicRule(
        leader_topic(SINK_APP_ID),
        1,
        kept_for(1),
        "the audit sink's leader election, as the worker's",
    ),
)


@dataclass(frozen=True)
class TopicSpec:
    """A topic to provision: its name, partition count, configuration and the reason for it."""

    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict, hash=False)
    reason: str = ""
    #: An existing topic with another partition count is kept as it is (:class:`TopicRule`).
    keeps_partitions: bool = False


def all_topics(
    institutions: tuple[Institution, ...], partitions: int, replication: int = 1
) -> list[TopicSpec]:
    """Every topic the hub needs, from the topic table.

    Args:
        institutions: The registry: each gets its inbound topic and outbound feed.
        partitions: Partitions of every case-keyed topic (``KAWAL_PARTITIONS``).
        replication: Replication factor the topics are created with (``KAWAL_REPLICATION``);
            from :data:`MIN_REPLICATION_FOR_ISR` on, each topic also gets :data:`REPLICATED`.
    """
    replicated = REPLICATED if replication >= MIN_REPLICATION_FOR_ISR else {}
    specs = []
    for rule in TOPIC_TABLE:
        count = partitions if rule.partitions is None else rule.partitions
        configs = {**rule.configs, **replicated}
        specs += [
            TopicSpec(name, count, configs, rule.reason, rule.keeps_partitions)
            for name in _names(rule, institutions)
        ]
    return specs


def _names(rule: TopicRule, institutions: tuple[Institution, ...]) -> list[str]:
    if INSTITUTION not in rule.name:
        return [rule.name]
    if rule.name == inbound_topic(INSTITUTION):
        institutions = tuple(inst for inst in institutions if inst.inbound is InboundLane.OWN)
    return [rule.name.replace(INSTITUTION, inst.id) for inst in institutions]
