"""A tracking store that cannot be read is told to the reader with its reason, in its language.

Real HTTP, a real spool; the store is held by another connection's exclusive lock, as a long
write of ``lapor-status`` or a full disk would.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.lapor.connector import LaporIntake
from tests.connectors.test_lapor_portal import opened_intake, request
from tests.lapor_support import seaweed_s3


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[LaporIntake]:
    with (
        seaweed_s3(tmp_path / "s3") as location,
        opened_intake(location, tmp_path / "spool") as connector,
    ):
        yield connector


@pytest.fixture
def locked(intake: LaporIntake, tmp_path: Path) -> Iterator[None]:
    """The tracking store, made by a first look, locked by another connection."""
    assert request(intake, "GET", "/api/v1/tracking/" + "A" * 24)[0] == 404
    locker = sqlite3.connect(tmp_path / "spool" / "tracking.db", isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        locker.execute("ROLLBACK")
        locker.close()


def test_the_json_answer_names_the_reason(intake: LaporIntake, locked: None) -> None:
    status, headers, body = request(intake, "GET", "/api/v1/tracking/" + "A" * 24)

    assert status == 503
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["error"] == "tracking_unavailable"
    assert headers["Retry-After"] == "30"


def test_the_page_says_to_try_again_in_the_readers_language(
    intake: LaporIntake, locked: None
) -> None:
    status, headers, page = request(intake, "GET", "/lacak/" + "A" * 24 + "?lang=en")

    assert status == 503
    assert headers["Content-Type"].startswith("text/html")
    assert headers["Cache-Control"] == "no-store"
    assert "Tracking is not available right now. Please try again in 30 seconds." in page.decode()
    assert headers["Retry-After"] == "30"
