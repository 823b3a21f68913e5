"""The pages' gettext catalogues: extract the messages of the templates, update, check.

``python -m streams.web.catalogs update`` extracts every message of each package's templates
and merges it into the package's ``locale/<lang>/LC_MESSAGES/messages.po`` (new messages come in
untranslated, gone ones are dropped); translate what it lists. ``check`` (run by the tests)
fails while any message lacks its Indonesian words or a catalogue holds a message no template
uses. The messages are English, so the English catalogue only records them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from streams.web.locales import LOCALES
from streams.web.templating import CATALOGUE

#: Packages whose templates are translated.
PACKAGES = ("streams.web",)
_EXTRACTOR = "jinja2.ext:babel_extract"
_METHODS = [("templates/**.html", _EXTRACTOR), ("templates/**.svg", _EXTRACTOR)]
_OPTIONS = {"templates/**": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}


def extracted(package: str) -> Catalog:
    """Every message of the package's templates, with where it is used."""
    root = Path(str(resources.files(package)))
    template = Catalog(project=package, fuzzy=False)
    for filename, line, message, comments, context in extract_from_dir(root, _METHODS, _OPTIONS):
        template.add(message, None, [(filename, line)], auto_comments=comments, context=context)
    return template


def catalogue_path(package: str, locale: str) -> Path:
    """Where the package's catalogue for ``locale`` lives."""
    return Path(str(resources.files(package))) / "locale" / locale / "LC_MESSAGES" / CATALOGUE


def update(package: str) -> list[str]:
    """Merges the templates' messages into each catalogue; the Indonesian ones left to translate."""
    template = extracted(package)
    for locale in LOCALES:
        path = catalogue_path(package, locale)
        catalogue = _read(path, locale) or Catalog(locale=locale, project=package)
        catalogue.update(template, no_fuzzy_matching=True)
        catalogue.obsolete.clear()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as target:
            write_po(target, catalogue, width=100, omit_header=False)
    return problems(package)


def problems(package: str) -> list[str]:
    """What stops the package's catalogues from matching its templates, one line each."""
    wanted = {_key(message.id) for message in extracted(package) if message.id}
    found: list[str] = []
    for locale in LOCALES:
        catalogue = _read(catalogue_path(package, locale), locale)
        if catalogue is None:
            found.append(f"{package}: no {locale} catalogue")
            continue
        present = {_key(message.id): message for message in catalogue if message.id}
        found += [f"{package} [{locale}]: missing {key!r}" for key in sorted(wanted - set(present))]
        found += [f"{package} [{locale}]: unused {key!r}" for key in sorted(set(present) - wanted)]
        if locale == "id":
            found += _untranslated(package, present.values())
    return found


def _untranslated(package: str, messages: Iterable[object]) -> list[str]:
    return [
        f"{package} [id]: untranslated {_key(message.id)!r}"  # type: ignore[attr-defined]
        for message in messages
        if message.fuzzy or not _text(message.string)  # type: ignore[attr-defined]
    ]


def _text(value: object) -> bool:
    parts = value if isinstance(value, tuple | list) else (value,)
    return all(isinstance(part, str) and part for part in parts)


def _key(message_id: object) -> str:
    return message_id if isinstance(message_id, str) else str(message_id[0])  # type: ignore[index]


def _read(path: Path, locale: str) -> Catalog | None:
    if not path.is_file():
        return None
    with path.open("rb") as source:
        return read_po(source, locale=locale)


def main(argv: list[str] | None = None) -> int:
    """``update`` or ``check`` every package's catalogues; 1 when something is left to do."""
    parser = argparse.ArgumentParser(prog="python -m streams.web.catalogs")
    parser.add_argument("action", choices=("update", "check"))
    args = parser.parse_args(argv)
    left = [
        line
        for package in PACKAGES
        for line in (update(package) if args.action == "update" else problems(package))
    ]
    for line in left:
        print(line, file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
