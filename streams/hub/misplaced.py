"""An event on an inbound topic that is not its source's: whom its refusal is told to.

The trust model believes nothing of a record before its signature holds (docs/signing.md).
An event its source signed, published on another institution's topic (or on the shared topic
by an institution with a topic of its own), is refused as ``source_mismatch``; its signer is
then known, and its receipt goes to the signer, saying where it publishes. The owner of the
topic did not send it, and would only be confused by a receipt about it. Without a signature
that holds, nobody is known to have sent it: only ``kawal.dlq`` keeps it.

A signature proves who made the event, not who wrote the record: a party that received the
signed event on its feed can publish it again anywhere. The receipt says so, and tells the
signer nothing it did not know (its own event, and the head of a case it is party to).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from streams.domain.institutions import Institution
from streams.domain.keys import KeyRegistry
from streams.domain.reasons import Reason, Rejection
from streams.domain.signed_events import SignedEvent, authenticate
from streams.topics import inbound_topic_of


def signed_misplacement(
    keys: KeyRegistry,
    institutions: Mapping[str, Institution],
    signed: SignedEvent,
    topic: str,
    received: datetime | None,
) -> Rejection | None:
    """The refusal told to the signer of ``signed``, published on ``topic``, not its own.

    None when the source is not registered or its signature does not hold: then nothing
    names the sender.
    """
    source = signed.envelope["source"]
    institution = institutions.get(source)
    if institution is None or authenticate(keys, signed, received) is not None:
        return None
    own = inbound_topic_of(institution)
    return Rejection(
        Reason.SOURCE_MISMATCH,
        f"{source} publishes on {own}, not on {topic}, which is another institution's: this "
        f"record was not taken. If you published it there, publish the event on {own} as it "
        "is; if not, someone else published your signed event there, and nothing changed",
    )
