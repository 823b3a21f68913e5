"""``kawal dlq replay``: send dead letters back to their inbound topics, each once, durably.

Replay re-publishes each selected record's original bytes, with its original key, to the
inbound topic it was consumed from; the hub's ingress sees it again (so fix the cause first:
register the key, correct the configuration). A letter no fix can mend
(:mod:`streams.domain.replayability`: ``bad_magic``, ``bad_signature``, ...) is skipped and
counted unless asked for, as it would only be refused again; its sender has to fix what it
sends. Letters that are not replayable at all are counted with what to do instead
(:func:`~streams.broker.dead_letters.not_replayable_reason`).

Which letters were sent is remembered under ``KAWAL_HOME`` batch by batch, as soon as the
broker has acknowledged them, so a replay stopped partway (the broker stops taking records)
and run again sends only what it had not yet sent, and replaying twice sends nothing twice.
A letter is remembered by what it is (:mod:`streams.broker.replay_memory`), not by its place
in ``kawal.dlq``: new letters at the places of a topic made again are sent, and a letter
found twice in the topic is sent once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kafka import KafkaProducer
from kafka.errors import KafkaError
from kafka.producer.future import FutureRecordMetadata

from schemas.codec import AvroCodec
from schemas.errors import KawalError
from streams.broker.credentials import PLAINTEXT, BrokerCredentials
from streams.broker.dead_letters import (
    DeadLetterRecord,
    ReplayFilter,
    held_values,
    not_replayable_reason,
    opened_payload,
    read_dead_letters,
)
from streams.broker.endpoint import BROKER_WAIT_SECONDS, kafka_client
from streams.broker.producer_close import close_within
from streams.broker.replay_memory import Migration, ReplayMemory, letter_identity
from streams.broker.replay_vouching import unvouched_reason
from streams.domain.keyring import KeyRing
from streams.domain.replayability import is_permanent

#: Letters sent before those the broker acknowledged are remembered: a replay killed outright
#: (not stopped by an error) may send at most this many again.
BATCH = 200


@dataclass(frozen=True)
class ReplayOutcome:
    """What a DLQ replay did.

    Attributes:
        replayed: Letters sent back to their inbound topic by this replay.
        already_replayed: Letters an earlier replay sent back (not sent again).
        copies: Selected letters that are copies of another selected letter (the same
            letter twice in ``kawal.dlq``): each letter is sent once.
        refusals: Each letter not replayable: its position in ``kawal.dlq`` and the reason,
            with what to do instead.
        permanent: Letters not sent because no fix mends them, by reason code.
        unmatched: When the filter selected no letter: for each field it selects on, the
            values the letters in ``kawal.dlq`` have, and how many have each, so that a
            mistyped value shows.
        migrated: What became of the places in ``kawal.dlq`` an earlier release remembered
            instead of the letters; None when there were none.
    """

    replayed: int
    already_replayed: int
    refusals: tuple[tuple[str, str], ...] = ()
    permanent: Mapping[str, int] = field(default_factory=dict)
    unmatched: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    copies: int = 0
    migrated: Migration | None = None

    @property
    def not_replayable(self) -> int:
        """How many selected letters were not sent, being not replayable."""
        return len(self.refusals)

    @property
    def skipped_permanent(self) -> int:
        """How many selected letters were not sent, being refused for good."""
        return sum(self.permanent.values())


class ReplayInterruptedError(KawalError):
    """The broker stopped taking records partway; what was sent is remembered."""

    def __init__(self, sent: int, remaining: int, cause: str) -> None:
        self.sent = sent
        self.remaining = remaining
        super().__init__(
            f"the broker stopped taking records ({cause}): {sent} dead letters were sent back "
            f"by this replay and are remembered, {remaining} selected ones were not sent. "
            "Once the broker answers, run the same `kawal dlq replay` again: it sends only "
            "those not sent yet"
        )


@dataclass
class _Plan:
    """The selected letters, sorted into what replay does with each."""

    #: Each letter to send: its identity, the letter and the record it carries, opened.
    to_send: list[tuple[str, DeadLetterRecord, bytes]] = field(default_factory=list)
    already_replayed: int = 0
    copies: int = 0
    refusals: list[tuple[str, str]] = field(default_factory=list)
    permanent: Counter[str] = field(default_factory=Counter)
    selected: int = 0


def _plan(
    letters: Iterable[tuple[str, DeadLetterRecord]],
    selection: ReplayFilter,
    done: set[str],
    include_permanent: bool,
    opened: Callable[[DeadLetterRecord], bytes | str],
) -> _Plan:
    """``opened`` gives a letter's record to send, or why it may not be sent."""
    plan = _Plan()
    planned: set[str] = set()
    for identity, record in letters:
        if not selection.matches(record):
            continue
        plan.selected += 1
        refusal = not_replayable_reason(record.letter)
        reason_code = str(record.letter["reason_code"])
        if identity in done:
            plan.already_replayed += 1
        elif identity in planned:
            plan.copies += 1
        elif refusal is not None:
            plan.refusals.append((record.position, refusal))
        elif is_permanent(reason_code) and not include_permanent:
            plan.permanent[reason_code] += 1
        else:
            value = opened(record)
            if isinstance(value, str):
                plan.refusals.append((record.position, value))
            else:
                plan.to_send.append((identity, record, value))
        planned.add(identity)
    return plan


