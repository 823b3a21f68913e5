"""Who vouches for a record a DLQ replay writes: the institution that owns its inbound topic.

Every institution may write ``kawal.dlq`` (its connectors dead-letter there), and a replay
sends with the operator's credentials, which may write every inbound topic. A letter is only
the word of whoever wrote it: unchecked, one institution could have the operator write bytes
of its choosing into another institution's topic, or the hub's own, and so earn that
institution a rejection receipt for a record it never sent. So a replay writes into
``kawal.inbound.<id>`` only a record that ``<id>`` signed, with a key the registry holds for it
(any registered institution's on the shared ``kawal.inbound``). The hub's ingress then checks
everything else about the record again, as it did the first time.
"""

from __future__ import annotations

from schemas.codec import AvroCodec
from schemas.errors import CodecError
from streams.domain.keys import KeyRegistry
from streams.domain.reasons import Rejection
from streams.domain.signed_events import open_signed
from streams.domain.signing import Context, verify
from streams.topics import SHARED_INBOUND, institution_of_inbound


def unvouched_reason(
    codec: AvroCodec, registry: KeyRegistry, topic: str, record: bytes
) -> str | None:
    """Why ``record`` may not be replayed into the inbound ``topic``; None when its owner signed it.

    The reason names institutions, key ids and reason codes, never the record's content.
    """
    owner = institution_of_inbound(topic) if topic != SHARED_INBOUND else None
    whose = f"{owner}'s" if owner else "a registered institution's"
    try:
        signed = open_signed(codec, codec.decode(record))
    except CodecError:
        signed = None
    if signed is None or isinstance(signed, Rejection):
        what = "does not decode" if signed is None else f"is refused as {signed.reason}"
        return (
            f"its record {what}, so nothing shows it is {whose}: a replay writes into {topic} "
            "only records signed by the institution that owns it. Its sender publishes the "
            "event anew, signed (docs/signing.md)"
        )
    source = str(signed.envelope["source"])
    entry = registry.signing_entry(signed.key_id)
    if owner is not None and source != owner:
        if entry is not None and entry.institution == owner:  # the owner's slip, not a stranger
            return (
                f"its record names {source} as its source but is signed with {owner}'s key "
                f"{signed.key_id}: {owner} sets envelope.source to {owner}, signs and publishes "
                "the event anew"
            )
        return (
            f"its record names {source} as its source, and {topic} is {owner}'s: a replay "
            f"writes into an institution's topic only that institution's records. {source} "
            "publishes the event anew on its own topic"
        )
    if entry is None or entry.institution != source:
        return (
            f"its record is signed with key {signed.key_id}, which the key registry does not "
            f"hold as {source}'s: register {source}'s key (kawal keys new prints the entry), "
            "then replay again"
        )
    if not verify(entry.public_key, Context.EVENT, signed.event, signed.signature):
        return (
            f"its record's signature does not verify with key {signed.key_id}, so it is not "
            f"{source}'s as it stands: {source} publishes the event anew, signed"
        )
    return None
