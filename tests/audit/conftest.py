"""Fixtures of the audit-store tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.audit.store import AuditStore
from tests.storetools import open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditStore]:
    """A fresh, migrated store of each dialect."""
    server = request.getfixturevalue("postgres") if request.param == "postgresql" else None
    opened = open_store(request.param, tmp_path, server)
    yield opened
    opened.close()
