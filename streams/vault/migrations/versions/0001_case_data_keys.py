"""The vault: a wrapped data key, or the tombstone of its erasure, per case.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: A row is live (a KEK id and a wrapped key) or erased (when and why), never both.
LIVE_OR_ERASED = (
    "(erased_at IS NULL AND kek_id IS NOT NULL AND wrapped_key IS NOT NULL"
    " AND erase_reason IS NULL)"
    " OR (erased_at IS NOT NULL AND kek_id IS NULL AND wrapped_key IS NULL"
    " AND erase_reason IS NOT NULL)"
)


def upgrade() -> None:
    """Create ``case_data_keys``."""
    op.create_table(
        "case_data_keys",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("kek_id", sa.String(64), nullable=True),
        sa.Column("wrapped_key", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erase_reason", sa.Text, nullable=True),
        sa.CheckConstraint(LIVE_OR_ERASED, name="ck_case_data_keys_live_or_erased"),
    )
    op.create_index("ix_case_data_keys_kek_id", "case_data_keys", ["kek_id"])


def downgrade() -> None:
    """Drop ``case_data_keys`` and every key in it."""
    op.drop_index("ix_case_data_keys_kek_id", "case_data_keys")
    op.drop_table("case_data_keys")
