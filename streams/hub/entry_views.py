"""Every encoding of one entry (``kawal.case.audit`` and each feed) from one Avro encoding.

The record on ``kawal.case.audit`` and the view on each recipient's feed differ only in the last
two fields of ``kawal.AuditEntry``: ``vaulted_disclosures`` (the audit topic) and
``feed_disclosures`` (a feed). Avro writes a record's fields in schema order, each on its own,
and both fields encode as the single byte ``0x00`` when empty; so the entry is encoded once with
both empty, those two bytes are cut off, and each view appends its own two fields. Encoding the
whole entry for each of them was about a tenth of the hub's work per event. The bytes are the
ones the codec writes (tests compare them); :func:`check_layout` refuses, when the hub starts, a
schema whose last fields are not laid out as this module writes them.
"""

from __future__ import annotations

from typing import Any

from schemas.avro_binary import write_bytes, write_long, write_string
from schemas.catalog import SchemaCatalog
from schemas.codec import AvroCodec
from schemas.errors import KawalError

ENTRY = "kawal.AuditEntry"
#: The shared encoding ends with these two fields, each an empty bytes or array: 0x00 each.
_EMPTY_TAIL = b"\x00\x00"
#: The fields this module writes, in schema order, with their Avro types.
_TAIL = (("vaulted_disclosures", "bytes"), ("feed_disclosures", "array"))
_FEED_ITEM = (
    ("recipient", "string"),
    ("key_id", "string"),
    ("encapsulated_key", "bytes"),
    ("sealed_feed_key", "bytes"),
    ("nonce", "bytes"),
    ("ciphertext", "bytes"),
)


class EntryLayoutError(KawalError):
    """``kawal.AuditEntry`` no longer ends with the fields :mod:`streams.hub.entry_views` writes."""


def check_layout(catalog: SchemaCatalog) -> None:
    """Refuse a catalogue whose ``kawal.AuditEntry`` this module would encode wrongly.

    Raises:
        EntryLayoutError: the last fields, or those of ``kawal.FeedDisclosures``, changed.
    """
    fields = catalog.schema(ENTRY)["fields"]
    tail = tuple((f["name"], _type_name(f["type"])) for f in fields[-len(_TAIL) :])
    item = fields[-1]["type"].get("items") if tail == _TAIL else None
    # The parsed schema holds the item's record where it is first used: here.
    item_fields = item["fields"] if isinstance(item, dict) else []
    laid_out = tuple((f["name"], _type_name(f["type"])) for f in item_fields)
    if laid_out != _FEED_ITEM:
        raise EntryLayoutError(
            f"{ENTRY} no longer ends with vaulted_disclosures and feed_disclosures of "
            "kawal.FeedDisclosures as streams/hub/entry_views.py writes them; update that module"
        )


def _type_name(avro_type: Any) -> str:
    return str(avro_type["type"] if isinstance(avro_type, dict) else avro_type)


class EntryViews:
    """One entry's encodings: on ``kawal.case.audit`` and on each recipient's feed."""

    def __init__(self, codec: AvroCodec, entry: dict[str, Any]) -> None:
        """Encode what every view of ``entry`` shares: all of it, disclosures aside."""
        shared = entry | {
            "disclosures": [],
            "sealed_disclosures": [],
            "vaulted_disclosures": b"",
            "feed_disclosures": [],
        }
        encoded = codec.encode(ENTRY, shared, checked=False)
        if not encoded.endswith(_EMPTY_TAIL):
            raise EntryLayoutError(f"{ENTRY} does not end with two empty fields")
        self._prefix = encoded[: -len(_EMPTY_TAIL)]

    def audited(self, vaulted_disclosures: bytes) -> bytes:
        """The entry on ``kawal.case.audit``: its disclosures under the case's data key."""
        return self._prefix + write_bytes(vaulted_disclosures) + b"\x00"

    def feed(self, items: list[dict[str, Any]]) -> bytes:
        """The entry on a feed, with ``items`` (``kawal.FeedDisclosures``) as its share."""
        if not items:
            return self._prefix + _EMPTY_TAIL
        parts = [self._prefix, b"\x00", write_long(len(items))]
        for item in items:
            parts += [write_string(item["recipient"]), write_string(item["key_id"])]
            parts += [write_bytes(item[name]) for name, _ in _FEED_ITEM[2:]]
        parts.append(b"\x00")  # the array's closing empty block
        return b"".join(parts)
