"""Checking a trail entry as any holder of it can: hub, connector, auditor or reader.

An entry is believed when its hash is the hash of its statement (:mod:`streams.domain.chain`),
the hub's signature of that hash holds under the hub's key valid when the entry was recorded,
the sender's signature holds over the event under the source's key valid at the event's time,
the event id and type shown are the event's own, and every disclosure opens its commitment.
Each failure is an :class:`EntryProblem` naming the check, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec, CodecError
from schemas.errors import KawalError
from streams.domain.chain import EntryFields, entry_hash
from streams.domain.commitments import reveal
from streams.domain.feed_keys import OpenedFeedKeys, open_feed_item
from streams.domain.institutions import HUB_INSTITUTION
from streams.domain.keys import KeyProblem, KeyRefusal, KeyRegistry
from streams.domain.sealing import DecryptionKeys, open_sealed
from streams.domain.signing import Context, SigningKey, verify


@dataclass(frozen=True)
class EntryProblem:
    """Why an entry is not believed: a machine-readable code and what it means."""

    code: str
    detail: str


def vouch(hub_key: SigningKey, hash_hex: str) -> tuple[str, bytes]:
    """The hub's key id and signature of an entry's hash."""
    return hub_key.key_id, hub_key.sign(Context.ENTRY, bytes.fromhex(hash_hex))


def fields_of(entry: dict[str, Any]) -> EntryFields:
    """The hashed fields of a decoded ``kawal.AuditEntry``."""
    return EntryFields(
        case_id=entry["case_id"],
        seq=entry["seq"],
        prev_hash=entry["prev_hash"],
        recorded_at=entry["recorded_at"],
        source_topic=entry["source_topic"],
        source_partition=entry["source_partition"],
        source_offset=entry["source_offset"],
        key_id=entry["key_id"],
        signature=entry["signature"],
        event=entry["event"],
    )


def _hub_key_refused(refusal: KeyRefusal) -> str:
    """Why the hub's key vouches for no entry, said to the entry's reader, not to a sender."""
    # The fact is the reason's first clause; what follows it tells a sender what to sign with.
    fact = refusal.detail.split("; ", 1)[0]
    if refusal.problem is KeyProblem.REVOKED:
        return (
            f"{fact}, before the entry was recorded: the hub stops signing with a revoked key "
            "once it reads the registry again, so whoever held the revoked key could have "
            "signed this; check the entry against the heads the institutions kept (kawal "
            "audit verify --heads), and rotate the hub's key by registering its successor "
            "before revoking the old one (docs/operations.md, Rotate keys)"
        )
    return (
        f"{fact}: the hub's key that signed the entry is not valid in the key registry in "
        "force at the entry's recorded_at; check that KAWAL_KEYS_FILE is this hub's registry"
    )


def hub_vouch_problem(keys: KeyRegistry, entry: dict[str, Any]) -> EntryProblem | None:
    """Why the hub does not vouch for ``entry``; None if it does.

    The hash must be the hash of the entry's statement, and the hub's signature of it must
    hold under the hub's key valid (and not revoked) when the entry was recorded. The code of a
    refused key is ``hub_`` and the key's problem, e.g. ``hub_key_revoked``.
    """
    if entry_hash(fields_of(entry)) != entry["hash"]:
        return EntryProblem("entry_hash_mismatch", "the hash is not the hash of the entry")
    recorded_at = _aware(entry["recorded_at"])
    hub = keys.key_for(HUB_INSTITUTION, entry["hub_key_id"], recorded_at)
    if isinstance(hub, KeyRefusal):
        return EntryProblem("hub_" + hub.problem.value, _hub_key_refused(hub))
    if not verify(
        hub.public_key, Context.ENTRY, bytes.fromhex(entry["hash"]), entry["hub_signature"]
    ):
        return EntryProblem("hub_signature_invalid", "the hub did not sign this entry")
    return None


def check_entry(
    codec: AvroCodec,
    keys: KeyRegistry,
    entry: dict[str, Any],
    disclosures: list[dict[str, str]] | None = None,
) -> dict[str, Any] | EntryProblem:
    """The entry's event, revealed with its disclosures, if the entry is believed; else why not.

    ``disclosures`` are those opened from the entry (:func:`open_feed_disclosures`, the store's
    vault); by default the entry's own ``disclosures`` field.
    """
    unvouched = hub_vouch_problem(keys, entry)
    if unvouched is not None:
        return unvouched
    recorded_at = _aware(entry["recorded_at"])
    try:
        event = codec.decode(entry["event"]).record
    except CodecError as exc:
        return EntryProblem("event_undecodable", str(exc))
    envelope = event["envelope"]
    if (envelope["event_id"], envelope["event_type"], envelope["case_id"]) != (
        entry["event_id"],
        entry["event_type"],
        entry["case_id"],
    ):
        return EntryProblem("entry_mislabelled", "the entry's ids or type are not its event's")
    sender = keys.key_for(envelope["source"], entry["key_id"], envelope["event_time"], recorded_at)
    if isinstance(sender, KeyRefusal):
        return EntryProblem(sender.problem.value, sender.detail)
    if not verify(sender.public_key, Context.EVENT, entry["event"], entry["signature"]):
        return EntryProblem("sender_signature_invalid", "the sender did not sign this event")
    try:
        shown = entry.get("disclosures", []) if disclosures is None else disclosures
        return reveal(event, shown)
    except ValueError:
        return EntryProblem("disclosure_mismatch", "a disclosure does not open its commitment")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


#: The feed keys this process opened (:mod:`streams.domain.feed_keys`), shared by its readers.
_OPENED = OpenedFeedKeys()


def open_feed_disclosures(
    catalog: SchemaCatalog,
    keys: DecryptionKeys,
    institution: str,
    entry: dict[str, Any],
    opened: OpenedFeedKeys = _OPENED,
) -> list[dict[str, str]] | EntryProblem:
    """The disclosures of a feed entry for ``institution``, opened with its key.

    The share is under a feed key sealed to ``institution`` (``feed_disclosures``) or, on
    records from before feed keys, sealed to it directly (``sealed_disclosures``). An entry
    without a share for ``institution`` discloses nothing to it. ``opened`` keeps the feed keys
    already opened.
    """
    event = entry["event"]
    try:
        feed = [s for s in entry.get("feed_disclosures", []) if s["recipient"] == institution]
        if feed:
            private = keys.decryption_key(institution, feed[0]["key_id"])
            return open_feed_item(catalog, feed[0], private, event, opened)
        mine = [s for s in entry.get("sealed_disclosures", []) if s["recipient"] == institution]
        if not mine:
            return []
        private = keys.decryption_key(institution, mine[0]["key_id"])
        return open_sealed(catalog, mine[0], private, event)
    except KawalError as exc:
        return EntryProblem("unsealable", str(exc))
