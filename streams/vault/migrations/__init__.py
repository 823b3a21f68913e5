"""Alembic migrations of the vault, run by :func:`upgrade` (no ``alembic.ini`` needed).

Their version is kept in ``vault_alembic_version``, not ``alembic_version``, so the vault and
the audit store can share one database, each migrated on its own.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

#: Alembic's version table of the vault.
VERSION_TABLE = "vault_alembic_version"


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that migrates ``engine``'s vault."""
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the vault's schema to ``revision``."""
    command.upgrade(alembic_config(engine), revision)
