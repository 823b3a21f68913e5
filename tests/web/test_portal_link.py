"""Every public page leads a reader who wants to report a violation to the reporting portal."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from streams.audit.stats import COLUMNS
from streams.settings import Settings
from streams.web.render import Overview, overview_page, templates

NOW = datetime(2025, 1, 31, 3, tzinfo=UTC)


def no_stats() -> dict[str, Any]:
    return {
        "totals": dict.fromkeys(COLUMNS, 0),
        "by_election": [],
        "by_region": [],
        "by_institution": [],
        "definitions": {},
    }


@pytest.fixture
def portal() -> Iterator[str]:
    url = "https://lapor.bawaslu.example/"
    templates().share("portal_url", url)
    try:
        yield url
    finally:
        templates().share("portal_url", None)


def test_the_front_page_links_the_reporting_portal_in_the_readers_language(portal: str) -> None:
    indonesian = overview_page(Overview(NOW, [], 0, no_stats(), {}, []), "id")
    english = overview_page(Overview(NOW, [], 0, no_stats(), {}, []), "en")

    assert f'<a href="{portal}" id="portal-link">Laporkan pelanggaran</a>' in indonesian
    assert f'<a href="{portal}?lang=en" id="portal-link">Report a violation</a>' in english


def test_no_link_without_a_portal() -> None:
    page = overview_page(Overview(NOW, [], 0, no_stats(), {}, []), "id")

    assert 'id="portal-link"' not in page


@pytest.mark.parametrize("url", ["javascript:alert(1)", "lapor.example", 'https://x/"><b>'])
def test_a_portal_address_that_is_no_web_address_is_refused(url: str) -> None:
    with pytest.raises(ValidationError, match="portal_url"):
        Settings(portal_url=url)
