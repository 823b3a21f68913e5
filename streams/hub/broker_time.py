"""Whose clock an inbound record's timestamp is: the broker's, or its sender's.

An entry's ``recorded_at`` is its inbound record's timestamp
(:func:`streams.hub.event_times.recorded_at`), the same on every redelivery. The inbound topics ask
the broker to stamp it (``message.timestamp.type=LogAppendTime``, :mod:`streams.topics`), so
that it says when the hub received the event and no sender can choose it. A broker that keeps
the producer's timestamp instead (``CreateTime``) leaves it to the sender's clock: tansu 0.6
always does, Apache Kafka for a topic created without that setting. The hub cannot stamp
records itself, since a redelivered entry must keep its hash; it counts every such record and
says so in its log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import faust

from monitoring.metrics import HubMetrics
from streams.broker.endpoint import parse_broker_url

log = logging.getLogger(__name__)

#: Kafka's timestamp type of a record the broker stamped when it appended it.
LOG_APPEND_TIME = 1
#: Where the limitation and the remedy are described.
DOCUMENTED_AT = "docs/broker-security.md#recorded_at-on-the-embedded-broker"


@dataclass
class SenderClocks:
    """Counts inbound records whose timestamp their sender chose, and reports them once.

    On tansu (``embedded``) this is the broker's known behaviour: one INFO line per process.
    On Kafka it is a topic's configuration gone wrong: a WARNING for each topic.
    """

    metrics: HubMetrics
    embedded: bool
    #: Topics already reported by this process.
    reported: set[str] = field(default_factory=set)

    @classmethod
    def for_broker(cls, metrics: HubMetrics, broker_url: str) -> SenderClocks:
        """A watch for the broker at ``broker_url`` (``tansu://`` is the embedded broker)."""
        return cls(metrics, embedded=parse_broker_url(broker_url).is_tansu)

    def check(self, messages: list[faust.types.Message]) -> None:
        """Count the records of a batch that the broker did not stamp (one counter step)."""
        unstamped = [m.topic for m in messages if m.timestamp_type != LOG_APPEND_TIME]
        if not unstamped:
            return
        self.metrics.sender_timestamps.inc(len(unstamped))
        if self.embedded and not self.reported:
            log.info(
                "the embedded broker (tansu) keeps each sender's timestamp, so an entry's "
                "recorded_at is its sender's clock, not the hub's; use Apache Kafka where "
                "that matters (%s)",
                DOCUMENTED_AT,
            )
        for topic in dict.fromkeys(unstamped):
            if not self.embedded and topic not in self.reported:
                log.warning(
                    "%s: the broker kept the sender's timestamp (CreateTime), so its entries' "
                    "recorded_at is the sender's clock; set message.timestamp.type="
                    "LogAppendTime on the topic with `kawal topics apply` (%s)",
                    topic,
                    DOCUMENTED_AT,
                )
            self.reported.add(topic)
