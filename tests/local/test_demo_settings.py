"""`kawal up --demo` gives its own defaults only where the operator gave no setting."""

from __future__ import annotations

from streams.local.demo import DEMO_HISTORY_GRACE, demo_settings
from streams.settings import Settings


def test_the_demo_shows_its_cases_and_breaches_its_history_within_a_minute() -> None:
    found = demo_settings(Settings())

    assert found.public_cases is True
    assert found.history_grace_seconds == DEMO_HISTORY_GRACE < 60


def test_settings_the_operator_gave_are_kept() -> None:
    given = Settings(public_cases=False, history_grace_seconds=3600.0)

    found = demo_settings(given)

    assert (found.public_cases, found.history_grace_seconds) == (False, 3600.0)
