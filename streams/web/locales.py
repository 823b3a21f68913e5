"""The languages the pages speak: Indonesian first, English on request.

The pages are read by Indonesian civil servants and the public, so Indonesian is the default;
English is shown when the reader asks for it with ``?lang=en`` or prefers it in the browser's
``Accept-Language`` header over Indonesian.
"""

from __future__ import annotations

from typing import Literal, get_args

from babel import Locale as BabelLocale
from babel.core import UnknownLocaleError

#: A language of the pages.
Locale = Literal["id", "en"]
#: Every language the pages speak, the default first.
LOCALES: tuple[Locale, ...] = get_args(Locale)
DEFAULT: Locale = "id"


def negotiate(query_lang: str | None, accept_language: str | None) -> Locale:
    """The language of a response.

    Args:
        query_lang: the ``lang`` query parameter, which wins when it names a language we speak.
        accept_language: the request's ``Accept-Language`` header.

    Returns:
        ``"en"`` when asked for or preferred over Indonesian, else ``"id"``.
    """
    asked = _language(query_lang or "")
    if asked is not None:
        return asked
    for tag in _preferences(accept_language or ""):
        found = _language(tag)
        if found is not None:
            return found
    return DEFAULT


def babel_locale(locale: Locale) -> BabelLocale:
    """Babel's locale for dates and numbers (``id_ID``, ``en_GB``: day before month)."""
    return BabelLocale.parse("id_ID" if locale == "id" else "en_GB")


def _language(tag: str) -> Locale | None:
    try:
        language = BabelLocale.parse(tag.strip().replace("-", "_")).language
    except (ValueError, UnknownLocaleError):
        return None
    # "in" is Indonesian's withdrawn ISO 639 code, still sent by some old Android phones.
    language = "id" if language == "in" else language
    return language if language in LOCALES else None


def _preferences(header: str) -> list[str]:
    """The header's language tags, most preferred first (RFC 9110 quality values)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*" and quality > 0:
            ranked.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(ranked)]
