"""Pipeline agent: inbound topics → case events, the audit trail, receipts and feeds.

For each inbound record, in one step: ingress decides on it (:mod:`streams.hub.ingress`), the
ledger sequences and chains it (:mod:`streams.domain.ledger`), and the router addresses its entry to
every entitled institution (:mod:`streams.hub.router`). An accepted event produces

- its committed bytes on ``kawal.case.events``, with CloudEvents headers: the bytes its sender
  signed, personal data replaced by salted commitments, which the chain hashes;
- its entry on ``kawal.case.audit``, the canonical trail the audit sink stores, its hash
  signed by the hub and its disclosures encrypted under the case's data key
  (:mod:`streams.vault.entries`);
- an acceptance receipt with its place in the trail and the hub's signature on the sender's feed;
- the entry on the feed of every institution entitled to it, with the disclosures its role may
  see sealed to it;

and a refused record a ``kawal.dlq`` record and a signed rejection receipt.

The three steps share one consume of the record and one case table value: passed between
agents through topics, every event cost the worker two more consumes and produces (about a
tenth of a millisecond each in Faust). Records come in batches; the case table is written once
per changed case per batch, with the accepted-event index values of the events it chained. A
batch is acknowledged once its records are with the producer, and confirmed while the next
batch is processed; its offsets are committed only after the broker has acknowledged them
(:mod:`streams.hub.outbox`), so a crash at any point redelivers the batch, and every step of it
is idempotent (a redelivered event keeps its sequence number and hash).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import faust
from faust.streams import Stream

from monitoring.metrics import HubMetrics, Outcome, Stage
from schemas.codec import AvroCodec
from schemas.errors import KawalError
from streams.daemon_pool import DaemonPool
from streams.domain.entries import vouch
from streams.domain.hub_signer import HubSigner
from streams.domain.ledger import AcceptedEvent, CaseChain, audit_entry, entry_fields
from streams.domain.reasons import Reason, Rejection
from streams.domain.signing import SigningKey
from streams.headers import SOURCE_HEADER, cloud_event_headers
from streams.hub.batch_keys import BatchKeys
from streams.hub.broker_time import SenderClocks
from streams.hub.case_table import CaseBatch, CaseRecord
from streams.hub.event_times import recorded_at
from streams.hub.hub_key_check import hub_key_for_batch
from streams.hub.ingress import (
    Admission,
    CaseRules,
    Refusal,
    examine,
    position_of,
    sender_of,
)
from streams.hub.misplaced import Misplacement
from streams.hub.outbox import Keyed, Outbox, Sent, confirm
from streams.hub.provisional_clocks import report_provisional
from streams.hub.receipts import acceptance_receipt, receipt_value, rejection_receipt
from streams.hub.rejections import dead_letter_value, log_failure, log_rejection, log_stop
from streams.hub.router import Router
from streams.hub.told_signers import ToldSigners
from streams.hub.unrouted_parties import report_unrouted
from streams.topics import CASE_AUDIT, CASE_EVENTS, DLQ, outbound_topic
from streams.vault.data_keys import Erased
from streams.vault.entries import CaseKeys, DataKey, vaulted

log = logging.getLogger(__name__)

#: Largest batch, and how long a batch waits to fill, in seconds (the latency it may add). In
#: a burst another institution's event waits behind about two batches (docs/scale.md): 200
#: kept it near a third of a second where 500 took twice as long, for 8 % less throughput.
BATCH_SIZE = 200
BATCH_WINDOW_SECONDS = 0.005

#: The refusal's reason to the sender: the hub's own loss, nothing the sender can mend.
DATA_KEY_MISSING_DETAIL = (
    "the hub cannot keep this event's personal data now: its case's data key is missing from "
    "the hub's vault; the hub's operators restore it and deliver the event again from the "
    "dead-letter queue, so do not send it again"
)


class DataKeyMissingError(KawalError):
    """A case the hub holds has no data key in the vault; the message names the case."""


#: A record to produce, to its key's partition: topic, key, value and headers.
Outgoing = Keyed
#: Makes a new outbox on the app's producer (one per batch).
OutboxFactory = Callable[[], Outbox]


@dataclass(frozen=True)
class Pipeline:
    """The step every inbound record takes, and what it needs: nothing else of the app."""

    codec: AvroCodec
    rules: CaseRules
    router: Router
    metrics: HubMetrics
    #: Chooses the hub's key, valid at each batch: it vouches for entries, signs receipts.
    hub_key: HubSigner
    new_outbox: OutboxFactory
    #: The case table (:mod:`streams.hub.case_table`), a Faust table.
    table: Any
    #: The accepted-event index (:mod:`streams.hub.case_table`), a Faust table.
    index: Any
    #: The cases' data keys, which the disclosures are kept under.
    case_keys: CaseKeys
    #: Counts inbound records whose timestamp (recorded_at) their sender chose.
    sender_clocks: SenderClocks
    #: The thread a batch asks the vault on: one that a stopping worker does not wait for.
    vault_thread: Executor = field(default_factory=lambda: DaemonPool(1, "kawal-vault-batch"))
    #: Unregistered institutions this process logged missing an entry (then only counted).
    unrouted_logged: set[str] = field(default_factory=set)
    #: The signers told of a misplaced event already, by event id.
    told_signers: ToldSigners = field(default_factory=ToldSigners)

    async def process_batch(self, messages: list[faust.types.Message]) -> Sent:
        """Process records in order; return once everything they produced is with the producer.

        Returns:
            The futures that confirm those records (:func:`streams.hub.outbox.confirm`).
        """
        self.sender_clocks.check(messages)
        outbox = self.new_outbox()
        cases = CaseBatch(self.table, self.index)
        keys = await self._batch_keys(messages, cases)
        # Chosen after the last wait: nothing of the batch is signed with a key seen revoked.
        hub_key = await hub_key_for_batch(self.hub_key, min(map(recorded_at, messages)))
        for message in messages:
            outbox.extend(self.decide(cases, message, keys, hub_key))
        cases.save(outbox)
        return await outbox.send()

    async def _batch_keys(
        self, messages: list[faust.types.Message], cases: CaseBatch
    ) -> Mapping[str, DataKey]:
        """The data keys of a batch's cases (:meth:`BatchKeys.of_batch`)."""
        return await self._keys().of_batch(messages, cases)

    def _keys(self) -> BatchKeys:
        return BatchKeys(self.case_keys, self.metrics, self.vault_thread)

    def decide(
        self,
        cases: CaseBatch,
        message: faust.types.Message,
        data_keys: Mapping[str, DataKey] | None = None,
        hub_key: SigningKey | None = None,
    ) -> list[Outgoing]:
        """The records one inbound record produces; an unexpected failure refuses it.

        ``data_keys`` are the keys the batch asked the vault for, of every case it holds: the
        vault is never asked on the event loop. Outside a batch (tools, tests) the record's
        key is asked first, within its deadline (:mod:`streams.hub.batch_keys`). ``hub_key``
        signs (default: the key valid now). Nothing of the case changes unless every record
        was built: a failure halfway leaves it as it was.

        Raises:
            VaultError: outside a batch, the vault refused or gave no answer.
            streams.domain.hub_signer.HubKeyUnavailableError: no ``hub_key``, and none valid now.
        """
        hub_key = hub_key or self.hub_key.key_at(datetime.now(UTC))
        if data_keys is None:
            data_keys = self._keys().outside_batch(cases, message)
        try:
            started = time.perf_counter()
            verdict = examine(self.codec, self.rules, message, cases)
            self.metrics.observe(Stage.INGRESS, time.perf_counter() - started)
            if isinstance(verdict, Refusal):
                return self.refused(cases, verdict, message, hub_key)
            return self.accepted(cases, verdict, message, data_keys, hub_key)
        except DataKeyMissingError as exc:
            log.error("%s", exc)
            refusal = Refusal(Rejection(Reason.DATA_KEY_MISSING, DATA_KEY_MISSING_DETAIL), None)
            return self.refused(cases, refusal, message, hub_key)
        except Exception as exc:
            detail = log_failure(Stage.INGRESS, message, exc)
            refusal = Refusal(Rejection(Reason.INTERNAL_ERROR, detail), None)
            return self.refused(cases, refusal, message, hub_key)

    def accepted(
        self,
        cases: CaseBatch,
        admission: Admission,
        message: faust.types.Message,
        data_keys: Mapping[str, DataKey],
        hub_key: SigningKey,
    ) -> list[Outgoing]:
        """Sequence and chain an admitted event; its case event, entry, receipt and feeds."""
        started = time.perf_counter()
        codec = self.codec
        signed = admission.signed
        envelope = signed.envelope
        case_id, event_id = envelope["case_id"], envelope["event_id"]
        key = message.key if isinstance(message.key, bytes) else None
        known = cases.get(case_id)
        chain = known.chain if known else CaseChain()
        # The chain covers the bytes the sender signed, so redacted views verify too.
        accepted_at = recorded_at(message)
        link = chain.place(entry_fields(signed, admission.source, accepted_at), admission.earlier)
        hub_signature = vouch(hub_key, link.hash)
        entry = audit_entry(link, signed, admission.source, accepted_at, hub_signature)
        receipt = acceptance_receipt(admission.source, envelope, link, accepted_at, hub_signature)
        position = position_of(admission.source)
        data_key = self._data_key(data_keys, case_id, known)
        if isinstance(data_key, Erased):
            # An erased case stays erased: the hub neither keeps nor passes on its values.
            entry = entry | {"disclosures": []}
        stored = vaulted(codec.catalog, data_key, entry)
        outgoing: list[Outgoing] = [
            (
                CASE_EVENTS,
                key,
                signed.event,
                [*cloud_event_headers(envelope), (SOURCE_HEADER, position.encode())],
            ),
            (CASE_AUDIT, key, codec.encode("kawal.AuditEntry", stored, checked=False), None),
            (outbound_topic(envelope["source"]), key, receipt_value(codec, receipt), None),
        ]
        self.metrics.observe(Stage.LEDGER, time.perf_counter() - started)
        started = time.perf_counter()
        feeds = self.router.feeds(entry, admission.lifecycle)
        outgoing += [(topic, key, view, None) for topic, view in feeds]
        self.metrics.observe(Stage.ROUTER, time.perf_counter() - started)
        if link.new:
            chain.extend(link)
            unrouted = self.router.unrouted(admission.lifecycle, entry["event_type"])
            if unrouted:
                where = (case_id, link.seq, entry["event_type"])
                report_unrouted(self.metrics, self.unrouted_logged, unrouted, where)
        # A redelivery writes its case and index value again, unchanged: their changelog
        # records may not have reached the broker before the crash that redelivered it.
        cases.accept(
            case_id, event_id, AcceptedEvent(position, link.seq, link.prev_hash, link.hash)
        )
        cases.put(case_id, CaseRecord(admission.lifecycle, chain), message.partition)
        self._count(admission, link.new)
        report_provisional(self.metrics, self.rules.calendar, case_id, admission.provisional)
        return outgoing

    def refused(
        self,
        cases: CaseBatch,
        refusal: Refusal,
        message: faust.types.Message,
        hub_key: SigningKey,
    ) -> list[Outgoing]:
        """The DLQ record of a refused inbound record and the rejection receipt to its sender."""
        rejection = refusal.rejection
        key = message.key if isinstance(message.key, bytes) else None
        letter = dead_letter_value(
            self.codec, self.rules.keys, Stage.INGRESS, rejection.reason, rejection.detail, message
        )
        outgoing: list[Outgoing] = [(DLQ, key, letter, None)]
        source = (message.topic, message.partition, message.offset)
        sender = sender_of(message, refusal)
        if refusal.misplaced is not None and refusal.envelope is not None:
            outgoing += self._to_placer(refusal.misplaced, refusal.envelope, source, key, hub_key)
            if not self.told_signers.first(str(sender), str(refusal.envelope["event_id"])):
                sender = None  # told of this event once already: a replay floods nobody
        if sender is not None and sender in self.rules.institutions:
            head = _head(cases, refusal) if refusal.authenticated else None
            receipt = rejection_receipt(hub_key, rejection, source, refusal.envelope, head)
            outgoing.append((outbound_topic(sender), key, receipt_value(self.codec, receipt), None))
        log_rejection(self.metrics, Stage.INGRESS, rejection.reason, message, refusal.envelope)
        return outgoing

    def _to_placer(
        self,
        misplaced: Misplacement,
        envelope: dict[str, Any],
        source: tuple[str, int, int],
        key: bytes | None,
        hub_key: SigningKey,
    ) -> list[Outgoing]:
        """The refusal told to who placed a misplaced signed event: each copy, no case head."""
        placer, told = misplaced.placer, misplaced.to_placer
        if placer is None or told is None or placer not in self.rules.institutions:
            return []
        receipt = rejection_receipt(hub_key, told, source, envelope, None)
        return [(outbound_topic(placer), key, receipt_value(self.codec, receipt), None)]

    def _data_key(
        self, fetched: Mapping[str, DataKey], case_id: str, known: CaseRecord | None
    ) -> bytes | Erased:
        # The batch asked for every case it holds, making the keys of new ones: one it lacks
        # is a key the vault lost. Asked again here, a frozen vault would stop the event loop.
        found = fetched.get(case_id)
        if found is None:
            entries = known.chain.last_seq if known is not None else 0
            raise DataKeyMissingError(
                f"the data-key vault holds no key for case {case_id}, which has {entries} "
                "entries: its event is refused (data_key_missing) and kept in kawal.dlq; "
                "restore the vault from a backup holding the key, then `kawal dlq replay "
                "--reason data_key_missing` (docs/operations.md, A case whose data key is lost)"
            )
        return found

    def _count(self, admission: Admission, chained: bool) -> None:
        # One outcome per stage that handled the event: a redelivery, taken before, is a
        # duplicate at each, so a crash's replayed batch is not counted as accepted twice.
        admitted = Outcome.DUPLICATE if admission.redelivered else Outcome.ACCEPTED
        self.metrics.count(Stage.INGRESS, admitted)
        placed = Outcome.ACCEPTED if chained else Outcome.DUPLICATE
        self.metrics.count(Stage.LEDGER, placed)
        self.metrics.count(Stage.ROUTER, placed)


def register(app: faust.App, inbound: faust.TopicT, step: Pipeline) -> None:
    """Attach the pipeline agent, reading every inbound topic, to ``app``."""

    @app.agent(inbound, name="kawal.pipeline")
    async def pipeline(stream: faust.StreamT[bytes]) -> None:
        # take_events acknowledges a batch when the loop body returns, with its records at
        # the producer; the offset commit waits until the broker has them (streams.hub.outbox).
        batches = cast(Stream[bytes], stream).take_events(BATCH_SIZE, within=BATCH_WINDOW_SECONDS)
        in_flight: Sent = []
        try:
            async for events in batches:
                sent = await step.process_batch([event.message for event in events])
                # The previous batch's records travelled to the broker while this one was made.
                await confirm(in_flight)
                in_flight = sent
        except Exception as exc:
            # The app's CrashingSupervisor then stops the worker (exit 1): an agent restarted
            # in place would leave the batch unacknowledged, every later commit held back.
            log_stop("pipeline", exc)
            raise


def _head(cases: CaseBatch, refusal: Refusal) -> tuple[int, str] | None:
    known = cases.get(refusal.envelope["case_id"]) if refusal.envelope else None
    return known.chain.head if known else None
