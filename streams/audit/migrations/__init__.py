"""Alembic migrations of the audit store, run by :func:`upgrade` (no ``alembic.ini`` needed).

A store created before migrations existed (its ``audit_entries`` table but no
``alembic_version``) is stamped at the first revision, then upgraded like any other.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

#: Revision whose schema equals the store's before migrations were introduced.
BASELINE_REVISION = "0001"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that migrates ``engine``'s database."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the store's schema to ``revision``."""
    config = alembic_config(engine)
    tables = set(inspect(engine).get_table_names())
    if "audit_entries" in tables and "alembic_version" not in tables:
        command.stamp(config, BASELINE_REVISION)
    command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the store is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str:
    """The newest revision the migration scripts reach."""
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    if head is None:
        raise RuntimeError("the migration scripts have no head revision")
    return head
