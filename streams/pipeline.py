"""Pipeline agent: inbound topics → case events, the audit trail, receipts and feeds.

For each inbound record, in one step: ingress decides on it (:mod:`streams.ingress`), the
ledger sequences and chains it (:mod:`streams.ledger`), and the router addresses its entry to
every entitled institution (:mod:`streams.router`). An accepted event produces

- its committed bytes on ``kawal.case.events``, with CloudEvents headers: the canonical
  bytes with personal data replaced by salted commitments, which the chain hashes;
- its entry on ``kawal.case.audit``, the canonical trail the audit sink stores;
- an acceptance receipt with its sequence number and hash on the sender's feed;
- the entry, redacted per role, on the feed of every institution entitled to it;

and a refused record a ``kawal.dlq`` record and a rejection receipt.

The three steps share one consume of the record and one case table value: passed between
agents through topics, every event cost the worker two more consumes and produces (about a
tenth of a millisecond each in Faust). Records come in batches; the case table is written once
per changed case per batch. A batch is acknowledged once its records are with the producer,
and confirmed while the next batch is processed; its offsets are committed only after the
broker has acknowledged them (:mod:`streams.outbox`), so a crash at any point redelivers the
batch, and every step of it is idempotent (a redelivered event keeps its sequence number and
hash).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, cast

import faust
from faust.streams import Stream

from monitoring.metrics import Outcome, Stage
from streams.case_table import CaseBatch, CaseRecord
from streams.deadlines import uncovered_years
from streams.dlq import dead_letter_value, log_failure, log_rejection
from streams.headers import SOURCE_HEADER, cloud_event_headers
from streams.ingress import Admission, Refusal, examine, position_of
from streams.ledger import CaseChain, audit_entry
from streams.lifecycle import CaseLifecycle
from streams.outbox import Keyed, Sent, confirm
from streams.reasons import Reason, Rejection
from streams.receipts import acceptance_receipt, receipt_value, rejection_receipt
from streams.redaction import commit
from streams.topics import CASE_AUDIT, CASE_EVENTS, DLQ, institution_of_inbound, outbound_topic

if TYPE_CHECKING:
    from streams.hub import Hub

log = logging.getLogger(__name__)

#: Largest batch, and how long a batch waits to fill, in seconds (the latency it may add).
BATCH_SIZE = 500
BATCH_WINDOW_SECONDS = 0.005

#: A record to produce, to its key's partition: topic, key, value and headers.
Outgoing = Keyed


def register(hub: Hub) -> None:
    """Attach the pipeline agent to the hub's app."""

    @hub.app.agent(hub.inbound, name="kawal.pipeline")
    async def pipeline(stream: faust.StreamT[bytes]) -> None:
        # take_events acknowledges a batch when the loop body returns, with its records at
        # the producer; the offset commit waits until the broker has them (streams.outbox).
        batches = cast(Stream[bytes], stream).take_events(BATCH_SIZE, within=BATCH_WINDOW_SECONDS)
        in_flight: Sent = []
        async for events in batches:
            sent = await process_batch(hub, [event.message for event in events])
            # The previous batch's records travelled to the broker while this one was made.
            await confirm(in_flight)
            in_flight = sent


async def process_batch(hub: Hub, messages: list[faust.types.Message]) -> Sent:
    """Process records in order; return once everything they produced is with the producer.

    Returns:
        The futures that confirm those records (:func:`streams.outbox.confirm`).
    """
    outbox = hub.outbox()
    cases = CaseBatch(hub.case_table)
    for message in messages:
        outbox.extend(decide(hub, cases, message))
    cases.save(outbox)
    return await outbox.send()


def decide(hub: Hub, cases: CaseBatch, message: faust.types.Message) -> list[Outgoing]:
    """The records one inbound record produces; an unexpected failure refuses it.

    Nothing of the case changes unless every record was built: a failure halfway leaves the
    case as it was.
    """
    try:
        started = time.perf_counter()
        verdict = examine(hub, message, lambda case_id: _lifecycle(cases, case_id))
        hub.metrics.observe(Stage.INGRESS, time.perf_counter() - started)
        if isinstance(verdict, Refusal):
            return refused(hub, verdict, message)
        return accepted(hub, cases, verdict, message)
    except Exception as exc:
        detail = log_failure(Stage.INGRESS, message, exc)
        return refused(hub, Refusal(Rejection(Reason.INTERNAL_ERROR, detail), None), message)


