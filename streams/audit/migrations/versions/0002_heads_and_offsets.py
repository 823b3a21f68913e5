"""Case heads and consumed offsets, written with the entries in one transaction.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``case_heads`` (filled from existing entries) and ``consumed_offsets``."""
    op.create_table(
        "case_heads",
        sa.Column("case_id", sa.String(36), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.execute(
        "INSERT INTO case_heads (case_id, last_seq, last_hash) "
        "SELECT e.case_id, e.seq, e.hash FROM audit_entries e "
        "WHERE e.seq = (SELECT MAX(seq) FROM audit_entries m WHERE m.case_id = e.case_id)"
    )
    op.create_table(
        "consumed_offsets",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("consumed_offsets")
    op.drop_table("case_heads")
