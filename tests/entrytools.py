"""Signed trails built in process, as the ledger builds them, for store and view tests."""

from __future__ import annotations

from typing import Any

from connectors.signed_fixtures import contract_keyring, signed_entry
from schemas.codec import AvroCodec
from streams.audit.entry_rows import row_from_entry
from streams.domain.chain import GENESIS_HASH
from streams.domain.keyring import KeyRing
from streams.domain.keys import KeyRegistry


def signed_rows(
    codec: AvroCodec, events: list[dict[str, Any]], ring: KeyRing | None = None
) -> list[dict[str, Any]]:
    """Audit-store rows of one case's ``events``, chained, signed and vouched for by ``ring``."""
    rows, prev = [], GENESIS_HASH
    for seq, record in enumerate(events, start=1):
        entry = signed_entry(codec, record["envelope"]["event_type"], record, seq, prev, ring)
        rows.append(row_from_entry(entry))
        prev = entry["hash"]
    return rows


def signing_registry() -> KeyRegistry:
    """The public keys the rows of :func:`signed_rows` verify with."""
    return contract_keyring().registry
