"""A running deadline says how many working days are left, on the front page and a case's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from streams.audit.stats import COLUMNS
from streams.domain.calendar import load_calendar
from streams.domain.lifecycle import start
from streams.web.locales import Locale
from streams.web.page import case_row
from streams.web.render import Overview, case_page, overview_page
from tests.hubtools import report

#: The Sunday a follow-up clock of 14 working days started, and when it is due (see
#: tests/domain/test_working_time.py: cuti bersama and Christmas fall within it).
SUNDAY = datetime(2026, 12, 6, 11, tzinfo=UTC)
DUE = datetime(2026, 12, 28, 17, tzinfo=UTC)


def follow_up_case(due_at: datetime) -> Any:
    case = start(report(), "bkn")
    case.clocks = [
        {
            "rule_id": "recommendation_follow_up",
            "started_at": SUNDAY.isoformat(),
            "due_at": due_at.isoformat(),
            "caused_by": "e1",
        }
    ]
    return case


def stats() -> dict[str, Any]:
    return {
        "totals": dict.fromkeys(COLUMNS, 0),
        "by_election": [],
        "by_region": [],
        "by_institution": [],
    }


@pytest.mark.parametrize(
    ("locale", "words"), [("en", "(14 working days left)"), ("id", "(sisa 14 hari kerja)")]
)
def test_a_running_clock_shows_its_working_days_left(locale: Locale, words: str) -> None:
    row = case_row("c1", follow_up_case(DUE), None, SUNDAY, load_calendar())

    front = overview_page(Overview(SUNDAY, [row], 1, stats(), {}, []), locale)
    timeline = {"case_id": "c1", "verified": True, "entries": []}
    page = case_page(timeline, row, SUNDAY, locale)

    assert row.days_left == {"recommendation_follow_up": 14}
    assert words in front
    assert words in page


def test_one_day_left_is_said_in_the_singular() -> None:
    now = DUE - timedelta(hours=2)
    row = case_row("c1", follow_up_case(DUE), None, now, load_calendar())

    assert "(1 working day left)" in overview_page(Overview(now, [row], 1, stats(), {}, []), "en")


def test_an_overdue_clock_shows_no_days_left() -> None:
    now = DUE + timedelta(days=1)
    row = case_row("c1", follow_up_case(DUE), None, now, load_calendar())
    page = overview_page(Overview(now, [row], 1, stats(), {}, []), "en")

    assert row.days_left == {}
    assert "left)" not in page
    assert "OVERDUE" in page
