"""Audit entries as the hub keeps them: disclosures only under the case's data key.

Every disclosure of an entry goes to ``kawal.case.audit`` (and so to the audit store) encrypted
under its case's data key (:mod:`streams.vault`), never in clear: ``vaulted_disclosures`` is
the AES-256-GCM ciphertext of the Avro array of ``kawal.Disclosure``, bound to the entry by its
associated data (case id and entry hash). A batch's new cases get their keys in one vault call,
before anything encrypted under them is published. A case whose key was erased keeps its
commitments and loses the values of any later event too: it stays erased.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from streams.vault.at_rest import open_at_rest, seal_at_rest

from schemas.catalog import SchemaCatalog
from streams.domain.sealing import Disclosures, decode_disclosures, encode_disclosures

log = logging.getLogger(__name__)

VAULT_CONTEXT = b"kawal.vaulted.v1"


class CaseKeys(Protocol):
    """The data keys of cases (:class:`streams.vault.data_keys.DataKeyVault`)."""

    def keys_for(self, case_ids: Iterable[str], *, create: bool) -> Mapping[str, bytes]:
        """The data keys of ``case_ids`` that exist (made first with ``create``); erased absent."""
        ...


def vault_entries(
    catalog: SchemaCatalog, keys: CaseKeys, entries: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``entries`` with their disclosures encrypted under their cases' data keys."""
    personal = {entry["case_id"] for entry in entries if entry["disclosures"]}
    found = keys.keys_for(sorted(personal), create=True) if personal else {}
    return [_vaulted(catalog, found, entry) for entry in entries]


def unvault(
    catalog: SchemaCatalog, key: bytes | None, case_id: str, entry_hash: str, vaulted: bytes
) -> Disclosures:
    """The disclosures of a stored entry; none when it has none or its case was erased.

    Raises:
        streams.vault.at_rest.AtRestError: the ciphertext does not open with the case's key.
    """
    if not vaulted or key is None:
        return []
    return decode_disclosures(catalog, open_at_rest(key, vaulted, _aad(case_id, entry_hash)))


def _vaulted(
    catalog: SchemaCatalog, found: Mapping[str, bytes], entry: dict[str, Any]
) -> dict[str, Any]:
    stored = entry | {"disclosures": [], "sealed_disclosures": [], "vaulted_disclosures": b""}
    if not entry["disclosures"]:
        return stored
    key = found.get(entry["case_id"])
    if key is None:
        log.warning(
            "case %s was erased: the personal data of its entry %d is not kept",
            entry["case_id"],
            entry["seq"],
        )
        return stored
    plain = encode_disclosures(catalog, entry["disclosures"])
    sealed = seal_at_rest(key, plain, _aad(entry["case_id"], entry["hash"]))
    return stored | {"vaulted_disclosures": sealed}


def _aad(case_id: str, entry_hash: str) -> bytes:
    return b"\x00".join((VAULT_CONTEXT, case_id.encode(), entry_hash.encode()))
