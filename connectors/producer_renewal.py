"""A runner's producer made again once a broker stopped answering it.

kafka-python's producer takes no record again once a broker froze or went away, so the inbound
and outbound runners (:mod:`connectors.runtime`, :mod:`connectors.outbound_runner`) renew theirs
before they send again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kafka import KafkaProducer
from kafka.errors import KafkaError

from connectors.base import Connector, ConnectorConfig
from streams.broker.producer_close import close_within

log = logging.getLogger(__name__)


class RenewsProducer:
    """A runner whose producer is made again once a broker stopped answering it.

    kafka-python's producer takes no record again once a broker froze or went away: a runner
    whose send the broker did not take calls :meth:`_producer_lost`, and :meth:`_renew_producer`
    before it sends again. Without ``new_producer``, the same producer is tried again.
    """

    connector: Connector[ConnectorConfig]
    producer: KafkaProducer
    new_producer: Callable[[], KafkaProducer] | None
    #: The producer met a broker that did not answer: make another before sending again.
    _stale: bool = False

    def _producer_lost(self) -> None:
        """The broker did not take a send: the next pass makes a new producer first."""
        self._stale = self.new_producer is not None

    def _renew_producer(self) -> bool:
        """A new producer in place of a stale one; False while no broker answers."""
        if not self._stale or self.new_producer is None:
            return True
        try:
            renewed = self.new_producer()
        except KafkaError as exc:
            log.warning(
                "%s: no broker answers yet (%s); tried again at the next pass",
                self.connector.name,
                type(exc).__name__,
            )
            return False
        # What the stale one still queues is sent again since, through the new one.
        close_within(self.producer, 1.0)
        self.producer, self._stale = renewed, False
        return True
