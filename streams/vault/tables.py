"""The vault's one table, in metadata of its own (SQLAlchemy 2 models); migrations make it.

The vault may share the audit store's database or have its own (``KAWAL_VAULT_URL``).

``case_data_keys`` holds a row per case: while the case is live, its data key wrapped under a
KEK; once erased, a tombstone (when and why, no key), so an erased case never gets a key again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from streams.sql_time import UtcDateTime

#: A row is either live (a KEK id and a wrapped key) or erased (when and why), never both.
LIVE_OR_ERASED = (
    "(erased_at IS NULL AND kek_id IS NOT NULL AND wrapped_key IS NOT NULL"
    " AND erase_reason IS NULL)"
    " OR (erased_at IS NOT NULL AND kek_id IS NULL AND wrapped_key IS NULL"
    " AND erase_reason IS NOT NULL)"
)


class Base(DeclarativeBase):
    """Declarative base of the vault (not the audit store's)."""


class CaseDataKey(Base):
    """The data key of one case, wrapped, or the tombstone of its erasure."""

    __tablename__ = "case_data_keys"
    __table_args__ = (CheckConstraint(LIVE_OR_ERASED, name="ck_case_data_keys_live_or_erased"),)

    case_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: The KEK the key is wrapped under; NULL once erased.
    kek_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    #: Nonce, ciphertext and tag of the wrapped data key; NULL once erased.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: When the row was made: the key's creation, or the erasure of a case that had none.
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    #: Why the case was erased (the operator's words; never personal data).
    erase_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
