"""Whether a case's kept personal values still open, which no chain or signature covers.

``kawal audit verify`` checks it with the hub's vault. An entry's values are kept encrypted
under its case's data key (:mod:`streams.vault.entries`), outside the hashed bytes: a damaged
``vaulted_disclosures`` record, or a data key the vault lost or can no longer unwrap, still
verifies as a chain, and only an institution's view would find the values gone. An erased
case has no key by design and is not a finding.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.catalog import SchemaCatalog
from streams.audit.tables import AuditRow
from streams.domain.chain import ChainBreak
from streams.vault.at_rest import AtRestError
from streams.vault.data_keys import Erased
from streams.vault.entries import CaseKeys, unvault
from streams.vault.kek import KekError

#: What to do about each finding (no value, no key material: case and seq say where).
RESTORE = "restore the entry's row or the vault from a backup"


def unreadable_values(
    rows: Sequence[AuditRow], vault: CaseKeys, catalog: SchemaCatalog
) -> ChainBreak | None:
    """The first entry of one case whose kept values do not open, or None.

    Raises:
        VaultError: the vault cannot be read (for no case, then: the caller stops).
    """
    kept = [row for row in rows if row.vaulted_disclosures]
    if not kept:
        return None
    case_id = kept[0].case_id
    try:
        key = vault.keys_for([case_id], create=False).get(case_id)
    except KekError as exc:
        return ChainBreak(kept[0].seq, f"the case's data key does not unwrap ({exc}): {RESTORE}")
    if isinstance(key, Erased):
        return None
    if key is None:
        return ChainBreak(
            kept[0].seq,
            f"its personal values are kept under a data key the vault does not hold: {RESTORE}",
        )
    for row in kept:
        try:
            unvault(catalog, key, case_id, row.hash, row.vaulted_disclosures)
        except (AtRestError, ValueError):
            return ChainBreak(
                row.seq,
                f"its personal values do not open with the case's data key: {RESTORE}",
            )
    return None
