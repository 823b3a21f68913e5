"""Whether ``kawal up`` is about to start on a home whose data-key vault file is gone.

The worker makes the vault's table when it starts, so a ``vault.db`` that was deleted, or not
restored with the rest of a home, would come back empty without a word, and every personal
value the audit store keeps would stay unreadable. ``kawal up`` says so before it starts.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from sqlalchemy import distinct, func, make_url, select
from sqlalchemy.exc import SQLAlchemyError

from streams.audit.store import AuditStore
from streams.audit.store_errors import StoreError
from streams.audit.tables import AuditRow
from streams.settings import Settings


def lost_vault_warning(settings: Settings) -> str | None:
    """What to do when the SQLite vault file is missing while the store keeps values; or None."""
    url = make_url(settings.effective_vault_url)
    if url.get_backend_name() != "sqlite" or not url.database or Path(url.database).exists():
        return None
    cases = _cases_with_kept_values(settings)
    if not cases:
        return None
    return (
        f"no data-key vault at {url.database} (KAWAL_VAULT_URL), but the audit store keeps "
        f"personal values of {cases} cases under data keys kept there: stop (Ctrl-C) and "
        "restore vault.db from its backup (docs/operations.md); started as is, the hub makes an "
        "empty vault and those values stay unreadable"
    )


def _cases_with_kept_values(settings: Settings) -> int:
    """How many cases of the audit store keep values under a data key; 0 without a store."""
    try:
        store = AuditStore.open_existing(settings.audit_url)
    except StoreError:
        return 0
    query = select(func.count(distinct(AuditRow.case_id))).where(
        func.length(AuditRow.vaulted_disclosures) > 0
    )
    with closing(store):
        try:
            with store.engine.connect() as conn:
                return int(conn.execute(query).scalar_one())
        except SQLAlchemyError:
            # A store that cannot be read is the readers' to report; nothing to warn of here.
            return 0
