"""Server-rendered pages: Jinja2 templates with autoescaping and gettext catalogues.

A package's templates live in ``<package>/templates/``; its messages, written in English in the
templates (``{% trans %}``, ``_()``), are translated by ``<package>/locale/<lang>/LC_MESSAGES/
messages.po``, read at start with Babel (no compiled files to keep in step). Each language has
its own environment, so a request never changes another's language. Every value is escaped
unless a template says otherwise, and a missing variable is an error, not an empty string.

Filters every template has: ``moment`` (an instant in a region's zone: WIB, WITA or WIT),
``day``, ``number``, ``percent``, ``region`` (a region code with its province) and ``label``
(words for a code from data, :mod:`.labels`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from schemas.errors import KawalError
from streams.domain.zones import NATIONAL, ZONES, RegionError, province_of, zone_abbreviation
from streams.web.labels import label_text
from streams.web.locales import LOCALES, Locale, babel_locale

#: Time of day as readers in each language write it (Indonesian uses a dot: 19.45).
_MOMENT_FORMATS: dict[Locale, str] = {"id": "d MMM y, HH.mm", "en": "d MMM y, HH:mm"}
CATALOGUE = "messages.po"


class CatalogueError(KawalError):
    """A package's translations cannot be read."""


class Templates:
    """The templates of one package, in every language the pages speak."""

    def __init__(self, package: str, directory: str = "templates") -> None:
        """Loads the package's templates and its catalogues.

        Raises:
            CatalogueError: a catalogue exists but cannot be read.
        """
        self.package = package
        self._environments = {
            locale: _environment(package, directory, locale, translations(package, locale))
            for locale in LOCALES
        }

    def share(self, name: str, value: Any) -> None:
        """Make ``value`` known to every template as ``name`` (a setting every page shows)."""
        for environment in self._environments.values():
            environment.globals[name] = value

    def render(self, name: str, locale: Locale, /, **context: Any) -> str:
        """The template ``name`` rendered in ``locale`` with ``context``."""
        return self._environments[locale].get_template(name).render(locale=locale, **context)


def translations(package: str, locale: Locale) -> NullTranslations:
    """The package's catalogue for ``locale``; none (the English msgids) when it has none.

    Raises:
        CatalogueError: the catalogue cannot be read.
    """
    path = resources.files(package).joinpath("locale", locale, "LC_MESSAGES", CATALOGUE)
    if not path.is_file():
        return NullTranslations()
    try:
        with path.open("rb") as source:
            catalogue = read_po(source, locale=locale)
    except (OSError, ValueError) as exc:
        raise CatalogueError(
            f"cannot read the {locale} catalogue of {package}: {exc}; "
            "run `python -m streams.web.catalogs update` and translate what it lists"
        ) from exc
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


def _environment(
    package: str, directory: str, locale: Locale, messages: NullTranslations
) -> Environment:
    environment = Environment(
        loader=PackageLoader(package, directory),
        autoescape=select_autoescape(("html", "xml", "svg"), default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(messages, newstyle=True)  # type: ignore[attr-defined]
    environment.filters.update(_filters(locale))
    return environment


def _filters(locale: Locale) -> dict[str, Callable[..., str]]:
    where = babel_locale(locale)

    def moment(value: datetime | str, region_code: str | None = None) -> str:
        instant = _aware(value)
        if instant is None:
            return str(value)
        zone = _zone(region_code)
        shown = format_datetime(instant, _MOMENT_FORMATS[locale], tzinfo=ZONES[zone], locale=where)
        return f"{shown} {zone}"

    def day(value: date | str) -> str:
        return format_date(_date(value), "d MMMM y", locale=where)

    def last_day(value: datetime | str) -> str:
        # A deadline falls at midnight Jakarta time after its last working day
        # (streams.domain.deadlines): that day, whose end it is; '' for any other instant.
        instant = _aware(value)
        jakarta = instant.astimezone(ZONES[NATIONAL]) if instant is not None else None
        if jakarta is None or jakarta.time() != time(0):
            return ""
        return (jakarta.date() - timedelta(days=1)).isoformat()

    def number(value: float, digits: int = 0) -> str:
        return format_decimal(value, f"#,##0{'.' + '0' * digits if digits else ''}", locale=where)

    def percent(value: float) -> str:
        return format_percent(value, "#,##0.0%", locale=where)

    def label(code: str, kind: str) -> str:
        return label_text(kind, code, locale)

    return {
        "moment": moment,
        "day": day,
        "last_day": last_day,
        "number": number,
        "percent": percent,
        "label": label,
        "region": region,
    }


def region(code: str) -> str:
    """A region code with its province's name (``3374 · Jawa Tengah``); the code if unknown."""
    try:
        return f"{code} · {province_of(code).name}"
    except RegionError:
        return code


def _zone(region_code: str | None) -> str:
    """The region's zone, or Jakarta's for a code no province has.

    The instant stays right: it is labelled with the zone it is shown in.
    """
    try:
        return zone_abbreviation(region_code)
    except RegionError:
        return NATIONAL


def _aware(value: datetime | str) -> datetime | None:
    """An aware instant, or None for text that is not one (shown as it is)."""
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return None
    # SQLite hands back the store's UTC timestamps without their offset.
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _date(value: date | str) -> date:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value
