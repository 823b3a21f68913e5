"""The hub's Merkle log: a leaf per stored entry, and the signed tree heads issued over it.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``tree_leaves`` (a leaf for each existing entry) and ``tree_heads``.

    Entries stored before the log existed become its first leaves in the order they were
    recorded (ties by case and seq): no head was issued over them yet, so any order that
    every later head extends will do.
    """
    op.create_table(
        "tree_leaves",
        sa.Column("log_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("case_id", "seq", name="uq_tree_leaves_entry"),
    )
    # ROW_NUMBER() needs SQLite 3.25 (2018) or any supported PostgreSQL.
    op.execute(
        "INSERT INTO tree_leaves (log_index, case_id, seq) "
        "SELECT ROW_NUMBER() OVER (ORDER BY recorded_at, case_id, seq) - 1, case_id, seq "
        "FROM audit_entries"
    )
    op.create_table(
        "tree_heads",
        sa.Column("tree_size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("issued_at_ms", sa.BigInteger, nullable=False),
        sa.Column("key_id", sa.String(128), nullable=False),
        sa.Column("signature", sa.LargeBinary, nullable=False),
        sa.Column("previous_size", sa.BigInteger, nullable=False),
        sa.Column("consistency", sa.Text, nullable=False),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("tree_heads")
    op.drop_table("tree_leaves")
