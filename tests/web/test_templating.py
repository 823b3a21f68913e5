"""The templates' foundation: languages, catalogues, escaping, zones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po
from jinja2 import UndefinedError

from streams.web import catalogs
from streams.web.locales import negotiate
from streams.web.templating import CatalogueError, Templates, translations


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, None, "id"),
        ("en", None, "en"),
        ("id", "en-GB,en", "id"),
        ("xx", "en", "en"),
        (None, "en-US,en;q=0.9,id;q=0.8", "en"),
        (None, "id-ID,id;q=0.9,en;q=0.8", "id"),
        (None, "fr, en;q=0.5", "en"),
        (None, "en;q=0, id", "id"),
        (None, "in", "id"),
        (None, "en;q=abc, fr", "id"),
        (None, "*", "id"),
    ],
)
def test_indonesian_unless_english_is_asked_for(
    query: str | None, header: str | None, expected: str
) -> None:
    assert negotiate(query, header) == expected


def test_catalogues_match_the_templates_and_indonesian_is_complete() -> None:
    assert catalogs.problems("streams.web") == []


def make_package(root: Path, name: str) -> Path:
    """An importable package ``name`` under ``root`` (on sys.path)."""
    package = root / name
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    return package


def translate(path: Path, message: str, words: str) -> None:
    with path.open("rb") as source:
        catalogue = read_po(source, locale="id")
    catalogue[message].string = words
    with path.open("wb") as target:
        write_po(target, catalogue)


def test_an_untranslated_message_is_listed_until_translated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = make_package(tmp_path, "kawal_pages_a")
    (package / "templates" / "a.html").write_text('{{ _("Hello") }}')

    assert "kawal_pages_a: no id catalogue" in catalogs.problems("kawal_pages_a")
    assert catalogs.update("kawal_pages_a") == ["kawal_pages_a [id]: untranslated 'Hello'"]
    translate(catalogs.catalogue_path("kawal_pages_a", "id"), "Hello", "Halo")
    assert catalogs.problems("kawal_pages_a") == []
    assert Templates("kawal_pages_a").render("a.html", "id") == "Halo"
    assert Templates("kawal_pages_a").render("a.html", "en") == "Hello"
    (package / "templates" / "a.html").write_text('{{ _("Goodbye") }}')
    assert "kawal_pages_a [id]: unused 'Hello'" in catalogs.problems("kawal_pages_a")


def test_an_unreadable_catalogue_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    package = make_package(tmp_path, "kawal_pages_b")
    catalogue = package / "locale" / "id" / "LC_MESSAGES" / "messages.po"
    catalogue.parent.mkdir(parents=True)
    catalogue.write_bytes(b'msgid "a"\nmsgstr "\xff\xfe')

    with pytest.raises(CatalogueError, match="catalogs update"):
        translations("kawal_pages_b", "id")


def test_values_are_escaped_and_a_missing_one_is_an_error() -> None:
    templates = Templates("streams.web")

    page = templates.render(
        "not_found.html", "en", home_link=False, case_id="<b>x</b>", recording=False
    )

    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert "<b>x</b>" not in page
    with pytest.raises(UndefinedError):
        templates.render("not_found.html", "en", home_link=False, recording=False)


def test_dates_and_numbers_in_each_language() -> None:
    environment = Templates("streams.web")._environments
    moment = datetime(2026, 8, 17, 3, 5, tzinfo=UTC)
    indonesian, english = environment["id"].filters, environment["en"].filters

    assert indonesian["moment"](moment, "3374") == "17 Agu 2026, 10.05 WIB"
    assert english["moment"](moment, "5171") == "17 Aug 2026, 11:05 WITA"
    assert indonesian["moment"](moment.isoformat(), "9171") == "17 Agu 2026, 12.05 WIT"
    assert indonesian["moment"]("not a time", "33") == "not a time"
    assert indonesian["moment"](moment, "99") == "17 Agu 2026, 10.05 WIB"
    assert indonesian["day"]("2026-08-17") == "17 Agustus 2026"
    assert indonesian["number"](1234567) == "1.234.567"
    assert english["number"](1234567) == "1,234,567"
    assert indonesian["percent"](0.5) == "50,0%"


def test_a_region_shows_its_province() -> None:
    region = Templates("streams.web")._environments["id"].filters["region"]

    assert region("3374") == "3374 · Jawa Tengah"
    assert region("9171") == "9171 · Papua"
    assert region("99") == "99"
