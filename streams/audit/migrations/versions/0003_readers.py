"""Bearer tokens of HTTP readers and the access log of personal-data reads.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``api_tokens`` and ``access_log``."""
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("principal", sa.String(64), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text, nullable=True),
    )
    op.create_table(
        "access_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("principal", sa.String(64), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("credential", sa.String(160), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False, index=True),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("access_log")
    op.drop_table("api_tokens")
