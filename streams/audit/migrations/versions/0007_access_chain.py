"""The access log as a chain the hub signs (streams.audit.access_chain).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add each row's predecessor (unique), hash, key and signature; older rows hold none."""
    with op.batch_alter_table("access_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(128), nullable=True))
        batch.add_column(sa.Column("signature", sa.LargeBinary, nullable=True))
        batch.create_unique_constraint("uq_access_log_prev_hash", ["prev_hash"])


def downgrade() -> None:
    """Drop the chain's columns."""
    with op.batch_alter_table("access_log") as batch:
        batch.drop_constraint("uq_access_log_prev_hash", type_="unique")
        for column in ("signature", "key_id", "hash", "prev_hash"):
            batch.drop_column(column)
