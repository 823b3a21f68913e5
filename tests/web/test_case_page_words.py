"""A case's timeline names sanctions and report channels in words, not codes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from streams.web.labels import label_text
from streams.web.locales import Locale
from streams.web.render import case_page, templates


def view(fields: dict[str, Any], event_type: str) -> dict[str, Any]:
    """A verified trail view of one entry with these fields."""
    return {
        "case_id": "39bb4c73-c5a2-58eb-a398-5fa95ed8ef51",
        "verified": True,
        "first_bad_seq": None,
        "problem": None,
        "entries": [
            {
                "seq": 1,
                "event_id": "1aab29a4-3677-5c05-87aa-0db62b6f57cd",
                "event_type": event_type,
                "recorded_at": "2026-12-06T11:44:23+00:00",
                "hash": "ab" * 32,
                "accepted_from": "kawal.inbound.bkn:2:2",
                "envelope": {"event_time": "2026-12-06T11:44:23+00:00", "source": "bkn"},
                "fields": fields,
            }
        ],
    }


@pytest.mark.parametrize(
    ("locale", "level", "kind"),
    [
        ("en", "Medium discipline penalty", "Performance allowance cut by 25% for 6 months"),
        ("id", "Hukuman disiplin sedang", "Pemotongan tunjangan kinerja 25% selama 6 bulan"),
    ],
)
def test_a_recommended_sanction_is_shown_in_words(locale: Locale, level: str, kind: str) -> None:
    fields = {"sanction_level": "MEDIUM", "sanction_kind": "ALLOWANCE_CUT_25_6_MONTHS"}

    page = case_page(view(fields, "RecommendationIssued"), None, datetime.now(UTC), locale)

    assert f"<dd>{level}</dd>" in page
    assert f"<dd>{kind}</dd>" in page
    assert "ALLOWANCE_CUT_25_6_MONTHS" not in page


def test_a_reports_channel_is_shown_in_words() -> None:
    page = case_page(view({"channel": "UNKNOWN"}, "ReportReceived"), None, datetime.now(UTC), "en")

    assert "<dd>Not stated</dd>" in page


def test_a_sanction_left_to_the_ppk_is_shown_as_null() -> None:
    fields = {"sanction_level": "MEDIUM", "sanction_kind": None}

    page = case_page(view(fields, "RecommendationIssued"), None, datetime.now(UTC), "en")

    assert "<dd>null</dd>" in page


def test_the_election_and_the_sender_are_named_in_words() -> None:
    # Before, "pilkada-2024" and "bkn": ids a reader of the page had to know.
    templates().share("institution_names", {"bkn": "Badan Kepegawaian Negara"})
    fields = {"election": "pilkada-2024"}

    page = case_page(view(fields, "ReportReceived"), None, datetime.now(UTC), "id")

    assert f"<dd>{label_text('election', 'pilkada-2024', 'id')}</dd>" in page
    assert "<dd>pilkada-2024</dd>" not in page
    assert "dari Badan Kepegawaian Negara <code>bkn</code>" in page
