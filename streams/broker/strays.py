"""Stray inbound topics: records sent where the pipeline does not read them.

The pipeline reads the shared inbound topic and the own inbound topic of every institution of
the registry in force (:func:`streams.topics.inbound_topics`). A broker that creates topics on
first use (tansu always; Apache Kafka unless ``auto.create.topics.enable=false``) accepts a
record on any other ``kawal.inbound…`` topic: a misspelt institution id, an institution of the
shared lane publishing to an own topic, an institution not registered yet. Its sender gets
the broker's acknowledgement and no receipt ever comes; nothing in the hub would see it.

:class:`StrayWatch` lists the broker's topics on a timer, off the event loop, and counts the
records of every inbound topic the pipeline does not read (end offsets, through Fetch on
tansu, :func:`streams.broker.lag.end_offsets`). The metrics collector
(:mod:`monitoring.strays`) exports the last reading, an alert tickets it, and a reading that
finds new stray records logs an error naming the topic and what to do. Topic names come from
the registry's ids or the sender's choice: never a case or a person.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from faust.types import TP
from kafka import TopicPartition

from schemas.errors import KawalError
from streams.broker import tansu
from streams.broker.endpoint import BROKER_WAIT_SECONDS, BrokerEndpoint, admin_client
from streams.broker.lag import end_offsets
from streams.domain.institutions import Institution, resembling
from streams.topics import INBOUND_PREFIX, SHARED_INBOUND, inbound_topics, institution_of_inbound

log = logging.getLogger(__name__)

#: Records of each stray inbound topic, by topic name.
Strays = dict[str, int]


class StrayTopicError(KawalError):
    """A topic asked to be deleted is not a stray inbound topic on the broker."""


def stray_inbound(topics: Iterable[str], read: Collection[str]) -> list[str]:
    """The inbound topics among ``topics`` that are not in ``read``, sorted."""
    return sorted(
        topic
        for topic in topics
        if (topic == SHARED_INBOUND or topic.startswith(INBOUND_PREFIX)) and topic not in read
    )


def stray_remedy(topic: str, institutions: Mapping[str, Institution]) -> str:
    """What to do about the records on the stray inbound ``topic``, given ``institutions``.

    An institution of the shared lane publishes to the shared topic. One missing from the
    registry may have been added to the file after the worker started: then a restart reads
    its records. Otherwise they must be published again to the right topic before the stray
    topic is deleted.
    """
    sender = institution_of_inbound(topic) or ""
    delete = f"then delete the topic (`kawal topics strays --delete {topic}`)"
    if sender in institutions:
        return (
            f"{sender} is in the shared lane: have it publish them again to "
            f"{SHARED_INBOUND}, {delete}"
        )
    return (
        f"{sender!r} is not in the registry this process read"
        f"{resembling(sender, institutions) or '.'} "
        "If it was registered since, restart the worker: it then reads them. Otherwise have the "
        f"sender publish them again with its registered id, {delete}"
    )


def read_strays(
    endpoint: BrokerEndpoint,
    read: Collection[str],
    security: Mapping[str, Any] | None = None,
    timeout: float = BROKER_WAIT_SECONDS,
    known: tansu.KnownEnds | None = None,
) -> Strays:
    """The records of every stray inbound topic on ``endpoint`` with any, read now.

    Raises:
        kafka.errors.KafkaError: the broker did not answer.
        streams.broker.tansu.EndOffsetError: tansu's end offsets could not be fetched.
    """
    with admin_client(endpoint, security, timeout) as admin:
        strays = stray_inbound(admin.list_topics(), read)
        described = admin.describe_topics(strays) if strays else []
    partitions = [
        TopicPartition(topic["name"], partition["partition_index"])
        for topic in described
        for partition in topic["partitions"]
    ]
    counts: Strays = {}
    for tp, end in end_offsets(endpoint, partitions, security or {}, timeout, known).items():
        counts[tp.topic] = counts.get(tp.topic, 0) + end
    return {topic: records for topic, records in sorted(counts.items()) if records > 0}


def delete_strays(
    endpoint: BrokerEndpoint,
    topics: Collection[str],
    read: Collection[str],
    security: Mapping[str, Any] | None = None,
    timeout: float = BROKER_WAIT_SECONDS,
) -> None:
    """Delete ``topics``, each an inbound topic on the broker that is not in ``read``.

    Nothing is deleted unless every topic is such a stray: a typo must not delete a topic the
    pipeline reads, whose records may not all be processed yet.

    Raises:
        StrayTopicError: a topic is not an inbound topic, is read, or is not on the broker.
        kafka.errors.KafkaError: the broker did not answer or refused.
    """
    with admin_client(endpoint, security, timeout) as admin:
        present = set(admin.list_topics())
        for topic in topics:
            _check_stray(topic, read, present)
        admin.delete_topics(sorted(set(topics)), timeout_ms=int(timeout * 1000))


def _check_stray(topic: str, read: Collection[str], present: Collection[str]) -> None:
    if not stray_inbound([topic], ()):
        raise StrayTopicError(
            f"{topic} is not an inbound topic ({INBOUND_PREFIX}…): only stray inbound topics "
            "are deleted here, nothing was deleted"
        )
    if topic in read:
        raise StrayTopicError(
            f"the pipeline reads {topic} (an institution of the registry publishes there): "
            "it is no stray, nothing was deleted"
        )
    if topic not in present:
        raise StrayTopicError(
            f"no topic {topic} on the broker, nothing was deleted; `kawal topics strays` lists "
            "the stray ones"
        )


@dataclass
class StrayWatch:
    """The last reading of stray inbound topics, refreshed by :meth:`refresh`."""

    endpoint: BrokerEndpoint
    #: The registry the pipeline reads the inbound topics of, by institution id.
    institutions: Mapping[str, Institution]
    security: Mapping[str, Any] | None = None
    #: How long a reading waits for the broker's answers, in seconds.
    timeout: float = BROKER_WAIT_SECONDS
    #: The last reading; None until the first succeeded.
    strays: Strays | None = None
    #: Readings that failed (the broker unreachable), since the process started.
    failures: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _known_ends: dict[TP, tuple[int, int]] = field(default_factory=dict, repr=False)

    def refresh(self) -> None:
        """Read the strays now; log each topic with new records; a failure is counted."""
        try:
            read = inbound_topics(tuple(self.institutions.values()))
            strays = read_strays(
                self.endpoint, read, self.security, self.timeout, known=self._known_ends
            )
        except Exception as exc:
            # The broker unreachable, tansu's ends unread, or a client library's own error:
            # counted and logged, the worker goes on.
            with self._lock:
                self.failures += 1
            log.warning("stray inbound topics could not be read (%s)", type(exc).__name__)
            return
        with self._lock:
            before, self.strays = self.strays or {}, strays
        for topic, records in strays.items():
            if records > before.get(topic, 0):
                log.error(
                    "%d records are on %s, an inbound topic the pipeline does not read: they "
                    "are not processed and their senders get no receipt; %s",
                    records,
                    topic,
                    stray_remedy(topic, self.institutions),
                )

    def snapshot(self) -> tuple[Strays | None, int]:
        """The last reading and how many readings failed."""
        with self._lock:
            return (dict(self.strays) if self.strays is not None else None), self.failures
