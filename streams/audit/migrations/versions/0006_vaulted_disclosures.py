"""The disclosures of each entry under its case's data key, never in clear.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``vaulted_disclosures``; entries stored before it keep theirs in ``disclosures``."""
    empty = "X''" if op.get_bind().dialect.name == "sqlite" else "''::bytea"
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(
            sa.Column(
                "vaulted_disclosures",
                sa.LargeBinary,
                nullable=False,
                server_default=sa.text(empty),
            )
        )


def downgrade() -> None:
    """Drop ``vaulted_disclosures``."""
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("vaulted_disclosures")
