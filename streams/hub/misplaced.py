"""An event on an inbound topic that is not its source's: whom its refusal is told to.

The trust model believes nothing of a record before its signature holds (docs/signing.md).
An event its source signed, published on another institution's topic (or on the shared topic
by an institution with a topic of its own), is refused as ``source_mismatch``; its signer is
then known, and its receipt goes to the signer, saying where it publishes. The owner of the
topic did not send it, and would only be confused by a receipt about it. Without a signature
that holds, nobody is known to have sent it: only ``kawal.dlq`` keeps it.

A signature proves who made the event, not who wrote the record: a party that received the
signed event on its feed can publish it again anywhere. So the refusal names both: who signed
the event, and who placed the record (the owner of the topic, the only writer its broker ACL
lets in; on the shared topic, no one in particular). The signer is told nothing it did not
know (its own event, and the head of a case it is party to), and once per event id
(:mod:`streams.hub.told_signers`): a republisher replaying the event cannot flood its signer.
The placer, who did write the record, gets its refusal on its own feed each time, without
the case's head (it may be no party to the case).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from streams.domain.institutions import Institution
from streams.domain.keys import KeyRegistry
from streams.domain.reasons import Reason, Rejection
from streams.domain.signed_events import SignedEvent, authenticate
from streams.topics import inbound_topic_of, institution_of_inbound


@dataclass(frozen=True)
class Misplacement:
    """A signed event on a topic not its signer's: who signed it, who placed it, what each hears.

    Attributes:
        signer: The institution whose signature holds (``envelope.source``).
        placer: The owner of the topic, who wrote the record; None on the shared topic.
        to_signer: The refusal told to the signer, and kept in ``kawal.dlq``: it names both.
        to_placer: The refusal told to the placer; None when there is no placer.
    """

    signer: str
    placer: str | None
    to_signer: Rejection
    to_placer: Rejection | None


def signed_misplacement(
    keys: KeyRegistry,
    institutions: Mapping[str, Institution],
    signed: SignedEvent,
    topic: str,
    received: datetime | None,
) -> Misplacement | None:
    """Who signed ``signed``, published on ``topic`` (not its own), and who placed it there.

    None when the source is not registered or its signature does not hold: then nothing
    names the sender.
    """
    source = signed.envelope["source"]
    institution = institutions.get(source)
    if institution is None or authenticate(keys, signed, received) is not None:
        return None
    own = inbound_topic_of(institution)
    placer = institution_of_inbound(topic)
    placed = (
        f"placed on {topic} by {placer} (the topic's owner, its only writer)"
        if placer is not None
        else f"placed on {topic} by one of the institutions that may write there"
    )
    to_signer = Rejection(
        Reason.SOURCE_MISMATCH,
        f"signed by {source}, {placed}; {source} publishes on {own}: this record was not taken. "
        f"If {source} placed it there, publish the event on {own} as it is; if not, someone "
        "else published your signed event again, and nothing changed (told once per event)",
    )
    return Misplacement(source, placer, to_signer, _to_placer(placer, topic, source, own))


def _to_placer(placer: str | None, topic: str, signer: str, own: str) -> Rejection | None:
    if placer is None:
        return None
    return Rejection(
        Reason.SOURCE_MISMATCH,
        f"placed on {topic} by {placer}, but signed by {signer}, which publishes on {own}: this "
        "record was not taken. Publish on your topic only events you signed; an event received "
        "on your feed is not yours to publish again",
    )
