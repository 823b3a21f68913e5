"""Audit entries as the hub keeps them: disclosures only under the case's data key.

Every disclosure of an entry goes to ``kawal.case.audit`` (and so to the audit store) encrypted
under its case's data key (:mod:`streams.vault.data_keys`), never in clear:
``vaulted_disclosures`` is the AES-256-GCM ciphertext (:mod:`streams.vault.at_rest`) of the
Avro array of ``kawal.Disclosure``, bound to the entry by its associated data (case id and
entry hash). A case whose key was erased keeps its commitments and loses the values of any
later event too: it stays erased.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from schemas.catalog import SchemaCatalog
from streams.domain.sealing import Disclosures, decode_disclosures, encode_disclosures
from streams.vault.at_rest import open_at_rest, seal_at_rest
from streams.vault.data_keys import Erased

#: A case's data key as the vault answers it; None when the vault was not asked.
DataKey = bytes | Erased | None

log = logging.getLogger(__name__)

VAULT_CONTEXT = b"kawal.vaulted.v1"


class CaseKeys(Protocol):
    """The data keys of cases (:class:`streams.vault.data_keys.DataKeyVault`)."""

    def keys_for(self, case_ids: Iterable[str], *, create: bool) -> Mapping[str, bytes | Erased]:
        """The data keys of ``case_ids`` (made first with ``create``); Erased if erased."""
        ...


def vaulted(catalog: SchemaCatalog, key: bytes | Erased, entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` as the hub keeps it: its disclosures encrypted under its case's ``key``."""
    stored = entry | {"disclosures": [], "sealed_disclosures": [], "vaulted_disclosures": b""}
    if not entry["disclosures"]:
        return stored
    if isinstance(key, Erased):
        log.warning(
            "case %s was erased: the personal data of its entry %d is not kept",
            entry["case_id"],
            entry["seq"],
        )
        return stored
    plain = encode_disclosures(catalog, entry["disclosures"])
    sealed = seal_at_rest(key, plain, _aad(entry["case_id"], entry["hash"]))
    return stored | {"vaulted_disclosures": sealed}


def unvault(
    catalog: SchemaCatalog, key: DataKey, case_id: str, entry_hash: str, sealed: bytes
) -> Disclosures:
    """The disclosures of a stored entry; none when it has none or its case was erased.

    Raises:
        streams.vault.at_rest.AtRestError: the ciphertext does not open with the case's key.
        ValueError: what it holds is not an array of disclosures.
    """
    if not sealed or not isinstance(key, bytes):
        return []
    return decode_disclosures(catalog, open_at_rest(key, sealed, _aad(case_id, entry_hash)))


def _aad(case_id: str, entry_hash: str) -> bytes:
    return b"\x00".join((VAULT_CONTEXT, case_id.encode(), entry_hash.encode()))
