"""Every topic of the hub, in one place: names, partition counts and who keys them.

All case topics are keyed by ``case_id`` and share one partition count, so that a case is
always in order and Faust tables are co-partitioned with the streams that update them.
"""

from __future__ import annotations

from dataclasses import dataclass

from streams.domain.institutions import Institution

APP_ID = "kawal"
#: The audit sink's Faust app, a consumer group of its own (``kawal sink``).
SINK_APP_ID = "kawal-audit-sink"
#: The hub's own institution id: its deadline timer publishes on kawal.inbound.kawal.
HUB_INSTITUTION = "kawal"
INBOUND_PREFIX = "kawal.inbound."
OUTBOUND_PREFIX = "kawal.outbound."
CASE_EVENTS = "kawal.case.events"
CASE_AUDIT = "kawal.case.audit"
DLQ = "kawal.dlq"

#: The Faust table of every case's lifecycle and chain (:mod:`streams.hub.case_table`); its
#: changelog topic is named ``<app id>-<table>-changelog``.
CASE_TABLE = "case-state"


@dataclass(frozen=True)
class TopicSpec:
    """A topic to provision: its name and partition count."""

    name: str
    partitions: int


def inbound_topic(institution_id: str) -> str:
    """Inbound topic an institution publishes to."""
    return f"{INBOUND_PREFIX}{institution_id}"


def outbound_topic(institution_id: str) -> str:
    """Outbound feed an institution consumes."""
    return f"{OUTBOUND_PREFIX}{institution_id}"


def institution_of_inbound(topic: str) -> str | None:
    """The institution id a topic belongs to, if it is an inbound topic."""
    if topic.startswith(INBOUND_PREFIX):
        return topic[len(INBOUND_PREFIX) :]
    return None


def changelog_topic(table: str) -> str:
    """Changelog topic Faust uses for ``table``."""
    return f"{APP_ID}-{table}-changelog"


def all_topics(institutions: tuple[Institution, ...], partitions: int) -> list[TopicSpec]:
    """Every topic the hub needs, with its real partition count."""
    case_keyed = [CASE_EVENTS, CASE_AUDIT, DLQ]
    case_keyed.append(changelog_topic(CASE_TABLE))
    for inst in institutions:
        case_keyed += [inbound_topic(inst.id), outbound_topic(inst.id)]
    specs = [TopicSpec(name, partitions) for name in case_keyed]
    # Faust's leader-election topic of each app has one partition by design.
    specs += [TopicSpec(f"{app_id}-__assignor-__leader", 1) for app_id in (APP_ID, SINK_APP_ID)]
    return specs