def accepted(
    hub: Hub, cases: CaseBatch, admission: Admission, message: faust.types.Message
) -> list[Outgoing]:
    """Sequence and chain an admitted event; its case event, entry, receipt and feeds."""
    started = time.perf_counter()
    decoded = admission.decoded
    envelope = decoded.record["envelope"]
    case_id, event_id = envelope["case_id"], envelope["event_id"]
    key = message.key if isinstance(message.key, bytes) else None
    # The chain covers the committed form, so redacted views verify too (streams.redaction).
    committed, disclosures = commit(
        hub.catalog, hub.codec, hub.redaction_key, decoded.full_name, decoded.record
    )
    known = cases.get(case_id)
    chain = known.chain if known else CaseChain()
    link = chain.place(event_id, committed)
    entry = audit_entry(link, envelope, committed, admission.source, disclosures)
    receipt = acceptance_receipt(admission.source, envelope, link.seq, link.hash)
    position = position_of(admission.source)
    encoded = hub.codec.encode("kawal.AuditEntry", entry, checked=False)
    outgoing: list[Outgoing] = [
        (
            CASE_EVENTS,
            key,
            committed,
            [*cloud_event_headers(envelope), (SOURCE_HEADER, position.encode())],
        ),
        (CASE_AUDIT, key, encoded, None),
        (outbound_topic(envelope["source"]), key, receipt_value(hub, receipt), None),
    ]
    hub.metrics.observe(Stage.LEDGER, time.perf_counter() - started)
    started = time.perf_counter()
    feeds = hub.router.feeds(entry, encoded, admission.lifecycle)
    outgoing += [(topic, key, view, None) for topic, view in feeds]
    hub.metrics.observe(Stage.ROUTER, time.perf_counter() - started)
    if link.new:
        chain.extend(event_id, link)
    if not admission.redelivered or link.new:
        cases.put(case_id, CaseRecord(admission.lifecycle, chain), message.partition)
    _count(hub, admission, link.new)
    _report_provisional(hub, case_id, admission.provisional)
    return outgoing


def refused(hub: Hub, refusal: Refusal, message: faust.types.Message) -> list[Outgoing]:
    """The DLQ record of a refused inbound record and the rejection receipt to its sender."""
    rejection = refusal.rejection
    key = message.key if isinstance(message.key, bytes) else None
    outgoing: list[Outgoing] = [
        (
            DLQ,
            key,
            dead_letter_value(hub, Stage.INGRESS, rejection.reason, rejection.detail, message),
            None,
        )
    ]
    sender = institution_of_inbound(message.topic)
    if sender is not None and hub.is_registered(sender):
        source = (message.topic, message.partition, message.offset)
        receipt = rejection_receipt(rejection, source, refusal.envelope)
        outgoing.append((outbound_topic(sender), key, receipt_value(hub, receipt), None))
    if rejection.reason is Reason.DUPLICATE:
        hub.metrics.count(Stage.INGRESS, Outcome.DUPLICATE)
    log_rejection(hub, Stage.INGRESS, rejection.reason, message)
    return outgoing


def _lifecycle(cases: CaseBatch, case_id: str) -> CaseLifecycle | None:
    known = cases.get(case_id)
    return known.lifecycle if known else None


def _count(hub: Hub, admission: Admission, chained: bool) -> None:
    if not admission.redelivered:
        hub.metrics.count(Stage.INGRESS, Outcome.ACCEPTED)
    hub.metrics.count(Stage.LEDGER, Outcome.ACCEPTED if chained else Outcome.DUPLICATE)


def _report_provisional(hub: Hub, case_id: str, clocks: tuple[dict[str, Any], ...]) -> None:
    # The clock is kept with a due date that may come too early: ops must add the holiday
    # data before it matters. The case id is an opaque UUID, never personal data.
    for clock in clocks:
        hub.metrics.provisional_deadline(clock["rule_id"])
        years = ", ".join(str(year) for year in uncovered_years(hub.calendar, clock))
        log.error(
            "deadline %s of case %s has a provisional due date %s, counted on weekends only: "
            "no holiday data for %s; add that year's joint decree (SKB 3 Menteri) to the "
            "calendar overrides (KAWAL_CALENDAR_FILE) or upgrade the holidays package",
            clock["rule_id"],
            case_id,
            clock["due_at"],
            years,
        )
