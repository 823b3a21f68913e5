"""The signatures of each entry: the sender's over its event, the hub's over its hash.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("key_id", sa.String(128)),
    ("signature", sa.LargeBinary),
    ("hub_key_id", sa.String(128)),
    ("hub_signature", sa.LargeBinary),
)


def upgrade() -> None:
    """Add the four columns; entries written before signing have them empty (unverifiable)."""
    empty_bytes = "X''" if op.get_bind().dialect.name == "sqlite" else "''::bytea"
    with op.batch_alter_table("audit_entries") as batch:
        for name, kind in _COLUMNS:
            empty = empty_bytes if kind is sa.LargeBinary else "''"
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=sa.text(empty)))


def downgrade() -> None:
    """Drop the four columns."""
    with op.batch_alter_table("audit_entries") as batch:
        for name, _kind in reversed(_COLUMNS):
            batch.drop_column(name)