def replay_dead_letters(
    bootstrap: list[str],
    codec: AvroCodec,
    home: Path,
    selection: ReplayFilter,
    keys: KeyRing,
    credentials: BrokerCredentials = PLAINTEXT,
    wait: float = BROKER_WAIT_SECONDS,
    *,
    include_permanent: bool = False,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> ReplayOutcome:
    """Send the selected dead letters back to their inbound topics, each at most once.

    Only the letters ``kawal.dlq`` holds when the replay has read it are sent: those the
    replayed records earn, refused again, wait for the next replay. Letters refused for a
    reason no fix mends are sent only with ``include_permanent``. ``progress`` is called with
    the number of letters sent so far after each batch the broker acknowledged.

    A payload sealed to the hub is opened with the hub's key from ``keys`` first. A letter
    from any other source, or whose record the institution owning its topic did not sign
    (:mod:`streams.broker.replay_vouching`), is never sent: it is counted with its reason in
    the outcome.

    Raises:
        ReplayInterruptedError: the broker stopped taking records; those it acknowledged are
            remembered, and the next replay sends the rest.
        schemas.errors.KawalError: a sealed payload does not open (the hub's key is not held,
            or the letter was altered); nothing is sent.
        streams.broker.replay_memory.ReplayMemoryError: the memory of the letters replayed
            cannot be read (nothing is sent) or written.
        kafka.errors.KafkaTimeoutError: no broker answered within ``wait`` s.
    """
    memory = ReplayMemory(home)
    try:
        # Read to the end before sending anything: a record refused again as it comes back
        # (its cause not fixed yet, or bytes no fix can mend) is dead-lettered anew, and a
        # replay still reading would send it round again, and again, for as long as it read.
        read = list(read_dead_letters(bootstrap, codec, credentials, wait))
        letters = [(letter_identity(record.letter), record) for record in read]
        migrated = memory.migrate(
            {record.position: (name, record.letter["rejected_at"]) for name, record in letters}
        )
        plan = _plan(
            letters,
            selection,
            memory.replayed(),
            include_permanent,
            lambda record: _vouched_payload(codec, keys, record),
        )
        if plan.to_send:
            sender = _Sender(bootstrap, credentials, wait, memory)
            sender.send_all(plan.to_send, batch, progress)
    finally:
        memory.close()
    unmatched = {} if plan.selected else held_values(read, selection)
    return ReplayOutcome(
        len(plan.to_send),
        plan.already_replayed,
        tuple(plan.refusals),
        dict(plan.permanent),
        unmatched,
        plan.copies,
        migrated,
    )


def _vouched_payload(codec: AvroCodec, keys: KeyRing, record: DeadLetterRecord) -> bytes | str:
    """The record ``record`` carries, opened, or why its topic's owner does not vouch for it."""
    value = opened_payload(record.letter, keys)
    topic = str(record.letter["source_topic"])
    return unvouched_reason(codec, keys.registry, topic, value) or value


class _Sender:
    """Sends letters in batches, remembering each batch's acknowledged letters at once."""

    def __init__(
        self,
        bootstrap: list[str],
        credentials: BrokerCredentials,
        wait: float,
        memory: ReplayMemory,
    ) -> None:
        waited_ms = int(wait * 1000)
        self.wait, self.memory = wait, memory
        # Every wait bounded by ``wait``: kafka-python would block a minute on a topic's
        # metadata and retry a record for two, with the operator watching a silent command.
        self.producer = kafka_client(
            KafkaProducer,
            bootstrap,
            credentials.client_kwargs(),
            wait,
            acks="all",
            client_id="kawal-dlq-replay",
            max_block_ms=waited_ms,
            request_timeout_ms=waited_ms,
            delivery_timeout_ms=2 * waited_ms,
        )

    def send_all(
        self,
        records: list[tuple[str, DeadLetterRecord, bytes]],
        batch: int,
        progress: Callable[[int], None] | None,
    ) -> None:
        """Send ``records`` batch by batch; stop at the first batch not wholly acknowledged.

        Raises:
            ReplayInterruptedError: the broker did not acknowledge every record of a batch.
        """
        sent = 0
        try:
            for start in range(0, len(records), batch):
                taken, failure = self._send_batch(records[start : start + batch])
                self.memory.remember(taken)
                sent += len(taken)
                if failure is not None:
                    raise ReplayInterruptedError(sent, len(records) - sent, failure)
                if progress is not None:
                    progress(sent)
        finally:
            close_within(self.producer, self.wait)

    def _send_batch(
        self, records: list[tuple[str, DeadLetterRecord, bytes]]
    ) -> tuple[list[str], str | None]:
        """The identities of ``records`` the broker acknowledged, and why not all, if not."""
        futures: list[tuple[str, FutureRecordMetadata]] = []
        failure: str | None = None
        try:
            for name, record, value in records:
                topic = str(record.letter["source_topic"])
                future = self.producer.send(topic, key=record.key, value=value)
                futures.append((name, future))
            self.producer.flush(timeout=self.wait)
        except KafkaError as exc:
            failure = type(exc).__name__
        taken = [name for name, future in futures if future.succeeded()]
        failed = [future.exception for _, future in futures if future.failed()]
        if failure is None and len(taken) < len(records):
            failure = type(failed[0]).__name__ if failed else "no acknowledgement"
        return taken, failure
