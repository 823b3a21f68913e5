"""What an export of the figures is, for a reader holding the file months later.

Every export carries the software version that made it (:func:`software`, from the installed
package's metadata), when the store was read, what each column holds
(:func:`~streams.audit.figures.definitions.column_definitions`, the words the page captions
its columns with) and the withholding rule with its reason codes
(:mod:`streams.audit.withheld_words`). ``figures.json`` holds them as fields; a figure's CSV
cannot without a comment line, which breaks the readers that take the first line as the header,
so it is described by a metadata document of the W3C "Metadata Vocabulary for Tabular Data"
(CSVW, https://www.w3.org/TR/tabular-metadata/): :func:`csv_metadata`, served beside the CSV at
``<figure>.csv-metadata.json`` (the name CSVW processors look for) and named by the CSV's
``Link: <...>; rel="describedby"`` header.
"""

from __future__ import annotations

import functools
from importlib import metadata
from typing import Any

from streams.audit.figures.export import csv_columns

#: The installed distribution whose version every export names.
DISTRIBUTION = "kawal"
#: The media type of a CSVW metadata document (W3C, Metadata Vocabulary for Tabular Data, C.1).
CSVW_CONTENT_TYPE = "application/csvm+json"
#: What a figure's CSV is named by its metadata document, and the document by it.
METADATA_SUFFIX = "-metadata.json"


@functools.cache
def software() -> dict[str, str]:
    """The software that made the figures: its name and its version as installed.

    ``unknown`` when the package metadata cannot be found (run from a source tree that was
    never installed): an export still answers, and says it cannot tell.
    """
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {"name": DISTRIBUTION, "version": version}


def csv_metadata(view: dict[str, Any], figure: str, csv_url: str) -> dict[str, Any]:
    """The CSVW metadata document of ``figure``'s own CSV of ``view``, at ``csv_url``.

    Args:
        view: the figures the CSV was made of (the same read and filters).
        figure: one of :data:`~streams.audit.figures.definitions.FIGURES`.
        csv_url: the CSV's address, relative to the document's (``counts.csv?region=33``).

    Returns:
        A JSON-ready CSVW table description: the dialect (UTF-8 with a byte-order mark, CR LF,
        one header row), each column with the definition the page shows, the figure's title
        and definition, when the store was read, the software version, and the withholding
        rule with each reason code's sentence.
    """
    definitions = view["definitions"][figure]
    return {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
        "url": csv_url,
        "dc:title": _languages(definitions["title"]),
        "dc:description": _languages(definitions["definition"]),
        "prov:generatedAtTime": {"@value": view["generated_at"], "@type": "xsd:dateTime"},
        "prov:wasGeneratedBy": {
            "@type": "schema:SoftwareApplication",
            "schema:name": view["software"]["name"],
            "schema:softwareVersion": view["software"]["version"],
        },
        "dialect": {
            "encoding": "utf-8",
            "lineTerminators": ["\r\n"],
            "header": True,
            "headerRowCount": 1,
        },
        "tableSchema": {
            "columns": [
                {
                    "name": column,
                    "titles": column,
                    "dc:description": _languages(view["columns"][column]),
                }
                for column in csv_columns(figure)
            ]
        },
        "notes": [withholding_rule(view["suppression"])],
    }


def withholding_rule(suppression: dict[str, Any]) -> dict[str, Any]:
    """The small-numbers rule as a CSVW note: K, what withheld means, each reason code."""
    return {
        "@type": "schema:DefinedTermSet",
        "schema:name": "withheld_because",
        "schema:description": _languages(suppression["reason"]),
        "schema:value": suppression["min_cases"],
        "schema:hasDefinedTerm": [
            {
                "@type": "schema:DefinedTerm",
                "schema:termCode": code,
                "schema:description": _languages(words),
            }
            for code, words in suppression["reasons"].items()
        ],
    }


def _languages(words: dict[str, str]) -> list[dict[str, str]]:
    """Words in each language as JSON-LD language-tagged values (Indonesian first)."""
    return [{"@value": text, "@language": language} for language, text in words.items()]
