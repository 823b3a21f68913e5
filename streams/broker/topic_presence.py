"""Refuse a send to a topic the broker does not hold, before the producer waits on it.

An inbound topic misspelt by a sender (``kawal.inbound.bkm``) gets no answer from a broker
that creates no topics (Apache Kafka with ``auto.create.topics.enable=false``, as the hub
runs it): kafka-python's producer waits for the topic's metadata up to ``max.block.ms`` and
then times out, long after the mistake, or the record sits in a batch nobody flushes. A
broker that creates topics on first use (tansu) takes it onto a stray topic the pipeline never
reads, and the sender waits for a receipt that never comes.

:class:`TopicPresence` lists the broker's topics once, at the first send, and again only for a
topic it has not seen yet: never once per record. The listing is a metadata request naming no
topic, so it creates none. Topic names come from institution ids, never a case or a person.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from difflib import get_close_matches
from typing import Any

from kafka import KafkaAdminClient

from schemas.errors import KawalError
from streams.broker.endpoint import BROKER_WAIT_SECONDS, kafka_client
from streams.domain.institutions import Institution
from streams.topics import INBOUND_PREFIX, SHARED_INBOUND, inbound_topic_of

#: How alike a missing topic's name and an existing inbound topic's must be to be suggested
#: (difflib's ratio; ``kawal.inbound.bkm`` and ``kawal.inbound.bkn`` score 0.94).
SUGGEST_CUTOFF = 0.85


class TopicMissingError(KawalError):
    """A record was to be sent to a topic the broker does not hold."""


class TopicPresence:
    """Which topics the broker holds, listed at the first need and again for each new topic."""

    def __init__(
        self,
        list_topics: Callable[[], Collection[str]],
        institutions: Mapping[str, Institution] | None = None,
    ) -> None:
        """``list_topics`` asks the broker; ``institutions`` (the registry) sharpen the advice."""
        self._list = list_topics
        self._institutions = institutions
        self._known: frozenset[str] | None = None

    def require(self, topic: str, institution: str) -> None:
        """Return when the broker holds ``topic``, where ``institution`` is to publish.

        Raises:
            TopicMissingError: the broker does not hold it, even listed again; the message
                names the topic and the institution's own inbound topic.
            kafka.errors.KafkaError: the broker could not be asked.
        """
        if self._known is not None and topic in self._known:
            return
        self._known = frozenset(self._list())
        if topic not in self._known:
            raise TopicMissingError(
                missing_topic_reason(topic, institution, self._known, self._institutions)
            )


def missing_topic_reason(
    topic: str,
    institution: str,
    existing: Collection[str],
    institutions: Mapping[str, Institution] | None = None,
) -> str:
    """What to say of ``topic``, missing on the broker, where ``institution`` was to publish.

    ``existing`` are the broker's topics; ``institutions`` the registry, when the caller has it.
    """
    said = f"topic {topic} does not exist on the broker: nothing sent there reaches the hub. "
    known = institutions.get(institution) if institutions is not None else None
    if known is not None:
        return said + (
            f"{institution} is registered and publishes on {inbound_topic_of(known)}; the hub's "
            "operators make its topics with `kawal topics apply`"
        )
    inbound = [
        name for name in existing if name == SHARED_INBOUND or name.startswith(INBOUND_PREFIX)
    ]
    close = get_close_matches(topic, inbound, n=1, cutoff=SUGGEST_CUTOFF)
    guess = f"did you mean {close[0]}? " if close else ""
    return said + (
        f"{guess}Publish on your institution's own inbound topic, "
        f"{INBOUND_PREFIX}<its registered id> ({SHARED_INBOUND} for an institution registered "
        'with inbound = "shared"); a new institution is registered first and its topics made '
        "with `kawal topics apply`. Records already sent astray: `kawal topics strays`"
    )


def broker_topics(
    bootstrap: Sequence[str],
    security: Mapping[str, Any] | None = None,
    wait: float = BROKER_WAIT_SECONDS,
) -> Callable[[], frozenset[str]]:
    """A lister of the topics of the broker at ``bootstrap``, each call a short-lived admin.

    A listing is rare (the first send, then a topic not seen yet), so no admin client is kept
    open beside the producer.
    """

    def listed() -> frozenset[str]:
        admin = kafka_client(
            KafkaAdminClient, bootstrap, security, wait, request_timeout_ms=int(wait * 1000)
        )
        try:
            return frozenset(admin.list_topics())
        finally:
            admin.close()

    return listed
