"""The outbound half of a connector's runtime: the feed delivered into the institution's system.

:class:`OutboundRunner` consumes ``kawal.outbound.<institution>`` in the consumer group
``kawal-connector:<institution>:<name>``, believes an entry only when the hub and its sender
signed it and it extends its case's chain as far as the connector has seen it
(:mod:`connectors.feed_chains`), by the key registry as its file is when the entry arrives
(a key revoked meanwhile vouches for nothing), keeps the hub's signed tree heads from
``kawal.heads`` (:mod:`connectors.heads`), delivers each entry with retries and commits the
offset only after the entry was delivered or dead-lettered (:mod:`connectors.runtime` holds
what both halves share). A broker that does not answer a fetch, a dead letter or a commit
holds the runner back at the first entry not handled, until it answers again; it does not end
the connector. Nor does a failure on one entry that nobody foresaw: that entry is
dead-lettered (:mod:`connectors.record_failures`).

A delivery the system did not take after its retries is never skipped nor dead-lettered: the
runner holds the entry's partition at it (:mod:`connectors.feed_holds`) and delivers it again
after a wait, pass after pass, until the system takes it; one case's entries reach the system
in their order. Meanwhile the connector is down (``kawal_connector_up`` 0, each pass that gave
up counted in ``kawal_connector_failures_total``, ``/readyz`` 503) and each pass that gave up
logs a WARNING with the entry's position and event id; the delivery that succeeds logs that
the system takes deliveries again. An entry the system refuses as such
(:class:`connectors.errors.PermanentError`) is dead-lettered, and the runner goes on.
``kawal_connector_records_total`` counts the calls into the system that succeeded (entries
delivered, the hub's refusals told). A ``duplicate_event`` receipt is the hub saying it holds
an event sent again (:attr:`connectors.receipts.HubRefusal.already_held`): logged at INFO and
counted apart, never a refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from connectors.base import (
    ConnectorConfig,
    FeedEntry,
    OutboundConnector,
)
from connectors.dead_letters import PUBLISH_TIMEOUT_SECONDS, Rejection, send_dead_letter
from connectors.errors import PermanentError
from connectors.feed_chains import FeedChains
from connectors.feed_holds import FeedHolds
from connectors.heads import HeadKeeper
from connectors.producer_renewal import RenewsProducer
from connectors.receipts import believed_refusal
from connectors.record_failures import INTERNAL_ERROR, failure_reason, is_machine_failure
from connectors.retry import GaveUp, RetryPolicy, with_retries
from connectors.runtime import Patience, unwatched
from monitoring.connectors import ConnectorProbe
from schemas.codec import AvroCodec, CodecError
from streams.domain.entries import EntryProblem, check_entry, open_feed_disclosures
from streams.domain.keyring import KeyRing
from streams.domain.registry_watch import RegistryWatch
from streams.topics import outbound_topic

log = logging.getLogger(__name__)


class OutboundRunner(RenewsProducer):
    """Delivers an institution's outbound feed into its system."""

    connector: OutboundConnector[ConnectorConfig]

    def __init__(
        self,
        connector: OutboundConnector[ConnectorConfig],
        consumer: KafkaConsumer,
        producer: KafkaProducer,
        codec: AvroCodec,
        policy: RetryPolicy,
        keyring: KeyRing,
        chains: FeedChains,
        heads: HeadKeeper | None = None,
        probe: ConnectorProbe | None = None,
        new_producer: Callable[[], KafkaProducer] | None = None,
    ) -> None:
        """``new_producer`` makes a producer in place of one the broker stopped answering.

        Without it, the same producer is tried again (see
        :class:`connectors.runtime.InboundRunner`).
        """
        self.connector = connector
        self.new_producer = new_producer
        self.probe = probe or unwatched(connector.name, connector.institution)
        #: Deliveries of the current pass that gave up on the system.
        self._gave_up = 0
        #: Calls into the system of the current pass that succeeded.
        self._delivered = 0
        self.consumer = consumer
        #: The feed's partitions held at an entry the system did not take.
        self.holds = FeedHolds(consumer, policy)
        self.producer = producer
        self.codec = codec
        self.policy = policy
        self.keyring = keyring
        #: The registry's file, read again when it changed (a key revoked, a successor added).
        self.keys = RegistryWatch(keyring.registry)
        self.probe.follow_registry(self.keys)
        self.chains = chains
        #: Keeps the hub's signed tree heads when the consumer also reads ``kawal.heads``.
        self.heads = heads

    @classmethod
    def topic_of(cls, connector: OutboundConnector[ConnectorConfig]) -> str:
        """The outbound topic this connector consumes."""
        return outbound_topic(connector.institution)

    def run_once(self, timeout_ms: int = 500) -> int:
        """Deliver what arrives within ``timeout_ms``; return how many entries were handled.

        A pass the broker breaks (it does not answer a fetch, or take a dead letter or a
        commit) commits nothing past what it settled: the feed's position goes back to the
        first entry not handled, which the next pass handles through a new producer. A
        partition held at an entry the system did not take is read again from that entry
        once its wait is over (:mod:`connectors.feed_holds`); an entry it holds at is not
        counted as handled.
        """
        self._gave_up = self._delivered = 0
        if not self._renew_producer():
            return 0
        #: Per partition, the offset of the first entry of this pass not yet handled.
        unsettled: dict[TopicPartition, int] = {}
        handled = 0
        try:
            self.holds.resume_due()
            timeout_ms = self.holds.poll_ms(timeout_ms)
            polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=200)
            # After the poll, which may wait: an entry that came meanwhile meets the registry
            # as it is now, a key revoked while the poll waited included.
            self.keys.refresh()
            unsettled = {partition: records[0].offset for partition, records in polled.items()}
            for partition, records in polled.items():
                handled += self._handle_partition(partition, records, unsettled)
                self._commit(partition, unsettled[partition])
        except KafkaError as exc:
            self._broker_missed(exc, unsettled)
            return handled
        self._report_pass()
        return handled

    def catch_up(self) -> None:
        """Let the connector do what it left for later; export how many items still wait.

        Whatever the connector raises is logged (its type and the connector's own words,
        free of personal data like every reason) and the loop goes on: this work never holds
        the feed nor ends the connector.
        """
        try:
            waiting = self.connector.catch_up()
        except Exception as exc:
            if is_machine_failure(exc):
                raise
            log.warning(
                "%s: the work it left for later failed (%s: %s); tried again at its next turn",
                self.connector.name,
                type(exc).__name__,
                exc,
            )
            return
        self.probe.waiting(waiting)

    def _handle_partition(
        self,
        partition: TopicPartition,
        records: list[ConsumerRecord],
        unsettled: dict[TopicPartition, int],
    ) -> int:
        """Settle ``records`` in order up to one the system did not take; how many were."""
        for settled, record in enumerate(records):
            if not self._handle(record):
                return settled
            unsettled[partition] = record.offset + 1
            self._hold_ended(partition, record.offset)
        return len(records)

    def _report_pass(self) -> None:
        """Count a pass that gave up on the system; up only while no entry is held."""
        if self._gave_up:
            self.probe.failed()
        # A pass with nothing to deliver (a quiet feed, heads, acceptances, a held partition
        # waiting) does not show the system back: it stays down until the held entry is taken.
        if self.holds:
            self.probe.counted(self._delivered)
            self.probe.undelivered()
        else:
            self.probe.succeeded(self._delivered)

    def _commit(self, partition: TopicPartition, offset: int) -> None:
        """Commit ``partition`` up to ``offset``: the entries before it were settled."""
        position = OffsetAndMetadata(offset, "", -1)
        timeout_ms = int(PUBLISH_TIMEOUT_SECONDS * 1000)
        self.consumer.commit({partition: position}, timeout_ms=timeout_ms)
        self.probe.checkpointed()

    def _broker_missed(self, exc: KafkaError, unsettled: dict[TopicPartition, int]) -> None:
        """Go back to the first entry not handled on each partition; renew the producer."""
        # Names and error types only: an entry's content stays out of the log.
        log.warning(
            "%s: the broker did not answer (%s); nothing is committed past what was "
            "delivered, and the next pass goes on from the first entry not handled",
            self.connector.name,
            type(exc).__name__,
        )
        assigned = self.consumer.assignment()
        for partition, offset in unsettled.items():
            # A partition the group gave another member resumes there from its last commit.
            if partition in assigned:
                self.consumer.seek(partition, offset)
        self._producer_lost()

    def _handle(self, record: ConsumerRecord) -> bool:
        """Settle ``record``; False when it is held (:meth:`_into_system`).

        A failure nobody foresaw dead-letters it (record_failures).
        """
        try:
            return self._settle(record)
        except Exception as exc:
            if is_machine_failure(exc):
                raise
            position = f"{record.partition}:{record.offset}"
            then = f"restart the connector once with `--redeliver-from {position}`"
            reason = failure_reason(self.connector.name, f"feed record {position}", exc, then)
            self._reject(record, INTERNAL_ERROR, reason)
            return True

    def _settle(self, record: ConsumerRecord) -> bool:
        """Deliver an entry believed, note a receipt or keep a head; dead-letter what is not.

        False when the system did not take the entry, which is then held.
        """
        try:
            decoded = self.codec.decode(record.value)
        except CodecError as exc:
            self._reject(record, "undecodable", str(exc))
            return True
        if decoded.full_name == "kawal.TreeHead" and self.heads is not None:
            refusal = self.heads.keep(decoded.record)
            if refusal is not None:
                self._reject(record, refusal.code, f"tree head refused: {refusal.detail}")
            return True
        if decoded.full_name == "kawal.Receipt":
            return self._note_receipt(record, decoded.record)
        if decoded.full_name != "kawal.AuditEntry":
            return True
        believed = self._believe(decoded.record)
        if isinstance(believed, EntryProblem):
            reason = (
                f"entry {decoded.record['case_id']}#{decoded.record['seq']} refused: "
                f"{believed.detail}; the hub did not vouch for it as it stands"
            )
            self._reject(record, believed.code, reason)
            return True
        entry = believed
        # Known before delivery: a redelivery after a crash finds the same hash, a fork not.
        self.chains.record(entry.entry)
        return self._into_system(record, entry.event_id, lambda: self.connector.deliver(entry))

    def _note_receipt(self, record: ConsumerRecord, receipt: dict[str, Any]) -> bool:
        """Tell ops, and the system, of a refusal the hub signed; acceptances need nothing.

        False when the system did not take the refusal, which is then held.
        """
        refusal = believed_refusal(self.keyring.registry, receipt)
        if refusal is None:
            return True
        if isinstance(refusal, EntryProblem):
            self._reject(record, refusal.code, f"rejection receipt refused: {refusal.detail}")
            return True
        if refusal.already_held:
            # The ids of an event and its case only, as the refusal's WARNING names them.
            log.info(
                "%s: the hub holds %s %s of case %s already (sent again, answered %s at %s); "
                "nothing to do",
                self.connector.name,
                refusal.event_type or "event",
                refusal.event_id,
                refusal.case_id or "(unknown)",
                refusal.reason_code,
                refusal.source,
            )
            self.probe.already_held()
            return True
        log.warning(
            "%s: the hub refused %s %s of case %s (%s at %s): %s",
            self.connector.name,
            refusal.event_type or "record",
            refusal.event_id or "(unreadable)",
            refusal.case_id or "(unknown)",
            refusal.reason_code,
            refusal.source,
            refusal.reason,
        )
        self.probe.refused_by_hub(refusal.reason_code)
        return self._into_system(record, refusal.event_id, lambda: self.connector.refused(refusal))

    def _into_system(
        self, record: ConsumerRecord, event_id: str | None, call: Callable[[], object]
    ) -> bool:
        """Make ``call`` into the system with retries; False when it gave up (held).

        A refusal of the record itself (PermanentError) dead-letters it.
        """
        try:
            what = f"{self.connector.name}: delivering event {event_id}"
            outcome = with_retries(call, self.policy, Patience(self.probe), what)
        except PermanentError as exc:
            self._reject(record, exc.reason_code, f"event {event_id}: {exc.reason}")
            return True
        if isinstance(outcome, GaveUp):
            self._hold_at(record, event_id, outcome)
            return False
        self._delivered += 1
        return True

    def _hold_at(self, record: ConsumerRecord, event_id: str | None, outcome: GaveUp) -> None:
        """Hold ``record``'s partition at it, which the system did not take: down meanwhile."""
        partition = TopicPartition(record.topic, record.partition)
        held = self.holds.hold(partition, record.offset, event_id)
        self._gave_up += 1
        # Ids and the connector's own words only (connectors.errors): no personal data, no
        # answer of the system.
        log.warning(
            "%s: its system takes no deliveries (%d attempts, %s: %s); the feed is held at "
            "%s (event %s), nothing after it is delivered; the same entry is tried again in "
            "%.1f s (passes given up on it: %d)",
            self.connector.name,
            outcome.attempts,
            type(outcome.last_error).__name__,
            outcome.last_error,
            held.position,
            event_id,
            held.wait,
            held.passes,
        )

    def _hold_ended(self, partition: TopicPartition, offset: int) -> None:
        """The entry at ``offset`` of ``partition`` was settled: say so if it ends a hold."""
        held = self.holds.settled(partition, offset)
        if held is None:
            return
        log.info(
            "%s: its system takes deliveries again; the entry held at %s (event %s) is "
            "settled after %d passes given up on it, and the feed goes on",
            self.connector.name,
            held.position,
            held.event_id,
            held.passes,
        )

    def _believe(self, entry: dict[str, Any]) -> FeedEntry | EntryProblem:
        """The entry to deliver, if both signatures hold and it extends its case's chain."""
        opened = open_feed_disclosures(
            self.codec.catalog, self.keyring, self.connector.institution, entry
        )
        if isinstance(opened, EntryProblem):
            return opened
        revealed = check_entry(self.codec, self.keyring.registry, entry, opened)
        if isinstance(revealed, EntryProblem):
            return revealed
        problem = self.chains.problem(entry)
        if problem is not None:
            return problem
        return FeedEntry(entry=entry, event=revealed, event_type=str(entry["event_type"]))

    def _reject(self, record: ConsumerRecord, reason_code: str, reason: str) -> None:
        rejection = Rejection(
            reason_code=reason_code,
            reason=reason,
            source_topic=record.topic,
            source_partition=record.partition,
            source_offset=record.offset,
            payload=record.value,
            key=record.key,
        )
        send_dead_letter(self.producer, self.codec, self.keyring.registry, rejection)
        self.probe.dead_lettered(reason_code)
